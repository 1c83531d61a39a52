using System.Globalization;
using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Validation;
using static BrokerLink.Functions.Json.Json;

namespace BrokerLink.Functions.Onboarding;

/// <summary>A link item as the table holds it: its config as written, and the version conditional writes compare.</summary>
internal sealed record StoredLink(string Id, LinkConfigWire Wire, string ConfigText, long? Version, string Path)
{
    /// <summary>The stored config, validated; a stored config that no longer validates names its item.</summary>
    public LinkConfig Config => LinkConfigReader.Validate(Wire, $"{Path}.config.S");
}

/// <summary>Reading the table's items, and writing one back: conditional on what was read, so two onboardings cannot overwrite each other.</summary>
internal static class StoredLinks
{
    public const string Partition = "LINK";

    public static IReadOnlyDictionary<string, StoredLink> Load(IReadOnlyList<LinkItemWire?>? items)
    {
        var links = new Dictionary<string, StoredLink>(StringComparer.Ordinal);
        foreach (var (item, path) in Check.Items(Check.Present(items, "links"), "links"))
        {
            var id = Check.LinkId(item.Sk?.S, $"{path}.sk.S");
            if (links.ContainsKey(id))
            {
                throw Check.Invalid($"{path}.sk.S", $"link '{id}' appears twice");
            }
            var text = Check.Text(item.Config?.S, $"{path}.config.S");
            var wire = Read(text, Context.LinkConfigWire, $"{path}.config.S");
            long? version = item.Version?.N is { } n
                ? long.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw Check.Invalid($"{path}.version.N", $"'{n}' is not a version number")
                : null;
            links[id] = new StoredLink(id, wire, text, version, path);
        }
        return links;
    }

    /// <summary>The config as the table stores it: canonical JSON text, so equal configs are equal strings.</summary>
    public static string Text(LinkConfig config) => WriteString(ToWire(config), Context.LinkConfigWire);

    public static LinkConfigWire ToWire(LinkConfig c) => new(
        c.LinkId,
        c.Kind,
        c.ClusterArn?.Value,
        c.LoadBalancerArn?.Value,
        c.ListenerBasePort,
        c.TargetPort,
        c.BootstrapPort,
        c.ProviderZoneId is null ? null : new ProviderZoneWire(c.ProviderZoneId),
        [.. c.Consumers.Select(x => new ConsumerWire(x.Name, x.HostedZoneId, x.EndpointDnsName, x.EndpointHostedZoneId, x.RoleArn, x.Principal,
            x.BrokerEndpoints is null ? null : [.. x.BrokerEndpoints.Select(e => new BrokerEndpointWire(e.BrokerId, e.EndpointDnsName, e.EndpointHostedZoneId))],
            x.Region))],
        c.MaxRemovalShare == LinkConfig.DefaultMaxRemovalShare ? null : new GuardsWire(c.MaxRemovalShare),
        c.EndpointServiceId,
        c.Retiring.Count == 0 ? null : [.. c.Retiring.Select(r => new RetiringZoneWire(r.HostedZoneId, r.RoleArn, r.Consumer, r.Principal, r.Region))],
        c.Retired ? true : null,
        c.Brokers is null ? null : [.. c.Brokers.Select(b => new BrokerTargetGroupWire(b.BrokerId, b.TargetGroupArn))],
        c.VpcEndpointId,
        c.ListenerPort,
        c.BrokerTag is null ? null : new BrokerTagWire(c.BrokerTag.Key, c.BrokerTag.Value),
        c.BrokerIdTagKey,
        c.RecordNames,
        c.ServerProperties is not { } p ? null
            : new ServerPropertiesWire(p.ListenerName, p.SecurityProtocol, p.InternalListenerName, p.InternalPort, p.InternalSecurityProtocol),
        c.PinnedRegions,
        c.Peers is null || c.Peers.Count == 0 ? null : [.. c.Peers.Select(p => new PeerWire(p.Name, p.PeerOf, p.VpcId, p.VpcRegion, p.RoleArn))]);

    /// <summary>What a conditional write expects to find: no item, an item at a version, or an item written before versions (by its config).</summary>
    public sealed record Expected(long? Version, string? LegacyConfig, bool Absent)
    {
        public static readonly Expected Nothing = new(null, null, true);

        public static Expected Of(StoredLink? stored) => stored is null ? Nothing : new(stored.Version, stored.Version is null ? stored.ConfigText : null, false);

        public static Expected At(long version) => new(version, null, false);

        public long NextVersion => (Version ?? 0) + 1;
    }

    /// <summary>
    /// PutItem of the link's item. What is written passes Reconcile's own check of a stored item first, so onboarding
    /// never stores what Reconcile would refuse (a combination no single check saw, a config too long to carry);
    /// errors name <paramref name="root"/>, what the operation changed.
    /// </summary>
    public static TableWrite Put(LinkConfig config, Expected expected, string root = "link")
    {
        var text = Text(config);
        var version = expected.NextVersion;
        var item = new Dictionary<string, AttributeValue>
        {
            ["pk"] = new(S: Partition),
            ["sk"] = new(S: config.LinkId),
            ["kind"] = new(S: config.Kind),
        };
        // Triage matches CloudTrail events on it; a link without a cluster (ec2-self-managed) has none.
        if (config.ClusterArn is { } cluster)
        {
            item["clusterArn"] = new(S: cluster.Value);
        }
        item["config"] = new(S: text);
        item["version"] = new(N: version.ToString(CultureInfo.InvariantCulture));
        LinkItems.CheckStored(text, new LinkItemWire(
            item["pk"], item["sk"], item["kind"], item.GetValueOrDefault("clusterArn"), item["config"], item["version"]), config.LinkId, null, root);
        return Write("put", version, config.LinkId, item, expected);
    }

    public static TableWrite Delete(string linkId, Expected expected) => Write("delete", expected.Version ?? 0, linkId, null, expected);

    private static TableWrite Write(string kind, long version, string linkId, Dictionary<string, AttributeValue>? item, Expected expected)
    {
        var key = new Dictionary<string, AttributeValue> { ["pk"] = new(S: Partition), ["sk"] = new(S: linkId) };
        return expected switch
        {
            { Absent: true } => new TableWrite(kind, version, key, item, "attribute_not_exists(#sk)", new Dictionary<string, string> { ["#sk"] = "sk" }, null),
            { Version: { } v } => new TableWrite(kind, version, key, item, "#version = :version",
                new Dictionary<string, string> { ["#version"] = "version" },
                new Dictionary<string, AttributeValue> { [":version"] = new(N: v.ToString(CultureInfo.InvariantCulture)) }),
            _ => new TableWrite(kind, version, key, item, "attribute_not_exists(#version) AND #config = :config",
                new Dictionary<string, string> { ["#version"] = "version", ["#config"] = "config" },
                new Dictionary<string, AttributeValue> { [":config"] = new(S: expected.LegacyConfig!) }),
        };
    }
}
