using System.Globalization;
using System.Text.Json.Serialization;
using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Planning;

// What {"action": "status"} reports for a link: read from the observations its plan is made from, written nowhere.
// The link pass drafts it (brokers, target groups, listeners), each zone pass adds where the link's records there point,
// and the decide pass completes it with the findings, whether the link is converged, and its last change.

/// <summary>One link's status: <see cref="Overview"/> (a row of the status table) and what it is wired to.</summary>
internal sealed record LinkStatus(
    StatusOverview Overview,
    IReadOnlyList<BrokerStatus> Brokers,
    IReadOnlyList<TargetGroupStatus> TargetGroups,
    IReadOnlyList<ZoneStatus> Zones,
    IReadOnlyList<Finding> Findings);

/// <summary>
/// A link in one row. <see cref="PendingWriteCalls"/>: the write calls a reconcile would make now.
/// <see cref="UnhealthyTargets"/>: targets of its target groups that do not serve and are not on their way to (unhealthy,
/// unused, unavailable, or wanted and not registered; not healthy, initial or draining). <see cref="Findings"/>: how many of each code.
/// </summary>
internal sealed record StatusOverview(
    string LinkId,
    string Kind,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? ClusterState,
    bool Converged,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Blocked,
    int PendingWriteCalls,
    int Brokers,
    int UnhealthyTargets,
    IReadOnlyDictionary<string, int> Findings,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] LastChange? LastChange);

/// <summary>
/// A broker as observed (ListNodes, or an instance for ec2-self-managed: <see cref="Name"/> is then its instance id).
/// <see cref="State"/>: <c>wired</c>; <c>pending</c> (its target group, listener or targets are still to be made); or the
/// code of the finding that keeps it unwired (<c>BrokerNeedsProvisioning</c>, <c>ListenerPortConflict</c>, ...).
/// </summary>
internal sealed record BrokerStatus(
    int BrokerId,
    string Name,
    string Ip,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? ListenerPort,
    string State);

/// <summary>
/// A target group the link wants or owns, by its key (<c>broker-N</c>, <c>bootstrap</c>, <c>serverless</c>).
/// <see cref="State"/>: <c>present</c>, <c>missing</c> (wanted, not created yet) or <c>stale</c> (owned, no longer wanted).
/// <see cref="ListenerPort"/>: the port of the listener that forwards to it, as observed (null: none).
/// </summary>
internal sealed record TargetGroupStatus(
    string Key,
    string Name,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Arn,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? ListenerPort,
    string State,
    IReadOnlyList<TargetStatus> Targets);

/// <summary><see cref="Health"/>: DescribeTargetHealth's state, or <c>not registered</c> for a target the link wants there.</summary>
internal sealed record TargetStatus(
    string Id,
    int Port,
    string Health,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Reason);

/// <summary>
/// A zone of the link: whose it is (a consumer's name, <c>provider</c>, or <c>retiring</c>), how many names it should hold
/// and how many the link owns there (its TXT record), and where the owned names point.
/// </summary>
internal sealed record ZoneStatus(string HostedZoneId, string Owner, int Wanted, int Owned, IReadOnlyList<RecordTargets> PointsTo);

/// <summary>
/// Owned names of a zone that alias one target (<see cref="DnsName"/> null: the link's TXT record without an alias A
/// record). <see cref="Names"/> is null when they are exactly the names the zone should hold (listed once, not per zone).
/// </summary>
internal sealed record RecordTargets(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? DnsName,
    int Records,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] IReadOnlyList<string>? Names);

/// <summary>The last Apply execution that wrote for the link: when it began writing, its name, and the write calls it planned.</summary>
internal sealed record LastChange(string At, string Execution, int WriteCalls);

/// <summary>A broker as its kind observed it (<see cref="Desired.Seen"/>).</summary>
internal sealed record SeenBroker(int BrokerId, string Name, string Ip);

/// <summary>The link pass's part of the status: the link's kind, brokers, target groups and whose each zone is.</summary>
internal sealed record StatusDraft(
    string Kind,
    IReadOnlyList<BrokerStatus> Brokers,
    IReadOnlyList<TargetGroupStatus> TargetGroups,
    IReadOnlyList<ZoneOwner> Zones);

internal sealed record ZoneOwner(string HostedZoneId, string Owner);

/// <summary>The link's last-change item as DynamoDB GetItem returns it (no <c>Item</c>: the link never had a change).</summary>
internal sealed record LastChangeItemWire(LastChangeAttributesWire? Item = null);

internal sealed record LastChangeAttributesWire(AttributeValue? At = null, AttributeValue? Execution = null, AttributeValue? WriteCalls = null);

internal static class StatusView
{
    public const string NotRegistered = "not registered";

    /// <summary>The link pass's draft, from the same observations as its plan.</summary>
    public static StatusDraft Draft(LinkConfig config, Desired desired, Observed observed)
    {
        var wanted = desired.TargetGroups.Where(g => g.Mode != GroupMode.Held).ToDictionary(g => g.Key, StringComparer.Ordinal);
        var owned = observed.TargetGroups.Where(g => g.Key is not null).ToDictionary(g => g.Key!, StringComparer.Ordinal);
        var groups = wanted.Keys.Union(owned.Keys)
            .Select(key => Group(key, wanted.GetValueOrDefault(key), owned.GetValueOrDefault(key), observed))
            .OrderBy(g => g.ListenerPort ?? int.MaxValue).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        var brokers = desired.Seen.OrderBy(b => b.BrokerId).Select(b => new BrokerStatus(
            b.BrokerId, b.Name, b.Ip, wanted.GetValueOrDefault(Registry.BrokerKey(b.BrokerId))?.ListenerPort, "")).ToList();
        var consumers = config.Consumers.Select(c => new ZoneOwner(c.HostedZoneId, c.Name));
        var provider = config.ProviderZoneId is { } id ? [new ZoneOwner(id, "provider")] : Array.Empty<ZoneOwner>();
        var retiring = config.Retiring.Select(r => new ZoneOwner(r.HostedZoneId, r.Consumer is null ? "retiring" : $"retiring ({r.Consumer})"));
        return new StatusDraft(config.Kind, brokers, groups, [.. consumers, .. provider, .. retiring]);
    }

    private static TargetGroupStatus Group(string key, DesiredTargetGroup? wanted, ObservedTargetGroup? owned, Observed observed)
    {
        if (owned is null)
        {
            return new TargetGroupStatus(key, wanted!.Name, wanted.Arn, null, "missing",
                [.. wanted.Targets.Select(t => new TargetStatus(t.Id, t.Port, NotRegistered, null))]);
        }
        var listener = observed.Listeners.Where(l => l.TargetGroupArns.Contains(owned.Arn)).Select(l => (int?)l.Port).Min();
        var targets = observed.Health.GetValueOrDefault(owned.Arn) ?? [];
        var unregistered = (wanted?.Targets ?? []).Where(t => !targets.Any(x => x.Id == t.Id && x.Port == t.Port && x.Health != "draining"))
            .Select(t => new TargetStatus(t.Id, t.Port, NotRegistered, null));
        return new TargetGroupStatus(key, owned.Name, owned.Arn, listener, wanted is null ? "stale" : "present",
            [.. targets.Concat(unregistered).OrderBy(t => t.Id, StringComparer.Ordinal).ThenBy(t => t.Port)]);
    }

    /// <summary>
    /// Where the link's owned names in one zone point (the zone pass, on its last page): grouped by alias target, the
    /// names listed only where they are not exactly <paramref name="wanted"/>.
    /// </summary>
    public static IReadOnlyList<RecordTargets> PointsTo(IReadOnlyList<ObservedRecord> observed, string ownValue, IReadOnlySet<string> wanted)
    {
        var ownedNames = observed.Where(r => RecordDiff.IsOwnershipRecord(r, ownValue)).Select(r => r.Name).Distinct().ToList();
        return [.. ownedNames
            .Select(name => (Name: name, Alias: observed.FirstOrDefault(r => r.Name == name && r.Type == "A" && r.SetIdentifier is null)?.Raw.AliasTarget?.DnsName))
            .GroupBy(x => x.Alias is null ? null : Names.NormaliseAliasTarget(x.Alias))
            .Select(g =>
            {
                var names = g.Select(x => x.Name).Order(StringComparer.Ordinal).ToList();
                return new RecordTargets(g.Key, names.Count, names.Count == wanted.Count && names.All(wanted.Contains) ? null : names);
            })
            .OrderBy(t => t.DnsName, StringComparer.Ordinal)];
    }

    /// <summary>The decide pass: the draft, every zone's records and the plan's outcome, as the link's status.</summary>
    public static LinkStatus Complete(
        string linkId, StatusDraft draft, IReadOnlyList<(ZoneWork Work, ZonePlanWire Plan)> zones, IReadOnlyList<string> names,
        IReadOnlyList<Finding> findings, bool converged, Blocked? blocked, string? clusterState, int pendingWriteCalls, LastChange? lastChange)
    {
        var groups = draft.TargetGroups.ToDictionary(g => g.Key, StringComparer.Ordinal);
        var brokers = draft.Brokers.Select(b => b with { State = BrokerState(b, findings, groups) }).ToList();
        var owners = draft.Zones.ToDictionary(z => z.HostedZoneId, z => z.Owner, StringComparer.Ordinal);
        var zoneStatus = zones.Select(z => new ZoneStatus(
            z.Work.HostedZoneId, owners.GetValueOrDefault(z.Work.HostedZoneId) ?? "", z.Work.Desired(names).Count(), z.Plan.Counts!.OwnedNames, z.Plan.PointsTo ?? [])).ToList();
        var unhealthy = draft.TargetGroups.SelectMany(g => g.Targets).Count(t => t.Health is not ("healthy" or "initial" or "draining"));
        var counts = findings.GroupBy(f => f.Code).OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var overview = new StatusOverview(linkId, draft.Kind, clusterState, converged, blocked?.Code, pendingWriteCalls, brokers.Count, unhealthy,
            counts, lastChange);
        return new LinkStatus(overview, brokers, draft.TargetGroups, zoneStatus, findings);
    }

    /// <summary>A finding about the broker names why it is not wired; else it is wired once its group, listener and target are there.</summary>
    private static string BrokerState(BrokerStatus broker, IReadOnlyList<Finding> findings, Dictionary<string, TargetGroupStatus> groups)
    {
        var key = Registry.BrokerKey(broker.BrokerId);
        if (findings.FirstOrDefault(f => f.Subject == key) is { } finding)
        {
            return finding.Code;
        }
        return groups.GetValueOrDefault(key) is { State: "present" } g
            && (broker.ListenerPort is null || g.ListenerPort == broker.ListenerPort)
            && g.Targets.All(t => t.Health != NotRegistered) ? "wired" : "pending";
    }

    /// <summary>The GetItem of the link's last-change item; null when there is none.</summary>
    public static LastChange? ReadLastChange(LastChangeItemWire? wire)
    {
        if (wire?.Item is not { } item)
        {
            return null;
        }
        var calls = Check.Text(item.WriteCalls?.N, "lastChange.Item.writeCalls.N");
        return new LastChange(
            Check.Text(item.At?.S, "lastChange.Item.at.S"),
            Check.Text(item.Execution?.S, "lastChange.Item.execution.S"),
            int.TryParse(calls, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw Check.Invalid("lastChange.Item.writeCalls.N", $"'{Check.Brief(calls)}' is not a whole number"));
    }
}
