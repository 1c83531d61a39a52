using System.Text.Json;
using System.Text.Json.Nodes;
using BrokerLink.Functions;
using BrokerLink.Functions.Onboarding;
using BrokerLink.Functions.Planning;
using BrokerLink.Tests.Support;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests;

/// <summary>The Onboard function: which steps each operation takes, what it writes, and every bad input it refuses before a write.</summary>
public sealed class OnboardTests
{
    private const string OnboardArn = "arn:aws:states:us-east-1:123456789012:stateMachine:brokerlink-onboard";
    private const string Service = "vpce-svc-0123456789abcdef0";
    private const string PaymentsEndpoint = "vpce-0c1c2c3d4e5f60718-cccccccc.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com";
    private const string PaymentsRole = "arn:aws:iam::444455556666:role/brokerlink-dns";
    private const string PaymentsPrincipal = "arn:aws:iam::444455556666:root";
    private const string BillingPrincipal = "arn:aws:iam::210987654321:root";

    // ------------------------------------------------------------------ building inputs

    /// <summary>A DynamoDB Query item of the table, as the state machine passes it.</summary>
    internal static JsonNode Item(string configJson, long? version)
    {
        var config = JsonNode.Parse(configJson)!;
        var item = new JsonObject
        {
            ["sk"] = new JsonObject { ["S"] = config["linkId"]!.GetValue<string>() },
            ["kind"] = new JsonObject { ["S"] = config["kind"]!.GetValue<string>() },
        };
        if (config["clusterArn"] is { } cluster)
        {
            item["clusterArn"] = new JsonObject { ["S"] = cluster.GetValue<string>() };
        }
        item["config"] = new JsonObject { ["S"] = configJson };
        if (version is { } v)
        {
            item["version"] = new JsonObject { ["N"] = v.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        }
        return item;
    }

    internal static string Input(string request, IEnumerable<JsonNode> items, string stateMachineArn = OnboardArn, JsonNode? zones = null, bool truncated = false) =>
        new JsonObject
        {
            ["request"] = JsonNode.Parse(request),
            ["links"] = new JsonArray([.. items.Select(i => i.DeepClone())]),
            ["linksTruncated"] = truncated,
            ["stateMachineArn"] = stateMachineArn,
            ["zones"] = zones,
        }.ToJsonString();

    /// <summary>The sample link with its endpoint service: analytics (this account), billing (another, through a role, allowed).</summary>
    private static LinkConfigWire Orders(bool billing = true, bool provider = true) => Config(provider: provider, billing: billing) with
    {
        EndpointServiceId = Service,
        Consumers = [
            new ConsumerWire("analytics", AnalyticsZone, AnalyticsEndpoint, EndpointZone, null),
            .. billing ? new[] { new ConsumerWire("billing", BillingZone, BillingEndpoint, EndpointZone, BillingRole, BillingPrincipal) } : [],
        ],
    };

    private static string Text(LinkConfigWire config) => WriteString(config, Context.LinkConfigWire);

    private static JsonNode Stored(LinkConfigWire config, long? version = 3) => Item(Text(config), version);

    private static readonly JsonNode[] Table = [Stored(Orders())];

    private static string Link(LinkConfigWire config) => WriteString(config, Context.LinkConfigWire);

    private static string Request(string operation, string fields, bool dryRun = false) =>
        $$"""{"operation": "{{operation}}", {{fields}}{{(dryRun ? ", \"dryRun\": true" : "")}}}""";

    private static string Payments(string extra = "") => $$"""
        {"name": "payments", "principal": "444455556666", "endpointDnsName": "{{PaymentsEndpoint}}", "endpointHostedZoneId": "{{EndpointZone}}",
         "hostedZoneId": "Z0PAYMENTS", "roleArn": "{{PaymentsRole}}"{{extra}}}
        """;

    private static OnboardDecision Decide(string request, IEnumerable<JsonNode>? table = null, JsonNode? zones = null, JsonNode? plan = null)
    {
        var input = JsonNode.Parse(Input(request, table ?? Table, zones: zones))!;
        input["plan"] = plan?.DeepClone();
        return Onboarder.Decide(Read(Stream(input.ToJsonString()), Context.OnboardInput));
    }

    /// <summary>The steps a decision takes, in the order the state machine runs them, e.g. "allow store reconcile".</summary>
    private static string Steps(OnboardDecision d) => string.Join(" ", new (string Name, bool Taken)[]
    {
        ("plan-first", d.Preflight is not null && !d.DryRun),
        ("allow", d.Allow is not null), ("accept", d.Accept is not null), ("create-zone", d.CreateZone is { HostedZoneId: null }),
        ("associate", d.Associate is not null), ("store", d.Store is not null),
        (d.Reconcile is { DryRun: true } ? "plan" : "reconcile", d.Reconcile is not null), ("revoke", d.Revoke is not null),
        (d.Finish?.Kind == "delete" ? "delete" : "forget", d.Finish is not null),
    }.Where(s => s.Taken).Select(s => s.Name));

    // ------------------------------------------------------------------ the steps of each operation

    private static readonly LinkConfigWire Fresh = Orders() with { LinkId = "fresh", Consumers = [] };
    private static readonly LinkConfigWire Retired = Orders() with { Retired = true };
    private static readonly LinkConfigWire BillingRetiring = Orders(billing: false) with
    {
        RetiringZones = [new RetiringZoneWire(BillingZone, BillingRole, "billing", BillingPrincipal)],
    };

    public static TheoryData<string, string, JsonNode[], string> Operations => new()
    {
        { "register a new link", Request("register-link", $"\"link\": {Link(Fresh)}"), Table, "plan-first store reconcile" },
        { "register a new link without a bootstrap port", Request("register-link", $"\"link\": {Link(Fresh with { BootstrapPort = null })}"), Table, "store reconcile" },
        { "register a new link with an allowed consumer", Request("register-link", $"\"link\": {Link(Orders() with { LinkId = "fresh" })}"), Table, "plan-first allow store reconcile" },
        { "register again, same config", Request("register-link", $"\"link\": {Link(Orders())}"), Table, "allow reconcile" },
        { "dry run of a registration", Request("register-link", $"\"link\": {Link(Fresh)}", dryRun: true), Table, "store plan" },
        { "update the ports", Request("update-link", $"\"link\": {Link(Orders() with { Consumers = null, ListenerBasePort = 9100 })}"), Table, "plan-first store reconcile" },
        { "update dropping the bootstrap port", Request("update-link", $"\"link\": {Link(Orders() with { Consumers = null, BootstrapPort = null })}"), Table, "store reconcile" },
        { "update to the same config", Request("update-link", $"\"link\": {Link(Orders() with { Consumers = null })}"), Table, "reconcile" },
        { "update dropping the provider zone", Request("update-link", $"\"link\": {Link(Orders(provider: false) with { Consumers = null })}"), Table, "plan-first store reconcile forget" },
        { "allow a consumer before its endpoint exists", Request("add-consumer", """ "linkId": "orders", "consumer": {"name": "payments", "principal": "444455556666"} """), Table, "allow" },
        { "add a consumer with its zone", Request("add-consumer", $"\"linkId\": \"orders\", \"consumer\": {Payments()}"), Table, "allow store reconcile" },
        { "add a consumer, accepting its connection", Request("add-consumer", $"\"linkId\": \"orders\", \"consumer\": {Payments(", \"acceptConnection\": true")}"), Table, "allow accept store reconcile" },
        { "add a consumer, creating its zone", Request("add-consumer", $"\"linkId\": \"orders\", \"consumer\": {Payments().Replace("\"hostedZoneId\": \"Z0PAYMENTS\"", "\"createZone\": {\"vpcId\": \"vpc-0c1c2c3d4e5f60718\"}")}"), Table, "allow create-zone" },
        { "dry run of a consumer with a zone to create", Request("add-consumer", $"\"linkId\": \"orders\", \"consumer\": {Payments().Replace("\"hostedZoneId\": \"Z0PAYMENTS\"", "\"createZone\": {\"vpcId\": \"vpc-0c1c2c3d4e5f60718\"}")}", dryRun: true), Table, "allow create-zone" },
        { "add the same consumer again", Request("add-consumer", $$"""
            "linkId": "orders", "consumer": {"name": "billing", "principal": "{{BillingPrincipal}}", "endpointDnsName": "{{BillingEndpoint}}",
            "endpointHostedZoneId": "{{EndpointZone}}", "hostedZoneId": "{{BillingZone}}", "roleArn": "{{BillingRole}}"}
            """), Table, "allow reconcile" },
        { "remove a consumer", Request("remove-consumer", """ "linkId": "orders", "consumerName": "billing" """), Table, "store reconcile revoke forget" },
        { "remove a consumer whose principal another link uses", Request("remove-consumer", """ "linkId": "orders", "consumerName": "billing" """),
            [.. Table, Stored(Orders() with { LinkId = "invoices" })], "store reconcile forget" },
        { "finish removing a consumer", Request("remove-consumer", """ "linkId": "orders", "consumerName": "billing" """), [Stored(BillingRetiring)], "reconcile revoke forget" },
        { "dry run of a consumer's removal", Request("remove-consumer", """ "linkId": "orders", "consumerName": "billing" """, dryRun: true), Table, "store plan revoke forget" },
        { "remove a link", Request("remove-link", """ "linkId": "orders" """), Table, "store reconcile revoke delete" },
        { "finish removing a link", Request("remove-link", """ "linkId": "orders" """), [Stored(Retired)], "reconcile revoke delete" },
        { "remove a link sharing its consumers' principals", Request("remove-link", """ "linkId": "orders" """),
            [.. Table, Stored(Orders() with { LinkId = "invoices" })], "store reconcile delete" },
    };

    [Theory]
    [MemberData(nameof(Operations))]
    public void Every_operation_decides_its_steps(string what, string request, JsonNode[] table, string steps)
    {
        var decision = Decide(request, table);

        Assert.True(steps == Steps(decision), $"{what}: {Steps(decision)}");
    }

    // ------------------------------------------------------------------ a bootstrap port the current brokers use

    /// <summary>The dry-run plan's findings as the state machine passes them (only the findings are read).</summary>
    private static JsonObject PlanFinding(params (string Code, string Subject)[] findings) => new()
    {
        ["linkId"] = "fresh", ["pass"] = "apply", ["hasChanges"] = true,
        ["findings"] = new JsonArray([.. findings.Select(f => (JsonNode)new JsonObject { ["code"] = f.Code, ["subject"] = f.Subject, ["message"] = "..." })]),
    };

    private static readonly LinkConfigWire OnBroker2 = Fresh with { BootstrapPort = 9002 };

    public static TheoryData<string, string, JsonObject, string?> PlannedFirst => new()
    {
        // what                                                     request                                                                                     the dry run's plan                                                  refused with
        { "register-link whose bootstrap port is broker 2's",       Register(OnBroker2),                                                                        PlanFinding(("BootstrapPortConflict", "broker-2")),                 "link.bootstrapPort: 9002 is also broker 2's listener port (9000 + 2): choose a bootstrapPort" },
        { "its dry run is refused the same way",                    Request("register-link", $"\"link\": {Link(OnBroker2)}", dryRun: true),                     PlanFinding(("BootstrapPortConflict", "broker-2")),                 "link.bootstrapPort: 9002 is also broker 2's listener port (9000 + 2)" },
        { "update-link moving the brokers' ports onto the bootstrap", Request("update-link", $"\"link\": {Link(Orders() with { Consumers = null, ListenerBasePort = 8998 })}"),
                                                                                                                                                                PlanFinding(("BootstrapPortConflict", "broker-1")),                 "link.bootstrapPort: 8999 is also broker 1's listener port (8998 + 1)" },
        { "a bootstrap port no broker uses",                        Register(Fresh),                                                                            PlanFinding(("RecordConflict", "b-1.orders"), ("PortOutOfRange", "broker-70000")), null },
        { "another operation is never refused for it",              Request("remove-link", """ "linkId": "orders" """, dryRun: true),                           PlanFinding(("BootstrapPortConflict", "broker-2")),                 null },
    };

    [Theory]
    [MemberData(nameof(PlannedFirst))]
    public void A_bootstrap_port_that_is_a_current_brokers_listener_port_is_refused_once_the_plan_knows_the_brokers(
        string what, string request, JsonObject plan, string? refused)
    {
        var first = Decide(request);
        Assert.True(first.Preflight is { DryRun: true, LinkConfig: not null }, $"{what}: plans first");

        var thrown = Record.Exception(() => Decide(request, plan: plan));

        if (refused is null)
        {
            Assert.True(thrown is null, $"{what}: {thrown?.Message}");
            var second = Decide(request, plan: plan);
            Assert.Null(second.Preflight);
            Assert.Equal(WriteString(first with { Preflight = null }, Context.OnboardDecision), WriteString(second, Context.OnboardDecision));
        }
        else
        {
            var invalid = Assert.IsType<InvalidInputException>(thrown);
            Assert.StartsWith(refused, invalid.Message);
        }
    }

    [Fact]
    public void The_dry_run_before_a_write_plans_exactly_the_config_the_write_stores()
    {
        var decision = Decide(Register(OnBroker2));

        Assert.Equal(new ReconcileRequest("reconcile", "fresh", true, false, decision.Store!.Item!["config"].S), decision.Preflight);
        Assert.Equal(new ReconcileRequest("reconcile", "fresh", false, false, null), decision.Reconcile);
    }

    // ------------------------------------------------------------------ what is written, whole

    [Fact]
    public void Register_link_stores_the_canonical_config_only_where_no_item_is()
    {
        var decision = Decide(Request("register-link", $"\"link\": {Link(Fresh)}"));

        var config = Text(Fresh with { Guards = null });
        JsonAssert.Equal($$"""
            {
              "kind": "put", "version": 1,
              "Key": {"pk": {"S": "LINK"}, "sk": {"S": "fresh"} },
              "Item": {"pk": {"S": "LINK"}, "sk": {"S": "fresh"}, "kind": {"S": "msk-single-nlb"}, "clusterArn": {"S": "{{ClusterArn}}"},
                       "config": {"S": {{JsonSerializer.Serialize(config)}} }, "version": {"N": "1"} },
              "ConditionExpression": "attribute_not_exists(#sk)",
              "ExpressionAttributeNames": {"#sk": "sk"},
              "ExpressionAttributeValues": null
            }
            """, JsonNode.Parse(WriteString(decision.Store!, Context.TableWrite)));
        Assert.Equal(new ReconcileRequest("reconcile", "fresh", false, false, null), decision.Reconcile);
    }

    [Fact]
    public void Writes_are_conditional_on_the_version_read_or_on_the_config_of_an_item_written_before_versions()
    {
        var request = Request("add-consumer", $"\"linkId\": \"orders\", \"consumer\": {Payments()}");

        var versioned = Decide(request, [Stored(Orders(), version: 7)]).Store!;
        var legacy = Decide(request, [Stored(Orders(), version: null)]).Store!;

        Assert.Equal((8L, "#version = :version", "7"), (versioned.Version, versioned.ConditionExpression, versioned.ExpressionAttributeValues![":version"].N));
        Assert.Equal((1L, "attribute_not_exists(#version) AND #config = :config", Text(Orders())),
            (legacy.Version, legacy.ConditionExpression, legacy.ExpressionAttributeValues![":config"].S));
    }

    [Fact]
    public void Remove_consumer_retires_its_zone_then_revokes_and_forgets_it_after_reconciling()
    {
        var decision = Decide(Request("remove-consumer", """ "linkId": "orders", "consumerName": "billing" """));

        var retiring = Orders(billing: false) with { RetiringZones = [new RetiringZoneWire(BillingZone, BillingRole, "billing", BillingPrincipal)] };
        Assert.Equal(Text(retiring), decision.Store!.Item!["config"].S);
        Assert.Equal(4L, decision.Store.Version);
        Assert.Equal(Text(Orders(billing: false)), decision.Finish!.Item!["config"].S);
        Assert.Equal((5L, "4"), (decision.Finish.Version, decision.Finish.ExpressionAttributeValues![":version"].N));
        JsonAssert.Equal(new PrincipalChange(Service, [BillingPrincipal]), decision.Revoke!, Context.PrincipalChange);
        Assert.Equal(new ReconcileRequest("reconcile", "orders", false, false, null), decision.Reconcile);
    }

    [Fact]
    public void Remove_link_marks_it_retired_and_deletes_the_item_after_reconciling()
    {
        var decision = Decide(Request("remove-link", """ "linkId": "orders" """));

        Assert.Equal(Text(Retired), decision.Store!.Item!["config"].S);
        Assert.Equal(("delete", "#version = :version", "4"), (decision.Finish!.Kind, decision.Finish.ConditionExpression, decision.Finish.ExpressionAttributeValues![":version"].N));
        Assert.Null(decision.Finish.Item);
        JsonAssert.Equal(new PrincipalChange(Service, [BillingPrincipal]), decision.Revoke!, Context.PrincipalChange);
    }

    [Fact]
    public void A_dry_run_plans_against_the_config_it_would_store()
    {
        var decision = Decide(Request("remove-link", """ "linkId": "orders" """, dryRun: true));

        Assert.Equal(new ReconcileRequest("reconcile", "orders", true, false, Text(Retired)), decision.Reconcile);
        Assert.True(decision.DryRun);
    }

    [Fact]
    public void Update_link_retires_a_dropped_provider_zone_and_keeps_the_consumers()
    {
        var decision = Decide(Request("update-link", $"\"link\": {Link(Orders(provider: false) with { Consumers = null })}, \"allowRemovals\": true"));

        Assert.Equal(Text(Orders(provider: false) with { RetiringZones = [new RetiringZoneWire(ProviderZone)] }), decision.Store!.Item!["config"].S);
        Assert.Equal(Text(Orders(provider: false)), decision.Finish!.Item!["config"].S);
        Assert.Equal(new ReconcileRequest("reconcile", "orders", false, true, null), decision.Reconcile);
    }

    [Fact]
    public void Add_consumer_creates_its_zone_then_stores_it_with_the_zone_it_created_and_associates_a_vpc_of_another_account()
    {
        const string dnsRole = "arn:aws:iam::333344445555:role/brokerlink-dns";
        var consumer = $$"""
            {"name": "payments", "principal": "444455556666", "endpointDnsName": "{{PaymentsEndpoint}}", "endpointHostedZoneId": "{{EndpointZone}}",
             "roleArn": "{{dnsRole}}",
             "createZone": {"vpcId": "vpc-0d1d2d3d4e5f60718", "associateVpc": {"vpcId": "vpc-0c1c2c3d4e5f60718", "roleArn": "{{PaymentsRole}}"} } }
            """;
        var request = Request("add-consumer", $"\"linkId\": \"orders\", \"consumer\": {consumer}");
        var zones = JsonNode.Parse("""
            [{"Id": "/hostedzone/Z0OTHER", "Name": "kafka.us-east-1.amazonaws.com.", "CallerReference": "someone-else", "Config": {"PrivateZone": true}},
             {"Id": "/hostedzone/Z0PAYMENTSNEW", "Name": "kafka.us-east-1.amazonaws.com.", "CallerReference": "brokerlink-orders-payments", "Config": {"PrivateZone": true}}]
            """);

        var first = Decide(request);
        var second = Decide(request, zones: zones);

        Assert.Equal(new ZoneCreation("kafka.us-east-1.amazonaws.com", "brokerlink-orders-payments", new VpcRef("vpc-0d1d2d3d4e5f60718", "us-east-1"),
            "BrokerLink link orders, consumer payments", dnsRole, null), first.CreateZone);
        Assert.Null(first.Store);
        Assert.Null(first.Reconcile);
        Assert.Null(first.Associate);
        Assert.Equal("Z0PAYMENTSNEW", second.CreateZone!.HostedZoneId);
        Assert.Equal(new VpcAssociation("Z0PAYMENTSNEW", new VpcRef("vpc-0c1c2c3d4e5f60718", "us-east-1"), dnsRole, PaymentsRole), second.Associate);
        var stored = LinkConfigReader.Read(JsonDocument.Parse(JsonSerializer.Serialize(second.Store!.Item!["config"].S)).RootElement);
        Assert.Equal(new Consumer("payments", "Z0PAYMENTSNEW", PaymentsEndpoint, EndpointZone, dnsRole, PaymentsPrincipal), stored.Consumers[^1]);
        Assert.Equal(new ZoneRef("Z0PAYMENTSNEW", dnsRole), second.RecordsZone);
    }

    // ------------------------------------------------------------------ refused before any write

    private static string AddBilling(string replace, string with) => Request("add-consumer", $$"""
        "linkId": "orders", "consumer": {"name": "payments", "principal": "444455556666", "endpointDnsName": "{{PaymentsEndpoint}}",
        "endpointHostedZoneId": "{{EndpointZone}}", "hostedZoneId": "Z0PAYMENTS", "roleArn": "{{PaymentsRole}}"}
        """.Replace(replace, with));

    /// <summary>A table whose link's config is 100 characters short of what Reconcile carries.</summary>
    private static JsonNode[] NearlyFull()
    {
        var config = Orders(billing: false);
        var name = "analytics" + new string('x', LinkItems.MaxConfigLength - Text(config).Length - 100);
        return [Stored(config with { Consumers = [config.Consumers![0]! with { Name = name }] })];
    }

    private static string Register(LinkConfigWire link) => Request("register-link", $"\"link\": {Link(link)}");

    public static TheoryData<string, string, JsonNode[], Type, string> BadInputs => new()
    {
        { "bad account id", AddBilling("444455556666\"", "44445555666\""), Table, typeof(InvalidInputException), "consumer.principal: '44445555666' is not an AWS account id (12 digits)" },
        { "principal '*'", AddBilling("\"444455556666\"", "\"*\""), Table, typeof(InvalidInputException), "consumer.principal: '*' would allow every AWS account" },
        { "principal that is not IAM", AddBilling("\"444455556666\"", "\"arn:aws:s3:::bucket\""), Table, typeof(InvalidInputException), "consumer.principal: 'arn:aws:s3:::bucket' is not an IAM principal ARN" },
        { "bad zone id", AddBilling("Z0PAYMENTS", "/hostedzone/z0payments"), Table, typeof(InvalidInputException), "consumer.hostedZoneId: '/hostedzone/z0payments' is not a hosted zone id" },
        { "bad role ARN", AddBilling(PaymentsRole, "brokerlink-dns"), Table, typeof(InvalidInputException), "consumer.roleArn: 'brokerlink-dns' is not an IAM role ARN" },
        { "bad cluster ARN", Register(Fresh with { ClusterArn = "arn:aws:kafka:us-east-1:123456789012:orders" }), Table, typeof(InvalidInputException), "link.clusterArn: 'arn:aws:kafka:us-east-1:123456789012:orders' is not an MSK cluster ARN" },
        { "cluster in another region", Register(Fresh with { ClusterArn = ClusterArn.Replace("us-east-1", "eu-west-1"), LoadBalancerArn = LoadBalancerArn.Replace("us-east-1", "eu-west-1") }), Table, typeof(InvalidInputException), "link.clusterArn: region eu-west-1 is not this deployment's region us-east-1" },
        { "load balancer in another region than the cluster", Register(Fresh with { LoadBalancerArn = LoadBalancerArn.Replace("us-east-1", "eu-west-1") }), Table, typeof(InvalidInputException), "link.loadBalancerArn: region eu-west-1 is not this deployment's region us-east-1" },
        { "cluster in another region than the deployment's load balancer", Register(Fresh with { ClusterArn = ClusterArn.Replace("us-east-1", "eu-west-1") }), Table, typeof(InvalidInputException), "link.clusterArn: region eu-west-1 is not this deployment's region us-east-1" },
        { "cluster in another account", Register(Fresh with { ClusterArn = ClusterArn.Replace("123456789012", "999999999999"), LoadBalancerArn = LoadBalancerArn.Replace("123456789012", "999999999999") }), Table, typeof(InvalidInputException), "link.clusterArn: account 999999999999 is not this deployment's account 123456789012" },
        { "endpoint in another region than the consumer's", AddBilling(".us-east-1.vpce.amazonaws.com\"", ".eu-west-1.vpce.amazonaws.com\", \"region\": \"us-west-2\""), Table, typeof(InvalidInputException), "consumer.endpointDnsName: the endpoint is in region eu-west-1, not the consumer's region us-west-2 (consumer.region)" },
        { "endpoint of another service", AddBilling("vpce-svc-0123456789abcdef0", "vpce-svc-0fedcba9876543210"), Table, typeof(InvalidInputException), "consumer.endpointDnsName: '" + PaymentsEndpoint.Replace("vpce-svc-0123456789abcdef0", "vpce-svc-0fedcba9876543210") + "' is an endpoint of vpce-svc-0fedcba9876543210, not of the link's endpoint service vpce-svc-0123456789abcdef0" },
        { "endpoint name that is not an endpoint's", AddBilling(PaymentsEndpoint, "kafka.example.com"), Table, typeof(InvalidInputException), "consumer.endpointDnsName: 'kafka.example.com' is not an interface endpoint's DNS name" },
        { "endpoint id of another endpoint", AddBilling("\"roleArn\"", "\"vpcEndpointId\": \"vpce-0aaaaaaaaaaaaaaaa\", \"roleArn\""), Table, typeof(InvalidInputException), "consumer.vpcEndpointId: 'vpce-0aaaaaaaaaaaaaaaa' is not the endpoint consumer.endpointDnsName names (vpce-0c1c2c3d4e5f60718)" },
        { "unknown link", Request("remove-link", """ "linkId": "payments" """), Table, typeof(UnknownLinkException), "linkId: no link 'payments' in the table (links: orders)" },
        { "unknown link to add a consumer to", AddBilling("\"orders\"", "\"invoices\""), Table, typeof(UnknownLinkException), "linkId: no link 'invoices' in the table (links: orders)" },
        { "duplicate consumer", AddBilling("\"payments\"", "\"billing\""), Table, typeof(InvalidInputException), "consumer.name: 'billing' is already a consumer of link 'orders'" },
        { "zone of another consumer", AddBilling("Z0PAYMENTS", AnalyticsZone), Table, typeof(InvalidInputException), "consumer.hostedZoneId: zone Z0ANALYTICS is already the zone of consumer 'analytics' of link 'orders'" },
        { "the provider zone as a consumer's", AddBilling("Z0PAYMENTS", ProviderZone), Table, typeof(InvalidInputException), "consumer.hostedZoneId: zone Z0PROVIDER is the provider zone of link 'orders'" },
        { "both a zone and one to create", AddBilling("\"hostedZoneId\"", "\"createZone\": {\"vpcId\": \"vpc-0c1c2c3d4e5f60718\"}, \"hostedZoneId\""), Table, typeof(InvalidInputException), "consumer.createZone: give consumer.hostedZoneId (an existing zone) or consumer.createZone (a zone to create), not both" },
        { "a zone to create without a role", AddBilling($", \"roleArn\": \"{PaymentsRole}\"", "").Replace("\"hostedZoneId\": \"Z0PAYMENTS\"", "\"createZone\": {\"vpcId\": \"vpc-0c1c2c3d4e5f60718\"}"), Table, typeof(InvalidInputException), "consumer.roleArn: missing: a zone is created in the consumer's account" },
        { "a bad VPC id", AddBilling("\"hostedZoneId\": \"Z0PAYMENTS\"", "\"createZone\": {\"vpcId\": \"vpc-12\"}"), Table, typeof(InvalidInputException), "consumer.createZone.vpcId: 'vpc-12' is not a VPC id" },
        { "an association in the zone's own account", AddBilling("\"hostedZoneId\": \"Z0PAYMENTS\"", $"\"createZone\": {{\"vpcId\": \"vpc-0c1c2c3d4e5f60718\", \"associateVpc\": {{\"vpcId\": \"vpc-0d1d2d3d4e5f60718\", \"roleArn\": \"{PaymentsRole}\"}}}}"), Table, typeof(InvalidInputException), "consumer.createZone.associateVpc.roleArn: account 444455556666 owns the zone too" },
        { "a consumer without zone", AddBilling(", \"hostedZoneId\": \"Z0PAYMENTS\"", ""), Table, typeof(InvalidInputException), "consumer.hostedZoneId: missing" },
        { "a consumer on a link without endpoint service", AddBilling("x", "x"), [Stored(Orders(billing: false) with { EndpointServiceId = null })], typeof(InvalidInputException), "linkId: link 'orders' has no endpointServiceId" },
        { "unknown consumer to remove", Request("remove-consumer", """ "linkId": "orders", "consumerName": "payments" """), Table, typeof(InvalidInputException), "consumerName: link 'orders' has no consumer 'payments' (consumers: analytics, billing)" },
        { "registering a link id already taken", Register(Orders() with { ListenerBasePort = 9100 }), Table, typeof(InvalidInputException), "link.linkId: link 'orders' is already registered with another config: change it with update-link" },
        { "a config longer than Reconcile carries", Register(Fresh with { Consumers = [new ConsumerWire(new string('x', LinkItems.MaxConfigLength), AnalyticsZone, AnalyticsEndpoint, EndpointZone, null)] }), Table, typeof(InvalidInputException), "link: 33" },
        { "a consumer that makes the config longer than Reconcile carries", AddBilling("x", "x"), NearlyFull(), typeof(InvalidInputException), "consumer: 32" },
        { "registering a retirement", Register(Fresh with { Retired = true }), Table, typeof(InvalidInputException), "link.retired: set by onboarding only (remove-link)" },
        { "updating the consumers", Request("update-link", $"\"link\": {Link(Orders())}"), Table, typeof(InvalidInputException), "link.consumers: consumers change with add-consumer and remove-consumer" },
        { "moving to another load balancer", Request("update-link", $"\"link\": {Link(Orders() with { Consumers = null, LoadBalancerArn = LoadBalancerArn.Replace("50dc6c495c0c9188", "60dc6c495c0c9188") })}"), Table, typeof(InvalidInputException), "link.loadBalancerArn: the link is on " },
        { "changing the endpoint service under allowed consumers", Request("update-link", $"\"link\": {Link(Orders() with { Consumers = null, EndpointServiceId = "vpce-svc-0fedcba9876543210" })}"), Table, typeof(InvalidInputException), "link.endpointServiceId: consumers are allowed on vpce-svc-0123456789abcdef0" },
        { "a consumer for a link being removed", AddBilling("x", "x"), [Stored(Retired)], typeof(InvalidInputException), "linkId: link 'orders' is being removed: finish with remove-link" },
        { "unknown operation", Request("delete-link", """ "linkId": "orders" """), Table, typeof(InvalidInputException), "operation: 'delete-link' is not an onboarding operation (register-link, update-link, remove-link, add-consumer, remove-consumer)" },
        { "no operation", """{"linkId": "orders"}""", Table, typeof(InvalidInputException), "operation: missing" },
        { "dry run of the wrong type", Request("remove-link", """ "linkId": "orders", "dryRun": "yes" """), Table, typeof(InvalidInputException), "request.dryRun: expected true or false, got a string" },
        { "a stored config that does not read", Request("remove-link", """ "linkId": "orders" """), [Item("""{"linkId": "orders", "kind": "msk-single-nlb", "clusterArn": "x"}""", 1)], typeof(InvalidInputException), "links[0].config.S.clusterArn: 'x' is not an MSK cluster ARN" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_refused_with_an_error_naming_the_field(string what, string request, JsonNode[] table, Type exception, string message)
    {
        var thrown = Assert.ThrowsAny<Exception>(() => ReadAll(Lambda.Onboard(Stream(Input(request, table)))));

        Assert.True(exception == thrown.GetType() && thrown.Message.StartsWith(message, StringComparison.Ordinal), $"{what}: {thrown.GetType().Name}: {thrown.Message}");
    }

    [Fact]
    public void A_truncated_table_is_refused()
    {
        var thrown = Assert.Throws<InvalidInputException>(() => ReadAll(Lambda.Onboard(Stream(Input(Request("remove-link", """ "linkId": "orders" """), Table, truncated: true)))));

        Assert.StartsWith("linksTruncated: true", thrown.Message);
    }
}
