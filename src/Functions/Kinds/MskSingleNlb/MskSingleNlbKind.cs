using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Kinds.MskSingleNlb;

/// <summary>
/// MSK provisioned behind one NLB: broker N gets a listener on listenerBasePort + N forwarding to a target group
/// holding the broker's IP at targetPort (plus an optional bootstrap listener over all brokers); each broker name is
/// an alias to the consumer's endpoint in every consumer zone and to the NLB in the provider zone.
/// </summary>
internal static class MskSingleNlbKind
{
    public sealed record Broker(int Id, string Ip, string Host);

    public static Desired Desire(LinkConfig config, PlanInput input)
    {
        var brokers = ReadBrokers(input.Nodes);
        var nlb = ReadLoadBalancer(input.LoadBalancer, config);

        var groups = new List<DesiredTargetGroup>();
        foreach (var b in brokers)
        {
            var port = config.ListenerBasePort + b.Id;
            if (port > 65535)
            {
                throw Check.Invalid("linkConfig.listenerBasePort", $"broker {b.Id} needs listener port {config.ListenerBasePort} + {b.Id} = {port}, above 65535");
            }
            if (port == config.BootstrapPort)
            {
                throw Check.Invalid("linkConfig.bootstrapPort", $"{port} is also broker {b.Id}'s listener port ({config.ListenerBasePort} + {b.Id})");
            }
            groups.Add(Group(config, nlb, Registry.BrokerKey(b.Id), [b], port));
        }
        // No brokers, no bootstrap group: a target group cannot be created with no targets to register.
        if (config.BootstrapPort is { } bootstrapPort && brokers.Count > 0)
        {
            groups.Add(Group(config, nlb, Registry.Bootstrap, brokers, bootstrapPort));
        }

        var records = new List<DesiredRecord>();
        foreach (var consumer in config.Consumers)
        {
            var alias = new AliasTarget(consumer.EndpointHostedZoneId, consumer.EndpointDnsName, false);
            records.AddRange(brokers.Select(b => new DesiredRecord(consumer.HostedZoneId, b.Host, alias)));
        }
        if (config.ProviderZoneId is { } providerZone)
        {
            var alias = new AliasTarget(nlb.CanonicalHostedZoneId, nlb.DnsName, false);
            records.AddRange(brokers.Select(b => new DesiredRecord(providerZone, b.Host, alias)));
        }

        var (listenerName, findings) = ListenerName(config.TargetPort);
        var advertised = brokers.Select(b =>
        {
            var port = config.ListenerBasePort + b.Id;
            return new AdvertisedListener(b.Id, b.Host, port, listenerName, listenerName is null ? null : $"{listenerName}://{b.Host}:{port}");
        }).ToList();

        return new Desired(groups, records, advertised, findings, brokers.Count);
    }

    /// <summary>The brokers from the ListNodes page chain, by id; nodes without broker info (e.g. controllers) are skipped.</summary>
    public static IReadOnlyList<Broker> ReadBrokers(PageChain<NodesPage>? nodes)
    {
        var brokers = new List<Broker>();
        var pages = Observation.Unroll(nodes, "nodes", p => !string.IsNullOrEmpty(p.NextToken), "has a NextToken");
        foreach (var (node, nodePath) in pages.SelectMany(p => Check.Items(p.Page.NodeInfoList, $"{p.Path}.NodeInfoList")))
        {
            if (node.BrokerNodeInfo is not { } info)
            {
                continue;
            }
            var path = $"{nodePath}.BrokerNodeInfo";
            var id = info.BrokerId switch
            {
                null => throw Check.Invalid($"{path}.BrokerId", "missing"),
                { } n when n != Math.Floor(n) || n < 1 || n > 65535 => throw Check.Invalid($"{path}.BrokerId", $"{Check.Show(n)} is not a broker id (a whole number from 1)"),
                { } n => (int)n,
            };
            var ip = Check.Ipv4(info.ClientVpcIpAddress, $"{path}.ClientVpcIpAddress");
            var endpoints = Check.Present(info.Endpoints, $"{path}.Endpoints");
            var host = Check.DnsName(endpoints.Count > 0 ? endpoints[0] : throw Check.Invalid($"{path}.Endpoints", "empty"), $"{path}.Endpoints[0]");
            if (brokers.FirstOrDefault(b => b.Id == id || b.Host == host) is { } other)
            {
                throw Check.Invalid(path, other.Id == id ? $"broker {id} appears twice" : $"brokers {other.Id} and {id} share the name {host}");
            }
            brokers.Add(new Broker(id, ip, host));
        }
        return [.. brokers.OrderBy(b => b.Id)];
    }

    private sealed record Nlb(string DnsName, string CanonicalHostedZoneId, string VpcId);

    private static Nlb ReadLoadBalancer(LoadBalancerWire? wire, LinkConfig config)
    {
        var lb = Check.Present(wire, "loadBalancer");
        var arn = Check.Text(lb.LoadBalancerArn, "loadBalancer.LoadBalancerArn");
        if (arn != config.LoadBalancerArn.Value)
        {
            throw Check.Invalid("loadBalancer.LoadBalancerArn", $"'{arn}' is not the link's load balancer {config.LoadBalancerArn.Value}");
        }
        return new Nlb(
            Check.DnsName(lb.DnsName, "loadBalancer.DNSName"),
            Check.HostedZoneId(lb.CanonicalHostedZoneId, "loadBalancer.CanonicalHostedZoneId"),
            Check.Text(lb.VpcId, "loadBalancer.VpcId"));
    }

    private static DesiredTargetGroup Group(LinkConfig config, Nlb nlb, string key, IEnumerable<Broker> brokers, int listenerPort) => new(
        key,
        Registry.TargetGroupName(config.LinkId, key),
        config.TargetPort,
        nlb.VpcId,
        [.. brokers.Select(b => new Target(b.Ip, config.TargetPort)).Distinct().OrderBy(t => t.Id, StringComparer.Ordinal)],
        listenerPort);

    // MSK's listener names for the in-VPC ports.
    private static (string? Name, IReadOnlyList<Finding> Findings) ListenerName(int targetPort) => targetPort switch
    {
        9092 => ("CLIENT", []),
        9094 => ("CLIENT_SECURE", []),
        9096 => ("CLIENT_SASL_SCRAM", []),
        9098 => ("CLIENT_IAM", []),
        _ => (null, [new Finding("UnknownTargetPort", targetPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            $"target port {targetPort} is not an MSK client port (9092, 9094, 9096, 9098): advertised listener names are left null")]),
    };
}
