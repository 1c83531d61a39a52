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
    GuardsWire? Guards = null);

internal sealed record GuardsWire(double? MaxRemovalShare = null);

internal sealed record ProviderZoneWire(string? HostedZoneId = null);

internal sealed record ConsumerWire(
    string? Name = null,
    string? HostedZoneId = null,
    string? EndpointDnsName = null,
    string? EndpointHostedZoneId = null,
    string? RoleArn = null);

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
    double MaxRemovalShare)
{
    /// <summary>The share of owned targets or records one run may remove when the link config does not say.</summary>
    public const double DefaultMaxRemovalShare = 0.5;

    /// <summary>Every zone the link writes to: the consumers', then the provider's (no role).</summary>
    public IReadOnlyList<Zone> Zones => ProviderZoneId is null
        ? [.. Consumers.Select(c => new Zone(c.HostedZoneId, c.RoleArn))]
        : [.. Consumers.Select(c => new Zone(c.HostedZoneId, c.RoleArn)), new Zone(ProviderZoneId, null)];
}

internal sealed record Consumer(string Name, string HostedZoneId, string EndpointDnsName, string EndpointHostedZoneId, string? RoleArn);

internal sealed record Zone(string HostedZoneId, string? RoleArn);

internal static class LinkConfigReader
{
    private const string Root = "linkConfig";

    /// <summary>Reads the config given as the table's JSON string or as an object.</summary>
    public static LinkConfig Read(JsonElement? element)
    {
        if (element is not { ValueKind: JsonValueKind.String or JsonValueKind.Object } value)
        {
            throw Check.Invalid(Root, element is null or { ValueKind: JsonValueKind.Null } ? "missing" : "expected the link config as a JSON string or object");
        }
        return Validate(Json.Json.Read(value, Json.Json.Context.LinkConfigWire, Root));
    }

    public static LinkConfig Validate(LinkConfigWire wire)
    {
        var linkId = Check.LinkId(wire.LinkId, $"{Root}.linkId");
        var kind = Check.Text(wire.Kind, $"{Root}.kind");
        if (!LinkKinds.Known.Contains(kind))
        {
            throw Check.Invalid($"{Root}.kind", $"'{kind}' is not a known link kind ({string.Join(", ", LinkKinds.Known)})");
        }
        var cluster = Check.ClusterArn(wire.ClusterArn, $"{Root}.clusterArn");
        var loadBalancer = Check.LoadBalancerArn(wire.LoadBalancerArn, $"{Root}.loadBalancerArn");
        if (loadBalancer.Region != cluster.Region)
        {
            throw Check.Invalid($"{Root}.loadBalancerArn", $"region {loadBalancer.Region} is not the cluster's region {cluster.Region}");
        }
        var basePort = Check.Port(wire.ListenerBasePort, $"{Root}.listenerBasePort");
        var targetPort = Check.Port(wire.TargetPort, $"{Root}.targetPort");
        int? bootstrapPort = wire.BootstrapPort is null ? null : Check.Port(wire.BootstrapPort, $"{Root}.bootstrapPort");
        var providerZone = wire.ProviderZone is null ? null : Check.HostedZoneId(wire.ProviderZone.HostedZoneId, $"{Root}.providerZone.hostedZoneId");

        var consumers = new List<Consumer>();
        foreach (var (c, path) in Check.Items(wire.Consumers, $"{Root}.consumers"))
        {
            var consumer = new Consumer(
                Check.Text(c.Name, $"{path}.name"),
                Check.HostedZoneId(c.HostedZoneId, $"{path}.hostedZoneId"),
                Check.DnsName(c.EndpointDnsName, $"{path}.endpointDnsName"),
                Check.HostedZoneId(c.EndpointHostedZoneId, $"{path}.endpointHostedZoneId"),
                c.RoleArn is null ? null : Check.RoleArn(c.RoleArn, $"{path}.roleArn"));
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
            throw Check.Invalid($"{Root}.guards.maxRemovalShare", $"{Check.Show(maxRemovalShare)} is not a share in (0, 1]");
        }
        return new LinkConfig(linkId, kind, cluster, loadBalancer, basePort, targetPort, bootstrapPort, providerZone, consumers, maxRemovalShare);
    }
}
