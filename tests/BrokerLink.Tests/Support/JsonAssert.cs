using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using static BrokerLink.Functions.Json.Json;

namespace BrokerLink.Tests.Support;

/// <summary>Whole-value comparisons through the real serializer, shown indented so a failure reads as a diff.</summary>
internal static class JsonAssert
{
    public static void Equal<T>(T expected, T actual, JsonTypeInfo<T> type) =>
        Assert.Equal(Indented(WriteString(expected, type)), Indented(WriteString(actual, type)));

    public static void Equal(string expectedJson, JsonNode? actual) =>
        Assert.Equal(Indented(expectedJson), Indented(actual?.ToJsonString() ?? "null"));

    public static string Indented(string json)
    {
        using var document = JsonDocument.Parse(json);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            document.WriteTo(writer);
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
