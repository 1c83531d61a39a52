using System.Text.Json;
using System.Text.Json.Serialization;
using BrokerLink.Functions.Planning;

namespace BrokerLink.Functions.Triaging;

// What the state machine hands Triage. Every field is nullable: Triager checks and names what is missing.

internal sealed record TriageInput(
    EventWire? Event = null,
    IReadOnlyList<LinkItemWire?>? Links = null,
    bool? LinksTruncated = null,
    string? StateMachineArn = null,
    string? Now = null,
    int? LeaseSeconds = null,
    IReadOnlyList<string?>? Actions = null,
    string? Execution = null);

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

/// <summary><see cref="LockExpiresAt"/>: when a per-link lock this execution takes expires (<c>now</c> + <c>leaseSeconds</c>,
/// <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>), null when the input gives no <c>now</c>.
/// <see cref="AllowRemovals"/>: the operator's override of the removal-share guard, only ever from a manual input.
/// <see cref="InvalidItems"/>: the table items the event concerns that are not links Triage can read: each is that link's
/// failure, passed on to Summarise beside the results of <see cref="Links"/>, and nothing runs for it.
/// <see cref="Status"/>: the operator asked what the links are wired to (a dry run that reports each link's status);
/// <see cref="Detail"/>: each link's status lists its brokers, target groups and zones, not only its overview (few links).</summary>
internal sealed record TriageOutput(
    string Trigger,
    bool DryRun,
    bool AllowRemovals,
    IReadOnlyList<TriagedLink> Links,
    IReadOnlyList<InvalidItem> InvalidItems,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Ignored,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? LockExpiresAt = null,
    bool Status = false,
    bool Detail = false)
{
    /// <summary>Observe keeps the record changes in the plan for a dry run to show; a status run does not show them.</summary>
    public bool IncludeChanges => DryRun && !Status;
}

/// <summary><see cref="LinkConfig"/>: a proposed config (JSON text) a dry run plans against instead of the stored one, else null.</summary>
internal sealed record TriagedLink(string LinkId, string Reason, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? LinkConfig = null);

/// <summary>
/// A table item Triage cannot read as a link, as a failed per-link result (the shape the links Map gives a failed link):
/// <see cref="LinkId"/> is its <c>sk</c>, or null when that is not a link id (the cause then quotes the <c>sk</c> as
/// stored); <see cref="Cause"/> names the item's field and why.
/// </summary>
internal sealed record InvalidItem(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? LinkId,
    string Reason,
    [property: JsonPropertyOrder(1)] string Cause)
{
    public string Status => "failed";

    public string Error => "BrokerLink.InvalidInput";
}
