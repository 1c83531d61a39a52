using System.Text.Json.Serialization;

namespace BrokerLink.Functions.Planning;

// What the planning passes hand each other through the state machine. The state machine plans a link in pieces so
// that no state holds more than one zone's records: the link pass (brokers, target groups, listeners), a zone pass per
// page of each zone's records, and the decide pass (the guards, over counts). Written by one pass and read by the
// next, so every field is required: a missing one is an InvalidInput naming it.

/// <summary>
/// The link pass's result: the target group changes, what each zone should hold, and what the guards need from this
/// side of the link. <see cref="Names"/>: every record name the link wants, shared by the zones that want them all.
/// </summary>
internal sealed record LinkPlan(
    string LinkId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? ClusterArn,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? ClusterState,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? LoadBalancerArn,
    PlanChanges Changes,
    IReadOnlyList<string> Names,
    IReadOnlyList<ZoneWork> Zones,
    IReadOnlyList<AdvertisedListener> AdvertisedListeners,
    IReadOnlyList<ServerPropertiesEntry> ServerProperties,
    IReadOnlyList<Finding> Findings,
    int Brokers,
    GuardFacts Guard)
{
    /// <summary>The status's draft, when the link's status was asked for (<c>status</c>); else null.</summary>
    public StatusDraft? Status { get; init; }
}

/// <summary>
/// One zone to observe and plan: its records are read and written through <see cref="RoleArn"/> (a consumer's role, or
/// the provider's zone role; null only when a test plans a link in one call). It wants every one of the link's names
/// aliased to <see cref="Alias"/>, or, where names alias different targets (an endpoint per broker), exactly
/// <see cref="Records"/>; a retiring zone wants nothing.
/// </summary>
internal sealed record ZoneWork(
    string HostedZoneId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? RoleArn,
    bool Retiring,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] AliasTarget? Alias,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] IReadOnlyList<ZoneRecord>? Records)
{
    public IEnumerable<DesiredRecord> Desired(IReadOnlyList<string> names) =>
        Retiring ? []
        : Records is not null ? Records.Select(r => new DesiredRecord(HostedZoneId, r.Name, r.Alias))
        : Alias is null ? []
        : names.Select(n => new DesiredRecord(HostedZoneId, n, Alias));
}

internal sealed record ZoneRecord(string Name, AliasTarget Alias);

/// <summary>
/// What the guards need from the link pass: whether the broker list can be trusted (<see cref="Untrusted"/> says why
/// not), the targets its changes remove against those the link owns, and the link's own settings.
/// </summary>
internal sealed record GuardFacts(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] Blocked? Untrusted,
    RemovalShare Targets,
    double MaxRemovalShare,
    bool Retired);

/// <summary>
/// The zone pass's answer for one page: while <see cref="Next"/> says where the next page starts, <see cref="Kept"/>
/// carries the records that matter from the pages so far; on the last page, <see cref="Plan"/> is the zone's plan.
/// </summary>
internal sealed record ZonePage(
    string HostedZoneId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] NextRecord? Next,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] IReadOnlyList<RecordSetWire>? Kept,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] ZonePlan? Plan);

/// <summary>Where ListResourceRecordSets continues: its NextRecordName, NextRecordType and NextRecordIdentifier.</summary>
internal sealed record NextRecord(string Name, string Type, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Identifier);

/// <summary>
/// One zone's changes and what the guards count in it: the names the link owns there and how many of them the deletes
/// remove. <see cref="Upserts"/> and <see cref="Deletes"/> are dropped by the state machine except where it applies them
/// (and in dry runs); the counts stay.
/// </summary>
internal sealed record ZonePlan(
    string HostedZoneId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? RoleArn,
    bool Retiring,
    IReadOnlyList<RecordBatch> Upserts,
    IReadOnlyList<RecordBatch> Deletes,
    ZoneCounts Counts,
    IReadOnlyList<Finding> Findings)
{
    /// <summary>Where the link's owned names point, when the link's status was asked for; else null.</summary>
    public IReadOnlyList<RecordTargets>? PointsTo { get; init; }
}

/// <summary>Record changes and batches (ChangeResourceRecordSets calls) of a zone, and the owned names it removes.</summary>
internal sealed record ZoneCounts(int Upserted, int UpsertBatches, int Deleted, int DeleteBatches, int OwnedNames, int RemovedNames);

/// <summary>A zone plan as the decide pass reads it: the counts always, the changes when they were kept.</summary>
internal sealed record ZonePlanWire(
    string? HostedZoneId = null,
    string? RoleArn = null,
    bool? Retiring = null,
    IReadOnlyList<RecordBatch>? Upserts = null,
    IReadOnlyList<RecordBatch>? Deletes = null,
    ZoneCounts? Counts = null,
    IReadOnlyList<Finding>? Findings = null,
    IReadOnlyList<RecordTargets>? PointsTo = null);


/// <summary>
/// The instances pass's answer for one DescribeInstances page: the instances so far, each with only what the link pass
/// reads (<see cref="Kinds.Ec2SelfManaged.Ec2SelfManagedKind.Digest"/>), and where the next page starts (null: none).
/// </summary>
internal sealed record InstancesDigest(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextToken,
    IReadOnlyList<InstanceWire> Kept);
