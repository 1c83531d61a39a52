using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace BrokerLink.Functions;

/// <summary>What a function call is about, as each of its log lines says: the function, the pass (Plan), the link (null
/// when the call is about several: Triage, a sweep's Summarise) and the execution that made the call.</summary>
internal sealed record LogContext(string Function, string? Pass = null, string? LinkId = null, string? Execution = null);

/// <summary>
/// The functions' own log lines: JSON objects in the shape of Lambda's JSON log format (<c>timestamp</c>, <c>level</c>,
/// <c>message</c>) with the call's <see cref="LogContext"/> as fields, so a Logs Insights query on <c>linkId</c> or
/// <c>execution</c> finds every line of a link or a run. They are written as they are (the runtime's formatting would nest
/// them in its own <c>message</c>), so the level filter is applied here: Lambda's <c>AWS_LAMBDA_LOG_LEVEL</c> (the
/// function's ApplicationLogLevel), INFO when it is not set.
/// </summary>
internal static class FunctionLog
{
    public const string LevelVariable = "AWS_LAMBDA_LOG_LEVEL";

    private static readonly string[] Levels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

    /// <summary>Whether a line of <paramref name="level"/> is kept at the <paramref name="configured"/> level (null or unknown: INFO).</summary>
    public static bool Keeps(string level, string? configured)
    {
        var threshold = Array.IndexOf(Levels, configured?.ToUpperInvariant());
        return Array.IndexOf(Levels, level) >= (threshold < 0 ? Array.IndexOf(Levels, "INFO") : threshold);
    }

    /// <summary>One line: the context's fields, then <paramref name="fields"/> (null values left out).</summary>
    public static string Line(DateTimeOffset timestamp, string level, string message, LogContext context, IEnumerable<KeyValuePair<string, string?>>? fields = null)
    {
        var all = new[]
        {
            KeyValuePair.Create("timestamp", (string?)timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)),
            KeyValuePair.Create("level", (string?)level),
            KeyValuePair.Create("message", (string?)message),
            KeyValuePair.Create("function", (string?)context.Function),
            KeyValuePair.Create("pass", context.Pass),
            KeyValuePair.Create("linkId", context.LinkId),
            KeyValuePair.Create("execution", context.Execution),
        }.Concat(fields ?? []);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in all.Where(f => f.Value is not null))
            {
                writer.WriteString(key, value);
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
