using System.Text.Json.Nodes;
using BrokerLink.Functions;
using BrokerLink.Functions.Planning;
using BrokerLink.Tests.Support;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;
using static BrokerLink.Tests.Support.KindFixtures;

namespace BrokerLink.Tests;

/// <summary>Each kind's config: its required, optional and refused fields, and what its check pass says to observe.</summary>
public sealed class KindConfigTests
{
    private const string Absent = JsonPatch.Absent;
    private const string TargetGroup1 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-b1/0123456789abcdef";
    private const string TargetGroup2 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-b2/1123456789abcdef";

    private static LinkConfigWire PerBrokerConfig() => new(
        LinkId: "orders", Kind: "msk-nlb-per-broker", ClusterArn: ClusterArn, TargetPort: 9094,
        Brokers: [new BrokerTargetGroupWire(1, TargetGroup1), new BrokerTargetGroupWire(2, TargetGroup2)],
        Consumers: [new ConsumerWire("analytics", AnalyticsZone, BrokerEndpoints: [new BrokerEndpointWire(1, BrokerEndpoint(1), EndpointZone)])]);

    private static string Base(string kind) => WriteString(kind switch
    {
        "msk-single-nlb" => Config(),
        "msk-nlb-per-broker" => PerBrokerConfig(),
        "msk-serverless" => Serverless(),
        _ => Ec2(bootstrap: true),
    }, Context.LinkConfigWire);

    private static string CheckPass(string configJson) => Fixtures.CheckPass("orders", configJson);

    [Theory]
    [InlineData("msk-single-nlb")]
    [InlineData("msk-nlb-per-broker")]
    [InlineData("msk-serverless")]
    [InlineData("ec2-self-managed")]
    public void Sample_config_of_each_kind_passes_the_check(string kind)
    {
        var output = Invoke(Lambda.Plan, CheckPass(Base(kind)));

        Assert.Equal(("check", false), (output["pass"]!.GetValue<string>(), output["hasChanges"]!.GetValue<bool>()));
    }

    [Theory]
    // msk-nlb-per-broker
    [InlineData("msk-nlb-per-broker", "loadBalancerArn", $"\"{LoadBalancerArn}\"", "linkConfig.loadBalancerArn: not allowed for kind 'msk-nlb-per-broker'")]
    [InlineData("msk-nlb-per-broker", "listenerBasePort", "9000", "linkConfig.listenerBasePort: not allowed for kind 'msk-nlb-per-broker'")]
    [InlineData("msk-nlb-per-broker", "bootstrapPort", "8999", "linkConfig.bootstrapPort: not allowed for kind 'msk-nlb-per-broker'")]
    [InlineData("msk-nlb-per-broker", "providerZone", "{\"hostedZoneId\": \"Z0PROVIDER\"}", "linkConfig.providerZone: not allowed for kind 'msk-nlb-per-broker'")]
    [InlineData("msk-nlb-per-broker", "vpcEndpointId", "\"vpce-0123456789abcdef0\"", "linkConfig.vpcEndpointId: not allowed for kind 'msk-nlb-per-broker'")]
    [InlineData("msk-nlb-per-broker", "brokerTag", "{\"key\": \"k\", \"value\": \"v\"}", "linkConfig.brokerTag: not allowed for kind 'msk-nlb-per-broker'")]
    [InlineData("msk-nlb-per-broker", "recordNames", "[\"a.example\"]", "linkConfig.recordNames: not allowed for kind 'msk-nlb-per-broker'")]
    [InlineData("msk-nlb-per-broker", "clusterArn", Absent, "linkConfig.clusterArn: missing (required for kind 'msk-nlb-per-broker')")]
    [InlineData("msk-nlb-per-broker", "targetPort", Absent, "linkConfig.targetPort: missing (required for kind 'msk-nlb-per-broker')")]
    [InlineData("msk-nlb-per-broker", "brokers", Absent, "linkConfig.brokers: missing (required for kind 'msk-nlb-per-broker')")]
    [InlineData("msk-nlb-per-broker", "brokers", "[]", "linkConfig.brokers: empty")]
    [InlineData("msk-nlb-per-broker", "brokers[1].brokerId", "1", "linkConfig.brokers[1].brokerId: broker 1 is configured twice")]
    [InlineData("msk-nlb-per-broker", "brokers[1].brokerId", "0", "linkConfig.brokers[1].brokerId: 0 is not an MSK broker id (1-65535)")]
    [InlineData("msk-nlb-per-broker", "brokers[1].brokerId", Absent, "linkConfig.brokers[1].brokerId: missing")]
    [InlineData("msk-nlb-per-broker", "brokers[1].targetGroupArn", $"\"{TargetGroup1}\"", "linkConfig.brokers[1].targetGroupArn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-b1/0123456789abcdef is also another broker's target group")]
    [InlineData("msk-nlb-per-broker", "brokers[1].targetGroupArn", "\"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/payments-b2/1123456789abcdef\"", "linkConfig.brokers[1].targetGroupArn: region eu-west-1 is not this deployment's region us-east-1")]
    [InlineData("msk-nlb-per-broker", "brokers[1].targetGroupArn", $"\"{LoadBalancerArn}\"", "linkConfig.brokers[1].targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/orders-nlb/50dc6c495c0c9188' is not an ELBv2 target group ARN")]
    [InlineData("msk-nlb-per-broker", "consumers[0].endpointDnsName", $"\"{AnalyticsEndpoint}\"", "linkConfig.consumers[0].endpointDnsName: not allowed for kind 'msk-nlb-per-broker'")]
    [InlineData("msk-nlb-per-broker", "consumers[0].brokerEndpoints", Absent, "linkConfig.consumers[0].brokerEndpoints: missing (required for kind 'msk-nlb-per-broker')")]
    [InlineData("msk-nlb-per-broker", "consumers[0].brokerEndpoints[0].endpointDnsName", "\"evil.example.com\"", "linkConfig.consumers[0].brokerEndpoints[0].endpointDnsName: 'evil.example.com' is not an interface endpoint's DNS name")]
    [InlineData("msk-nlb-per-broker", "consumers[0].brokerEndpoints[0].endpointHostedZoneId", "\"z7\"", "linkConfig.consumers[0].brokerEndpoints[0].endpointHostedZoneId: 'z7' is not a hosted zone id")]
    // msk-serverless
    [InlineData("msk-serverless", "listenerBasePort", "9000", "linkConfig.listenerBasePort: not allowed for kind 'msk-serverless'")]
    [InlineData("msk-serverless", "bootstrapPort", "8999", "linkConfig.bootstrapPort: not allowed for kind 'msk-serverless'")]
    [InlineData("msk-serverless", "brokers", "[]", "linkConfig.brokers: not allowed for kind 'msk-serverless'")]
    [InlineData("msk-serverless", "brokerIdTagKey", "\"id\"", "linkConfig.brokerIdTagKey: not allowed for kind 'msk-serverless'")]
    [InlineData("msk-serverless", "clusterArn", Absent, "linkConfig.clusterArn: missing (required for kind 'msk-serverless')")]
    [InlineData("msk-serverless", "loadBalancerArn", Absent, "linkConfig.loadBalancerArn: missing (required for kind 'msk-serverless')")]
    [InlineData("msk-serverless", "vpcEndpointId", Absent, "linkConfig.vpcEndpointId: missing (required for kind 'msk-serverless')")]
    [InlineData("msk-serverless", "vpcEndpointId", "\"vpce-123\"", "linkConfig.vpcEndpointId: 'vpce-123' is not a VPC endpoint id")]
    [InlineData("msk-serverless", "listenerPort", "0", "linkConfig.listenerPort: 0 is not a port (1-65535)")]
    [InlineData("msk-serverless", "consumers[0].brokerEndpoints", "[]", "linkConfig.consumers[0].brokerEndpoints: not allowed for kind 'msk-serverless'")]
    // ec2-self-managed
    [InlineData("ec2-self-managed", "clusterArn", $"\"{ClusterArn}\"", "linkConfig.clusterArn: not allowed for kind 'ec2-self-managed'")]
    [InlineData("ec2-self-managed", "vpcEndpointId", "\"vpce-0123456789abcdef0\"", "linkConfig.vpcEndpointId: not allowed for kind 'ec2-self-managed'")]
    [InlineData("ec2-self-managed", "listenerPort", "9000", "linkConfig.listenerPort: not allowed for kind 'ec2-self-managed'")]
    [InlineData("ec2-self-managed", "loadBalancerArn", Absent, "linkConfig.loadBalancerArn: missing (required for kind 'ec2-self-managed')")]
    [InlineData("ec2-self-managed", "brokerTag", Absent, "linkConfig.brokerTag: missing (required for kind 'ec2-self-managed')")]
    [InlineData("ec2-self-managed", "listenerBasePort", Absent, "linkConfig.listenerBasePort: missing (required for kind 'ec2-self-managed')")]
    [InlineData("ec2-self-managed", "recordNames", Absent, "linkConfig.recordNames: missing (required for kind 'ec2-self-managed')")]
    [InlineData("ec2-self-managed", "brokerTag.key", "\"\"", "linkConfig.brokerTag.key: empty")]
    [InlineData("ec2-self-managed", "brokerTag.value", Absent, "linkConfig.brokerTag.value: missing")]
    [InlineData("ec2-self-managed", "brokerIdTagKey", "\" \"", "linkConfig.brokerIdTagKey: empty")]
    [InlineData("ec2-self-managed", "recordNames", "[]", "linkConfig.recordNames: 0 names: give 1 to 10")]
    [InlineData("ec2-self-managed", "recordNames", "[\"a.x\",\"b.x\",\"c.x\",\"d.x\",\"e.x\",\"f.x\",\"g.x\",\"h.x\",\"i.x\",\"j.x\",\"k.x\"]", "linkConfig.recordNames: 11 names: give 1 to 10")]
    [InlineData("ec2-self-managed", "recordNames", "[\"kafka.ledger\", \"KAFKA.ledger.\"]", "linkConfig.recordNames[1]: 'kafka.ledger' is named twice")]
    [InlineData("ec2-self-managed", "recordNames", "[\"under_score.x\"]", "linkConfig.recordNames[0]: 'under_score.x' is not a DNS name")]
    [InlineData("ec2-self-managed", "targetPort", "65536", "linkConfig.targetPort: 65536 is not a port (1-65535)")]
    [InlineData("ec2-self-managed", "serverProperties.securityProtocol", "\"TLS\"", "linkConfig.serverProperties.securityProtocol: 'TLS' is not a Kafka security protocol")]
    [InlineData("ec2-self-managed", "serverProperties.internalListenerName", "\"PRIVATELINK\"", "linkConfig.serverProperties.internalListenerName: 'PRIVATELINK' is also the PrivateLink listener's name")]
    [InlineData("ec2-self-managed", "serverProperties.internalPort", "9093", "linkConfig.serverProperties.internalPort: 9093 is also the PrivateLink listener's port (targetPort)")]
    // msk-single-nlb keeps its own
    [InlineData("msk-single-nlb", "brokers", "[]", "linkConfig.brokers: not allowed for kind 'msk-single-nlb'")]
    [InlineData("msk-single-nlb", "brokerTag", "{}", "linkConfig.brokerTag: not allowed for kind 'msk-single-nlb'")]
    [InlineData("msk-single-nlb", "listenerPort", "9000", "linkConfig.listenerPort: not allowed for kind 'msk-single-nlb'")]
    [InlineData("msk-single-nlb", "clusterArn", Absent, "linkConfig.clusterArn: missing (required for kind 'msk-single-nlb')")]
    public void Bad_field_for_the_kind_is_invalid_input_naming_the_field_and_the_kind(string kind, string field, string value, string message)
    {
        var config = JsonPatch.Set(Base(kind), field, value);

        var thrown = Assert.Throws<InvalidInputException>(() => ReadAll(Lambda.Plan(Stream(CheckPass(config)))));

        Assert.StartsWith(message, thrown.Message);
    }

    [Fact]
    public void Optional_fields_take_their_defaults()
    {
        var serverless = LinkConfigReader.Validate(Serverless() with { TargetPort = null });
        var ec2 = LinkConfigReader.Validate(Ec2() with { BrokerIdTagKey = null, ServerProperties = null });

        Assert.Equal((9098, 9098), (serverless.TargetPort, serverless.ListenerPort));
        Assert.Equal("kafka-broker-id", ec2.BrokerIdTagKey);
        Assert.Equal(ServerPropertiesConfig.Default, ec2.ServerProperties);
        Assert.Null(ec2.ClusterArn);
    }

    // ------------------------------------------------------------------ the check pass's observe

    public static TheoryData<string, bool, string> Observes => new()
    {
        { "msk-single-nlb", false, $$"""{"cluster": true, "loadBalancer": true, "nodes": true, "vpcEndpointId": null, "instanceFilters": null, "targetGroupArns": null, "instanceTags": null, "clusterArn": "{{ClusterArn}}", "loadBalancerArn": "{{LoadBalancerArn}}"}""" },
        { "msk-single-nlb", true, $$"""{"cluster": false, "loadBalancer": true, "nodes": false, "vpcEndpointId": null, "instanceFilters": null, "targetGroupArns": null, "instanceTags": null, "clusterArn": "{{ClusterArn}}", "loadBalancerArn": "{{LoadBalancerArn}}"}""" },
        { "msk-nlb-per-broker", false, $$"""{"cluster": true, "loadBalancer": false, "nodes": true, "vpcEndpointId": null, "instanceFilters": null, "targetGroupArns": ["{{TargetGroup1}}", "{{TargetGroup2}}"], "instanceTags": null, "clusterArn": "{{ClusterArn}}", "loadBalancerArn": null}""" },
        { "msk-nlb-per-broker", true, $$"""{"cluster": false, "loadBalancer": false, "nodes": false, "vpcEndpointId": null, "instanceFilters": null, "targetGroupArns": [], "instanceTags": null, "clusterArn": "{{ClusterArn}}", "loadBalancerArn": null}""" },
        { "msk-serverless", false, $$"""{"cluster": true, "loadBalancer": true, "nodes": false, "vpcEndpointId": "vpce-0123456789abcdef0", "instanceFilters": null, "targetGroupArns": null, "instanceTags": null, "clusterArn": "{{ClusterArn}}", "loadBalancerArn": "{{LoadBalancerArn}}"}""" },
        { "msk-serverless", true, $$"""{"cluster": false, "loadBalancer": true, "nodes": false, "vpcEndpointId": null, "instanceFilters": null, "targetGroupArns": null, "instanceTags": null, "clusterArn": "{{ClusterArn}}", "loadBalancerArn": "{{LoadBalancerArn}}"}""" },
        { "ec2-self-managed", false, $$"""{"cluster": false, "loadBalancer": true, "nodes": false, "vpcEndpointId": null, "instanceFilters": [{"Name": "tag:kafka-cluster", "Values": ["ledger"]}, {"Name": "instance-state-name", "Values": ["pending", "running", "stopped", "stopping"]}], "targetGroupArns": null, "instanceTags": ["kafka-cluster", "kafka-broker-id"], "clusterArn": null, "loadBalancerArn": "{{LoadBalancerArn}}"}""" },
        { "ec2-self-managed", true, $$"""{"cluster": false, "loadBalancer": true, "nodes": false, "vpcEndpointId": null, "instanceFilters": null, "targetGroupArns": null, "instanceTags": null, "clusterArn": null, "loadBalancerArn": "{{LoadBalancerArn}}"}""" },
    };

    [Theory]
    [MemberData(nameof(Observes))]
    public void Check_pass_says_what_to_observe_for_the_kind(string kind, bool retired, string observe)
    {
        var config = retired ? JsonPatch.Set(Base(kind), "retired", "true") : Base(kind);

        var output = Invoke(Lambda.Plan, CheckPass(config));

        JsonAssert.Equal(observe, output["observe"]);
        Assert.Empty(output["serverProperties"]!.AsArray());
    }

    [Fact]
    public void Apply_pass_of_a_kind_without_a_cluster_needs_no_cluster_state()
    {
        var aws = new FakeAws();
        aws.AddInstance(InstanceId(1), "1", Ip(1));
        var input = JsonPatch.Set(Serialise(aws.Observe(Ec2())), "clusterState", Absent);

        Assert.True(Invoke(Lambda.Plan, input)["hasChanges"]!.GetValue<bool>());
        Assert.StartsWith("clusterState: missing",
            Assert.Throws<InvalidInputException>(() => ReadAll(Lambda.Plan(Stream(JsonPatch.Set(Serialise(FakeAws.WithBrokers(1).Observe(Config())), "clusterState", Absent))))).Message);
    }

    [Theory]
    [InlineData("instances.page.nextToken", "\"more\"", typeof(IncompleteObservationException), "instances: its newest page has a NextToken")]
    [InlineData("instances", Absent, typeof(InvalidInputException), "instances: missing")]
    [InlineData("instances.page.reservations[0].instances[0].state", Absent, typeof(InvalidInputException), "instances.page.Reservations[0].Instances[0].State.Name: missing")]
    [InlineData("instances.page.reservations[0].instances[0].privateIpAddress", "\"10.0.1\"", typeof(InvalidInputException), "instances.page.Reservations[0].Instances[0].PrivateIpAddress: '10.0.1' is not an IPv4 address")]
    public void Bad_instance_observation_is_a_named_error(string field, string value, Type exception, string message)
    {
        var aws = new FakeAws();
        aws.AddInstance(InstanceId(1), "1", Ip(1));
        var input = JsonPatch.Set(Serialise(aws.Observe(Ec2())), field, value);

        var thrown = Assert.Throws(exception, () => ReadAll(Lambda.Plan(Stream(input))));

        Assert.StartsWith(message, thrown.Message);
    }

    [Theory]
    [InlineData("vpcEndpoints", Absent, "vpcEndpoints: missing")]
    [InlineData("vpcEndpoints.vpcEndpoints", "[]", "vpcEndpoints.VpcEndpoints: no entry for VPC endpoint vpce-0123456789abcdef0")]
    [InlineData("networkInterfaces", Absent, "networkInterfaces: missing")]
    [InlineData("networkInterfaces.networkInterfaces[0].privateIpAddress", "\"x\"", "networkInterfaces.NetworkInterfaces[0].PrivateIpAddress: 'x' is not an IPv4 address")]
    public void Bad_endpoint_observation_is_a_named_error(string field, string value, string message)
    {
        var aws = new FakeAws();
        aws.EndpointInterfaces[Eni(1)] = "10.0.1.50";
        var input = JsonPatch.Set(Serialise(aws.Observe(Serverless())), field, value);

        Assert.StartsWith(message, Assert.Throws<InvalidInputException>(() => ReadAll(Lambda.Plan(Stream(input)))).Message);
    }
}
