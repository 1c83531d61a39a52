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
    bool? Retired = null);

internal sealed record GuardsWire(double? MaxRemovalShare = null);

internal sealed record ProviderZoneWire(string? HostedZoneId = null);

internal sealed record ConsumerWire(
    string? Name = null,
    string? HostedZoneId = null,
    string? EndpointDnsName = null,
    string? EndpointHostedZoneId = null,
    string? RoleArn = null,
    string? Principal = null);

/// <summary>A zone that is no longer the link's: Reconcile deletes the link's records there. Onboarding notes whose it was.</summary>
internal sealed record RetiringZoneWire(string? HostedZoneId = null, string? RoleArn = null, string? Consumer = null, string? Principal = null);

/// <summary>A validated link config.</summary>
internal sealed record LinkConfig(
    string LinkId,
    string Kind,
    Arn ClusterArn,
    Arn LoadBalancerArn,
    int ListenerBasePort,
    int TargetPort,
    int? BootstrapPort,
    string? ProviderZoneId,
    IReadOnlyList<Consumer> Consumers,
    double MaxRemovalShare,
    string? EndpointServiceId = null,
    IReadOnlyList<RetiringZone>? RetiringZones = null,
    bool Retired = false)
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
}

internal sealed record Consumer(string Name, string HostedZoneId, string EndpointDnsName, string EndpointHostedZoneId, string? RoleArn, string? Principal = null);

internal sealed record RetiringZone(string HostedZoneId, string? RoleArn, string? Consumer, string? Principal);

internal sealed record Zone(string HostedZoneId, string? RoleArn);

internal static class LinkConfigReader
{
    private const string DefaultRoot = "linkConfig";

    /// <summary>Reads the config given as the table's JSON string or as an object; error paths start at <paramref name="root"/>.</summary>
    public static LinkConfig Read(JsonElement? element, string root = DefaultRoot) => Validate(ReadWire(element, root), root);

    /// <summary>The config as written, not yet validated.</summary>
    public static LinkConfigWire ReadWire(JsonElement? element, string root = DefaultRoot)
    {
        if (element is not { ValueKind: JsonValueKind.String or JsonValueKind.Object } value)
        {
            throw Check.Invalid(root, element is null or { ValueKind: JsonValueKind.Null } ? "missing" : "expected the link config as a JSON string or object");
        }
        return Json.Json.Read(value, Json.Json.Context.LinkConfigWire, root);
    }

    public static LinkConfig Validate(LinkConfigWire wire, string root = DefaultRoot)
    {
        var linkId = Check.LinkId(wire.LinkId, $"{root}.linkId");
        var kind = Check.Text(wire.Kind, $"{root}.kind");
        if (!LinkKinds.Known.Contains(kind))
        {
            throw Check.Invalid($"{root}.kind", $"'{kind}' is not a known link kind ({string.Join(", ", LinkKinds.Known)})");
        }
        var cluster = Check.ClusterArn(wire.ClusterArn, $"{root}.clusterArn");
        var loadBalancer = Check.LoadBalancerArn(wire.LoadBalancerArn, $"{root}.loadBalancerArn");
        if (loadBalancer.Region != cluster.Region)
        {
            throw Check.Invalid($"{root}.loadBalancerArn", $"region {loadBalancer.Region} is not the cluster's region {cluster.Region}");
        }
        var basePort = Check.Port(wire.ListenerBasePort, $"{root}.listenerBasePort");
        var targetPort = Check.Port(wire.TargetPort, $"{root}.targetPort");
        int? bootstrapPort = wire.BootstrapPort is null ? null : Check.Port(wire.BootstrapPort, $"{root}.bootstrapPort");
        var providerZone = wire.ProviderZone is null ? null : Check.HostedZoneId(wire.ProviderZone.HostedZoneId, $"{root}.providerZone.hostedZoneId");

        var consumers = new List<Consumer>();
        foreach (var (c, path) in Check.Items(wire.Consumers, $"{root}.consumers"))
        {
            var consumer = new Consumer(
                Check.Text(c.Name, $"{path}.name"),
                Check.HostedZoneId(c.HostedZoneId, $"{path}.hostedZoneId"),
                Check.EndpointDnsName(c.EndpointDnsName, $"{path}.endpointDnsName").DnsName,
                Check.HostedZoneId(c.EndpointHostedZoneId, $"{path}.endpointHostedZoneId"),
                c.RoleArn is null ? null : Check.RoleArn(c.RoleArn, $"{path}.roleArn"),
                c.Principal is null ? null : Check.Principal(c.Principal, $"{path}.principal"));
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
        var current = consumers.Select(c => c.HostedZoneId).Append(providerZone).ToHashSet();
        var retiring = new List<RetiringZone>();
        foreach (var (r, path) in Check.Items(wire.RetiringZones, $"{root}.retiringZones"))
        {
            var zone = new RetiringZone(
                Check.HostedZoneId(r.HostedZoneId, $"{path}.hostedZoneId"),
                r.RoleArn is null ? null : Check.RoleArn(r.RoleArn, $"{path}.roleArn"),
                r.Consumer,
                r.Principal is null ? null : Check.Principal(r.Principal, $"{path}.principal"));
            if (current.Contains(zone.HostedZoneId) || retiring.Any(other => other.HostedZoneId == zone.HostedZoneId))
            {
                throw Check.Invalid($"{path}.hostedZoneId", $"zone {zone.HostedZoneId} is also a current zone of the link or retiring twice");
            }
            retiring.Add(zone);
        }
        return new LinkConfig(linkId, kind, cluster, loadBalancer, basePort, targetPort, bootstrapPort, providerZone, consumers, maxRemovalShare,
            serviceId, retiring, wire.Retired ?? false);
    }
}
