using BrokerLink.Functions.Kinds.MskSingleNlb;
using BrokerLink.Functions.Planning;

namespace BrokerLink.Functions.Kinds.MskNlbPerBroker;

/// <summary>
/// MSK provisioned with an NLB (and endpoint service) per broker, all the operator's: BrokerLink keeps each configured
/// target group holding exactly its broker's current IP at targetPort, and aliases each broker name, per consumer, to
/// that consumer's endpoint for the broker. It creates and deletes no target group and no listener.
/// <code>
/// ListNodes        brokers (config)   consumer endpoint   outcome
/// broker N         N                  N                   N's group holds its IP; N's name aliases the endpoint
/// broker N         -                  any                 finding BrokerNeedsProvisioning, no record anywhere
/// broker N         N                  -                   finding BrokerNeedsProvisioning (names the consumer), no record there
/// -                N                  any                 N's group is emptied; its records go
/// broker N twice   N                  any                 finding DuplicateBrokerId, N's group held as it is
/// </code>
/// </summary>
internal static class MskNlbPerBrokerKind
{
    public static ObserveSpec Observe(LinkConfig config) => new(
        Cluster: !config.Retired, LoadBalancer: false, Nodes: !config.Retired, VpcEndpointId: null, InstanceFilters: null,
        TargetGroupArns: config.Retired ? [] : [.. config.ConfiguredBrokers.Select(b => b.TargetGroupArn)]);

    public static Desired Desire(LinkConfig config, PlanInput input)
    {
        var nodes = MskSingleNlbKind.ReadBrokers(input.Nodes);
        var reported = nodes.Brokers.ToDictionary(b => b.Id);
        var heldIds = nodes.HeldIds.ToHashSet();
        var findings = nodes.Findings.ToList();

        var groups = new List<DesiredTargetGroup>();
        foreach (var configured in config.ConfiguredBrokers)
        {
            var key = Registry.BrokerKey(configured.BrokerId);
            if (heldIds.Contains(configured.BrokerId))
            {
                groups.Add(DesiredTargetGroup.Held(key));
                continue;
            }
            // A configured broker ListNodes no longer reports: its group is emptied (subject to the guards).
            IReadOnlyList<Target> targets = reported.TryGetValue(configured.BrokerId, out var broker) ? [new Target(broker.Ip, config.TargetPort)] : [];
            groups.Add(new DesiredTargetGroup(key, "", config.TargetPort, "", targets, null, GroupMode.Operator, configured.TargetGroupArn));
        }

        var configuredIds = config.ConfiguredBrokers.Select(b => b.BrokerId).ToHashSet();
        foreach (var broker in nodes.Brokers.Where(b => !configuredIds.Contains(b.Id)))
        {
            findings.Add(new Finding("BrokerNeedsProvisioning", Registry.BrokerKey(broker.Id),
                $"ListNodes reports broker {broker.Id} ({broker.Host}) but the link configures no target group for it: provision its NLB, listener, "
                + "target group (tagged brokerlink:link) and endpoint service, then add it to brokers"));
        }

        var records = new List<DesiredRecord>();
        var named = nodes.Brokers.Where(b => configuredIds.Contains(b.Id)).Concat(nodes.Duplicates.SelectMany(d => d).Where(b => configuredIds.Contains(b.Id)));
        foreach (var broker in named.OrderBy(b => b.Id))
        {
            foreach (var consumer in config.Consumers)
            {
                var endpoint = consumer.BrokerEndpoints?.FirstOrDefault(e => e.BrokerId == broker.Id);
                if (endpoint is null)
                {
                    findings.Add(new Finding("BrokerNeedsProvisioning", Registry.BrokerKey(broker.Id),
                        $"consumer '{consumer.Name}' has no endpoint for broker {broker.Id}: its name is not written in zone {consumer.HostedZoneId} until add-consumer gives one"));
                    continue;
                }
                records.Add(new DesiredRecord(consumer.HostedZoneId, broker.Host, new AliasTarget(endpoint.EndpointHostedZoneId, endpoint.EndpointDnsName, false)));
            }
        }
        findings = [.. findings.DistinctBy(f => (f.Code, f.Subject, f.Message))];
        return new Desired(groups, records, [], findings, nodes.Count) { Seen = nodes.Seen };
    }
}
