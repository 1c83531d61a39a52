using System.Text.Json;
using System.Text.Json.Serialization;

namespace BrokerLink.Functions.Triaging;

// What the state machine hands Triage. Every field is nullable: Triager checks and names what is missing.

internal sealed record TriageInput(
    EventWire? Event = null,
    IReadOnlyList<LinkItemWire?>? Links = null,
    bool? LinksTruncated = null,
    string? StateMachineArn = null,
    string? Now = null,
    int? LeaseSeconds = null);

/// <summary>An EventBridge event or a manual input; which one is decided by its fields.</summary>
internal sealed record EventWire(
    string? Source = null,
    [property: JsonPropertyName("detail-type")] string? DetailType = null,
    string? Account = null,
    string? Region = null,
    EventDetailWire? Detail = null,
    string? Action = null,
    string? LinkId = null,
    IReadOnlyList<string?>? LinkIds = null,
    bool? All = null,
    bool? DryRun = null,
    bool? AllowRemovals = null,
    JsonElement? LinkConfig = null);

/// <summary>The CloudTrail fields of <c>detail</c>, plus the EC2 state-change ones.</summary>
internal sealed record EventDetailWire(
    string? EventName = null,
    string? ErrorCode = null,
    string? AwsRegion = null,
    string? RecipientAccountId = null,
    ClusterRefWire? RequestParameters = null,
    ClusterRefWire? ResponseElements = null,
    [property: JsonPropertyName("instance-id")] string? InstanceId = null,
    string? State = null);

internal sealed record ClusterRefWire(string? ClusterArn = null);

/// <summary>A DynamoDB Query item (typed attribute values).</summary>
internal sealed record LinkItemWire(AttributeWire? Sk = null, AttributeWire? Kind = null, AttributeWire? ClusterArn = null);

internal sealed record AttributeWire(string? S = null);

/// <summary><see cref="LockExpiresAt"/>: when a per-link lock this execution takes expires (<c>now</c> + <c>leaseSeconds</c>,
/// <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>), null when the input gives no <c>now</c>.
/// <see cref="AllowRemovals"/>: the operator's override of the removal-share guard, only ever from a manual input.</summary>
internal sealed record TriageOutput(
    string Trigger,
    bool DryRun,
    bool AllowRemovals,
    IReadOnlyList<TriagedLink> Links,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Ignored,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? LockExpiresAt = null);

/// <summary><see cref="LinkConfig"/>: a proposed config (JSON text) a dry run plans against instead of the stored one, else null.</summary>
internal sealed record TriagedLink(string LinkId, string Reason, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? LinkConfig = null);
