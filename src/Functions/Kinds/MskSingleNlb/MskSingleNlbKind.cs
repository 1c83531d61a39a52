using BrokerLink.Functions.Kinds.Shared;
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

    /// <summary>
    /// What ListNodes reports: the brokers by id, and the ids two nodes claim (<see cref="Duplicates"/>, each with every
    /// claimant), which are held with a <c>DuplicateBrokerId</c> finding.
    /// </summary>
    public sealed record NodeBrokers(IReadOnlyList<Broker> Brokers, IReadOnlyList<IReadOnlyList<Broker>> Duplicates)
    {
        public IReadOnlyList<int> HeldIds => [.. Duplicates.Select(d => d[0].Id)];

        public int Count => Brokers.Count + Duplicates.Count;

        public IReadOnlyList<SeenBroker> Seen => [.. Brokers.Concat(Duplicates.SelectMany(d => d)).Select(b => new SeenBroker(b.Id, b.Host, b.Ip))];

        public IEnumerable<Finding> Findings => Duplicates.Select(d => new Finding("DuplicateBrokerId", Registry.BrokerKey(d[0].Id),
            $"ListNodes reports broker {d[0].Id} {d.Count} times ({string.Join(", ", d.Select(b => $"{b.Host} at {b.Ip}"))}): its target group and listener are held as they are"));
    }

    public static ObserveSpec Observe(LinkConfig config) => new(
        Cluster: !config.Retired, LoadBalancer: true, Nodes: !config.Retired, VpcEndpointId: null, InstanceFilters: null, TargetGroupArns: null);

    public static Desired Desire(LinkConfig config, PlanInput input)
    {
        var nodes = ReadBrokers(input.Nodes);
        var brokers = nodes.Brokers;
        var nlb = Nlb.Read(input.LoadBalancer, config);
        var held = nodes.Duplicates.SelectMany(d => d).ToList();

        var (groups, findings, unwired) = NlbListeners.Groups(config, nlb, [.. brokers.Select(b => new BrokerIp(b.Id, b.Ip))],
            nodes.HeldIds, [.. held.Select(b => b.Ip)]);
        var wired = brokers.Where(b => !unwired.Contains(b.Id)).ToList();
        // A held broker's names keep resolving: every claimant's name aliases the same endpoint.
        var records = NlbListeners.Records(config, nlb, [.. wired.Concat(held).Select(b => b.Host).Distinct()]).ToList();

        var (listenerName, nameFindings) = ListenerName(config.TargetPort);
        var advertised = wired.Select(b =>
        {
            var port = config.ListenerBasePort!.Value + b.Id;
            return new AdvertisedListener(b.Id, b.Host, port, listenerName, listenerName is null ? null : $"{listenerName}://{b.Host}:{port}");
        }).ToList();

        return new Desired(groups, records, advertised, [.. findings, .. nameFindings, .. nodes.Findings], nodes.Count) { Seen = nodes.Seen };
    }

    /// <summary>The brokers from the ListNodes page chain, by id; nodes without broker info (e.g. controllers) are skipped.</summary>
    public static NodeBrokers ReadBrokers(PageChain<NodesPage>? nodes)
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
            if (brokers.FirstOrDefault(b => b.Id != id && b.Host == host) is { } other)
            {
                throw Check.Invalid(path, $"brokers {other.Id} and {id} share the name {host}");
            }
            brokers.Add(new Broker(id, ip, host));
        }
        var byId = brokers.GroupBy(b => b.Id).OrderBy(g => g.Key).ToList();
        return new NodeBrokers(
            [.. byId.Where(g => g.Count() == 1).Select(g => g.Single())],
            [.. byId.Where(g => g.Count() > 1).Select(g => (IReadOnlyList<Broker>)[.. g.OrderBy(b => b.Host, StringComparer.Ordinal).ThenBy(b => b.Ip, StringComparer.Ordinal)])]);
    }

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
