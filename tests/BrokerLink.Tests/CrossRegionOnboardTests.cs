using System.Text.Json.Nodes;
using BrokerLink.Functions;
using BrokerLink.Functions.Onboarding;
using BrokerLink.Functions.Planning;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests;

/// <summary>
/// Consumers in another region than the stack's (cross-Region PrivateLink): the endpoint service's supported regions are
/// read first, a missing region is added before anything else is written, and the last consumer of a region takes it off
/// again unless it is pinned or another link on the service still uses it.
/// </summary>
public sealed class CrossRegionOnboardTests
{
    private const string OnboardArn = "arn:aws:states:us-east-1:123456789012:stateMachine:brokerlink-onboard";
    private const string Service = "vpce-svc-0123456789abcdef0";
    private const string West = "us-west-2";
    private const string WestEndpoint = "vpce-0d1d2d3d4e5f60718-dddddddd.vpce-svc-0123456789abcdef0.us-west-2.vpce.amazonaws.com";
    private const string WestEndpointZone = "Z1HUB22UULQXV";
    private const string WestRole = "arn:aws:iam::210987654321:role/brokerlink-dns";
    private const string WestPrincipal = "arn:aws:iam::210987654321:root";
    private const string BrokerService1 = "vpce-svc-0111111111111111a";
    private const string BrokerService2 = "vpce-svc-0222222222222222b";

    // ------------------------------------------------------------------ the table and the observations

    private static ConsumerWire WestConsumer(string name = "west", string zone = "Z0WEST") =>
        new(name, zone, WestEndpoint, WestEndpointZone, WestRole, WestPrincipal, null, West);

    private static LinkConfigWire Orders(params ConsumerWire[] more) => Config(bootstrap: false) with
    {
        EndpointServiceId = Service,
        Consumers = [new ConsumerWire("analytics", AnalyticsZone, AnalyticsEndpoint, EndpointZone, null), .. more],
    };

    private static LinkConfigWire PerBroker(params ConsumerWire[] consumers) => new(
        LinkId: "payments", Kind: "msk-nlb-per-broker", ClusterArn: ClusterArn, TargetPort: 9094,
        Brokers: [new BrokerTargetGroupWire(1, "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-b1/0123456789abcdef")],
        Consumers: consumers);

    private static JsonNode Item(LinkConfigWire config) => OnboardTests.Item(WriteString(config, Context.LinkConfigWire), 3);

    /// <summary>DescribeVpcEndpointServiceConfigurations' services as the state machine hands them on: id -> its supported regions.</summary>
    private static JsonObject Services(params (string Service, string[] Regions)[] services) => new()
    {
        ["configurations"] = new JsonArray([.. services.Select(s => (JsonNode)new JsonObject
        {
            ["ServiceId"] = s.Service,
            ["SupportedRegions"] = new JsonArray([.. s.Regions.Select(r => (JsonNode)new JsonObject
            {
                ["Region"] = r.Split(':')[0],
                ["ServiceState"] = r.Contains(':') ? r.Split(':')[1] : "Available",
            })]),
        })]),
    };

    private static JsonObject Supporting(params string[] regions) => Services((Service, regions));

    /// <summary>The table's items of these links.</summary>
    private static JsonNode[] T(params LinkConfigWire[] links) => [.. links.Select(Item)];

    private static OnboardDecision Decide(string request, JsonNode[] table, JsonObject? services)
    {
        var input = JsonNode.Parse(OnboardTests.Input(request, table, OnboardArn))!;
        input["services"] = services;
        return Onboarder.Decide(Read(Stream(input.ToJsonString()), Context.OnboardInput));
    }

    private static string AddWest(string extra = "", string endpoint = WestEndpoint, string link = "orders") => $$"""
        {"operation": "add-consumer", "linkId": "{{link}}", "consumer": {"name": "west", "principal": "210987654321",
         "endpointDnsName": "{{endpoint}}", "endpointHostedZoneId": "{{WestEndpointZone}}", "hostedZoneId": "Z0WEST",
         "roleArn": "{{WestRole}}"{{extra}} } }
        """;

    private static string Remove(string name, string link = "orders") =>
        $$"""{"operation": "remove-consumer", "linkId": "{{link}}", "consumerName": "{{name}}"}""";

    /// <summary>What the decision asks of the supported regions: "check &lt;services&gt;", "add &lt;regions&gt;", "drop &lt;regions&gt;", or "-".</summary>
    private static string RegionSteps(OnboardDecision d)
    {
        var steps = new List<string>();
        if (d.RegionsCheck is { } check)
        {
            steps.Add($"check {string.Join(",", check)}");
        }
        if (d.AddRegions is { } add)
        {
            steps.Add($"add {string.Join(",", add.Regions)} on {add.ServiceId}");
        }
        if (d.DropRegions is { } drop)
        {
            steps.Add($"drop {string.Join(",", drop.Regions)} on {drop.ServiceId}");
        }
        return steps.Count == 0 ? "-" : string.Join("; ", steps);
    }

    // ------------------------------------------------------------------ the decisions

    private static readonly LinkConfigWire WithWest = Orders(WestConsumer());

    public static TheoryData<string, string, JsonNode[], JsonObject?, string> Decisions => new()
    {
        // add-consumer
        { "a consumer in another region: the service is read first", AddWest(), T(Orders()), null, $"check {Service}" },
        { "its region is added when the service lacks it", AddWest(), T(Orders()), Supporting("us-east-1"), $"add us-west-2 on {Service}" },
        { "named by the operator too", AddWest(", \"region\": \"us-west-2\""), T(Orders()), Supporting("us-east-1"), $"add us-west-2 on {Service}" },
        { "nothing to add when the service has it (a re-run)", AddWest(), T(Orders()), Supporting("us-east-1", "us-west-2"), "-" },
        { "a region being added (Pending) is not added again", AddWest(), T(Orders()), Supporting("us-east-1", "us-west-2:Pending"), "-" },
        { "the allow step adds the region before the consumer's endpoint exists",
            """{"operation": "add-consumer", "linkId": "orders", "consumer": {"name": "west", "principal": "210987654321", "region": "us-west-2"}}""",
            T(Orders()), Supporting("us-east-1"), $"add us-west-2 on {Service}" },
        { "a consumer in the stack's region reads nothing", AddWest(endpoint: BillingEndpoint), T(Orders()), null, "-" },
        // remove-consumer
        { "the last consumer of a region takes it off", Remove("west"), T(WithWest), Supporting("us-east-1", "us-west-2"), $"drop us-west-2 on {Service}" },
        { "read first", Remove("west"), T(WithWest), null, $"check {Service}" },
        { "not while another consumer of the link is there", Remove("west"), T(Orders(WestConsumer(), WestConsumer("west2", "Z0WEST2"))),
            Supporting("us-east-1", "us-west-2"), "-" },
        { "not while a consumer of another link on the service is there", Remove("west"),
            T(WithWest, Orders(WestConsumer("west2", "Z0WEST2")) with { LinkId = "inventory", ClusterArn = OtherClusterArn }),
            Supporting("us-east-1", "us-west-2"), "-" },
        { "not when it is pinned", Remove("west"), T(WithWest with { PinnedRegions = [West] }), Supporting("us-east-1", "us-west-2"), "-" },
        { "not when it is already gone", Remove("west"), T(WithWest), Supporting("us-east-1"), "-" },
        { "a re-run of a half-done removal still drops it", Remove("west"),
            T(Orders() with { RetiringZones = [new RetiringZoneWire("Z0WEST", WestRole, "west", WestPrincipal, West)] }),
            Supporting("us-east-1", "us-west-2"), $"drop us-west-2 on {Service}" },
        { "removing a consumer of the stack's region leaves the others' regions", Remove("analytics"), T(WithWest), null, "-" },
        // update-link and remove-link
        { "a pinned region is added", $$"""{"operation": "update-link", "link": {{WriteString(Orders() with { Consumers = null, PinnedRegions = ["eu-west-1"] }, Context.LinkConfigWire)}} }""",
            T(Orders()), Supporting("us-east-1"), $"add eu-west-1 on {Service}" },
        { "an unpinned region nobody uses is dropped", $$"""{"operation": "update-link", "link": {{WriteString(Orders() with { Consumers = null }, Context.LinkConfigWire)}} }""",
            T(Orders() with { PinnedRegions = ["eu-west-1"] }), Supporting("us-east-1", "eu-west-1"), $"drop eu-west-1 on {Service}" },
        { "removing a link drops its consumers' regions", """{"operation": "remove-link", "linkId": "orders"}""", T(WithWest),
            Supporting("us-east-1", "us-west-2"), $"drop us-west-2 on {Service}" },
        // msk-nlb-per-broker: the operator's services are only checked
        { "per broker: every broker's service is read", PerBrokerWest(), T(PerBroker()), null, $"check {BrokerService1},{BrokerService2}" },
        { "per broker: nothing to change when they all support it", PerBrokerWest(), T(PerBroker()),
            Services((BrokerService1, ["us-east-1", "us-west-2"]), (BrokerService2, ["us-east-1", "us-west-2"])), "-" },
    };

    private static string PerBrokerWest(string extra = "") => $$"""
        {"operation": "add-consumer", "linkId": "payments", "consumer": {"name": "west", "hostedZoneId": "Z0WEST", "roleArn": "{{WestRole}}",
         "brokerEndpoints": [
           {"brokerId": 1, "endpointDnsName": "vpce-0e1e2e3e4e5f60718-eeeeeeee.{{BrokerService1}}.us-west-2.vpce.amazonaws.com", "endpointHostedZoneId": "{{WestEndpointZone}}"},
           {"brokerId": 2, "endpointDnsName": "vpce-0f1f2f3f4f5f60718-ffffffff.{{BrokerService2}}.us-west-2.vpce.amazonaws.com", "endpointHostedZoneId": "{{WestEndpointZone}}"}]{{extra}} } }
        """;

    [Theory]
    [MemberData(nameof(Decisions))]
    public void Supported_regions_follow_the_consumers(string what, string request, JsonNode[] table, JsonObject? services, string expected)
    {
        var decision = Decide(request, table, services);

        Assert.True(expected == RegionSteps(decision), $"{what}: {RegionSteps(decision)}");
    }

    [Fact]
    public void A_consumer_in_another_region_is_stored_with_it_and_its_zone_keeps_the_clusters_names()
    {
        var request = AddWest(", \"acceptConnection\": true").Replace("\"hostedZoneId\": \"Z0WEST\"", "\"createZone\": {\"vpcId\": \"vpc-0a0a0a0a0a0a0a0a0\"}");

        var first = Decide(request, T(Orders()), Supporting("us-east-1"));
        var zones = JsonNode.Parse("""[{"Id": "/hostedzone/Z0WEST", "Name": "kafka.us-east-1.amazonaws.com.", "CallerReference": "brokerlink-orders-west", "Config": {"PrivateZone": true}}]""");
        var input = JsonNode.Parse(OnboardTests.Input(request, [Item(Orders())], OnboardArn, zones))!;
        input["services"] = Supporting("us-east-1");
        var second = Onboarder.Decide(Read(Stream(input.ToJsonString()), Context.OnboardInput));

        // The zone is named for the cluster's region (TLS unchanged), attached to the consumer's VPC in its own region.
        Assert.Equal(("kafka.us-east-1.amazonaws.com", West), (first.CreateZone!.Name, first.CreateZone.Vpc.VpcRegion));
        Assert.Equal(new ConnectionAcceptance(Service, "vpce-0d1d2d3d4e5f60718"), first.Accept);
        Assert.Equal($"add us-west-2 on {Service}", RegionSteps(first));
        var stored = JsonNode.Parse(second.Store!.Item!["config"].S!)!["consumers"]!.AsArray();
        Assert.Equal(West, stored[1]!["region"]!.GetValue<string>());
        Assert.Equal(WestEndpoint, stored[1]!["endpointDnsName"]!.GetValue<string>());
        // A consumer of the stack's own region is stored as before: no region.
        Assert.Null(stored[0]!["region"]);
    }

    [Fact]
    public void A_pinned_region_stays_on_the_link_after_its_consumer_goes()
    {
        var added = Decide(AddWest(", \"pinRegion\": true"), T(Orders()), Supporting("us-east-1"));
        var stored = Read(added.Store!.Item!["config"].S!, Context.LinkConfigWire, "config");

        Assert.Equal([West], stored.PinnedRegions!);
        var removed = Decide(Remove("west"), T(stored), Supporting("us-east-1", "us-west-2"));
        Assert.Equal("-", RegionSteps(removed));
        Assert.Equal([West], Read(removed.Finish!.Item!["config"].S!, Context.LinkConfigWire, "config").PinnedRegions!);
    }

    // ------------------------------------------------------------------ refusals: each before anything is written

    public static TheoryData<string, string, JsonNode[], JsonObject?, string> Refusals => new()
    {
        { "not a region", AddWest(", \"region\": \"mars-1\""), T(Orders()), null, "consumer.region: 'mars-1' is not an AWS region" },
        { "the endpoint is in another region than the one named", AddWest(", \"region\": \"eu-west-1\""), T(Orders()), null,
            "consumer.endpointDnsName: the endpoint is in region us-west-2, not the consumer's region eu-west-1 (consumer.region)" },
        { "a zone for a VPC of another region than the endpoint's",
            AddWest().Replace("\"hostedZoneId\": \"Z0WEST\"", "\"createZone\": {\"vpcId\": \"vpc-0a0a0a0a0a0a0a0a0\", \"vpcRegion\": \"us-east-1\"}"),
            T(Orders()), null, "consumer.createZone.vpcRegion: us-east-1 is not the region of the consumer's endpoint (us-west-2)" },
        { "a link without an endpoint service", AddWest().Replace("\"principal\": \"210987654321\",", ""),
            T(Orders() with { EndpointServiceId = null }), null, "linkId: link 'orders' has no endpointServiceId: a consumer in us-west-2" },
        { "a region the service is taking off", AddWest(), T(Orders()), Supporting("us-east-1", "us-west-2:Deleting"),
            $"consumer.region: endpoint service {Service} lists us-west-2 as Deleting" },
        { "pinning the stack's own region", AddWest(", \"pinRegion\": true", BillingEndpoint), T(Orders()), null,
            "consumer.pinRegion: the consumer is in the stack's own region us-east-1" },
        { "pinning in the allow step",
            """{"operation": "add-consumer", "linkId": "orders", "consumer": {"name": "west", "principal": "210987654321", "region": "us-west-2", "pinRegion": true}}""",
            T(Orders()), null, "consumer.pinRegion: a region is pinned with the consumer's endpoint and zone" },
        { "per broker: a broker service that does not support the region", PerBrokerWest(), T(PerBroker()),
            Services((BrokerService1, ["us-east-1", "us-west-2"]), (BrokerService2, ["us-east-1"])),
            $"consumer.region: the broker endpoint services {BrokerService2} do not support us-west-2" },
        { "per broker: endpoints in two regions", PerBrokerWest().Replace($"{BrokerService2}.us-west-2", $"{BrokerService2}.eu-west-1"), T(PerBroker()), null,
            "consumer.brokerEndpoints[1].endpointDnsName: the endpoint is in region eu-west-1, not the consumer's region us-west-2" },
        { "the observation lacks the link's service", AddWest(), T(Orders()), Services(("vpce-svc-0999999999999999f", ["us-east-1"])),
            $"services.configurations: DescribeVpcEndpointServiceConfigurations did not describe {Service}" },
        { "registering a consumer in another region without an endpoint service",
            $$"""{"operation": "register-link", "link": {{WriteString(WithWest with { LinkId = "fresh", EndpointServiceId = null }, Context.LinkConfigWire)}} }""",
            T(Orders()), null, "link.consumers[1].region: us-west-2: a consumer in another region connects through the link's endpoint service" },
        { "pinned regions without an endpoint service",
            $$"""{"operation": "update-link", "link": {{WriteString(Orders() with { Consumers = null, EndpointServiceId = null, PinnedRegions = ["eu-west-1"] }, Context.LinkConfigWire)}} }""",
            T(Orders() with { EndpointServiceId = null }), null, "link.pinnedRegions: a pinned region is kept on the link's endpoint service" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void A_bad_cross_region_input_is_refused_naming_the_field(string what, string request, JsonNode[] table, JsonObject? services, string message)
    {
        var refused = Assert.Throws<InvalidInputException>(() => Decide(request, table, services));

        Assert.True(refused.Message.StartsWith(message, StringComparison.Ordinal), $"{what}: {refused.Message}");
    }

    // ------------------------------------------------------------------ peered consumers

    private const string PeerVpc = "vpc-0e0e0e0e0e0e0e0e0";
    private const string PeerRole = "arn:aws:iam::444455556666:role/brokerlink-dns";

    private static string AddPeer(string extra = "", string peerOf = "west", string role = PeerRole) => $$"""
        {"operation": "add-consumer", "linkId": "orders", "consumer": {"name": "peered", "peerOf": "{{peerOf}}",
         "vpc": {"vpcId": "{{PeerVpc}}", "vpcRegion": "eu-west-1", "roleArn": "{{role}}"}{{extra}} } }
        """;

    private static readonly PeerWire Peered = new("peered", "west", PeerVpc, "eu-west-1", PeerRole);

    [Fact]
    public void A_peered_consumer_gets_the_other_consumers_zone_associated_with_its_vpc_and_nothing_else()
    {
        var decision = Decide(AddPeer(), T(WithWest), null);

        Assert.Equal(new VpcAssociation("Z0WEST", new VpcRef(PeerVpc, "eu-west-1"), WestRole, PeerRole), decision.Associate);
        Assert.Equal((null, null, null, null), (decision.Allow, decision.Accept, decision.CreateZone, decision.Reconcile));
        Assert.Equal("-", RegionSteps(decision));
        var stored = Read(decision.Store!.Item!["config"].S!, Context.LinkConfigWire, "config");
        Assert.Equal([Peered], stored.Peers!);
        Assert.Equal(2, stored.Consumers!.Count);
        // Running it again stores nothing; the state machine checks the association again.
        var again = Decide(AddPeer(), T(WithWest with { Peers = [Peered] }), null);
        Assert.Equal((null, decision.Associate), (again.Store, again.Associate));
    }

    [Fact]
    public void Removing_a_peered_consumer_disassociates_its_vpc_and_keeps_the_zone()
    {
        var decision = Decide(Remove("peered"), T(WithWest with { Peers = [Peered] }), null);

        Assert.Equal(new VpcAssociation("Z0WEST", new VpcRef(PeerVpc, "eu-west-1"), WestRole, PeerRole), decision.Disassociate);
        Assert.Equal((null, null, null, null), (decision.Store, decision.Reconcile, decision.Revoke, decision.DropRegions));
        var stored = JsonNode.Parse(decision.Finish!.Item!["config"].S!)!;
        Assert.Null(stored["peers"]);
        Assert.Equal(2, stored["consumers"]!.AsArray().Count);
    }

    public static TheoryData<string, string, JsonNode[], string> PeerRefusals => new()
    {
        { "a consumer that does not exist", AddPeer(peerOf: "east"), T(WithWest), "consumer.peerOf: link 'orders' has no consumer 'east' (consumers: analytics, west)" },
        { "a consumer whose zone is in this account", AddPeer(peerOf: "analytics"), T(WithWest), "consumer.peerOf: consumer 'analytics' has its zone Z0ANALYTICS in this account" },
        { "an endpoint of its own", AddPeer($", \"endpointDnsName\": \"{WestEndpoint}\""), T(WithWest), "consumer.endpointDnsName: not allowed with peerOf" },
        { "no VPC", AddPeer().Replace($"\"vpc\": {{\"vpcId\": \"{PeerVpc}\", \"vpcRegion\": \"eu-west-1\", \"roleArn\": \"{PeerRole}\"}}", "\"vpc\": null"), T(WithWest), "consumer.vpc: missing" },
        { "a VPC of the zone's own account", AddPeer(role: WestRole), T(WithWest), "consumer.vpc.roleArn: account 210987654321 owns the zone of 'west' too" },
        { "the name of a consumer with an endpoint", AddPeer().Replace("\"peered\"", "\"analytics\""), T(WithWest), "consumer.name: 'analytics' is already a consumer of link 'orders'" },
        { "another VPC under a peered consumer's name", AddPeer().Replace(PeerVpc, "vpc-0f0f0f0f0f0f0f0f0"), T(WithWest with { Peers = [Peered] }),
            "consumer.name: 'peered' is already a peered consumer of link 'orders'" },
        { "removing a consumer peers depend on", Remove("west"), T(WithWest with { Peers = [Peered] }),
            "consumerName: consumer 'west' has peered consumers (peered) whose VPCs reach its endpoint" },
        { "removing a link with peered consumers", """{"operation": "remove-link", "linkId": "orders"}""", T(WithWest with { Peers = [Peered] }),
            "linkId: link 'orders' has peered consumers (peered)" },
        { "registering a link with peers", $$"""{"operation": "register-link", "link": {{WriteString(WithWest with { LinkId = "fresh", Peers = [Peered] }, Context.LinkConfigWire)}} }""",
            T(WithWest), "link.peers: set by onboarding only" },
    };

    [Theory]
    [MemberData(nameof(PeerRefusals))]
    public void A_bad_peering_is_refused_naming_the_field(string what, string request, JsonNode[] table, string message)
    {
        var refused = Assert.Throws<InvalidInputException>(() => Decide(request, table, null));

        Assert.True(refused.Message.StartsWith(message, StringComparison.Ordinal), $"{what}: {refused.Message}");
    }
}
