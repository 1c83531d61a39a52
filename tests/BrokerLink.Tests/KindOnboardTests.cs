using System.Text.Json.Nodes;
using BrokerLink.Functions;
using BrokerLink.Functions.Onboarding;
using BrokerLink.Functions.Planning;
using BrokerLink.Tests.Support;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;
using static BrokerLink.Tests.Support.KindFixtures;

namespace BrokerLink.Tests;

/// <summary>Onboarding links of every kind: what is stored, and per-broker consumers.</summary>
public sealed class KindOnboardTests
{
    private const string TargetGroup1 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-b1/0123456789abcdef";
    private const string TargetGroup2 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-b2/1123456789abcdef";

    private static LinkConfigWire PerBrokerLink(string id = "payments") => new(
        LinkId: id, Kind: "msk-nlb-per-broker", ClusterArn: ClusterArn, TargetPort: 9094,
        Brokers: [new BrokerTargetGroupWire(1, TargetGroup1), new BrokerTargetGroupWire(2, TargetGroup2)],
        Consumers: []);

    private static LinkConfigWire Kind(string kind, string id) => kind switch
    {
        "msk-nlb-per-broker" => PerBrokerLink(id),
        "msk-serverless" => Serverless() with { LinkId = id },
        "ec2-self-managed" => Ec2() with { LinkId = id },
        _ => Config() with { LinkId = id },
    };

    private static string Text(LinkConfigWire config) => WriteString(config, Context.LinkConfigWire);

    private static OnboardDecision Decide(string request, params LinkConfigWire[] stored) =>
        Onboarder.Decide(Read(Stream(OnboardTests.Input(request, [.. stored.Select(c => OnboardTests.Item(Text(c), 3))])), Context.OnboardInput));

    private static string Request(string operation, string fields) => $$"""{"operation": "{{operation}}", {{fields}}}""";

    [Theory]
    [InlineData("msk-single-nlb", true)]
    [InlineData("msk-nlb-per-broker", true)]
    [InlineData("msk-serverless", true)]
    [InlineData("ec2-self-managed", false)]
    public void Register_link_stores_a_cluster_arn_only_for_kinds_with_a_cluster(string kind, bool hasCluster)
    {
        var decision = Decide(Request("register-link", $"\"link\": {Text(Kind(kind, "fresh") with { Consumers = [] })}"));

        var item = decision.Store!.Item!;
        Assert.Equal(kind, item["kind"].S);
        Assert.Equal(hasCluster, item.ContainsKey("clusterArn"));
        Assert.Equal(["pk", "sk", "kind", .. hasCluster ? new[] { "clusterArn" } : [], "config", "version"], item.Keys);
        // What is stored reads back as the same config.
        var stored = LinkConfigReader.Validate(Read(item["config"].S!, Context.LinkConfigWire, "config"));
        Assert.Equal(kind, stored.Kind);
        Assert.NotNull(decision.Reconcile);
    }

    [Theory]
    [InlineData("msk-nlb-per-broker")]
    [InlineData("msk-serverless")]
    [InlineData("ec2-self-managed")]
    public void Update_and_remove_work_for_every_kind(string kind)
    {
        var current = Kind(kind, "orders");
        var update = Decide(Request("update-link", $"\"link\": {Text(current with { Consumers = null, TargetPort = 9096 })}"), current);
        var remove = Decide(Request("remove-link", "\"linkId\": \"orders\""), current);

        Assert.Equal(9096, LinkConfigReader.Validate(Read(update.Store!.Item!["config"].S!, Context.LinkConfigWire, "config")).TargetPort);
        Assert.Equal(current.Consumers!.Count, Read(update.Store!.Item!["config"].S!, Context.LinkConfigWire, "config").Consumers!.Count);
        Assert.True(Read(remove.Store!.Item!["config"].S!, Context.LinkConfigWire, "config").Retired);
        Assert.Equal("delete", remove.Finish!.Kind);
    }

    [Theory]
    [InlineData("msk-serverless", null, "kafka-serverless.us-east-1.amazonaws.com")]
    [InlineData("ec2-self-managed", "\"kafka.internal\"", "kafka.internal")]
    [InlineData("msk-single-nlb", null, "kafka.us-east-1.amazonaws.com")]
    public void A_zone_created_for_a_consumer_is_named_for_the_kinds_records(string kind, string? name, string zone)
    {
        var current = Kind(kind, "orders") with { Consumers = [] };
        var createZone = name is null ? """{"vpcId": "vpc-0c1c2c3d4e5f60718"}""" : $$"""{"vpcId": "vpc-0c1c2c3d4e5f60718", "name": {{name}}}""";

        var decision = Decide(Request("add-consumer", $$"""
            "linkId": "orders", "consumer": {"name": "analytics", "endpointDnsName": "{{AnalyticsEndpoint}}", "endpointHostedZoneId": "{{EndpointZone}}",
            "roleArn": "{{BillingRole}}", "createZone": {{createZone}} }
            """), current);

        Assert.Equal(zone, decision.CreateZone!.Name);
    }

    [Fact]
    public void An_ec2_consumer_zone_to_create_must_be_named()
    {
        var thrown = Assert.Throws<InvalidInputException>(() => Decide(Request("add-consumer", $$"""
            "linkId": "orders", "consumer": {"name": "analytics", "endpointDnsName": "{{AnalyticsEndpoint}}", "endpointHostedZoneId": "{{EndpointZone}}",
            "roleArn": "{{BillingRole}}", "createZone": {"vpcId": "vpc-0c1c2c3d4e5f60718"} }
            """), Ec2() with { Consumers = [] }));

        Assert.StartsWith("consumer.createZone.name: missing", thrown.Message);
    }

    [Fact]
    public void Update_link_cannot_change_the_kind()
    {
        var thrown = Assert.Throws<InvalidInputException>(() =>
            Decide(Request("update-link", $"\"link\": {Text(Serverless() with { Consumers = null })}"), Config()));

        Assert.StartsWith("link.kind: the link is msk-single-nlb: a link cannot change its kind", thrown.Message);
    }

    [Theory]
    [InlineData("msk-serverless")]
    [InlineData("ec2-self-managed")]
    public void Add_consumer_works_as_for_a_single_nlb(string kind)
    {
        var current = Kind(kind, "orders") with { Consumers = [], EndpointServiceId = "vpce-svc-0123456789abcdef0" };

        var decision = Decide(Request("add-consumer", $$"""
            "linkId": "orders", "consumer": {"name": "analytics", "principal": "210987654321", "endpointDnsName": "{{AnalyticsEndpoint}}",
            "endpointHostedZoneId": "{{EndpointZone}}", "hostedZoneId": "{{AnalyticsZone}}"}
            """), current);

        Assert.NotNull(decision.Allow);
        var stored = Read(decision.Store!.Item!["config"].S!, Context.LinkConfigWire, "config");
        Assert.Equal(AnalyticsEndpoint, Assert.Single(stored.Consumers!)!.EndpointDnsName);
    }

    private static string PerBrokerConsumer(string extra = "") => $$"""
        "linkId": "payments", "consumer": {"name": "analytics", "hostedZoneId": "{{AnalyticsZone}}"{{extra}},
          "brokerEndpoints": [ {"brokerId": 2, "endpointDnsName": "{{BrokerEndpoint(2)}}", "endpointHostedZoneId": "{{EndpointZone}}"},
                               {"brokerId": 1, "endpointDnsName": "{{BrokerEndpoint(1)}}", "endpointHostedZoneId": "{{EndpointZone}}"} ]}
        """;

    [Fact]
    public void Per_broker_add_consumer_stores_its_broker_endpoints_and_running_it_again_stores_nothing()
    {
        var decision = Decide(Request("add-consumer", PerBrokerConsumer()), PerBrokerLink());

        var stored = Read(decision.Store!.Item!["config"].S!, Context.LinkConfigWire, "config");
        var consumer = Assert.Single(stored.Consumers!)!;
        Assert.Equal([1, 2], consumer.BrokerEndpoints!.Select(e => e!.BrokerId!.Value));
        Assert.Null(consumer.EndpointDnsName);
        Assert.Null(decision.Allow);
        Assert.Null(decision.Accept);

        var again = Decide(Request("add-consumer", PerBrokerConsumer()), stored);
        Assert.Null(again.Store);
        Assert.NotNull(again.Reconcile);
    }

    [Fact]
    public void Per_broker_add_consumer_again_with_a_new_broker_endpoint_changes_the_consumer_in_place()
    {
        var first = Decide(Request("add-consumer", PerBrokerConsumer()), PerBrokerLink());
        var stored = Read(first.Store!.Item!["config"].S!, Context.LinkConfigWire, "config") with
        {
            Brokers = [new BrokerTargetGroupWire(1, TargetGroup1), new BrokerTargetGroupWire(2, TargetGroup2),
                new BrokerTargetGroupWire(3, "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-b3/2123456789abcdef")],
        };
        var withBroker3 = PerBrokerConsumer().Replace("\"brokerEndpoints\": [", $$"""
            "brokerEndpoints": [ {"brokerId": 3, "endpointDnsName": "{{BrokerEndpoint(3)}}", "endpointHostedZoneId": "{{EndpointZone}}"},
            """);

        var decision = Decide(Request("add-consumer", withBroker3), stored);

        var updated = Assert.Single(Read(decision.Store!.Item!["config"].S!, Context.LinkConfigWire, "config").Consumers!)!;
        Assert.Equal([1, 2, 3], updated.BrokerEndpoints!.Select(e => e!.BrokerId!.Value));
        Assert.Equal(AnalyticsZone, updated.HostedZoneId);
        Assert.Contains(decision.Notes, n => n.Contains("gets new broker endpoints (brokers 1, 2, 3)", StringComparison.Ordinal));
        Assert.NotNull(decision.Reconcile);
    }

    [Fact]
    public void Per_broker_add_consumer_again_with_another_zone_is_refused()
    {
        var first = Decide(Request("add-consumer", PerBrokerConsumer()), PerBrokerLink());
        var stored = Read(first.Store!.Item!["config"].S!, Context.LinkConfigWire, "config");

        var thrown = Assert.Throws<InvalidInputException>(() => Decide(Request("add-consumer", PerBrokerConsumer().Replace(AnalyticsZone, "Z0OTHERZONE")), stored));

        Assert.StartsWith("consumer.name: 'analytics' is already a consumer of link 'payments'", thrown.Message);
    }

    [Theory]
    [InlineData(", \"principal\": \"210987654321\"", "consumer.principal: not allowed for kind 'msk-nlb-per-broker': the link has an endpoint service per broker")]
    [InlineData(", \"acceptConnection\": true", "consumer.acceptConnection: not allowed for kind 'msk-nlb-per-broker'")]
    [InlineData(", \"endpointDnsName\": \"" + AnalyticsEndpoint + "\"", "consumer.endpointDnsName: not allowed for kind 'msk-nlb-per-broker': give consumer.brokerEndpoints")]
    public void Per_broker_add_consumer_refuses_what_a_single_endpoint_service_would_need(string extra, string message)
    {
        var thrown = Assert.Throws<InvalidInputException>(() => Decide(Request("add-consumer", PerBrokerConsumer(extra)), PerBrokerLink()));

        Assert.StartsWith(message, thrown.Message);
    }

    [Theory]
    [InlineData("\"brokerEndpoints\": []", "consumer.brokerEndpoints: empty")]
    [InlineData("\"brokerEndpoints\": [{\"brokerId\": 1, \"endpointDnsName\": \"x.example.com\", \"endpointHostedZoneId\": \"Z1\"}]", "consumer.brokerEndpoints[0].endpointDnsName: 'x.example.com' is not an interface endpoint's DNS name")]
    [InlineData("\"hostedZoneId\": \"Z1\"", "consumer.brokerEndpoints: missing")]
    public void Per_broker_add_consumer_checks_its_endpoints(string consumer, string message)
    {
        var request = Request("add-consumer", $$"""
            "linkId": "payments", "consumer": {"name": "analytics", "hostedZoneId": "Z0A", {{consumer.Replace("\"hostedZoneId\": \"Z1\"", "\"roleArn\": null")}} }
            """);

        Assert.StartsWith(message, Assert.Throws<InvalidInputException>(() => Decide(request, PerBrokerLink())).Message);
    }

    [Fact]
    public void Single_nlb_add_consumer_refuses_broker_endpoints()
    {
        var thrown = Assert.Throws<InvalidInputException>(() => Decide(Request("add-consumer", PerBrokerConsumer().Replace("payments", "orders")), Config()));

        Assert.StartsWith("consumer.brokerEndpoints: not allowed for kind 'msk-single-nlb'", thrown.Message);
    }

    [Fact]
    public void Per_broker_target_groups_must_be_in_the_deployments_account()
    {
        var link = PerBrokerLink("fresh") with { Brokers = [new BrokerTargetGroupWire(1, TargetGroup1.Replace("123456789012", "210987654321"))] };

        var thrown = Assert.Throws<InvalidInputException>(() => Decide(Request("register-link", $"\"link\": {Text(link)}")));

        Assert.StartsWith("link.brokers[0].targetGroupArn: account 210987654321 is not this deployment's account 123456789012", thrown.Message);
    }
}
