using System.Text.Json;
using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Planning;

internal sealed record LinkConfigWire(
    string? LinkId = null,
    string? Kind = null,
    string? ClusterArn = null,
    string? LoadBalancerArn = null,
    int? ListenerBasePort = null,
    int? TargetPort = null,
    int? BootstrapPort = null,
    ProviderZoneWire? ProviderZone = null,
    IReadOnlyList<ConsumerWire?>? Consumers = null,
    GuardsWire? Guards = null,
    string? EndpointServiceId = null,
    IReadOnlyList<RetiringZoneWire?>? RetiringZones = null,
    bool? Retired = null,
    IReadOnlyList<BrokerTargetGroupWire?>? Brokers = null,
    string? VpcEndpointId = null,
    int? ListenerPort = null,
    BrokerTagWire? BrokerTag = null,
    string? BrokerIdTagKey = null,
    IReadOnlyList<string?>? RecordNames = null,
    ServerPropertiesWire? ServerProperties = null,
    IReadOnlyList<string?>? PinnedRegions = null,
    IReadOnlyList<PeerWire?>? Peers = null);

/// <summary>A consumer without an endpoint of its own: its VPC reaches <see cref="PeerOf"/>'s endpoint (peering, transit gateway).</summary>
internal sealed record PeerWire(string? Name = null, string? PeerOf = null, string? VpcId = null, string? VpcRegion = null, string? RoleArn = null);

internal sealed record GuardsWire(double? MaxRemovalShare = null);

internal sealed record ProviderZoneWire(string? HostedZoneId = null);

internal sealed record ConsumerWire(
    string? Name = null,
    string? HostedZoneId = null,
    string? EndpointDnsName = null,
    string? EndpointHostedZoneId = null,
    string? RoleArn = null,
    string? Principal = null,
    IReadOnlyList<BrokerEndpointWire?>? BrokerEndpoints = null,
    string? Region = null);

/// <summary>msk-nlb-per-broker: the operator's target group (behind the operator's NLB and listener) of broker <see cref="BrokerId"/>.</summary>
internal sealed record BrokerTargetGroupWire(int? BrokerId = null, string? TargetGroupArn = null);

/// <summary>msk-nlb-per-broker: a consumer's interface endpoint to broker <see cref="BrokerId"/>'s endpoint service.</summary>
internal sealed record BrokerEndpointWire(int? BrokerId = null, string? EndpointDnsName = null, string? EndpointHostedZoneId = null);

internal sealed record BrokerTagWire(string? Key = null, string? Value = null);

internal sealed record ServerPropertiesWire(
    string? ListenerName = null,
    string? SecurityProtocol = null,
    string? InternalListenerName = null,
    int? InternalPort = null,
    string? InternalSecurityProtocol = null);

/// <summary>A zone that is no longer the link's: Reconcile deletes the link's records there. Onboarding notes whose it was.</summary>
internal sealed record RetiringZoneWire(
    string? HostedZoneId = null, string? RoleArn = null, string? Consumer = null, string? Principal = null, string? Region = null);

/// <summary>
/// A validated link config. Which fields are set depends on <see cref="Kind"/> (see <see cref="LinkConfigReader"/>):
/// a field the kind does not use is null (or empty).
/// </summary>
internal sealed record LinkConfig(
    string LinkId,
    string Kind,
    Arn? ClusterArn,
    Arn? LoadBalancerArn,
    int? ListenerBasePort,
    int TargetPort,
    int? BootstrapPort,
    string? ProviderZoneId,
    IReadOnlyList<Consumer> Consumers,
    double MaxRemovalShare,
    string? EndpointServiceId = null,
    IReadOnlyList<RetiringZone>? RetiringZones = null,
    bool Retired = false,
    IReadOnlyList<BrokerTargetGroup>? Brokers = null,
    string? VpcEndpointId = null,
    int? ListenerPort = null,
    BrokerTag? BrokerTag = null,
    string? BrokerIdTagKey = null,
    IReadOnlyList<string>? RecordNames = null,
    ServerPropertiesConfig? ServerProperties = null,
    IReadOnlyList<string>? PinnedRegions = null,
    IReadOnlyList<Peer>? Peers = null)
{
    /// <summary>The share of owned targets or records one run may remove when the link config does not say.</summary>
    public const double DefaultMaxRemovalShare = 0.5;

    /// <summary>Every zone the link writes to: the consumers', then the provider's (no role).</summary>
    public IReadOnlyList<Zone> Zones => ProviderZoneId is null
        ? [.. Consumers.Select(c => new Zone(c.HostedZoneId, c.RoleArn))]
        : [.. Consumers.Select(c => new Zone(c.HostedZoneId, c.RoleArn)), new Zone(ProviderZoneId, null)];

    /// <summary>Zones that were the link's and are no longer (a removed consumer, a dropped provider zone).</summary>
    public IReadOnlyList<RetiringZone> Retiring => RetiringZones ?? [];

    /// <summary>Every zone Reconcile observes: the link's zones, then the retiring ones.</summary>
    public IReadOnlyList<Zone> ObservedZones => [.. Zones, .. Retiring.Select(r => new Zone(r.HostedZoneId, r.RoleArn))];

    public IReadOnlyList<BrokerTargetGroup> ConfiguredBrokers => Brokers ?? [];

    /// <summary>Regions the endpoint service keeps supporting after their last consumer has gone (the operator's).</summary>
    public IReadOnlyList<string> Pinned => PinnedRegions ?? [];

    /// <summary>Consumers whose VPC is associated with another consumer's zone (Reconcile writes nothing for them).</summary>
    public IReadOnlyList<Peer> PeeredConsumers => Peers ?? [];
}

/// <summary>A VPC (of <see cref="RoleArn"/>'s account) associated with the zone of consumer <see cref="PeerOf"/>, whose endpoint it reaches.</summary>
internal sealed record Peer(string Name, string PeerOf, string VpcId, string VpcRegion, string RoleArn);

/// <summary>
/// <see cref="EndpointDnsName"/> and <see cref="EndpointHostedZoneId"/> for every kind but msk-nlb-per-broker, whose consumers have
/// <see cref="BrokerEndpoints"/>. <see cref="Region"/>: where its endpoints are, when that is not the stack's region (cross-Region
/// PrivateLink); null for the stack's own.
/// </summary>
internal sealed record Consumer(
    string Name,
    string HostedZoneId,
    string? EndpointDnsName,
    string? EndpointHostedZoneId,
    string? RoleArn,
    string? Principal = null,
    IReadOnlyList<BrokerEndpoint>? BrokerEndpoints = null,
    string? Region = null)
{
    /// <summary>Same settings (record equality compares lists by reference).</summary>
    public bool SameAs(Consumer other) =>
        this with { BrokerEndpoints = null } == other with { BrokerEndpoints = null }
        && (BrokerEndpoints ?? []).SequenceEqual(other.BrokerEndpoints ?? []);
}

internal sealed record BrokerEndpoint(int BrokerId, string EndpointDnsName, string EndpointHostedZoneId);

internal sealed record BrokerTargetGroup(int BrokerId, string TargetGroupArn);

internal sealed record BrokerTag(string Key, string Value);

internal sealed record ServerPropertiesConfig(
    string ListenerName,
    string SecurityProtocol,
    string InternalListenerName,
    int InternalPort,
    string InternalSecurityProtocol)
{
    public static readonly ServerPropertiesConfig Default = new("PRIVATELINK", "SSL", "INTERNAL", 9092, "SSL");
}

internal sealed record RetiringZone(string HostedZoneId, string? RoleArn, string? Consumer, string? Principal, string? Region = null);

internal sealed record Zone(string HostedZoneId, string? RoleArn);

internal static class LinkConfigReader
{
    private const string DefaultRoot = "linkConfig";

    /// <summary>Reads the config given as the table's JSON string or as an object; error paths start at <paramref name="root"/>.</summary>
    public static LinkConfig Read(JsonElement? element, string root = DefaultRoot, Arn? deployment = null) =>
        Validate(ReadWire(element, root), root, deployment);

    /// <summary>The config as written, not yet validated.</summary>
    public static LinkConfigWire ReadWire(JsonElement? element, string root = DefaultRoot)
    {
        if (element is not { ValueKind: JsonValueKind.String or JsonValueKind.Object } value)
        {
            throw Check.Invalid(root, element is null or { ValueKind: JsonValueKind.Null } ? "missing" : "expected the link config as a JSON string or object");
        }
        return Json.Json.Read(value, Json.Json.Context.LinkConfigWire, root);
    }

    /// <summary>Which fields each kind requires, takes with a default, or refuses (docs/contract.md, "Link kinds").</summary>
    private enum Use { Required, Optional, NotAllowed }

    private static readonly string[] KindFields =
        ["clusterArn", "loadBalancerArn", "listenerBasePort", "targetPort", "bootstrapPort", "providerZone", "brokers", "vpcEndpointId",
         "listenerPort", "brokerTag", "brokerIdTagKey", "recordNames", "serverProperties"];

    private static Use FieldUse(string kind, string field) => (kind, field) switch
    {
        (LinkKinds.MskSingleNlb, "clusterArn" or "loadBalancerArn" or "listenerBasePort" or "targetPort") => Use.Required,
        (LinkKinds.MskSingleNlb, "bootstrapPort" or "providerZone") => Use.Optional,
        (LinkKinds.MskNlbPerBroker, "clusterArn" or "targetPort" or "brokers") => Use.Required,
        (LinkKinds.MskServerless, "clusterArn" or "loadBalancerArn" or "vpcEndpointId") => Use.Required,
        (LinkKinds.MskServerless, "targetPort" or "listenerPort" or "providerZone") => Use.Optional,
        (LinkKinds.Ec2SelfManaged, "loadBalancerArn" or "brokerTag" or "listenerBasePort" or "targetPort" or "recordNames") => Use.Required,
        (LinkKinds.Ec2SelfManaged, "brokerIdTagKey" or "bootstrapPort" or "serverProperties" or "providerZone") => Use.Optional,
        _ => Use.NotAllowed,
    };

    private static bool Given(LinkConfigWire wire, string field) => field switch
    {
        "clusterArn" => wire.ClusterArn is not null,
        "loadBalancerArn" => wire.LoadBalancerArn is not null,
        "listenerBasePort" => wire.ListenerBasePort is not null,
        "targetPort" => wire.TargetPort is not null,
        "bootstrapPort" => wire.BootstrapPort is not null,
        "providerZone" => wire.ProviderZone is not null,
        "brokers" => wire.Brokers is not null,
        "vpcEndpointId" => wire.VpcEndpointId is not null,
        "listenerPort" => wire.ListenerPort is not null,
        "brokerTag" => wire.BrokerTag is not null,
        "brokerIdTagKey" => wire.BrokerIdTagKey is not null,
        "recordNames" => wire.RecordNames is not null,
        "serverProperties" => wire.ServerProperties is not null,
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, null),
    };

    /// <summary>The default ListenerNames port of msk-serverless: IAM authentication is the only one MSK Serverless offers.</summary>
    public const int ServerlessPort = 9098;

    public const string DefaultBrokerIdTagKey = "kafka-broker-id";

    public const int MaxRecordNames = 10;

    /// <summary>
    /// The config, valid for its kind. With <paramref name="deployment"/> (the state machine's ARN), every resource ARN is
    /// also in its account and region, checked as each is read: the state machine's aws-sdk tasks call only there, and
    /// the field named is the one that is not.
    /// </summary>
    public static LinkConfig Validate(LinkConfigWire wire, string root = DefaultRoot, Arn? deployment = null)
    {
        var linkId = Check.LinkId(wire.LinkId, $"{root}.linkId");
        var kind = Check.Text(wire.Kind, $"{root}.kind");
        if (!LinkKinds.Known.Contains(kind))
        {
            throw Check.Invalid($"{root}.kind", $"'{kind}' is not a known link kind ({string.Join(", ", LinkKinds.Known)})");
        }
        foreach (var field in KindFields)
        {
            var use = FieldUse(kind, field);
            if (use == Use.NotAllowed && Given(wire, field))
            {
                throw Check.Invalid($"{root}.{field}", $"not allowed for kind '{kind}'");
            }
        }
        // Required fields are checked in the order they are read, so the first problem in the config is the one named.
        void Need(string field)
        {
            if (FieldUse(kind, field) == Use.Required && !Given(wire, field))
            {
                throw Check.Invalid($"{root}.{field}", $"missing (required for kind '{kind}')");
            }
        }

        Need("clusterArn");
        var cluster = wire.ClusterArn is null ? null
            : Check.InDeployment(Check.ClusterArn(wire.ClusterArn, $"{root}.clusterArn"), deployment, $"{root}.clusterArn");
        Need("loadBalancerArn");
        var loadBalancer = wire.LoadBalancerArn is null ? null
            : Check.InDeployment(Check.LoadBalancerArn(wire.LoadBalancerArn, $"{root}.loadBalancerArn"), deployment, $"{root}.loadBalancerArn");
        // Without a deployment to tell which one is elsewhere, the load balancer is named against the cluster.
        if (loadBalancer is not null && cluster is not null && loadBalancer.Region != cluster.Region)
        {
            throw Check.Invalid($"{root}.loadBalancerArn", $"region {loadBalancer.Region} is not the cluster's region {cluster.Region}");
        }
        Need("listenerBasePort");
        Need("targetPort");
        int? basePort = wire.ListenerBasePort is null ? null : Check.Port(wire.ListenerBasePort, $"{root}.listenerBasePort");
        var targetPort = wire.TargetPort is null ? ServerlessPort : Check.Port(wire.TargetPort, $"{root}.targetPort");
        int? bootstrapPort = wire.BootstrapPort is null ? null : Check.Port(wire.BootstrapPort, $"{root}.bootstrapPort");
        int? listenerPort = kind == LinkKinds.MskServerless
            ? wire.ListenerPort is null ? targetPort : Check.Port(wire.ListenerPort, $"{root}.listenerPort")
            : null;
        var providerZone = wire.ProviderZone is null ? null : Check.HostedZoneId(wire.ProviderZone.HostedZoneId, $"{root}.providerZone.hostedZoneId");
        Need("vpcEndpointId");
        Need("brokers");
        Need("brokerTag");
        Need("recordNames");
        var vpcEndpoint = wire.VpcEndpointId is null ? null : Check.VpcEndpointId(wire.VpcEndpointId, $"{root}.vpcEndpointId");
        var brokers = wire.Brokers is null ? null : ReadBrokers(wire.Brokers, cluster!, deployment, $"{root}.brokers");
        var brokerTag = wire.BrokerTag is null ? null : new BrokerTag(
            Check.Text(wire.BrokerTag.Key, $"{root}.brokerTag.key"), Check.Text(wire.BrokerTag.Value, $"{root}.brokerTag.value"));
        var brokerIdTagKey = kind == LinkKinds.Ec2SelfManaged
            ? wire.BrokerIdTagKey is null ? DefaultBrokerIdTagKey : Check.Text(wire.BrokerIdTagKey, $"{root}.brokerIdTagKey")
            : null;
        var recordNames = wire.RecordNames is null ? null : ReadRecordNames(wire.RecordNames, $"{root}.recordNames");
        var serverProperties = kind == LinkKinds.Ec2SelfManaged ? ReadServerProperties(wire.ServerProperties, targetPort, $"{root}.serverProperties") : null;
        var perBroker = kind == LinkKinds.MskNlbPerBroker;

        var consumers = new List<Consumer>();
        foreach (var (c, path) in Check.Items(wire.Consumers, $"{root}.consumers"))
        {
            var name = Check.Text(c.Name, $"{path}.name");
            var zone = Check.HostedZoneId(c.HostedZoneId, $"{path}.hostedZoneId");
            var role = c.RoleArn is null ? null : Check.RoleArn(c.RoleArn, $"{path}.roleArn");
            var principal = c.Principal is null ? null : Check.Principal(c.Principal, $"{path}.principal");
            var region = c.Region is null ? null : Check.AwsRegion(c.Region, $"{path}.region");
            Consumer consumer;
            if (perBroker)
            {
                NotGiven(c.EndpointDnsName, $"{path}.endpointDnsName", kind, "give brokerEndpoints, one per broker");
                NotGiven(c.EndpointHostedZoneId, $"{path}.endpointHostedZoneId", kind, "give brokerEndpoints, one per broker");
                var endpoints = ReadBrokerEndpoints(c.BrokerEndpoints, $"{path}.brokerEndpoints", kind);
                foreach (var (e, i) in endpoints.Select((e, i) => (e, i)))
                {
                    Check.EndpointDnsName(e.EndpointDnsName, $"{path}.brokerEndpoints[{i}].endpointDnsName", region);
                }
                consumer = new Consumer(name, zone, null, null, role, principal, endpoints, region);
            }
            else
            {
                NotGiven(c.BrokerEndpoints, $"{path}.brokerEndpoints", kind, "brokerEndpoints are for msk-nlb-per-broker");
                var endpoint = Check.EndpointDnsName(c.EndpointDnsName, $"{path}.endpointDnsName", region).DnsName;
                consumer = new Consumer(name, zone, endpoint, Check.HostedZoneId(c.EndpointHostedZoneId, $"{path}.endpointHostedZoneId"),
                    role, principal, null, region);
            }
            if (consumers.Any(other => other.Name == consumer.Name))
            {
                throw Check.Invalid($"{path}.name", $"'{consumer.Name}' is used by another consumer");
            }
            if (consumers.Any(other => other.HostedZoneId == consumer.HostedZoneId) || consumer.HostedZoneId == providerZone)
            {
                throw Check.Invalid($"{path}.hostedZoneId", $"zone {consumer.HostedZoneId} is used by another consumer or the provider zone");
            }
            consumers.Add(consumer);
        }
        var maxRemovalShare = wire.Guards?.MaxRemovalShare ?? LinkConfig.DefaultMaxRemovalShare;
        if (maxRemovalShare is not (> 0 and <= 1))
        {
            throw Check.Invalid($"{root}.guards.maxRemovalShare", $"{Check.Show(maxRemovalShare)} is not a share in (0, 1]");
        }
        var serviceId = wire.EndpointServiceId is null ? null : Check.EndpointServiceId(wire.EndpointServiceId, $"{root}.endpointServiceId");
        if (serviceId is null && !perBroker && consumers.FindIndex(c => c.Region is not null) is var other and >= 0)
        {
            throw Check.Invalid($"{root}.consumers[{other}].region", $"{consumers[other].Region}: a consumer in another region connects through the "
                + "link's endpoint service (cross-Region PrivateLink): give endpointServiceId");
        }
        var current = consumers.Select(c => c.HostedZoneId).Append(providerZone).ToHashSet();
        var retiring = new List<RetiringZone>();
        foreach (var (r, path) in Check.Items(wire.RetiringZones, $"{root}.retiringZones"))
        {
            var zone = new RetiringZone(
                Check.HostedZoneId(r.HostedZoneId, $"{path}.hostedZoneId"),
                r.RoleArn is null ? null : Check.RoleArn(r.RoleArn, $"{path}.roleArn"),
                r.Consumer,
                r.Principal is null ? null : Check.Principal(r.Principal, $"{path}.principal"),
                r.Region is null ? null : Check.AwsRegion(r.Region, $"{path}.region"));
            if (current.Contains(zone.HostedZoneId) || retiring.Any(other => other.HostedZoneId == zone.HostedZoneId))
            {
                throw Check.Invalid($"{path}.hostedZoneId", $"zone {zone.HostedZoneId} is also a current zone of the link or retiring twice");
            }
            retiring.Add(zone);
        }
        var pinned = new List<string>();
        foreach (var (r, path) in Check.Items(wire.PinnedRegions, $"{root}.pinnedRegions"))
        {
            var region = Check.AwsRegion(r, path);
            pinned.Add(pinned.Contains(region) ? throw Check.Invalid(path, $"{region} is pinned twice") : region);
        }
        if (pinned.Count > 0 && serviceId is null)
        {
            throw Check.Invalid($"{root}.pinnedRegions", "a pinned region is kept on the link's endpoint service: give endpointServiceId");
        }
        var peers = new List<Peer>();
        foreach (var (p, path) in Check.Items(wire.Peers, $"{root}.peers"))
        {
            var peer = new Peer(Check.Text(p.Name, $"{path}.name"), Check.Text(p.PeerOf, $"{path}.peerOf"), Check.VpcId(p.VpcId, $"{path}.vpcId"),
                Check.AwsRegion(p.VpcRegion, $"{path}.vpcRegion"), Check.RoleArn(p.RoleArn, $"{path}.roleArn"));
            if (consumers.Any(c => c.Name == peer.Name) || peers.Any(other => other.Name == peer.Name))
            {
                throw Check.Invalid($"{path}.name", $"'{peer.Name}' is used by another consumer");
            }
            if (consumers.All(c => c.Name != peer.PeerOf))
            {
                throw Check.Invalid($"{path}.peerOf", $"'{peer.PeerOf}' is not a consumer of the link");
            }
            peers.Add(peer);
        }
        return new LinkConfig(linkId, kind, cluster, loadBalancer, basePort, targetPort, bootstrapPort, providerZone, consumers, maxRemovalShare,
            serviceId, retiring, wire.Retired ?? false, brokers, vpcEndpoint, listenerPort, brokerTag, brokerIdTagKey, recordNames, serverProperties,
            wire.PinnedRegions is null ? null : [.. pinned.Order(StringComparer.Ordinal)], wire.Peers is null ? null : peers);
    }

    private static void NotGiven(object? value, string path, string kind, string why)
    {
        if (value is not null)
        {
            throw Check.Invalid(path, $"not allowed for kind '{kind}': {why}");
        }
    }

    private static List<BrokerTargetGroup> ReadBrokers(IReadOnlyList<BrokerTargetGroupWire?> wire, Arn cluster, Arn? deployment, string root)
    {
        var brokers = new List<BrokerTargetGroup>();
        foreach (var (b, path) in Check.Items(wire, root))
        {
            var id = BrokerId(b.BrokerId, $"{path}.brokerId");
            var arn = Check.InDeployment(Check.TargetGroupArn(b.TargetGroupArn, $"{path}.targetGroupArn"), deployment, $"{path}.targetGroupArn");
            if (arn.Region != cluster.Region)
            {
                throw Check.Invalid($"{path}.targetGroupArn", $"region {arn.Region} is not the cluster's region {cluster.Region}");
            }
            if (brokers.Any(other => other.BrokerId == id))
            {
                throw Check.Invalid($"{path}.brokerId", $"broker {id} is configured twice");
            }
            if (brokers.Any(other => other.TargetGroupArn == arn.Value))
            {
                throw Check.Invalid($"{path}.targetGroupArn", $"{arn.Value} is also another broker's target group");
            }
            brokers.Add(new BrokerTargetGroup(id, arn.Value));
        }
        if (brokers.Count == 0)
        {
            throw Check.Invalid(root, "empty: configure each broker's target group");
        }
        return [.. brokers.OrderBy(b => b.BrokerId)];
    }

    private static List<BrokerEndpoint> ReadBrokerEndpoints(IReadOnlyList<BrokerEndpointWire?>? wire, string root, string kind)
    {
        var endpoints = new List<BrokerEndpoint>();
        foreach (var (e, path) in Check.Items(wire ?? throw Check.Invalid(root, $"missing (required for kind '{kind}')"), root))
        {
            var id = BrokerId(e.BrokerId, $"{path}.brokerId");
            if (endpoints.Any(other => other.BrokerId == id))
            {
                throw Check.Invalid($"{path}.brokerId", $"broker {id} has two endpoints");
            }
            endpoints.Add(new BrokerEndpoint(id,
                Check.EndpointDnsName(e.EndpointDnsName, $"{path}.endpointDnsName").DnsName,
                Check.HostedZoneId(e.EndpointHostedZoneId, $"{path}.endpointHostedZoneId")));
        }
        return [.. endpoints.OrderBy(e => e.BrokerId)];
    }

    // MSK numbers brokers from 1.
    private static int BrokerId(int? value, string path) => value switch
    {
        null => throw Check.Invalid(path, "missing"),
        >= 1 and <= 65535 => value.Value,
        _ => throw Check.Invalid(path, $"{value} is not an MSK broker id (1-65535)"),
    };

    private static List<string> ReadRecordNames(IReadOnlyList<string?> wire, string root)
    {
        var names = new List<string>();
        for (var i = 0; i < wire.Count; i++)
        {
            var name = Check.DnsName(wire[i], $"{root}[{i}]");
            if (names.Contains(name))
            {
                throw Check.Invalid($"{root}[{i}]", $"'{name}' is named twice");
            }
            names.Add(name);
        }
        if (names.Count is 0 or > MaxRecordNames)
        {
            throw Check.Invalid(root, $"{names.Count} names: give 1 to {MaxRecordNames}");
        }
        return names;
    }

    /// <summary>Unset fields (or no <c>serverProperties</c> at all) take the defaults: every ec2 plan gives each broker its lines.</summary>
    private static ServerPropertiesConfig ReadServerProperties(ServerPropertiesWire? given, int targetPort, string root)
    {
        var d = ServerPropertiesConfig.Default;
        var wire = given ?? new ServerPropertiesWire();
        var config = new ServerPropertiesConfig(
            wire.ListenerName is null ? d.ListenerName : Check.ListenerName(wire.ListenerName, $"{root}.listenerName"),
            wire.SecurityProtocol is null ? d.SecurityProtocol : Check.SecurityProtocol(wire.SecurityProtocol, $"{root}.securityProtocol"),
            wire.InternalListenerName is null ? d.InternalListenerName : Check.ListenerName(wire.InternalListenerName, $"{root}.internalListenerName"),
            wire.InternalPort is null ? d.InternalPort : Check.Port(wire.InternalPort, $"{root}.internalPort"),
            wire.InternalSecurityProtocol is null ? d.InternalSecurityProtocol : Check.SecurityProtocol(wire.InternalSecurityProtocol, $"{root}.internalSecurityProtocol"));
        if (config.ListenerName == config.InternalListenerName)
        {
            throw Check.Invalid($"{root}.internalListenerName", $"'{config.InternalListenerName}' is also the PrivateLink listener's name");
        }
        if (config.InternalPort == targetPort)
        {
            throw Check.Invalid($"{root}.internalPort", $"{config.InternalPort} is also the PrivateLink listener's port (targetPort)");
        }
        return config;
    }
}
