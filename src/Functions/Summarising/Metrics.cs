using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace BrokerLink.Functions.Summarising;

/// <summary>
/// What one link's run comes to, as metrics. <see cref="WriteCalls"/>, <see cref="Brokers"/>, <see cref="Findings"/>,
/// <see cref="BrokersNeedingProvisioning"/> (the <c>BrokerNeedsProvisioning</c> findings) and <see cref="FindingsNeedingAction"/>
/// (the findings a person must act on: <see cref="Metrics.NeedsAction"/>) are null when not known (the link failed before its plan
/// or while applying it); such metrics are left out of the line.
/// </summary>
internal sealed record LinkMetrics(string LinkId, int? WriteCalls, int? Brokers, int? Findings, bool Converged, bool Blocked, bool Failed,
    int? BrokersNeedingProvisioning = null, int? FindingsNeedingAction = null);

/// <summary>
/// One execution's links, counted for the stack's alarms (a CloudWatch alarm watches one metric, not one per link):
/// the links it reported, how many converged, did not, failed (a blocked plan is counted as blocked, not failed), were
/// blocked, and their findings that need a person.
/// </summary>
internal sealed record StackMetrics(int LinksReported, int LinksConverged, int LinksNotConverged, int LinksFailed, int LinksBlocked,
    int FindingsNeedingAction)
{
    public static StackMetrics Of(IReadOnlyCollection<LinkMetrics> links) => new(
        links.Count,
        links.Count(l => l.Converged),
        links.Count(l => !l.Converged),
        links.Count(l => l.Failed && !l.Blocked),
        links.Count(l => l.Blocked),
        links.Sum(l => l.FindingsNeedingAction ?? 0));
}

/// <summary>
/// CloudWatch Embedded Metric Format: one JSON line per link, namespace <c>BrokerLink</c>, dimension <c>LinkId</c>; and one line
/// per execution with the stack's totals, dimension <c>Stack</c>, which the template's alarms watch.
/// </summary>
internal static class Metrics
{
    public const string Namespace = "BrokerLink";

    /// <summary>The environment variable (template.yaml Globals) holding the stack's name, the <c>Stack</c> dimension's value.</summary>
    public const string StackVariable = "BROKERLINK_STACK_NAME";

    /// <summary>
    /// The environment variable (template.yaml Globals, parameter <c>PerLinkMetrics</c>): <c>true</c> makes each link's line
    /// metrics too (8 custom metrics a link, each billed monthly); otherwise it is a log line only, the same fields.
    /// </summary>
    public const string PerLinkVariable = "BROKERLINK_PER_LINK_METRICS";

    /// <summary>The <c>Stack</c> dimension's value when <see cref="StackVariable"/> is not set (outside a deployed stack).</summary>
    public const string UnknownStack = "(unknown)";

    /// <summary>
    /// Finding codes that need no person: <c>RemovalGuardOverridden</c> records an operator's override, and
    /// <c>InstanceWithoutPrivateIp</c> is an instance that is starting (its <c>running</c> event starts another run). Every other
    /// code, including one added later, is counted in <c>FindingsNeedingAction</c>: a new code pages until it is classified here.
    /// </summary>
    public static readonly IReadOnlySet<string> Informational = new HashSet<string>(StringComparer.Ordinal)
    {
        "RemovalGuardOverridden", "InstanceWithoutPrivateIp",
    };

    public static bool NeedsAction(string code) => !Informational.Contains(code);

    /// <summary>
    /// <c>{"_aws": {"Timestamp": ms, "CloudWatchMetrics": [{"Namespace": "BrokerLink", "Dimensions": [["LinkId"]],
    /// "Metrics": [{"Name": "WriteCalls", "Unit": "Count"}, ...]}]}, "LinkId": "...", "WriteCalls": n, ...,
    /// "Trigger": "...", "DryRun": false}</c>, plus <c>"Execution"</c> (the execution's name) when known and <c>"Error"</c> when the
    /// link failed. Properties that are not
    /// metrics are searchable in CloudWatch Logs but are not dimensions. Without <paramref name="asMetrics"/>, the same line
    /// without <c>_aws</c>: CloudWatch keeps it as a log line and makes no metric of it.
    /// </summary>
    public static string EmfLine(long timestampMs, string trigger, bool dryRun, LinkMetrics link, string? error, string? execution = null,
        bool asMetrics = true)
    {
        var values = new List<(string Name, int Value)>();
        void Add(string name, int? value)
        {
            if (value is { } v)
            {
                values.Add((name, v));
            }
        }
        Add("WriteCalls", link.WriteCalls);
        Add("Brokers", link.Brokers);
        Add("Findings", link.Findings);
        Add("BrokersNeedingProvisioning", link.BrokersNeedingProvisioning);
        Add("FindingsNeedingAction", link.FindingsNeedingAction);
        Add("Converged", link.Converged ? 1 : 0);
        Add("Blocked", link.Blocked ? 1 : 0);
        Add("Failed", link.Failed ? 1 : 0);

        return Line(timestampMs, "LinkId", link.LinkId, values, asMetrics, w =>
        {
            w.WriteString("Trigger", trigger);
            w.WriteBoolean("DryRun", dryRun);
            if (execution is not null)
            {
                w.WriteString("Execution", execution);
            }
            if (error is not null)
            {
                w.WriteString("Error", error);
            }
        });
    }

    /// <summary>
    /// <c>{"_aws": {"Timestamp": ms, "CloudWatchMetrics": [{"Namespace": "BrokerLink", "Dimensions": [["Stack"]],
    /// "Metrics": [{"Name": "LinksReported", "Unit": "Count"}, ...]}]}, "Stack": "...", "LinksReported": n, ..., "Stage": "sweep",
    /// "Trigger": "..."}</c>: one per execution that is not a dry run, zeros included, so that a healthy stack's alarms see data.
    /// </summary>
    public static string StackLine(long timestampMs, string stack, string stage, string trigger, StackMetrics totals, string? execution = null) =>
        Line(timestampMs, "Stack", stack,
        [
            ("LinksReported", totals.LinksReported),
            ("LinksConverged", totals.LinksConverged),
            ("LinksNotConverged", totals.LinksNotConverged),
            ("LinksFailed", totals.LinksFailed),
            ("LinksBlocked", totals.LinksBlocked),
            ("FindingsNeedingAction", totals.FindingsNeedingAction),
        ], asMetrics: true, w =>
        {
            w.WriteString("Stage", stage);
            w.WriteString("Trigger", trigger);
            if (execution is not null)
            {
                w.WriteString("Execution", execution);
            }
        });

    private static string Line(long timestampMs, string dimension, string dimensionValue, IReadOnlyList<(string Name, int Value)> values,
        bool asMetrics, Action<Utf8JsonWriter> properties)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (asMetrics)
            {
                Directive(w, timestampMs, dimension, values);
            }
            w.WriteString(dimension, dimensionValue);
            foreach (var (name, value) in values)
            {
                w.WriteNumber(name, value);
            }
            properties(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Directive(Utf8JsonWriter w, long timestampMs, string dimension, IReadOnlyList<(string Name, int Value)> values)
    {
        w.WriteStartObject("_aws");
        w.WriteNumber("Timestamp", timestampMs);
        w.WriteStartArray("CloudWatchMetrics");
        w.WriteStartObject();
        w.WriteString("Namespace", Namespace);
        w.WriteStartArray("Dimensions");
        w.WriteStartArray();
        w.WriteStringValue(dimension);
        w.WriteEndArray();
        w.WriteEndArray();
        w.WriteStartArray("Metrics");
        foreach (var (name, _) in values)
        {
            w.WriteStartObject();
            w.WriteString("Name", name);
            w.WriteString("Unit", "Count");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
