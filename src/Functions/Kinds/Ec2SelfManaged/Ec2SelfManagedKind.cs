using System.Globalization;
using BrokerLink.Functions.Kinds.Shared;
using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Kinds.Ec2SelfManaged;

/// <summary>
/// Self-managed Kafka on EC2 behind one NLB: the brokers are the instances tagged <c>brokerTag</c>, broker id from the
/// tag <c>brokerIdTagKey</c>; each gets a target group and a listener on listenerBasePort + id (as msk-single-nlb), and
/// every one of <c>recordNames</c> is an alias in every zone. The plan also writes each broker's server.properties lines.
/// <code>
/// instance                                       outcome
/// tagged, pending/running/stopping/stopped       a broker (a stopped one keeps its IP: no churn)
/// shutting-down / terminated                     gone
/// broker id tag missing, not 0-65535             finding InvalidBrokerIdTag (subject the instance), ignored
/// no private IP                                  finding InstanceWithoutPrivateIp, ignored
/// two live instances claim one id                finding DuplicateBrokerId, that broker held as it is
/// </code>
/// </summary>
internal static class Ec2SelfManagedKind
{
    private static readonly HashSet<string> LiveStates = ["pending", "running", "stopping", "stopped"];

    public sealed record Instance(string InstanceId, int BrokerId, string Ip);

    public static ObserveSpec Observe(LinkConfig config) => new(
        Cluster: false, LoadBalancer: true, Nodes: false, VpcEndpointId: null,
        // Only live instances: a terminated one stays listed for about an hour, and each costs kilobytes of the 256 KiB state.
        InstanceFilters: config.Retired ? null :
        [
            new InstanceFilter($"tag:{config.BrokerTag!.Key}", [config.BrokerTag.Value]),
            new InstanceFilter("instance-state-name", [.. LiveStates.Order(StringComparer.Ordinal)]),
        ],
        TargetGroupArns: null)
    {
        InstanceTags = config.Retired ? null : [config.BrokerTag!.Key, config.BrokerIdTagKey!],
    };

    /// <summary>
    /// One DescribeInstances page as the link pass needs it: each instance's id, private IP, state and the tags in
    /// <paramref name="keep"/> (the two that make it a broker, from the check pass), and no other field or tag (an instance with fifty tags is kilobytes of the 256 KiB state).
    /// </summary>
    public static IEnumerable<InstanceWire> Digest(IReadOnlyCollection<string> keep, InstancesPage page, string path)
    {
        foreach (var (reservation, reservationPath) in Check.Items(page.Reservations, $"{path}.Reservations"))
        {
            foreach (var (instance, instancePath) in Check.Items(reservation.Instances, $"{reservationPath}.Instances"))
            {
                var tags = Check.Items(instance.Tags ?? [], $"{instancePath}.Tags").Select(t => t.Item).Where(t => keep.Contains(t.Key)).ToList();
                yield return new InstanceWire(instance.InstanceId, instance.PrivateIpAddress, instance.State, tags);
            }
        }
    }

    public static Desired Desire(LinkConfig config, PlanInput input)
    {
        var nlb = Nlb.Read(input.LoadBalancer, config);
        var (instances, findings) = ReadInstances(input.Instances, config);
        var byId = instances.GroupBy(i => i.BrokerId).OrderBy(g => g.Key).ToList();
        var brokers = byId.Where(g => g.Count() == 1).Select(g => g.Single()).ToList();
        var duplicates = byId.Where(g => g.Count() > 1).ToList();
        findings.AddRange(duplicates.Select(g => new Finding("DuplicateBrokerId", Registry.BrokerKey(g.Key),
            $"instances {string.Join(", ", g.Select(i => i.InstanceId).Order(StringComparer.Ordinal))} all claim broker id {g.Key}: its target group and listener are held as they are")));

        var (groups, portFindings, unwired) = NlbListeners.Groups(config, nlb, [.. brokers.Select(b => new BrokerIp(b.BrokerId, b.Ip))],
            [.. duplicates.Select(g => g.Key)], [.. duplicates.SelectMany(g => g).Select(i => i.Ip)]);
        findings.AddRange(portFindings);
        var records = NlbListeners.Records(config, nlb, config.RecordNames!).ToList();
        // The config reader gives every ec2 link server properties (the defaults where it names none).
        var properties = brokers.Where(b => !unwired.Contains(b.BrokerId)).Select(b => ServerProperties(config, config.ServerProperties!, b)).ToList();
        return new Desired(groups, records, [], findings, byId.Count,
            NoBrokers: $"no live EC2 instance tagged {config.BrokerTag!.Key} = {config.BrokerTag.Value} has a valid {config.BrokerIdTagKey} tag",
            ServerProperties: properties)
        {
            Seen = [.. instances.Select(i => new SeenBroker(i.BrokerId, i.InstanceId, i.Ip))],
        };
    }

    private static ServerPropertiesEntry ServerProperties(LinkConfig config, ServerPropertiesConfig p, Instance b)
    {
        string Text(int n) => n.ToString(CultureInfo.InvariantCulture);
        var port = config.ListenerBasePort!.Value + b.BrokerId;
        return new ServerPropertiesEntry(b.BrokerId, b.InstanceId,
        [
            $"listeners={p.InternalListenerName}://0.0.0.0:{Text(p.InternalPort)},{p.ListenerName}://0.0.0.0:{Text(config.TargetPort)}",
            $"advertised.listeners={p.InternalListenerName}://{b.Ip}:{Text(p.InternalPort)},{p.ListenerName}://{config.RecordNames![0]}:{Text(port)}",
            $"listener.security.protocol.map={p.InternalListenerName}:{p.InternalSecurityProtocol},{p.ListenerName}:{p.SecurityProtocol}",
            $"inter.broker.listener.name={p.InternalListenerName}",
        ]);
    }

    /// <summary>The live tagged instances with a valid broker id; the others are findings (or, not tagged or gone, skipped).</summary>
    private static (List<Instance> Instances, List<Finding> Findings) ReadInstances(PageChain<InstancesPage>? chain, LinkConfig config)
    {
        var tag = config.BrokerTag!;
        var instances = new List<Instance>();
        var findings = new List<Finding>();
        var pages = Observation.Unroll(chain, "instances", p => !string.IsNullOrEmpty(p.NextToken), "has a NextToken");
        var all = pages
            .SelectMany(p => Check.Items(p.Page.Reservations, $"{p.Path}.Reservations"))
            .SelectMany(r => Check.Items(r.Item.Instances, $"{r.Path}.Instances"));
        foreach (var (instance, path) in all)
        {
            var id = Check.Text(instance.InstanceId, $"{path}.InstanceId");
            var state = Check.Text(instance.State?.Name, $"{path}.State.Name");
            var tags = Check.Items(instance.Tags, $"{path}.Tags").Select(t => (Key: t.Item.Key ?? "", Value: t.Item.Value ?? "")).ToList();
            if (!LiveStates.Contains(state) || !tags.Contains((tag.Key, tag.Value)) || instances.Any(i => i.InstanceId == id))
            {
                continue;
            }
            var idTag = tags.FirstOrDefault(t => t.Key == config.BrokerIdTagKey).Value;
            if (!int.TryParse(idTag, NumberStyles.None, CultureInfo.InvariantCulture, out var brokerId) || brokerId > 65535)
            {
                findings.Add(new Finding("InvalidBrokerIdTag", id, idTag is null
                    ? $"instance {id} has no {config.BrokerIdTagKey} tag: it is not a broker of this link until it has one (0-65535)"
                    : $"instance {id} has {config.BrokerIdTagKey} = '{Check.Brief(idTag)}', not a broker id (an integer 0-65535): it is ignored"));
                continue;
            }
            if (string.IsNullOrEmpty(instance.PrivateIpAddress))
            {
                findings.Add(new Finding("InstanceWithoutPrivateIp", id, $"instance {id} (broker {brokerId}) has no private IP yet: it is ignored"));
                continue;
            }
            instances.Add(new Instance(id, brokerId, Check.Ipv4(instance.PrivateIpAddress, $"{path}.PrivateIpAddress")));
        }
        return (instances, findings);
    }
}
