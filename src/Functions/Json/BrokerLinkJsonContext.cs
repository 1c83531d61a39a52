using System.Text.Json.Serialization;
using BrokerLink.Functions.Onboarding;
using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Summarising;
using BrokerLink.Functions.Triaging;

namespace BrokerLink.Functions.Json;

// Case-insensitive reading: the state machine hands on AWS's answers in Step Functions' spelling (DnsName, Ttl).
// Deep nesting is allowed because page chains nest one level per page. Nullable annotations and required constructor
// parameters are respected: what the passes hand each other is read back whole, or fails naming what is missing.
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    MaxDepth = 512,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    Converters = [typeof(StringConverter), typeof(BooleanConverter), typeof(DoubleConverter), typeof(WholeNumberConverter), typeof(LongWholeNumberConverter)])]
[JsonSerializable(typeof(TriageInput))]
[JsonSerializable(typeof(TriageOutput))]
[JsonSerializable(typeof(PlanInput))]
[JsonSerializable(typeof(LinkConfigWire))]
[JsonSerializable(typeof(PlanOutput))]
[JsonSerializable(typeof(LinkPlan))]
[JsonSerializable(typeof(ZonePage))]
[JsonSerializable(typeof(InstancesDigest))]
[JsonSerializable(typeof(SummariseInput))]
[JsonSerializable(typeof(LinkResultWire))]
[JsonSerializable(typeof(SummariseOutput))]
[JsonSerializable(typeof(StatusResultWire))]
[JsonSerializable(typeof(StatusReportOutput))]
[JsonSerializable(typeof(OnboardInput))]
[JsonSerializable(typeof(OnboardDecision))]
internal sealed partial class BrokerLinkJsonContext : JsonSerializerContext;
