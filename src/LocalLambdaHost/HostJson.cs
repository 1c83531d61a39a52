using System.Text.Json.Serialization;

namespace BrokerLink.LocalLambdaHost;

public sealed record FunctionError(
    [property: JsonPropertyName("errorType")] string ErrorType,
    [property: JsonPropertyName("errorMessage")] string ErrorMessage,
    [property: JsonPropertyName("stackTrace")] string[] StackTrace);

public sealed record ServiceError(
    [property: JsonPropertyName("Type")] string Type,
    [property: JsonPropertyName("message")] string Message);

[JsonSerializable(typeof(FunctionError))]
[JsonSerializable(typeof(ServiceError))]
internal sealed partial class HostJson : JsonSerializerContext;
