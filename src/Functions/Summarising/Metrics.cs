using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace BrokerLink.Functions.Summarising;

/// <summary>
/// What one link's run comes to, as metrics. <see cref="WriteCalls"/>, <see cref="Brokers"/>, <see cref="Findings"/> and
/// <see cref="BrokersNeedingProvisioning"/> (the <c>BrokerNeedsProvisioning</c> findings) are null when not known (the link failed before its plan or while applying it); such metrics are left out of the line.
/// </summary>
internal sealed record LinkMetrics(string LinkId, int? WriteCalls, int? Brokers, int? Findings, bool Converged, bool Blocked, bool Failed,
    int? BrokersNeedingProvisioning = null);

/// <summary>CloudWatch Embedded Metric Format: one JSON line per link, namespace <c>BrokerLink</c>, dimension <c>LinkId</c>.</summary>
internal static class Metrics
{
    public const string Namespace = "BrokerLink";

    /// <summary>
    /// <c>{"_aws": {"Timestamp": ms, "CloudWatchMetrics": [{"Namespace": "BrokerLink", "Dimensions": [["LinkId"]],
    /// "Metrics": [{"Name": "WriteCalls", "Unit": "Count"}, ...]}]}, "LinkId": "...", "WriteCalls": n, ...,
    /// "Trigger": "...", "DryRun": false}</c>, plus <c>"Error"</c> when the link failed. Properties that are not
    /// metrics are searchable in CloudWatch Logs but are not dimensions.
    /// </summary>
    public static string EmfLine(long timestampMs, string trigger, bool dryRun, LinkMetrics link, string? error)
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
        Add("Converged", link.Converged ? 1 : 0);
        Add("Blocked", link.Blocked ? 1 : 0);
        Add("Failed", link.Failed ? 1 : 0);

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("_aws");
            w.WriteNumber("Timestamp", timestampMs);
            w.WriteStartArray("CloudWatchMetrics");
            w.WriteStartObject();
            w.WriteString("Namespace", Namespace);
            w.WriteStartArray("Dimensions");
            w.WriteStartArray();
            w.WriteStringValue("LinkId");
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
            w.WriteString("LinkId", link.LinkId);
            foreach (var (name, value) in values)
            {
                w.WriteNumber(name, value);
            }
            w.WriteString("Trigger", trigger);
            w.WriteBoolean("DryRun", dryRun);
            if (error is not null)
            {
                w.WriteString("Error", error);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
