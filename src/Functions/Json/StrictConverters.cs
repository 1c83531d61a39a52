using System.Text.Json;
using System.Text.Json.Serialization;

namespace BrokerLink.Functions.Json;

// Scalar converters that say what they expected and what they got. The built-in ones, inside records read
// through their constructors, report the enclosing record's type instead, which names nothing useful.

internal sealed class StringConverter : JsonConverter<string>
{
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw Unexpected.Token("a string", reader.TokenType);

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    // Dictionary keys (DynamoDB items, expression attribute names) go through these.
    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetString()!;

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WritePropertyName(value);
}

internal sealed class BooleanConverter : JsonConverter<bool>
{
    public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        var token => throw Unexpected.Token("true or false", token),
    };

    public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options) => writer.WriteBooleanValue(value);
}

internal sealed class DoubleConverter : JsonConverter<double>
{
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Number ? reader.GetDouble() : throw Unexpected.Token("a number", reader.TokenType);

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}

/// <summary>Reads an int from any whole JSON number: Step Functions may hand back 9094 as 9094.0.</summary>
internal sealed class WholeNumberConverter : JsonConverter<int>
{
    public override int Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        (int)Unexpected.WholeNumber(ref reader, int.MinValue, int.MaxValue);

    public override void Write(Utf8JsonWriter writer, int value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}

internal sealed class LongWholeNumberConverter : JsonConverter<long>
{
    public override long Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Unexpected.WholeNumber(ref reader, long.MinValue, long.MaxValue);

    public override void Write(Utf8JsonWriter writer, long value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}

internal static class Unexpected
{
    public static JsonException Token(string expected, JsonTokenType token) => new($"expected {expected}, got {Describe(token)}");

    public static long WholeNumber(ref Utf8JsonReader reader, long min, long max)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw Token("a whole number", reader.TokenType);
        }
        if (reader.TryGetInt64(out var value) && value >= min && value <= max)
        {
            return value;
        }
        var number = reader.GetDouble();
        return number == Math.Floor(number) && number >= min && number <= max
            ? (long)number
            : throw new JsonException($"expected a whole number, got {number.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}
