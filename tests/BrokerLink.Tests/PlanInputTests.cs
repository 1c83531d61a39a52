using System.Text.Json.Nodes;
using BrokerLink.Functions;
using BrokerLink.Tests.Support;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests;

public sealed class PlanInputTests
{
    private const string Absent = JsonPatch.Absent;

    /// <summary>The Plan input for a two-broker world, with the link config as the table's JSON string.</summary>
    private static string Input(string? configJson = null)
    {
        var aws = FakeAws.WithBrokers(1, 2);
        aws.NodesPageSize = 10;
        var input = JsonNode.Parse(Serialise(aws.Observe(Config(billing: true))))!;
        input["linkConfig"] = configJson ?? WriteString(Config(billing: true), Context.LinkConfigWire);
        return input.ToJsonString();
    }

    private static TException Fails<TException>(string json) where TException : Exception =>
        Assert.Throws<TException>(() => ReadAll(Lambda.Plan(Stream(json))));

    [Theory]
    [InlineData("linkId",                          "\"Orders\"",                 "linkConfig.linkId: 'Orders' is not a link id")]
    [InlineData("linkId",                          "\"-orders\"",                "linkConfig.linkId: '-orders' is not a link id")]
    [InlineData("linkId",                          Absent,                       "linkConfig.linkId: missing")]
    [InlineData("kind",                            "\"msk-unknown\"",            "linkConfig.kind: 'msk-unknown' is not a known link kind (msk-single-nlb, msk-nlb-per-broker, msk-serverless, ec2-self-managed)")]
    [InlineData("kind",                            "\"msk-serverless\"",         "linkConfig.listenerBasePort: not allowed for kind 'msk-serverless'")]
    [InlineData("kind",                            "\"ec2-self-managed\"",       "linkConfig.clusterArn: not allowed for kind 'ec2-self-managed'")]
    [InlineData("kind",                            "\"msk-nlb-per-broker\"",     "linkConfig.loadBalancerArn: not allowed for kind 'msk-nlb-per-broker'")]
    [InlineData("loadBalancerArn",                 Absent,                       "linkConfig.loadBalancerArn: missing (required for kind 'msk-single-nlb')")]
    [InlineData("vpcEndpointId",                   "\"vpce-0123456789abcdef0\"", "linkConfig.vpcEndpointId: not allowed for kind 'msk-single-nlb'")]
    [InlineData("recordNames",                     "[\"a.example\"]",            "linkConfig.recordNames: not allowed for kind 'msk-single-nlb'")]
    [InlineData("consumers[0].brokerEndpoints",    "[]",                         "linkConfig.consumers[0].brokerEndpoints: not allowed for kind 'msk-single-nlb'")]
    [InlineData("clusterArn",                      "\"arn:aws:kafka:us-east-1:1234:cluster/orders/0b9f\"", "linkConfig.clusterArn: 'arn:aws:kafka:us-east-1:1234:cluster/orders/0b9f' is not an MSK cluster ARN")]
    [InlineData("clusterArn",                      "42",                         "linkConfig.clusterArn: expected a string, got a number")]
    [InlineData("loadBalancerArn",                 "\"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/orders/50dc6c495c0c9188\"", "linkConfig.loadBalancerArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/orders/50dc6c495c0c9188' is not a Network Load Balancer ARN")]
    [InlineData("loadBalancerArn",                 "\"arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/orders-nlb/50dc6c495c0c9188\"", "linkConfig.loadBalancerArn: region eu-west-1 is not the cluster's region us-east-1")]
    [InlineData("listenerBasePort",                "70000",                      "linkConfig.listenerBasePort: 70000 is not a port (1-65535)")]
    [InlineData("listenerBasePort",                "9000.5",                     "linkConfig.listenerBasePort: expected a whole number, got 9000.5")]
    [InlineData("listenerBasePort",                "\"9000\"",                   "linkConfig.listenerBasePort: expected a whole number, got a string")]
    [InlineData("targetPort",                      "0",                          "linkConfig.targetPort: 0 is not a port (1-65535)")]
    [InlineData("targetPort",                      Absent,                       "linkConfig.targetPort: missing (required for kind 'msk-single-nlb')")]
    [InlineData("bootstrapPort",                   "65536",                      "linkConfig.bootstrapPort: 65536 is not a port (1-65535)")]
    [InlineData("providerZone.hostedZoneId",       "\"/hostedzone/Z0PROVIDER\"", "linkConfig.providerZone.hostedZoneId: '/hostedzone/Z0PROVIDER' is not a hosted zone id")]
    [InlineData("consumers",                       "{}",                         "linkConfig.consumers: wrong type, expected an array")]
    [InlineData("consumers[0]",                    "null",                       "linkConfig.consumers[0]: null")]
    [InlineData("consumers[0].name",               "\"\"",                       "linkConfig.consumers[0].name: empty")]
    [InlineData("consumers[1].name",               "\"analytics\"",              "linkConfig.consumers[1].name: 'analytics' is used by another consumer")]
    [InlineData("consumers[0].hostedZoneId",       "\"z0analytics\"",            "linkConfig.consumers[0].hostedZoneId: 'z0analytics' is not a hosted zone id")]
    [InlineData("consumers[1].hostedZoneId",       "\"Z0PROVIDER\"",             "linkConfig.consumers[1].hostedZoneId: zone Z0PROVIDER is used by another consumer or the provider zone")]
    [InlineData("consumers[0].endpointDnsName",    "\"vpce_1.example.com\"",     "linkConfig.consumers[0].endpointDnsName: 'vpce_1.example.com' is not a DNS name")]
    [InlineData("consumers[0].endpointDnsName",    "\"a..b\"",                   "linkConfig.consumers[0].endpointDnsName: 'a..b' is not a DNS name")]
    [InlineData("consumers[0].endpointHostedZoneId", Absent,                     "linkConfig.consumers[0].endpointHostedZoneId: missing")]
    [InlineData("consumers[1].roleArn",            "\"arn:aws:iam::1234:role/x\"", "linkConfig.consumers[1].roleArn: 'arn:aws:iam::1234:role/x' is not an IAM role ARN")]
    [InlineData("guards",                          "0.5",                        "linkConfig.guards: wrong type, expected an object")]
    [InlineData("guards",                          "{\"maxRemovalShare\": 0}",    "linkConfig.guards.maxRemovalShare: 0 is not a share in (0, 1]")]
    [InlineData("guards",                          "{\"maxRemovalShare\": -0.5}", "linkConfig.guards.maxRemovalShare: -0.5 is not a share in (0, 1]")]
    [InlineData("guards",                          "{\"maxRemovalShare\": 1.01}", "linkConfig.guards.maxRemovalShare: 1.01 is not a share in (0, 1]")]
    [InlineData("guards",                          "{\"maxRemovalShare\": 50}",   "linkConfig.guards.maxRemovalShare: 50 is not a share in (0, 1]")]
    [InlineData("guards",                          "{\"maxRemovalShare\": \"0.5\"}", "linkConfig.guards.maxRemovalShare: expected a number, got a string")]
    [InlineData("guards",                          "{\"maxRemovalShare\": true}", "linkConfig.guards.maxRemovalShare: expected a number, got a boolean")]
    public void Bad_link_config_field_is_invalid_input_naming_the_field(string field, string value, string message)
    {
        var config = JsonPatch.Set(WriteString(Config(billing: true), Context.LinkConfigWire), field, value);

        Assert.StartsWith(message, Fails<InvalidInputException>(Input(config)).Message);
    }

    [Fact]
    public void Link_config_may_be_given_as_an_object()
    {
        var input = JsonNode.Parse(Input())!;
        input["linkConfig"] = JsonNode.Parse(input["linkConfig"]!.GetValue<string>());

        Assert.Equal("orders", Invoke(Lambda.Plan, input.ToJsonString())["linkId"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("linkConfig",                                           Absent,            "linkConfig: missing")]
    [InlineData("linkConfig",                                           "\"{\"",           "linkConfig: Expected depth to be zero")]
    [InlineData("pass",                                                 "\"dry\"",         "pass: 'dry' is not check, link, zone, instances, decide, apply or verify")]
    [InlineData("clusterState",                                         Absent,            "clusterState: missing")]
    [InlineData("nodes",                                                Absent,            "nodes: missing")]
    [InlineData("nodes.page",                                           "null",            "nodes.page: missing")]
    [InlineData("nodes.page.nodeInfoList[0].brokerNodeInfo.brokerId",   "1.5",             "nodes.page.NodeInfoList[0].BrokerNodeInfo.BrokerId: 1.5 is not a broker id")]
    [InlineData("nodes.page.nodeInfoList[0].brokerNodeInfo.brokerId",   "0",               "nodes.page.NodeInfoList[0].BrokerNodeInfo.BrokerId: 0 is not a broker id")]
    [InlineData("nodes.page.nodeInfoList[1].brokerNodeInfo.endpoints",  "[\"b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com\"]", "nodes.page.NodeInfoList[1].BrokerNodeInfo: brokers 1 and 2 share the name")]
    [InlineData("nodes.page.nodeInfoList[0].brokerNodeInfo.clientVpcIpAddress", "\"10.0.1\"", "nodes.page.NodeInfoList[0].BrokerNodeInfo.ClientVpcIpAddress: '10.0.1' is not an IPv4 address")]
    [InlineData("nodes.page.nodeInfoList[0].brokerNodeInfo.endpoints",  "[]",              "nodes.page.NodeInfoList[0].BrokerNodeInfo.Endpoints: empty")]
    [InlineData("nodes.page.nodeInfoList[0].brokerNodeInfo.endpoints",  "[\"b-2.bad_name\"]", "nodes.page.NodeInfoList[0].BrokerNodeInfo.Endpoints[0]: 'b-2.bad_name' is not a DNS name")]
    [InlineData("loadBalancer.loadBalancerArn",                         "\"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/other/1\"", "loadBalancer.LoadBalancerArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/other/1' is not the link's load balancer")]
    [InlineData("loadBalancer.vpcId",                                   Absent,            "loadBalancer.VpcId: missing")]
    [InlineData("listeners.listeners",                                  "[{\"port\": 9001}]", "listeners.Listeners[0].ListenerArn: missing")]
    [InlineData("targetGroups",                                         "[]",              "targetGroups: wrong type, expected an object")]
    [InlineData("tags",                                                 Absent,            "tags: missing")]
    [InlineData("zones[2]",                                             Absent,            "zones: no entry for hosted zone Z0PROVIDER")]
    [InlineData("zones[0].hostedZoneId",                                "\"Z0BILLING\"",   "zones[1].HostedZoneId: zone Z0BILLING appears twice")]
    [InlineData("zones[0].records.page.resourceRecordSets[0].type",     Absent,            "zones[0].Records.page.ResourceRecordSets[0].Type: missing")]
    [InlineData("allowRemovals",                                        "\"yes\"",         "allowRemovals: expected true or false, got a string")]
    [InlineData("allowRemovals",                                        "1",               "allowRemovals: expected true or false, got a number")]
    public void Bad_observation_is_invalid_input_naming_the_field(string field, string value, string message)
    {
        Assert.StartsWith(message, Fails<InvalidInputException>(JsonPatch.Set(Input(), field, value)).Message);
    }

    [Theory]
    [InlineData("nodes.page.nextToken",            "\"more\"", "nodes: its newest page has a NextToken")]
    [InlineData("zones[1].records.page.isTruncated", "true",   "zones[1].Records: its newest page has IsTruncated: true")]
    [InlineData("listeners.nextMarker",            "\"m\"",    "listeners: has a NextMarker")]
    [InlineData("targetGroups.nextMarker",         "\"m\"",    "targetGroups: has a NextMarker")]
    public void Partial_read_is_an_incomplete_observation(string field, string value, string message)
    {
        Assert.StartsWith(message, Fails<IncompleteObservationException>(JsonPatch.Set(Input(), field, value)).Message);
    }

    [Fact]
    public void Owned_target_group_without_its_target_health_is_an_incomplete_observation()
    {
        var aws = FakeAws.WithBrokers(1);
        aws.Converge(Config());
        var input = JsonPatch.Set(Serialise(aws.Observe(Config())), "targetHealth", "[]");

        Assert.Contains("no DescribeTargetHealth output for target group", Fails<IncompleteObservationException>(input).Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("\"plan\"")]
    [InlineData("{\"pass\": \"apply\"}")]
    public void Malformed_plan_input_is_invalid_input(string json)
    {
        Fails<InvalidInputException>(json);
    }

    [Fact]
    public void Step_Functions_casing_and_number_forms_are_read()
    {
        // As the aws-sdk integrations hand them over: DnsName, AttachedEniId, Ttl, BrokerId as a double, Port as 9094.0.
        var config = WriteString(Config(bootstrap: false, provider: false), Context.LinkConfigWire).Replace("\"", "\\\"");
        var json = $$"""
            {
              "pass": "verify",
              "linkConfig": "{{config}}",
              "clusterState": "ACTIVE",
              "loadBalancer": { "LoadBalancerArn": "{{LoadBalancerArn}}", "DnsName": "{{NlbDnsName}}", "CanonicalHostedZoneId": "{{NlbZone}}", "VpcId": "{{VpcId}}" },
              "nodes": { "page": { "NodeInfoList": [
                  { "NodeType": "BROKER", "BrokerNodeInfo": { "AttachedEniId": "eni-1", "BrokerId": 1.0, "ClientSubnet": "subnet-1",
                    "ClientVpcIpAddress": "10.0.2.11", "Endpoints": [ "B-1.Orders.abc123.c2.kafka.us-east-1.amazonaws.com" ] } } ] },
                "rest": null },
              "listeners": { "Listeners": [ { "ListenerArn": "arn:l1", "Port": 9001.0, "Protocol": "TCP",
                  "DefaultActions": [ { "Type": "forward", "ForwardConfig": { "TargetGroups": [ { "TargetGroupArn": "arn:tg1", "Weight": 1 } ] } } ] } ] },
              "targetGroups": { "TargetGroups": [ { "TargetGroupArn": "arn:tg1", "TargetGroupName": "bl-orders-1c168a-b1", "Port": 9094 } ] },
              "tags": [ { "TagDescriptions": [
                  { "ResourceArn": "arn:l1", "Tags": [ { "Key": "brokerlink:link", "Value": "orders" }, { "Key": "brokerlink:key", "Value": "broker-1" } ] },
                  { "ResourceArn": "arn:tg1", "Tags": [ { "Key": "brokerlink:key", "Value": "broker-1" }, { "Key": "brokerlink:link", "Value": "orders" } ] } ] } ],
              "targetHealth": [ { "TargetGroupArn": "arn:tg1", "TargetHealthDescriptions": [
                  { "Target": { "Id": "10.0.2.11", "Port": 9094.0, "AvailabilityZone": "us-east-1a" }, "HealthCheckPort": "9094", "TargetHealth": { "State": "unused" } } ] } ],
              "zones": [ { "HostedZoneId": "Z0ANALYTICS", "Records": { "page": { "ResourceRecordSets": [
                  { "Name": "b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com.", "Type": "A",
                    "AliasTarget": { "HostedZoneId": "{{EndpointZone}}", "DnsName": "{{AnalyticsEndpoint}}.", "EvaluateTargetHealth": false } },
                  { "Name": "b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com.", "Type": "TXT", "Ttl": 300,
                    "ResourceRecords": [ { "Value": "\"heritage=brokerlink,brokerlink/link=orders\"" } ] } ],
                "IsTruncated": false, "MaxItems": "300" }, "rest": null } } ]
            }
            """;

        var plan = Invoke(Lambda.Plan, json);

        Assert.False(plan["hasChanges"]!.GetValue<bool>(), plan.ToJsonString());
        Assert.Equal("b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com", plan["advertisedListeners"]![0]!["host"]!.GetValue<string>());
    }

    [Fact]
    public void Plan_output_writes_nulls_only_where_the_contract_shows_them()
    {
        var plan = Invoke(Lambda.Plan, Input());

        Assert.True(plan.AsObject().ContainsKey("blocked") && plan["blocked"] is null);
        var upsert = plan["changes"]!["upsertRecords"]![0]!.AsObject();
        Assert.True(upsert.ContainsKey("roleArn") && upsert["roleArn"] is null);
        var alias = plan["changes"]!["upsertRecords"]![0]!["changes"]![0]!["ResourceRecordSet"]!.AsObject();
        Assert.Equal(["Name", "Type", "AliasTarget"], alias.Select(p => p.Key));
        var txt = plan["changes"]!["upsertRecords"]![0]!["changes"]![1]!["ResourceRecordSet"]!.AsObject();
        Assert.Equal(["Name", "Type", "Ttl", "ResourceRecords"], txt.Select(p => p.Key));
        Assert.Equal(["linkId", "pass", "hasChanges", "blocked", "changes", "advertisedListeners", "findings", "summary", "serverProperties", "observe",
            "clusterArn", "clusterState", "loadBalancerArn", "names", "upsertZones", "deleteZones"],
            plan.AsObject().Select(p => p.Key));
        Assert.True(plan["observe"] is null && plan["serverProperties"]!.AsArray().Count == 0);
        Assert.Equal(["createTargetGroups", "createListeners", "registerTargets", "upsertRecords", "deregisterTargets", "deleteRecords", "deleteListeners", "deleteTargetGroups"],
            plan["changes"]!.AsObject().Select(p => p.Key));
    }
}
