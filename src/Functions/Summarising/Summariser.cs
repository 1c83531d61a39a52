using System.Globalization;
using System.Text;
using System.Text.Json;
using BrokerLink.Functions.Validation;
using static BrokerLink.Functions.Json.Json;

namespace BrokerLink.Functions.Summarising;

/// <summary>
/// The execution's outcome, one metrics line per link, and the stack's totals line (null for a dry run: it changes nothing, and
/// the alarms watch what really ran).
/// </summary>
internal sealed record Summary(SummariseOutput Output, IReadOnlyList<string> MetricLines, string? StackLine = null);

/// <summary>
/// Decides the outcome of an execution from its per-link results, after every link has run: converged when every
/// link is; failed when any link failed, re-raising a single link's own error (but a Step Functions <c>States.*</c> error) and
/// <c>BrokerLink.LinksFailed</c> otherwise. Pure: the metrics' timestamp comes from the input, not the clock.
/// </summary>
internal static class Summariser
{
    public const string LinksFailed = "BrokerLink.LinksFailed";

    /// <summary>Step Functions takes a cause of at most 32,768 characters; one link's part of a combined cause is shorter.</summary>
    internal const int MaxCause = 32_768;
    internal const int MaxLinkCause = 1_000;

    /// <param name="input">the state machine's input</param>
    /// <param name="stack">the <c>Stack</c> dimension of the totals line (the handler's <see cref="Metrics.StackVariable"/>)</param>
    /// <param name="perLinkMetrics">each link's line is metrics too, not only a log line (<see cref="Metrics.PerLinkVariable"/>)</param>
    public static Summary Summarise(SummariseInput input, string stack = Metrics.UnknownStack, bool perLinkMetrics = true)
    {
        var stage = Check.Text(input.Stage, "stage");
        if (stage is not ("sweep" or "apply"))
        {
            throw Check.Invalid("stage", $"'{Check.Brief(stage)}' is not sweep or apply");
        }
        var trigger = Check.Text(input.Trigger, "trigger");
        var dryRun = Check.Flag(input.DryRun, "dryRun");
        var timestamp = ReadTimestamp(input.Timestamp, "timestamp");
        var execution = input.Execution is null ? null : Check.Text(input.Execution, "execution");
        var ran = Check.Present(input.Results, "results");
        var invalid = input.InvalidItems ?? [];

        var links = new List<LinkOutcome>();
        for (var i = 0; i < ran.Count; i++)
        {
            links.Add(Outcome(ran[i], $"results[{i}]", handedOverAllowed: stage == "sweep"));
        }
        for (var i = 0; i < invalid.Count; i++)
        {
            var outcome = Outcome(invalid[i], $"invalidItems[{i}]", unnamedAllowed: true);
            links.Add(outcome.Failure is not null ? outcome : throw Check.Invalid($"invalidItems[{i}].status", "a bad item is its link's failure"));
        }
        // A bad item is reported after the links that ran, as a failed link like any other.
        List<JsonElement> results = [.. ran, .. invalid];
        var failed = links.Where(l => l.Failure is not null).ToList();
        var failure = failed.Count switch
        {
            0 => null,
            1 when !IsReserved(failed[0].Failure!.Error) => new Failure(failed[0].Failure!.Error, Cut($"Link {failed[0].Metrics.LinkId}: {failed[0].Failure!.Cause}", MaxCause)),
            _ => new Failure(LinksFailed, Cut(
                $"{failed.Count} of {links.Count} links failed: "
                + string.Join("; ", failed.Select(l => $"{l.Metrics.LinkId}: {l.Failure!.Error}: {Cut(l.Failure.Cause, MaxLinkCause)}")),
                MaxCause)),
        };
        var output = new SummariseOutput(trigger, dryRun, links.All(l => l.Metrics.Converged), results, failure);
        // A link handed to its Apply execution is reported there, once its changes are applied.
        var reported = links.Where(l => !l.HandedOver).ToList();
        var lines = reported.Select(l => Metrics.EmfLine(timestamp, trigger, dryRun, l.Metrics, l.Failure?.Error, execution, perLinkMetrics)).ToList();
        var stackLine = dryRun ? null
            : Metrics.StackLine(timestamp, stack, stage, trigger, StackMetrics.Of([.. reported.Select(l => l.Metrics)]), execution);
        return new Summary(output, lines, stackLine);
    }

    /// <summary>
    /// A name only Step Functions may raise: the States Language reserves the <c>States.</c> prefix ("States MAY report
    /// errors with other names, which MUST NOT begin with the prefix States.", states-language.net, Errors), and the Fail
    /// state that re-raises <c>failed.error</c> is refused it in the local cloud (its interpreter enforces the spec); so a
    /// single link's <c>States.DataLimitExceeded</c> is reported as <see cref="LinksFailed"/>, the name in the cause.
    /// </summary>
    private static bool IsReserved(string error) => error.StartsWith("States.", StringComparison.Ordinal);

    private sealed record LinkOutcome(LinkMetrics Metrics, Failure? Failure, bool HandedOver = false);

    /// <summary>
    /// The label of a bad item whose <c>sk</c> is not a link id, in the cause and as the metrics' <c>LinkId</c>; no link id
    /// has it (a link id has no parentheses or spaces), and its cause quotes the item's <c>sk</c> as stored.
    /// </summary>
    public const string NoLinkId = "(no link id)";

    private static LinkOutcome Outcome(JsonElement element, string path, bool unnamedAllowed = false, bool handedOverAllowed = false)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Check.Invalid(path, "expected an object");
        }
        var result = Read(element, Context.LinkResultWire, path);
        var status = Check.Text(result.Status, $"{path}.status");
        var linkId = unnamedAllowed && result.LinkId is null && status == "failed" ? NoLinkId : Check.LinkId(result.LinkId, $"{path}.linkId");
        var findings = result.Findings?.Count;
        switch (status)
        {
            case "succeeded" when result.Plan is { } plan:
                // A dry run: nothing written; converged when the plan has nothing to do and nothing is withheld.
                var blocked = IsBlocked(plan.Blocked);
                var hasChanges = Check.Flag(plan.HasChanges, $"{path}.plan.hasChanges");
                return new LinkOutcome(new LinkMetrics(linkId, WriteCalls: 0, plan.Summary?.Brokers, plan.Findings?.Count,
                    Converged: !hasChanges && !blocked, Blocked: blocked, Failed: false, NeedingProvisioning(plan.Findings), NeedingAction(plan.Findings)), null);
            case "succeeded":
                var summary = Check.Present(result.Summary, $"{path}.summary");
                return new LinkOutcome(new LinkMetrics(linkId, Writes(result, summary, path), summary.Brokers, findings,
                    Converged: Check.Flag(result.Converged, $"{path}.converged"), Blocked: false, Failed: false, NeedingProvisioning(result.Findings),
                    NeedingAction(result.Findings)), null);
            case "applying" when handedOverAllowed:
                return new LinkOutcome(new LinkMetrics(linkId, WriteCalls: 0, result.Summary?.Brokers, findings, Converged: false, Blocked: false,
                    Failed: false, NeedingProvisioning(result.Findings), NeedingAction(result.Findings)), null, HandedOver: true);
            case "failed":
                var failure = new Failure(Check.Text(result.Error, $"{path}.error"), result.Cause ?? "");
                // A blocked or unconverged link still says what it wrote; other failures do not know.
                var known = result.Summary;
                return new LinkOutcome(new LinkMetrics(linkId, known is null ? null : Writes(result, known, path), known?.Brokers,
                    known is null ? null : findings, Converged: false, Blocked: IsBlocked(result.Blocked), Failed: true,
                    known is null ? null : NeedingProvisioning(result.Findings), known is null ? null : NeedingAction(result.Findings)), failure);
            default:
                throw Check.Invalid($"{path}.status", $"'{status}' is not succeeded{(handedOverAllowed ? ", applying" : "")} or failed");
        }
    }

    private static int Writes(LinkResultWire result, ResultSummaryWire summary, string path) =>
        Check.Flag(result.Applied, $"{path}.applied") ? summary.WriteCalls ?? throw Check.Invalid($"{path}.summary.writeCalls", "missing") : 0;

    /// <summary>How many <c>BrokerNeedsProvisioning</c> findings there are; null when the findings are not known.</summary>
    private static int? NeedingProvisioning(IReadOnlyList<JsonElement>? findings) =>
        CountCodes(findings, code => code == "BrokerNeedsProvisioning");

    /// <summary>How many findings need a person (<see cref="Metrics.NeedsAction"/>); null when the findings are not known.</summary>
    private static int? NeedingAction(IReadOnlyList<JsonElement>? findings) => CountCodes(findings, Metrics.NeedsAction);

    private static int? CountCodes(IReadOnlyList<JsonElement>? findings, Func<string, bool> counted) => findings?.Count(f =>
        f.ValueKind == JsonValueKind.Object && f.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String
        && counted(code.GetString()!));

    private static bool IsBlocked(JsonElement? blocked) => blocked is { ValueKind: not JsonValueKind.Null };

    /// <summary>An ISO 8601 time (Step Functions' <c>$$.State.EnteredTime</c>) as Unix milliseconds.</summary>
    internal static long ReadTimestamp(string? value, string path)
    {
        var text = Check.Text(value, path);
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            && text.Contains('T')
            ? time.ToUnixTimeMilliseconds()
            : throw Check.Invalid(path, $"'{text}' is not an ISO 8601 time (e.g. 2025-01-31T12:00:00.000Z)");
    }

    private static string Cut(string text, int max) =>
        text.Length <= max ? text : new StringBuilder(text, 0, max - 1, max).Append('…').ToString();
}
