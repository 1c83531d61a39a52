using System.Text.Json.Serialization;
using BrokerLink.Functions.Onboarding;
using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Summarising;
using BrokerLink.Functions.Triaging;

namespace BrokerLink.Functions.Json;

// Case-insensitive reading because Step Functions re-cases AWS names (DnsName for DNSName, Ttl for TTL).
// Deep nesting is allowed because page chains nest one level per page.
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    MaxDepth = 512,
    Converters = [typeof(StringConverter), typeof(BooleanConverter), typeof(DoubleConverter), typeof(WholeNumberConverter), typeof(LongWholeNumberConverter)])]
[JsonSerializable(typeof(TriageInput))]
[JsonSerializable(typeof(TriageOutput))]
[JsonSerializable(typeof(PlanInput))]
[JsonSerializable(typeof(LinkConfigWire))]
[JsonSerializable(typeof(PlanOutput))]
[JsonSerializable(typeof(SummariseInput))]
[JsonSerializable(typeof(LinkResultWire))]
[JsonSerializable(typeof(SummariseOutput))]
[JsonSerializable(typeof(OnboardInput))]
[JsonSerializable(typeof(OnboardDecision))]
internal sealed partial class BrokerLinkJsonContext : JsonSerializerContext;
