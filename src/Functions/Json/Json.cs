using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;

namespace BrokerLink.Functions.Json;

/// <summary>Reading and writing through the one source-generated context; JSON errors become InvalidInput naming the path.</summary>
internal static partial class Json
{
    public static BrokerLinkJsonContext Context => BrokerLinkJsonContext.Default;

    public static T Read<T>(Stream input, JsonTypeInfo<T> type) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(input, type) ?? throw new InvalidInputException("input: expected a JSON object, got null");
        }
        catch (JsonException e)
        {
            throw Malformed(e, "");
        }
    }

    /// <summary>Reads a nested document (e.g. the link config stored as a string); paths in errors start at <paramref name="root"/>.</summary>
    public static T Read<T>(JsonElement element, JsonTypeInfo<T> type, string root) where T : class
    {
        try
        {
            var value = element.ValueKind == JsonValueKind.String
                ? JsonSerializer.Deserialize(element.GetString()!, type)
                : element.Deserialize(type);
            return value ?? throw new InvalidInputException($"{root}: missing");
        }
        catch (JsonException e)
        {
            throw Malformed(e, root);
        }
    }

    /// <summary>Reads a document given as JSON text (e.g. a link config stored as a string); paths in errors start at <paramref name="root"/>.</summary>
    public static T Read<T>(string json, JsonTypeInfo<T> type, string root) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new InvalidInputException($"{root}: missing");
        }
        catch (JsonException e)
        {
            throw Malformed(e, root);
        }
    }

    public static Stream Write<T>(T value, JsonTypeInfo<T> type)
    {
        var stream = new MemoryStream();
        // Relaxed escaping writes the TXT value's quotes as \" instead of \u0022; the output never lands in HTML.
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            JsonSerializer.Serialize(writer, value, type);
        }
        stream.Position = 0;
        return stream;
    }

    public static string WriteString<T>(T value, JsonTypeInfo<T> type)
    {
        using var reader = new StreamReader(Write(value, type));
        return reader.ReadToEnd();
    }

    private static InvalidInputException Malformed(JsonException e, string root)
    {
        var relative = (e.Path ?? "$").TrimStart('$').TrimStart('.');
        var path = (root, relative) switch
        {
            ("", "") => "input",
            ("", _) => relative,
            (_, "") => root,
            _ when relative.StartsWith('[') => root + relative,
            _ => $"{root}.{relative}",
        };
        return new InvalidInputException($"{path}: {Explain(e.Message)}");
    }

    private static string Explain(string message)
    {
        var conversion = CouldNotConvert().Match(message);
        return conversion.Success
            ? $"wrong type, expected {Friendly(conversion.Groups["type"].Value)}"
            : PathPart().Replace(message, "").TrimEnd('.', ' ');
    }

    // Scalars have their own converters with their own messages; what is left is an object or an array.
    private static string Friendly(string clrType) =>
        clrType.Contains("IReadOnlyList`1") || clrType.Contains("System.Collections") || clrType.EndsWith("[]") ? "an array" : "an object";

    [GeneratedRegex(@"Path: \S* \| ")]
    private static partial Regex PathPart();

    [GeneratedRegex(@"^The JSON value could not be converted to (?<type>\S+)")]
    private static partial Regex CouldNotConvert();
}
