using System.Text.Json.Nodes;
using BrokerLink.Functions;
using BrokerLink.Functions.Triaging;
using BrokerLink.Tests.Support;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests;

public sealed class TriageTests
{
    private const string ZetaCluster = "arn:aws:kafka:us-east-1:123456789012:cluster/zeta/7a7a7a7a-0000-1111-2222-333344445555-1";
    private const string UnlinkedCluster = "arn:aws:kafka:us-east-1:123456789012:cluster/payments/1f1f1f1f-0000-1111-2222-333344445555-3";

    /// <summary>The table, deliberately out of order.</summary>
    private static readonly (string? Id, string? Kind, string? Cluster)[] Table =
    [
        ("zeta", "msk-single-nlb", ZetaCluster),
        ("orders", "msk-single-nlb", ClusterArn),
        ("inventory", "msk-single-nlb", OtherClusterArn),
    ];

    /// <summary>Triage's input; <paramref name="actions"/>: the manual actions the calling state machine answers (absent: Apply's).</summary>
    internal static string Input(string? ev, (string? Id, string? Kind, string? Cluster)[]? links = null, bool truncated = false, string stateMachineArn = StateMachineArn,
        string[]? actions = null)
    {
        var input = new JsonObject
        {
            ["event"] = ev is null ? null : JsonNode.Parse(ev),
            ["links"] = new JsonArray([.. (links ?? Table).Select(l => (JsonNode)Item(l.Id, l.Kind, l.Cluster))]),
            ["linksTruncated"] = truncated,
            ["stateMachineArn"] = stateMachineArn,
        };
        if (actions is not null)
        {
            input["actions"] = new JsonArray([.. actions.Select(a => (JsonNode)JsonValue.Create(a))]);
        }
        return input.ToJsonString();
    }

    /// <summary>The Sweep's Triage input: it answers both manual actions.</summary>
    private static string SweepInput(string ev, (string? Id, string? Kind, string? Cluster)[]? links = null) =>
        Input(ev, links, actions: ["reconcile", "status"]);

    /// <summary>A link item; a link without a cluster (ec2-self-managed) has no clusterArn attribute. A null attribute is left out.</summary>
    private static JsonObject Item(string? id, string? kind, string? cluster)
    {
        var item = new JsonObject { ["pk"] = new JsonObject { ["S"] = "LINK" } };
        if (id is not null)
        {
            item["sk"] = new JsonObject { ["S"] = id };
        }
        if (kind is not null)
        {
            item["kind"] = new JsonObject { ["S"] = kind };
        }
        if (cluster is not null)
        {
            item["clusterArn"] = new JsonObject { ["S"] = cluster };
        }
        return item;
    }

    private static string CloudTrail(
        string call = "UpdateBrokerCount", string account = Account, string region = "us-east-1",
        string? request = ClusterArn, string? response = ClusterArn, string? errorCode = null) => new JsonObject
    {
        ["version"] = "0",
        ["detail-type"] = "AWS API Call via CloudTrail",
        ["source"] = "aws.kafka",
        ["account"] = account,
        ["region"] = region,
        ["resources"] = new JsonArray(),
        ["detail"] = new JsonObject
        {
            ["eventSource"] = "kafka.amazonaws.com",
            ["eventName"] = call,
            ["awsRegion"] = region,
            ["recipientAccountId"] = account,
            ["errorCode"] = errorCode,
            ["requestParameters"] = request is null ? null : new JsonObject { ["clusterArn"] = Uri.EscapeDataString(request), ["targetNumberOfBrokerNodes"] = 6 },
            ["responseElements"] = response is null ? null : new JsonObject { ["clusterArn"] = response, ["clusterOperationArn"] = "arn:aws:kafka:us-east-1:123456789012:cluster-operation/x" },
        },
    }.ToJsonString();

    private static string Selected(string trigger, string reason, params string[] ids) => Selected(trigger, reason, false, false, ids);

    private static string Selected(string trigger, string reason, bool dryRun, bool allowRemovals, params string[] ids) =>
        WriteString(new TriageOutput(trigger, dryRun, allowRemovals, [.. ids.Select(id => new TriagedLink(id, reason))], [], null), Context.TriageOutput);

    private static string Ignored(string trigger, string reason) => WriteString(new TriageOutput(trigger, false, false, [], [], reason), Context.TriageOutput);

    public static TheoryData<string, string, string> Events => new()
    {
        { "broker count change on a linked cluster", CloudTrail(),
            Selected("cloudtrail:UpdateBrokerCount", $"UpdateBrokerCount on {ClusterArn}", "orders") },
        { "only the URL-encoded request ARN", CloudTrail(call: "RebootBroker", response: null),
            Selected("cloudtrail:RebootBroker", $"RebootBroker on {ClusterArn}", "orders") },
        { "cluster creation names the cluster in the response only", CloudTrail(call: "CreateClusterV2", request: null),
            Selected("cloudtrail:CreateClusterV2", $"CreateClusterV2 on {ClusterArn}", "orders") },
        { "failed call", CloudTrail(errorCode: "BadRequestException", response: null),
            Ignored("cloudtrail:UpdateBrokerCount", "UpdateBrokerCount failed with BadRequestException: nothing changed") },
        { "another account", CloudTrail(account: "999999999999"),
            Ignored("cloudtrail:UpdateBrokerCount", "UpdateBrokerCount in account 999999999999, not this deployment's account 123456789012") },
        { "another region", CloudTrail(region: "eu-west-1"),
            Ignored("cloudtrail:UpdateBrokerCount", "UpdateBrokerCount in region eu-west-1, not this deployment's region us-east-1") },
        { "a cluster no link has", CloudTrail(request: UnlinkedCluster, response: UnlinkedCluster),
            Ignored("cloudtrail:UpdateBrokerCount", $"no link for cluster {UnlinkedCluster}") },
        { "a call that names no cluster", CloudTrail(call: "ListClustersV2", request: null, response: null),
            Ignored("cloudtrail:ListClustersV2", "ListClustersV2 names no cluster") },
        { "scheduled sweep", """{"source": "aws.events", "detail-type": "Scheduled Event", "account": "123456789012", "region": "us-east-1", "detail": {}}""",
            Selected("schedule", "scheduled sweep", "inventory", "orders", "zeta") },
        { "manual, one link", """{"action": "reconcile", "linkId": "orders"}""",
            Selected("manual", "manual reconcile", "orders") },
        { "manual, some links", """{"action": "reconcile", "linkIds": ["zeta", "orders", "zeta"]}""",
            Selected("manual", "manual reconcile", "orders", "zeta") },
        { "manual, all links", """{"action": "reconcile", "all": true}""",
            Selected("manual", "manual reconcile of all links", "inventory", "orders", "zeta") },
        { "manual dry run", """{"action": "reconcile", "linkId": "inventory", "dryRun": true}""",
            Selected("manual", "manual reconcile", dryRun: true, allowRemovals: false, "inventory") },
        { "manual override of the removal guard", """{"action": "reconcile", "linkId": "orders", "allowRemovals": true}""",
            Selected("manual", "manual reconcile", dryRun: false, allowRemovals: true, "orders") },
        { "manual override declined", """{"action": "reconcile", "linkId": "orders", "allowRemovals": false}""",
            Selected("manual", "manual reconcile", dryRun: false, allowRemovals: false, "orders") },
        { "manual override as null", """{"action": "reconcile", "linkId": "orders", "allowRemovals": null}""",
            Selected("manual", "manual reconcile", dryRun: false, allowRemovals: false, "orders") },
        { "manual dry run of an override", """{"action": "reconcile", "linkIds": ["zeta", "orders"], "dryRun": true, "allowRemovals": true}""",
            Selected("manual", "manual reconcile", dryRun: true, allowRemovals: true, "orders", "zeta") },
        { "manual override of all links", """{"action": "reconcile", "all": true, "allowRemovals": true}""",
            Selected("manual", "manual reconcile of all links", dryRun: false, allowRemovals: true, "inventory", "orders", "zeta") },
        { "schedule carrying allowRemovals does not allow removals",
            """{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}, "allowRemovals": true}""",
            Selected("schedule", "scheduled sweep", "inventory", "orders", "zeta") },
        { "CloudTrail event carrying allowRemovals does not allow removals",
            CloudTrail().Replace("\"version\":\"0\"", "\"version\":\"0\",\"allowRemovals\":true"),
            Selected("cloudtrail:UpdateBrokerCount", $"UpdateBrokerCount on {ClusterArn}", "orders") },
        // Deliberately changed with issue 3: an EC2 state change now selects the ec2-self-managed links (none in this table).
        { "EC2 state change without ec2 links", Ec2("terminated"),
            Ignored("ec2:terminated", "instance i-0abc is terminated: no ec2-self-managed link follows EC2 instances") },
    };

    private static string Ec2(string state, string account = Account, string region = "us-east-1") =>
        $$$"""{"version": "0", "source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "account": "{{{account}}}", "region": "{{{region}}}", "resources": [], "detail": {"instance-id": "i-0abc", "state": "{{{state}}}"} }""";

    /// <summary>The table with links of every kind: two ec2-self-managed links (no clusterArn), msk links beside them.</summary>
    private static readonly (string? Id, string? Kind, string? Cluster)[] MixedTable =
    [
        ("orders", "msk-single-nlb", ClusterArn),
        ("ledger", "ec2-self-managed", null),
        ("payments", "msk-nlb-per-broker", OtherClusterArn),
        ("audit", "ec2-self-managed", null),
        ("events", "msk-serverless", ZetaCluster),
    ];

    public static TheoryData<string, string, string> Ec2Events => new()
    {
        { "running instance: every ec2 link", Ec2("running"), Selected("ec2:running", "instance i-0abc is running", "audit", "ledger") },
        { "terminated instance", Ec2("terminated"), Selected("ec2:terminated", "instance i-0abc is terminated", "audit", "ledger") },
        { "stopped instance", Ec2("stopped"), Selected("ec2:stopped", "instance i-0abc is stopped", "audit", "ledger") },
        { "another account", Ec2("running", account: "210987654321"),
            Ignored("ec2:running", "instance i-0abc is running in account 210987654321, not this deployment's account 123456789012") },
        { "another region", Ec2("running", region: "eu-west-1"),
            Ignored("ec2:running", "instance i-0abc is running in region eu-west-1, not this deployment's region us-east-1") },
        { "a CloudTrail call still matches by cluster only", CloudTrail(response: OtherClusterArn, request: OtherClusterArn),
            Selected("cloudtrail:UpdateBrokerCount", $"UpdateBrokerCount on {OtherClusterArn}", "payments") },
        { "a schedule selects every kind", """{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}""",
            Selected("schedule", "scheduled sweep", "audit", "events", "ledger", "orders", "payments") },
    };

    private const string Sweep = """{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}""";

    private const string Kinds = "(msk-single-nlb, msk-nlb-per-broker, msk-serverless, ec2-self-managed)";

    /// <summary>The links the event runs, and the bad items among those it concerns, each its own link's failure.</summary>
    private static string Outcome(string trigger, string reason, string[] ids, params (string? Id, string Cause)[] invalid) =>
        WriteString(new TriageOutput(trigger, false, false, [.. ids.Select(id => new TriagedLink(id, reason))],
            [.. invalid.Select(i => new InvalidItem(i.Id, reason, i.Cause))], ids.Length + invalid.Length == 0 ? "no links selected" : null), Context.TriageOutput);

    private static readonly (string?, string?, string?) Zeta = ("zeta", "msk-single-nlb", ZetaCluster);

    public static TheoryData<string, string, (string?, string?, string?)[], string> BadItems => new()
    {
        { "an item of an unknown kind fails its link and the sweep runs the others", Sweep, [("orders", "msk-unknown", ClusterArn), Zeta],
            Outcome("schedule", "scheduled sweep", ["zeta"], ("orders", $"item.kind.S: 'msk-unknown' is not a known link kind {Kinds}")) },
        { "an item without a kind", Sweep, [("orders", null, ClusterArn), Zeta],
            Outcome("schedule", "scheduled sweep", ["zeta"], ("orders", "item.kind.S: missing")) },
        { "an msk item without its clusterArn", Sweep, [("orders", "msk-single-nlb", null), Zeta],
            Outcome("schedule", "scheduled sweep", ["zeta"], ("orders", "item.clusterArn.S: missing (required for kind 'msk-single-nlb': CloudTrail events find the link by it)")) },
        { "an item whose clusterArn is not a cluster ARN", Sweep, [("orders", "msk-serverless", "orders"), Zeta],
            Outcome("schedule", "scheduled sweep", ["zeta"], ("orders", "item.clusterArn.S: 'orders' is not an MSK cluster ARN (arn:<partition>:kafka:<region>:<account>:cluster/<name>/<id>)")) },
        { "an ec2 item with a clusterArn", Sweep, [("ledger", "ec2-self-managed", ClusterArn), Zeta],
            Outcome("schedule", "scheduled sweep", ["zeta"], ("ledger", "item.clusterArn: not allowed for kind 'ec2-self-managed' (a link of that kind has no cluster)")) },
        { "an item whose sk is not a link id is failed without one, quoting its sk", Sweep, [("Orders", "msk-single-nlb", ClusterArn), Zeta],
            Outcome("schedule", "scheduled sweep", ["zeta"], (null, "item.sk.S: 'Orders' is not a link id (1-40 of a-z, 0-9 and '-', not starting or ending with '-')")) },
        { "an item without an sk says where it is in the Query", Sweep, [Zeta, (null, "msk-single-nlb", ClusterArn)],
            Outcome("schedule", "scheduled sweep", ["zeta"], (null, "item.sk.S: missing (item 1 of the links Query)")) },
        { "a second item of one link id fails that link, the first still runs", Sweep, [("zeta", "msk-single-nlb", ClusterArn), Zeta],
            Outcome("schedule", "scheduled sweep", ["zeta"], ("zeta", "item.sk.S: link 'zeta' appears twice in the links Query")) },
        { "bad items of several links, named ones first, in id order", Sweep, [("Zz", "msk-single-nlb", ClusterArn), ("orders", "msk-unknown", null), ("inventory", null, null), Zeta],
            Outcome("schedule", "scheduled sweep", ["zeta"], ("inventory", "item.kind.S: missing"), ("orders", $"item.kind.S: 'msk-unknown' is not a known link kind {Kinds}"),
                (null, "item.sk.S: 'Zz' is not a link id (1-40 of a-z, 0-9 and '-', not starting or ending with '-')")) },
        { "a call on the cluster a bad item names reports that item", CloudTrail(), [("orders", "msk-unknown", ClusterArn), Zeta],
            Outcome("cloudtrail:UpdateBrokerCount", $"UpdateBrokerCount on {ClusterArn}", [], ("orders", $"item.kind.S: 'msk-unknown' is not a known link kind {Kinds}")) },
        { "a call on another cluster leaves out a bad item of a readable cluster", CloudTrail(request: ZetaCluster, response: ZetaCluster), [("orders", "msk-unknown", ClusterArn), Zeta],
            Outcome("cloudtrail:UpdateBrokerCount", $"UpdateBrokerCount on {ZetaCluster}", ["zeta"]) },
        { "a call on any cluster reports a bad item whose cluster cannot be read", CloudTrail(request: ZetaCluster, response: ZetaCluster), [("orders", "msk-single-nlb", null), Zeta],
            Outcome("cloudtrail:UpdateBrokerCount", $"UpdateBrokerCount on {ZetaCluster}", ["zeta"], ("orders", "item.clusterArn.S: missing (required for kind 'msk-single-nlb': CloudTrail events find the link by it)")) },
        { "a call on a cluster no good link has still reports the bad item that may be its link", CloudTrail(request: UnlinkedCluster, response: UnlinkedCluster), [("orders", null, null)],
            Outcome("cloudtrail:UpdateBrokerCount", $"UpdateBrokerCount on {UnlinkedCluster}", [], ("orders", "item.kind.S: missing")) },
        { "a call on its cluster reports an item whose sk is no link id", CloudTrail(), [("Orders", "msk-single-nlb", ClusterArn), Zeta],
            Outcome("cloudtrail:UpdateBrokerCount", $"UpdateBrokerCount on {ClusterArn}", [], (null, "item.sk.S: 'Orders' is not a link id (1-40 of a-z, 0-9 and '-', not starting or ending with '-')")) },
        { "a call on another cluster leaves it out: its kind and cluster still read", CloudTrail(request: ZetaCluster, response: ZetaCluster), [("Orders", "msk-single-nlb", ClusterArn), Zeta],
            Outcome("cloudtrail:UpdateBrokerCount", $"UpdateBrokerCount on {ZetaCluster}", ["zeta"]) },
        { "a call never concerns a bad ec2 item", CloudTrail(), [("ledger", "ec2-self-managed", ClusterArn), ("orders", "msk-single-nlb", ClusterArn)],
            Outcome("cloudtrail:UpdateBrokerCount", $"UpdateBrokerCount on {ClusterArn}", ["orders"]) },
        { "an instance change reports a bad item of no known kind and a bad ec2 item", Ec2("running"),
            [("audit", "ec2-self-managed", null), ("ledger", "ec2-self-managed", ClusterArn), ("orders", "msk-unknown", ClusterArn), ("inventory", "msk-single-nlb", null)],
            Outcome("ec2:running", "instance i-0abc is running", ["audit"], ("ledger", "item.clusterArn: not allowed for kind 'ec2-self-managed' (a link of that kind has no cluster)"),
                ("orders", $"item.kind.S: 'msk-unknown' is not a known link kind {Kinds}")) },
        { "an operator naming a bad item gets its failure, not an unknown link", """{"action": "reconcile", "linkId": "orders"}""", [("orders", "msk-unknown", ClusterArn), Zeta],
            Outcome("manual", "manual reconcile", [], ("orders", $"item.kind.S: 'msk-unknown' is not a known link kind {Kinds}")) },
        { "an operator naming a good and a bad link runs the good one", """{"action": "reconcile", "linkIds": ["orders", "zeta"]}""", [("orders", "msk-unknown", ClusterArn), Zeta],
            Outcome("manual", "manual reconcile", ["zeta"], ("orders", $"item.kind.S: 'msk-unknown' is not a known link kind {Kinds}")) },
        { "an operator naming only a good link leaves the bad one out", """{"action": "reconcile", "linkId": "zeta"}""", [("orders", "msk-unknown", ClusterArn), Zeta],
            Outcome("manual", "manual reconcile", ["zeta"]) },
    };

    [Theory]
    [MemberData(nameof(BadItems))]
    public void A_bad_item_is_its_own_links_failure_and_never_fails_the_run(string what, string ev, (string?, string?, string?)[] links, string expected)
    {
        var output = Invoke(Lambda.Triage, Input(ev, links));

        JsonAssert.Equal(expected, output);
        Assert.NotNull(what);
    }

    [Theory]
    [MemberData(nameof(Ec2Events))]
    public void Ec2_state_changes_select_every_ec2_link_of_this_deployment(string what, string ev, string expected)
    {
        var output = Invoke(Lambda.Triage, Input(ev, MixedTable));

        JsonAssert.Equal(expected, output);
        Assert.NotNull(what);
    }

    [Theory]
    [MemberData(nameof(Events))]
    public void Triage_selects_the_links_an_event_concerns(string what, string ev, string expected)
    {
        var output = Invoke(Lambda.Triage, Input(ev));

        JsonAssert.Equal(expected, output);
        Assert.NotNull(what);
    }

    /// <summary>A table of <paramref name="count"/> msk-single-nlb links, link-00 to link-NN.</summary>
    private static (string? Id, string? Kind, string? Cluster)[] Links(int count) =>
        [.. Enumerable.Range(0, count).Select(i => ((string?)$"link-{i:00}", (string?)"msk-single-nlb", (string?)ClusterArn.Replace("/orders/", $"/link-{i:00}/")))];

    public static TheoryData<string, string, int, string[], bool> StatusRuns => new()
    {
        { "one link",                      """{"action": "status", "linkId": "orders"}""",              3, ["orders"], true },
        { "some links, each once",         """{"action": "status", "linkIds": ["zeta", "orders", "zeta"]}""", 3, ["orders", "zeta"], true },
        { "all of three links",            """{"action": "status", "all": true}""",                     3, ["inventory", "orders", "zeta"], true },
        { "all of ten links, in detail",   """{"action": "status", "all": true}""",                     Triager.StatusDetailLinks, [.. Links(Triager.StatusDetailLinks).Select(l => l.Id!)], true },
        { "all of eleven links, overviews", """{"action": "status", "all": true}""",                    Triager.StatusDetailLinks + 1, [.. Links(Triager.StatusDetailLinks + 1).Select(l => l.Id!)], false },
    };

    [Theory]
    [MemberData(nameof(StatusRuns))]
    public void Status_selects_links_as_a_reconcile_does_and_plans_them_as_a_dry_run_without_changes(string what, string ev, int tableSize, string[] ids, bool detail)
    {
        var table = tableSize == Table.Length ? Table : Links(tableSize);
        var output = Invoke(Lambda.Triage, SweepInput(ev, table));

        var reason = ev.Contains("\"all\"", StringComparison.Ordinal) ? "status of all links" : "status";
        var expected = new TriageOutput("manual", DryRun: true, AllowRemovals: false, [.. ids.Select(id => new TriagedLink(id, reason))], [], null, Status: true, Detail: detail);
        JsonAssert.Equal(WriteString(expected, Context.TriageOutput), output);
        Assert.False(expected.IncludeChanges);
        Assert.False(output["includeChanges"]!.GetValue<bool>());
        Assert.NotNull(what);
    }

    [Fact]
    public void Schedule_with_an_empty_table_selects_nothing_and_says_why()
    {
        var output = Invoke(Lambda.Triage, Input("""{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}""", links: []));

        JsonAssert.Equal("""{"trigger": "schedule", "dryRun": false, "allowRemovals": false, "links": [], "invalidItems": [], "ignored": "no links in the table", "lockExpiresAt": null, "status": false, "detail": false, "includeChanges": false}""", output);
    }

    [Fact]
    public void Triage_output_writes_ignored_and_a_link_without_proposed_config_as_null()
    {
        var output = Invoke(Lambda.Triage, Input("""{"action": "reconcile", "linkId": "orders"}"""));

        JsonAssert.Equal("""{"trigger": "manual", "dryRun": false, "allowRemovals": false, "links": [{"linkId": "orders", "reason": "manual reconcile", "linkConfig": null}], "invalidItems": [], "ignored": null, "lockExpiresAt": null, "status": false, "detail": false, "includeChanges": false}""", output);
    }

    public static TheoryData<string, string, Type, string> Failures => new()
    {
        { "unknown link id",            Input("""{"action": "reconcile", "linkId": "nope"}"""),                  typeof(UnknownLinkException),  "event.linkId: no link 'nope' in the table (links: inventory, orders, zeta)" },
        { "unknown id among several",   Input("""{"action": "reconcile", "linkIds": ["orders", "nope"]}"""),    typeof(UnknownLinkException),  "event.linkIds[1]: no link 'nope'" },
        { "manual naming nothing",      Input("""{"action": "reconcile"}"""),                                    typeof(InvalidInputException), "event: a manual reconcile names exactly one of" },
        { "manual naming two ways",     Input("""{"action": "reconcile", "linkId": "orders", "all": true}"""),   typeof(InvalidInputException), "event: a manual reconcile names exactly one of" },
        { "manual all false",           Input("""{"action": "reconcile", "all": false}"""),                      typeof(InvalidInputException), "event.all: false" },
        { "manual empty list",          Input("""{"action": "reconcile", "linkIds": []}"""),                     typeof(InvalidInputException), "event.linkIds: empty" },
        { "unknown action",             Input("""{"action": "delete", "linkId": "orders"}"""),                   typeof(InvalidInputException), "event.action: 'delete' is not a known action (reconcile, status)" },
        { "status asked of Apply",      Input("""{"action": "status", "linkId": "orders"}"""),                   typeof(InvalidInputException), "event.action: 'status' is not answered by this state machine (it answers reconcile): start the Sweep state machine with it" },
        { "status naming nothing",      SweepInput("""{"action": "status"}"""),                                  typeof(InvalidInputException), "event: a manual status names exactly one of" },
        { "status of all false",        SweepInput("""{"action": "status", "all": false}"""),                    typeof(InvalidInputException), "event.all: false; to status some links" },
        { "status of an unknown link",  SweepInput("""{"action": "status", "linkId": "nope"}"""),                typeof(UnknownLinkException),  "event.linkId: no link 'nope' in the table" },
        { "status as a dry run",        SweepInput("""{"action": "status", "linkId": "orders", "dryRun": true}"""), typeof(InvalidInputException), "event.dryRun: not allowed with action 'status': a status run writes nothing" },
        { "status with an override",    SweepInput("""{"action": "status", "linkId": "orders", "allowRemovals": true}"""), typeof(InvalidInputException), "event.allowRemovals: not allowed with action 'status'" },
        { "status of a proposed config", SweepInput($$"""{"action": "status", "linkId": "orders", "linkConfig": {{Proposed("orders")}}}"""), typeof(InvalidInputException), "event.linkConfig: not allowed with action 'status'" },
        { "an unknown action answered", Input("""{"action": "reconcile", "linkId": "orders"}""", actions: ["reconcile", "purge"]), typeof(InvalidInputException), "actions[1]: 'purge' is not a known action (reconcile, status)" },
        { "dry run of the wrong type",  Input("""{"action": "reconcile", "linkId": "orders", "dryRun": "yes"}"""), typeof(InvalidInputException), "event.dryRun: expected true or false, got a string" },
        { "override as a string",       Input("""{"action": "reconcile", "linkId": "orders", "allowRemovals": "true"}"""), typeof(InvalidInputException), "event.allowRemovals: expected true or false, got a string" },
        { "override as a number",       Input("""{"action": "reconcile", "linkId": "orders", "allowRemovals": 1}"""), typeof(InvalidInputException), "event.allowRemovals: expected true or false, got a number" },
        { "override as an object",      Input("""{"action": "reconcile", "linkId": "orders", "allowRemovals": {}}"""), typeof(InvalidInputException), "event.allowRemovals: expected true or false, got an object" },
        { "unknown event type",         Input("""{"source": "aws.s3", "detail-type": "Object Created", "detail": {}}"""), typeof(InvalidInputException), "event: unknown event type (source 'aws.s3', detail-type 'Object Created')" },
        { "no event",                   Input(null),                                                                    typeof(InvalidInputException), "event: missing" },
        { "CloudTrail without a name",  Input("""{"source": "aws.kafka", "detail-type": "AWS API Call via CloudTrail", "detail": {}}"""), typeof(InvalidInputException), "event.detail.eventName: missing" },
        { "more links than one page",   Input(CloudTrail(), truncated: true),                                           typeof(InvalidInputException), "linksTruncated: true: the links Query returned more than one page" },
        { "unparsable state machine",   Input(CloudTrail(), stateMachineArn: "arn:aws:states:us-east-1:123:stateMachine:x"), typeof(InvalidInputException), "stateMachineArn: 'arn:aws:states:us-east-1:123:stateMachine:x' is not a state machine ARN" },
        { "EC2 event without account",  Input(Ec2("running").Replace("\"account\": \"123456789012\", ", "")),          typeof(InvalidInputException), "event.account: missing" },
        { "EC2 event with a bad region", Input(Ec2("running", region: "moon")),                                            typeof(InvalidInputException), "event.region: 'moon' is not an AWS region" },
        { "links missing",              """{"event": {"action": "reconcile", "all": true}, "linksTruncated": false, "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Reconcile"}""", typeof(InvalidInputException), "links: missing" },
        { "links not an array",         Input(CloudTrail()).Replace("\"links\":[", "\"links\":{\"x\":[").Replace("],\"linksTruncated\"", "]},\"linksTruncated\""), typeof(InvalidInputException), "links: wrong type, expected an array" },
        { "truncation flag missing",    Input(CloudTrail()).Replace("\"linksTruncated\":false,", ""),                    typeof(InvalidInputException), "linksTruncated: missing" },
        { "proposed config, not a dry run", Input($$"""{"action": "reconcile", "linkId": "orders", "linkConfig": {{Proposed("orders")}}}"""), typeof(InvalidInputException), "event.linkConfig: only a dry run (\"dryRun\": true) may plan against a proposed config" },
        { "proposed config for several",   Input($$"""{"action": "reconcile", "linkIds": ["orders"], "dryRun": true, "linkConfig": {{Proposed("orders")}}}"""), typeof(InvalidInputException), "event.linkConfig: a proposed config is planned for one link, named by \"linkId\"" },
        { "proposed config of another link", Input($$"""{"action": "reconcile", "linkId": "orders", "dryRun": true, "linkConfig": {{Proposed("zeta")}}}"""), typeof(InvalidInputException), "event.linkConfig.linkId: 'zeta' is not the link named by event.linkId ('orders')" },
        { "proposed config that does not read", Input("""{"action": "reconcile", "linkId": "orders", "dryRun": true, "linkConfig": {"linkId": "orders"}}"""), typeof(InvalidInputException), "event.linkConfig.kind: missing" },
        { "malformed JSON",             "{\"event\": ",                                                                  typeof(InvalidInputException), "event: " },
        { "empty input",                "",                                                                              typeof(InvalidInputException), "input: " },
        { "null input",                 "null",                                                                          typeof(InvalidInputException), "input: expected a JSON object, got null" },
    };

    private static string Proposed(string linkId) => WriteString(Config() with { LinkId = linkId }, Context.LinkConfigWire);

    [Theory]
    [InlineData("as an object", false)]
    [InlineData("as the table's JSON string", true)]
    public void A_dry_run_may_plan_a_link_not_in_the_table_against_a_proposed_config(string what, bool asString)
    {
        var config = Proposed("fresh");
        var given = asString ? System.Text.Json.JsonSerializer.Serialize(config) : config;

        var output = Invoke(Lambda.Triage, Input($$"""{"action": "reconcile", "linkId": "fresh", "dryRun": true, "linkConfig": {{given}}}"""));

        JsonAssert.Equal(WriteString(new TriageOutput("manual", true, false, [new TriagedLink("fresh", "manual dry run of a proposed config", config)], [], null),
            Context.TriageOutput), output);
        Assert.NotNull(what);
    }

    [Theory]
    [MemberData(nameof(Failures))]
    public void Triage_rejects_bad_input_with_a_named_error(string what, string input, Type exception, string message)
    {
        var thrown = Assert.ThrowsAny<Exception>(() => ReadAll(Lambda.Triage(Stream(input))));

        Assert.True(exception == thrown.GetType(), $"{what}: {thrown.GetType().Name}: {thrown.Message}");
        Assert.StartsWith(message, thrown.Message);
    }
}
