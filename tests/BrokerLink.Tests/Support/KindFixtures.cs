using BrokerLink.Functions.Planning;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests.Support;

/// <summary>Sample configs of the kinds besides msk-single-nlb (link id <c>orders</c>, the fixtures' zones and NLB).</summary>
internal static class KindFixtures
{
    public const string RecordName = "ledger.kafka.internal";
    public const string ServerlessName = "*.kafka-serverless.us-east-1.amazonaws.com";

    public static readonly ConsumerWire Analytics = new("analytics", AnalyticsZone, AnalyticsEndpoint, EndpointZone, null);

    public static string BrokerEndpoint(int brokerId) => $"vpce-{brokerId:x17}-abcdefgh.vpce-svc-{brokerId + 100:x17}.us-east-1.vpce.amazonaws.com";

    /// <summary>
    /// msk-nlb-per-broker over the operator's groups <c>payments-bN</c> of <paramref name="aws"/> (created, tagged for the
    /// link, when missing) for <paramref name="brokers"/>; the analytics consumer has an endpoint for each of
    /// <paramref name="endpoints"/> (default: every configured broker).
    /// </summary>
    public static LinkConfigWire PerBroker(FakeAws aws, IEnumerable<int> brokers, IEnumerable<int>? endpoints = null)
    {
        var ids = brokers.ToList();
        var groups = ids.Select(id => new BrokerTargetGroupWire(id, OperatorGroup(aws, id).Arn)).ToList();
        return new LinkConfigWire(
            LinkId: "orders",
            Kind: "msk-nlb-per-broker",
            ClusterArn: ClusterArn,
            TargetPort: 9094,
            Brokers: groups,
            Consumers: [new ConsumerWire("analytics", AnalyticsZone, RoleArn: null,
                BrokerEndpoints: [.. (endpoints ?? ids).Select(id => new BrokerEndpointWire(id, BrokerEndpoint(id), EndpointZone))])]);
    }

    public static FakeAws.TargetGroup OperatorGroup(FakeAws aws, int brokerId, bool tagged = true) =>
        aws.TargetGroups.SingleOrDefault(t => t.Name == $"payments-b{brokerId}") ?? aws.AddOperatorGroup($"payments-b{brokerId}", tagged ? "orders" : null);

    public static LinkConfigWire Serverless(bool provider = true) => new(
        LinkId: "orders",
        Kind: "msk-serverless",
        ClusterArn: ClusterArn,
        LoadBalancerArn: LoadBalancerArn,
        VpcEndpointId: FakeAws.VpcEndpointId,
        TargetPort: 9098,
        ProviderZone: provider ? new ProviderZoneWire(ProviderZone) : null,
        Consumers: [Analytics]);

    public static LinkConfigWire Ec2(bool bootstrap = false, bool provider = true, int listenerBasePort = 6000) => new(
        LinkId: "orders",
        Kind: "ec2-self-managed",
        LoadBalancerArn: LoadBalancerArn,
        BrokerTag: new BrokerTagWire("kafka-cluster", "ledger"),
        ListenerBasePort: listenerBasePort,
        TargetPort: 9093,
        BootstrapPort: bootstrap ? 5999 : null,
        RecordNames: [RecordName],
        ServerProperties: new ServerPropertiesWire("PRIVATELINK", "SSL", "INTERNAL", 9092, "SSL"),
        ProviderZone: provider ? new ProviderZoneWire(ProviderZone) : null,
        Consumers: [Analytics]);

    public static string InstanceId(int brokerId) => $"i-{brokerId:x17}";

    /// <summary>The serverless endpoint's interface for "broker" <paramref name="n"/>.</summary>
    public static string Eni(int n) => $"eni-{n:x17}";
}
