using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BrokerLink.Functions;
using BrokerLink.Functions.Planning;
using static BrokerLink.Functions.Json.Json;

namespace BrokerLink.Tests.Support;

/// <summary>The example link from docs/contract.md and the names around it.</summary>
internal static class Fixtures
{
    public const string Account = "123456789012";
    public const string StateMachineArn = "arn:aws:states:us-east-1:123456789012:stateMachine:Reconcile";
    public const string ClusterArn = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/0b9f3c1e-1111-2222-3333-444455556666-2";
    public const string OtherClusterArn = "arn:aws:kafka:us-east-1:123456789012:cluster/inventory/5d2e8f1a-9999-8888-7777-666655554444-1";
    public const string LoadBalancerArn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/orders-nlb/50dc6c495c0c9188";
    public const string NlbDnsName = "orders-nlb-50dc6c495c0c9188.elb.us-east-1.amazonaws.com";
    public const string NlbZone = "Z26RNL4JYFTOTI";
    public const string VpcId = "vpc-0provider0000001";
    public const string AnalyticsZone = "Z0ANALYTICS";
    public const string BillingZone = "Z0BILLING";
    public const string ProviderZone = "Z0PROVIDER";
    public const string EndpointZone = "Z7HUB22UULQXV";
    public const string AnalyticsEndpoint = "vpce-0a1b2c3d4e5f60718-abcdefgh.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com";
    public const string BillingEndpoint = "vpce-0b1b2c3d4e5f60718-bbbbbbbb.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com";
    public const string BillingRole = "arn:aws:iam::210987654321:role/brokerlink/dns-writer";
    public const string Txt = "\"heritage=brokerlink,brokerlink/link=orders\"";

    public static string Host(int brokerId) => $"b-{brokerId}.orders.abc123.c2.kafka.us-east-1.amazonaws.com";

    public static string Ip(int brokerId) => $"10.{brokerId / 200}.{brokerId % 3 + 1}.{10 + brokerId % 200}";

    public static LinkConfigWire Config(bool bootstrap = true, bool provider = true, bool billing = false) => new(
        LinkId: "orders",
        Kind: "msk-single-nlb",
        ClusterArn: ClusterArn,
        LoadBalancerArn: LoadBalancerArn,
        ListenerBasePort: 9000,
        TargetPort: 9094,
        BootstrapPort: bootstrap ? 8999 : null,
        ProviderZone: provider ? new ProviderZoneWire(ProviderZone) : null,
        Consumers:
        [
            new ConsumerWire("analytics", AnalyticsZone, AnalyticsEndpoint, EndpointZone, null),
            .. billing ? new[] { new ConsumerWire("billing", BillingZone, BillingEndpoint, EndpointZone, BillingRole) } : [],
        ]);

    /// <summary>
    /// The check pass's input, as the state machine builds it: the config as the table holds it (JSON text), and the item
    /// that holds it; without <paramref name="item"/>, an item of the config alone (a proposed config: no attributes to compare).
    /// </summary>
    public static string CheckPass(string linkId, string configJson, JsonObject? item = null) => new JsonObject
    {
        ["pass"] = "check",
        ["item"] = item ?? new JsonObject { ["config"] = new JsonObject { ["S"] = configJson } },
        ["stateMachineArn"] = StateMachineArn,
        ["linkId"] = linkId,
        ["linkConfig"] = configJson,
    }.ToJsonString();

    public static JsonElement Element(LinkConfigWire config) => JsonSerializer.SerializeToElement(config, Context.LinkConfigWire);

    public static Stream Stream(string json) => new MemoryStream(Encoding.UTF8.GetBytes(json));

    public static string ReadAll(Stream stream) => new StreamReader(stream).ReadToEnd();

    public static string Serialise(PlanInput input) => WriteString(input, Context.PlanInput);

    /// <summary>Runs a handler on JSON text and returns its output parsed.</summary>
    public static JsonNode Invoke(Func<Stream, Stream> handler, string json) => JsonNode.Parse(ReadAll(handler(Stream(json))))!;

    public static Handlers Lambda { get; } = new();
}
