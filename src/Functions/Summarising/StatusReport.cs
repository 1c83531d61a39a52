using System.Globalization;
using System.Text;
using System.Text.Json;
using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Validation;
using static BrokerLink.Functions.Json.Json;

namespace BrokerLink.Functions.Summarising;

/// <summary>
/// One link's result in a status run: its <see cref="Overview"/>, and <see cref="Detail"/> when few links were asked for;
/// or, failed, the <see cref="Error"/> and <see cref="Cause"/> that kept its status from being read.
/// </summary>
internal sealed record StatusResultWire(
    string? LinkId = null,
    string? Status = null,
    string? Error = null,
    string? Cause = null,
    StatusOverview? Overview = null,
    LinkStatus? Detail = null);

/// <summary>The status run's output: every link's result as JSON (for scripts), and <see cref="Text"/>, the same as tables.</summary>
internal sealed record StatusReportOutput(string Text, IReadOnlyList<JsonElement> Links);

/// <summary>
/// The answer to <c>{"action": "status"}</c> (the Summarise function's <c>status</c> stage): a row per link, then each
/// detailed link's brokers, target groups, zones and findings. Pure, and no metrics: a status run changes nothing.
/// </summary>
internal static class StatusReport
{
    public static StatusReportOutput Report(SummariseInput input)
    {
        var results = Check.Present(input.Results, "results").Concat(input.InvalidItems ?? []).ToList();
        var links = results.Select((r, i) => ReadResult(r, i)).OrderBy(l => l.LinkId ?? "", StringComparer.Ordinal).ToList();
        var text = new StringBuilder();
        Table(text, "", ["LINK", "KIND", "CLUSTER", "BROKERS", "UNHEALTHY", "CONVERGED", "FINDINGS", "LAST CHANGE"], links.Select(Row));
        foreach (var link in links.Where(l => l.Detail is not null))
        {
            Detail(text, link.Detail!);
        }
        return new StatusReportOutput(text.ToString(), results);
    }

    private static StatusResultWire ReadResult(JsonElement element, int index)
    {
        var path = $"results[{index}]";
        var result = Read(element, Context.StatusResultWire, path);
        Check.Text(result.Status, $"{path}.status");
        return result.Status == "failed" || result.Overview is not null ? result : throw Check.Invalid($"{path}.overview", "missing (a link's status that did not fail has one)");
    }

    private static IReadOnlyList<string> Row(StatusResultWire link)
    {
        if (link.Overview is not { } o)
        {
            return [link.LinkId ?? "(bad item)", "-", "-", "-", "-", $"FAILED {link.Error}: {Brief(link.Cause)}", "-", "-"];
        }
        var findings = o.Findings.Count == 0 ? "-" : string.Join(", ", o.Findings.Select(f => $"{f.Key} x{f.Value}"));
        return [o.LinkId, o.Kind, o.ClusterState ?? "-", Number(o.Brokers), Number(o.UnhealthyTargets), Converged(o), findings, LastChangeText(o.LastChange)];
    }

    private static string Converged(StatusOverview o) =>
        o.Converged ? "yes"
        : o.Blocked is { } code ? $"no, blocked ({code})"
        : o.PendingWriteCalls > 0 ? $"no, {o.PendingWriteCalls} writes pending"
        : "no";

    private static void Detail(StringBuilder text, LinkStatus status)
    {
        var o = status.Overview;
        text.Append('\n').Append(o.LinkId).Append(" (").Append(o.Kind).Append(o.ClusterState is { } state ? $", cluster {state}" : "").Append("): ")
            .Append(o.Converged ? "converged" : $"not converged ({Converged(o)})").Append('\n');
        if (status.Brokers.Count > 0)
        {
            Table(text, "  ", ["BROKER", "NAME", "IP", "LISTENER", "STATE"],
                status.Brokers.Select(b => (IReadOnlyList<string>)[Number(b.BrokerId), b.Name, b.Ip, b.ListenerPort is { } p ? Number(p) : "-", b.State]));
        }
        Table(text, "  ", ["TARGET GROUP", "STATE", "LISTENER", "TARGET", "HEALTH"], status.TargetGroups.SelectMany(g =>
            g.Targets.Count == 0
                ? [(IReadOnlyList<string>)[g.Name, g.State, g.ListenerPort is { } p ? Number(p) : "-", "-", "-"]]
                : g.Targets.Select((t, i) => (IReadOnlyList<string>)[
                    i == 0 ? g.Name : "", i == 0 ? g.State : "", i == 0 && g.ListenerPort is { } port ? Number(port) : i == 0 ? "-" : "",
                    $"{t.Id}:{Number(t.Port)}", t.Reason is { } reason ? $"{t.Health} ({reason})" : t.Health])));
        Table(text, "  ", ["ZONE", "OWNER", "OWNED/WANTED", "POINTS TO"], status.Zones.SelectMany(z =>
            z.PointsTo.Count == 0
                ? [(IReadOnlyList<string>)[z.HostedZoneId, z.Owner, $"{Number(z.Owned)}/{Number(z.Wanted)}", "-"]]
                : z.PointsTo.Select((t, i) => (IReadOnlyList<string>)[
                    i == 0 ? z.HostedZoneId : "", i == 0 ? z.Owner : "", i == 0 ? $"{Number(z.Owned)}/{Number(z.Wanted)}" : "",
                    $"{t.DnsName ?? "(no A record)"} ({Number(t.Records)}{(t.Names is { } names ? ": " + string.Join(", ", names) : "")})"])));
        if (status.Findings.Count > 0)
        {
            Table(text, "  ", ["FINDING", "SUBJECT", "MESSAGE"], status.Findings.Select(f => (IReadOnlyList<string>)[f.Code, f.Subject, f.Message]));
        }
        text.Append("  last change: ").Append(LastChangeText(o.LastChange)).Append('\n');
    }

    private static string LastChangeText(LastChange? change) =>
        change is null ? "none recorded" : $"{change.At} {change.Execution} ({Number(change.WriteCalls)} write calls)";

    private static string Number(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Brief(string? cause) => cause is null ? "" : cause.Length <= 120 ? cause : cause[..117] + "...";

    /// <summary>Columns padded to their widest cell, two spaces apart; the last column unpadded.</summary>
    private static void Table(StringBuilder text, string indent, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.Prepend(headers).ToList();
        var widths = headers.Select((_, c) => all.Max(r => r[c].Length)).ToList();
        foreach (var row in all)
        {
            text.Append(indent).Append(string.Join("  ", row.Select((cell, c) => c == row.Count - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd()).Append('\n');
        }
    }
}
