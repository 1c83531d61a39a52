using System.Text.Json.Serialization;

namespace BrokerLink.Functions.Planning;

// The plan: a value the state machine applies list by list, in declaration order.
// Objects the state machine passes straight to an AWS API keep the names Step Functions gives the API's members.

/// <summary>
/// The check pass's answer (<see cref="Observe"/>), or a link's plan (the decide pass). A plan's record changes are in
/// <see cref="PlanChanges.UpsertRecords"/> and <see cref="PlanChanges.DeleteRecords"/> only when they were kept (a dry
/// run, a plan made in one call); the state machine applies them zone by zone from <see cref="UpsertZones"/> and
/// <see cref="DeleteZones"/> (whose deletes the guards allow), planning each zone again with <see cref="Names"/>.
/// </summary>
internal sealed record PlanOutput(
    string LinkId,
    string Pass,
    bool HasChanges,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] Blocked? Blocked,
    PlanChanges Changes,
    IReadOnlyList<AdvertisedListener> AdvertisedListeners,
    IReadOnlyList<Finding> Findings,
    PlanSummary Summary,
    IReadOnlyList<ServerPropertiesEntry> ServerProperties,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] ObserveSpec? Observe)
{
    /// <summary>The link's cluster; null for a kind without one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? ClusterArn { get; init; }

    /// <summary>The cluster's state when it was observed; null for a kind without a cluster (and in the check pass).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? ClusterState { get; init; }

    /// <summary>Where the plan creates listeners (the link's NLB); null for a kind without one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? LoadBalancerArn { get; init; }

    public IReadOnlyList<string>? Names { get; init; }

    public IReadOnlyList<ZoneWork>? UpsertZones { get; init; }

    public IReadOnlyList<ZoneWork>? DeleteZones { get; init; }

    /// <summary>The link's status, when it was asked for (<c>{"action": "status"}</c>); else null.</summary>
    public LinkStatus? Status { get; init; }
}

/// <summary>ec2-self-managed: the lines broker <see cref="BrokerId"/> (instance <see cref="InstanceId"/>) needs in its server.properties.</summary>
internal sealed record ServerPropertiesEntry(int BrokerId, string InstanceId, IReadOnlyList<string> Lines);

/// <summary>
/// What the state machine observes for the link, computed by its kind from the config (the check pass): it branches on
/// these capabilities, never on kind names.
/// </summary>
internal sealed record ObserveSpec(
    bool Cluster,
    bool LoadBalancer,
    bool Nodes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? VpcEndpointId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] IReadOnlyList<InstanceFilter>? InstanceFilters,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] IReadOnlyList<string>? TargetGroupArns)
{
    /// <summary>The instance tags the plan reads (the broker tag and the broker id tag): an instance's others are dropped.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public IReadOnlyList<string>? InstanceTags { get; init; }

    /// <summary>The ARNs the reads name (null where the kind has none): the state machine keeps these, not the whole config.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? ClusterArn { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? LoadBalancerArn { get; init; }
}

/// <summary>A DescribeInstances filter, as the API takes it.</summary>
internal sealed record InstanceFilter([property: JsonPropertyName("Name")] string Name, [property: JsonPropertyName("Values")] IReadOnlyList<string> Values);

/// <summary>Creation and registration first, removals last: the order the state machine applies them.</summary>
internal sealed record PlanChanges(
    IReadOnlyList<CreateTargetGroup> CreateTargetGroups,
    IReadOnlyList<CreateListener> CreateListeners,
    IReadOnlyList<TargetsChange> RegisterTargets,
    IReadOnlyList<RecordBatch> UpsertRecords,
    IReadOnlyList<TargetsChange> DeregisterTargets,
    IReadOnlyList<RecordBatch> DeleteRecords,
    IReadOnlyList<DeleteListener> DeleteListeners,
    IReadOnlyList<DeleteTargetGroup> DeleteTargetGroups)
{
    public static readonly PlanChanges None = new([], [], [], [], [], [], [], []);

    [JsonIgnore]
    public bool Any =>
        CreateTargetGroups.Count + CreateListeners.Count + RegisterTargets.Count + UpsertRecords.Count > 0 || AnyRemovals;

    [JsonIgnore]
    public bool AnyRemovals => DeregisterTargets.Count + DeleteRecords.Count + DeleteListeners.Count + DeleteTargetGroups.Count > 0;

    public PlanChanges WithoutRemovals() => this with { DeregisterTargets = [], DeleteRecords = [], DeleteListeners = [], DeleteTargetGroups = [] };
}

/// <summary>
/// Why a guard withheld this plan's removals (<c>ClusterNotActive</c>, <c>NoBrokers</c>, <c>RemovalShareExceeded</c>):
/// the additions in the plan go ahead, the link is not converged.
/// </summary>
internal sealed record Blocked(string Code, string Reason);

/// <summary>Applied as CreateTargetGroup, RegisterTargets on the new ARN, then CreateListener forwarding to it.</summary>
internal sealed record CreateTargetGroup(
    string Key,
    string Name,
    int Port,
    string VpcId,
    IReadOnlyList<Tag> Tags,
    IReadOnlyList<Target> Targets,
    ListenerSpec Listener);

internal sealed record ListenerSpec(int Port, IReadOnlyList<Tag> Tags);

internal sealed record CreateListener(string Key, string TargetGroupArn, int Port, IReadOnlyList<Tag> Tags);

internal sealed record TargetsChange(string Key, string TargetGroupArn, IReadOnlyList<Target> Targets);

internal sealed record DeleteListener(string Key, string ListenerArn);

internal sealed record DeleteTargetGroup(string Key, string TargetGroupArn);

/// <summary>One ChangeResourceRecordSets call; <see cref="RoleArn"/> is the role to assume for the zone, null for none.</summary>
internal sealed record RecordBatch(
    string HostedZoneId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? RoleArn,
    IReadOnlyList<RecordChange> Changes);

internal sealed record Tag([property: JsonPropertyName("Key")] string Key, [property: JsonPropertyName("Value")] string Value);

internal sealed record Target([property: JsonPropertyName("Id")] string Id, [property: JsonPropertyName("Port")] int Port);

internal sealed record RecordChange(
    [property: JsonPropertyName("Action")] string Action,
    [property: JsonPropertyName("ResourceRecordSet")] ResourceRecordSet ResourceRecordSet);

internal sealed record ResourceRecordSet(
    [property: JsonPropertyName("Name")] string Name,
    [property: JsonPropertyName("Type")] string Type,
    [property: JsonPropertyName("Ttl")] long? Ttl = null,
    [property: JsonPropertyName("ResourceRecords")] IReadOnlyList<ResourceRecord>? ResourceRecords = null,
    [property: JsonPropertyName("AliasTarget")] AliasTarget? AliasTarget = null);

internal sealed record ResourceRecord([property: JsonPropertyName("Value")] string Value);

internal sealed record AliasTarget(
    [property: JsonPropertyName("HostedZoneId")] string HostedZoneId,
    [property: JsonPropertyName("DnsName")] string DnsName,
    [property: JsonPropertyName("EvaluateTargetHealth")] bool EvaluateTargetHealth);

/// <summary>What broker <see cref="BrokerId"/> must advertise; name and entry are null when the target port has no known listener name.</summary>
internal sealed record AdvertisedListener(
    int BrokerId,
    string Host,
    int Port,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? ListenerName,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Entry);

/// <summary>Something the plan could not or would not do, e.g. a record at our name that is not ours.</summary>
internal sealed record Finding(string Code, string Subject, string Message);

internal sealed record PlanSummary(
    int Brokers,
    int WriteCalls,
    int TargetGroupsCreated,
    int ListenersCreated,
    int TargetsRegistered,
    int TargetsDeregistered,
    int RecordsUpserted,
    int RecordsDeleted,
    int ListenersDeleted,
    int TargetGroupsDeleted);
