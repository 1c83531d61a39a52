using System.Text.Json;
using System.Text.Json.Serialization;

namespace BrokerLink.Functions.Summarising;

// The Summarise input, built by the state machine once every link has run. The results are passed back
// verbatim (JsonElement); only the fields below are read from them. Every field is nullable: Summariser
// checks and names what is missing.

/// <summary>
/// <see cref="Stage"/>: <c>sweep</c> (the links' plans; a link with changes was handed to its own Apply execution, which
/// reports it) or <c>apply</c> (one link's run). <see cref="InvalidItems"/>: Triage's bad items, each already its link's
/// failed result (none: null or absent). <see cref="Execution"/>: the execution's name (<c>$$.Execution.Name</c>), a property
/// of every metric line so that a line leads to its execution; optional.
/// </summary>
internal sealed record SummariseInput(
    string? Stage = null,
    string? Trigger = null,
    bool? DryRun = null,
    string? Timestamp = null,
    IReadOnlyList<JsonElement>? Results = null,
    IReadOnlyList<JsonElement>? InvalidItems = null,
    string? Execution = null);

/// <summary>
/// One link's result: <c>status</c> <c>succeeded</c> (converged, applied or not, or a dry run's <c>plan</c>),
/// <c>applying</c> (the sweep handed its changes to <c>applyExecutionArn</c>) or <c>failed</c> (<c>error</c> and
/// <c>cause</c>; a blocked or unconverged link also keeps its summary and findings).
/// </summary>
internal sealed record LinkResultWire(
    string? LinkId = null,
    string? Status = null,
    string? Error = null,
    string? Cause = null,
    bool? Converged = null,
    bool? Applied = null,
    bool? DryRun = null,
    ResultSummaryWire? Summary = null,
    IReadOnlyList<JsonElement>? Findings = null,
    JsonElement? Blocked = null,
    DryRunPlanWire? Plan = null);

internal sealed record DryRunPlanWire(
    bool? HasChanges = null,
    JsonElement? Blocked = null,
    ResultSummaryWire? Summary = null,
    IReadOnlyList<JsonElement>? Findings = null);

internal sealed record ResultSummaryWire(int? Brokers = null, int? WriteCalls = null);

/// <summary>
/// The execution's output. <see cref="Failed"/> is null when every link succeeded; otherwise the state machine
/// fails the execution with its error and cause.
/// </summary>
internal sealed record SummariseOutput(
    string Trigger,
    bool DryRun,
    bool Converged,
    IReadOnlyList<JsonElement> Results,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] Failure? Failed);

internal sealed record Failure(string Error, string Cause);
