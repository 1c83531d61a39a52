using System.Text.Json.Nodes;
using BrokerLink.Functions;
using BrokerLink.Functions.Summarising;
using BrokerLink.Tests.Support;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests;

/// <summary>Summarise: the execution's outcome from every link's result, and one metrics line per link.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class SummariseTests
{
    private const string EnteredTime = "2025-01-31T12:00:00.123Z";
    private const long EnteredMs = 1738324800123;

    // Per-link results exactly as the state machine's result states build them.

    private static JsonObject Converged(string id, bool applied = true, int writeCalls = 12, int brokers = 3, int findings = 0) => new()
    {
        ["linkId"] = id, ["reason"] = "manual reconcile", ["status"] = "succeeded", ["converged"] = true, ["applied"] = applied,
        ["summary"] = Summary(applied ? writeCalls : 0, brokers),
        ["advertisedListeners"] = new JsonArray(), ["findings"] = Findings(findings),
    };

    private static JsonObject DryRun(string id, bool hasChanges, bool blocked = false) => new()
    {
        ["linkId"] = id, ["reason"] = "manual reconcile", ["status"] = "succeeded", ["dryRun"] = true,
        ["plan"] = new JsonObject
        {
            ["linkId"] = id, ["pass"] = "apply", ["hasChanges"] = hasChanges, ["blocked"] = blocked ? Block() : null,
            ["changes"] = new JsonObject(), ["advertisedListeners"] = new JsonArray(), ["findings"] = Findings(1),
            ["summary"] = Summary(hasChanges ? 7 : 0, 3),
        },
    };

    /// <summary>What the iteration's catch makes of a Fail state, a Lambda error or an AWS API error.</summary>
    private static JsonObject Caught(string id, string error, string cause) => new()
    {
        ["linkId"] = id, ["reason"] = "scheduled sweep", ["status"] = "failed", ["error"] = error, ["cause"] = cause,
    };

    private static JsonObject Blocked(string id, bool applied, int writeCalls = 4) => new()
    {
        ["linkId"] = id, ["reason"] = "manual reconcile", ["status"] = "failed", ["error"] = "BrokerLink.PlanBlocked",
        ["cause"] = "RemovalShareExceeded: the plan removes 4 of 6 registered targets (0.67)", ["converged"] = false, ["applied"] = applied,
        ["summary"] = Summary(applied ? writeCalls : 0, 1), ["advertisedListeners"] = new JsonArray(), ["findings"] = Findings(2),
        ["blocked"] = Block(),
    };

    private static JsonObject NotConverged(string id) => new()
    {
        ["linkId"] = id, ["reason"] = "manual reconcile", ["status"] = "failed", ["error"] = "BrokerLink.NotConverged",
        ["cause"] = "the verify pass still plans 1 write calls: {...}", ["converged"] = false, ["applied"] = true,
        ["summary"] = Summary(9, 3), ["advertisedListeners"] = new JsonArray(), ["findings"] = Findings(0), ["blocked"] = null,
    };

    private static JsonObject Summary(int writeCalls, int brokers) => new()
    {
        ["brokers"] = brokers, ["writeCalls"] = writeCalls, ["targetGroupsCreated"] = 0, ["listenersCreated"] = 0, ["targetsRegistered"] = 0,
        ["targetsDeregistered"] = 0, ["recordsUpserted"] = 0, ["recordsDeleted"] = 0, ["listenersDeleted"] = 0, ["targetGroupsDeleted"] = 0,
    };

    private static JsonObject Block() => new() { ["code"] = "RemovalShareExceeded", ["reason"] = "the plan removes 4 of 6 registered targets (0.67)" };

    /// <summary>A converged per-broker link with two brokers waiting for the operator and one other finding.</summary>
    private static JsonObject NeedsProvisioning(string id)
    {
        var result = Converged(id, applied: false, brokers: 4, findings: 1);
        var findings = result["findings"]!.AsArray();
        findings.Add(new JsonObject { ["code"] = "BrokerNeedsProvisioning", ["subject"] = "broker-4", ["message"] = "no target group" });
        findings.Add(new JsonObject { ["code"] = "BrokerNeedsProvisioning", ["subject"] = "broker-5", ["message"] = "no target group" });
        return result;
    }

    private static JsonArray Findings(int count) =>
        new([.. Enumerable.Range(1, count).Select(i => (JsonNode)new JsonObject { ["code"] = "RecordConflict", ["subject"] = $"b-{i}", ["message"] = "not ours" })]);

    /// <summary>A bad table item as Triage reports it: a failed result that ran nothing; no link id when its sk is not one.</summary>
    private static JsonObject Invalid(string? id, string cause) => new()
    {
        ["linkId"] = id, ["reason"] = "scheduled sweep", ["status"] = "failed", ["error"] = "BrokerLink.InvalidInput", ["cause"] = cause,
    };

    /// <summary>What the sweep says of a link whose changes it handed to an Apply execution.</summary>
    private static JsonObject HandedOver(string id) => new()
    {
        ["linkId"] = id, ["reason"] = "scheduled sweep", ["status"] = "applying",
        ["applyExecutionArn"] = $"arn:aws:states:us-east-1:123456789012:execution:brokerlink-apply:{id}-1",
        ["summary"] = new JsonObject { ["brokers"] = 3, ["writeCalls"] = 2 }, ["findings"] = new JsonArray(),
    };

    [Fact]
    public void A_sweep_reports_a_handed_over_link_neither_converged_nor_failed_and_leaves_its_metrics_to_its_apply()
    {
        var input = Input([Converged("alpha"), HandedOver("beta")], stage: "sweep");

        var summary = Summariser.Summarise(Functions.Json.Json.Read(Stream(input), Functions.Json.Json.Context.SummariseInput));

        Assert.False(summary.Output.Converged);
        Assert.Null(summary.Output.Failed);
        Assert.Equal(["alpha", "beta"], summary.Output.Results.Select(r => r.GetProperty("linkId").GetString()));
        Assert.Equal(["alpha"], summary.MetricLines.Select(l => (string)JsonNode.Parse(l)!["LinkId"]!));
    }

    private static string Input(IEnumerable<JsonObject> results, bool dryRun = false, string trigger = "schedule", string timestamp = EnteredTime,
        IEnumerable<JsonObject>? invalidItems = null, string stage = "apply") =>
        new JsonObject
        {
            ["stage"] = stage, ["trigger"] = trigger, ["dryRun"] = dryRun, ["timestamp"] = timestamp,
            ["invalidItems"] = new JsonArray([.. (invalidItems ?? []).Select(r => (JsonNode)r)]),
            ["results"] = new JsonArray([.. results.Select(r => (JsonNode)r)]),
        }.ToJsonString();

    private const string AwsCause = "Load balancer 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/gone/0123' not found "
        + "(Service: ElasticLoadBalancingV2, Status Code: 400, Request ID: 1)";

    public static TheoryData<string, JsonObject[], bool, bool, string?, string?> Outcomes => new()
    {
        // what                                   results                                                               dryRun  converged  error                                     cause (starts with)
        { "every link converged",                 [Converged("alpha"), Converged("beta", applied: false)],              false,  true,      null,                                     null },
        { "a dry run with nothing to do",         [DryRun("alpha", hasChanges: false)],                                 true,   true,      null,                                     null },
        { "a dry run with changes",               [DryRun("alpha", hasChanges: true), DryRun("beta", hasChanges: false)], true, false,     null,                                     null },
        { "a dry run of a blocked plan",          [DryRun("alpha", hasChanges: false, blocked: true)],                  true,   false,     null,                                     null },
        { "blocked before applying",              [Blocked("alpha", applied: false), Converged("beta")],                false,  false,     "BrokerLink.PlanBlocked",                 "Link alpha: RemovalShareExceeded: the plan removes 4 of 6" },
        { "blocked after applying the additions", [Converged("alpha"), Blocked("beta", applied: true)],                 false,  false,     "BrokerLink.PlanBlocked",                 "Link beta: RemovalShareExceeded: " },
        { "not converged",                        [NotConverged("alpha")],                                              false,  false,     "BrokerLink.NotConverged",                "Link alpha: the verify pass still plans 1 write calls" },
        { "cluster not ready",                    [Caught("alpha", "BrokerLink.ClusterNotReady", "Cluster arn:x is UPDATING after 2 polls")], false, false, "BrokerLink.ClusterNotReady", "Link alpha: Cluster arn:x is UPDATING after 2 polls" },
        { "invalid link config",                  [Converged("alpha"), Caught("beta", "BrokerLink.InvalidInput", "linkConfig.listenerBasePort: missing")], false, false, "BrokerLink.InvalidInput", "Link beta: linkConfig.listenerBasePort: missing" },
        { "incomplete observation",               [Caught("alpha", "BrokerLink.IncompleteObservation", "nodes: the newest page has a NextToken")], false, false, "BrokerLink.IncompleteObservation", "Link alpha: nodes: " },
        { "link removed during the execution",    [Caught("alpha", "BrokerLink.UnknownLink", "Link alpha was removed from the table during the execution")], false, false, "BrokerLink.UnknownLink", "Link alpha: Link alpha was removed" },
        { "an AWS API error",                     [Caught("alpha", "ElasticLoadBalancingV2.LoadBalancerNotFoundException", AwsCause), Converged("beta")], false, false, "ElasticLoadBalancingV2.LoadBalancerNotFoundException", "Link alpha: Load balancer 'arn:" },
        // A Fail state may not raise a name of the reserved States. prefix: a single link's is in LinksFailed's cause.
        { "a step functions runtime error",       [Caught("alpha", "States.Runtime", "The function 'States.StringToJson' had the following error")], false, false, "BrokerLink.LinksFailed", "1 of 1 links failed: alpha: States.Runtime: The function" },
        { "a state over 256 KiB",                 [Converged("alpha"), Caught("beta", "States.DataLimitExceeded", "The state/task returned a result with a size exceeding the maximum number of bytes service limit.")],
                                                                                                                        false,  false,     "BrokerLink.LinksFailed", "1 of 2 links failed: beta: States.DataLimitExceeded: The state/task returned" },
        { "several links failed",                 [Caught("alpha", "BrokerLink.ClusterNotReady", "Cluster arn:x is UPDATING after 2 polls"), Converged("beta"), Blocked("gamma", applied: false)],
                                                                                                                        false,  false,     "BrokerLink.LinksFailed",
            "2 of 3 links failed: alpha: BrokerLink.ClusterNotReady: Cluster arn:x is UPDATING after 2 polls; gamma: BrokerLink.PlanBlocked: RemovalShareExceeded: the plan removes 4 of 6 registered targets (0.67)" },
    };

    [Theory]
    [MemberData(nameof(Outcomes))]
    public void Summarise_decides_the_outcome_from_every_link_result(string what, JsonObject[] results, bool dryRun, bool converged, string? error, string? cause)
    {
        var input = Input(results, dryRun);

        var output = Invoke(Lambda.Summarise, input);

        Assert.Equal(converged, (bool)output["converged"]!);
        Assert.Equal(dryRun, (bool)output["dryRun"]!);
        Assert.Equal("schedule", (string)output["trigger"]!);
        JsonAssert.Equal(JsonNode.Parse(input)!["results"]!.ToJsonString(), output["results"]);
        if (error is null)
        {
            Assert.True(output.AsObject().ContainsKey("failed"), what);
            Assert.Null(output["failed"]);
        }
        else
        {
            Assert.Equal(error, (string)output["failed"]!["error"]!);
            Assert.StartsWith(cause!, (string)output["failed"]!["cause"]!);
        }
    }

    public static TheoryData<string, JsonObject[], JsonObject[], string, string> BadItems => new()
    {
        // what                                         ran                                       bad items                                                     error                      cause
        { "a bad item beside a converged link",         [Converged("alpha")],                     [Invalid("beta", "item.kind.S: missing")],                    "BrokerLink.InvalidInput", "Link beta: item.kind.S: missing" },
        { "a bad item whose sk is no link id",          [Converged("alpha")],                     [Invalid(null, "item.sk.S: 'Beta' is not a link id")],         "BrokerLink.InvalidInput", "Link (no link id): item.sk.S: 'Beta' is not a link id" },
        { "only bad items: nothing ran",                [],                                       [Invalid("alpha", "item.kind.S: missing")],                   "BrokerLink.InvalidInput", "Link alpha: item.kind.S: missing" },
        { "a failed link and a bad item",               [Caught("alpha", "BrokerLink.ClusterNotReady", "Cluster is UPDATING")], [Invalid("beta", "item.clusterArn.S: missing")],
                                                                                                                                                                "BrokerLink.LinksFailed",  "2 of 2 links failed: alpha: BrokerLink.ClusterNotReady: Cluster is UPDATING; beta: BrokerLink.InvalidInput: item.clusterArn.S: missing" },
    };

    [Theory]
    [MemberData(nameof(BadItems))]
    public void A_bad_item_is_reported_after_the_links_that_ran_as_a_failed_link(string what, JsonObject[] ran, JsonObject[] bad, string error, string cause)
    {
        var input = Input(ran, invalidItems: bad);

        var summary = Summariser.Summarise(Functions.Json.Json.Read(Stream(input), Functions.Json.Json.Context.SummariseInput));
        var output = Invoke(Lambda.Summarise, input);

        Assert.False((bool)output["converged"]!, what);
        Assert.Equal((error, cause), ((string)output["failed"]!["error"]!, (string)output["failed"]!["cause"]!));
        var given = JsonNode.Parse(input)!;
        JsonAssert.Equal(new JsonArray([.. given["results"]!.AsArray().Concat(given["invalidItems"]!.AsArray()).Select(r => r!.DeepClone())]).ToJsonString(),
            output["results"]);
        var line = JsonNode.Parse(summary.MetricLines[^1])!;
        Assert.Equal(((string?)bad[^1]["linkId"] ?? Summariser.NoLinkId, 1, 0, "BrokerLink.InvalidInput"),
            ((string)line["LinkId"]!, (int)line["Failed"]!, (int)line["Converged"]!, (string)line["Error"]!));
        Assert.Null(line["WriteCalls"]);
    }

    [Fact]
    public void Several_failures_keep_the_cause_within_the_step_functions_limit()
    {
        var results = Enumerable.Range(1, 60).Select(i => Caught($"link-{i}", "States.Runtime", new string('x', 5_000))).ToArray();

        var cause = (string)Invoke(Lambda.Summarise, Input(results))["failed"]!["cause"]!;

        Assert.Equal(Summariser.MaxCause, cause.Length);
        Assert.StartsWith("60 of 60 links failed: link-1: States.Runtime: xxx", cause);
        Assert.EndsWith("…", cause);
    }

    public static TheoryData<string, JsonObject, string> MetricLines => new()
    {
        { "applied and converged", Converged("orders", writeCalls: 12, brokers: 3, findings: 1),
            """{"WriteCalls": 12, "Brokers": 3, "Findings": 1, "BrokersNeedingProvisioning": 0, "FindingsNeedingAction": 1, "Converged": 1, "Blocked": 0, "Failed": 0}""" },
        { "already converged", Converged("orders", applied: false),
            """{"WriteCalls": 0, "Brokers": 3, "Findings": 0, "BrokersNeedingProvisioning": 0, "FindingsNeedingAction": 0, "Converged": 1, "Blocked": 0, "Failed": 0}""" },
        { "dry run: nothing written", DryRun("orders", hasChanges: true),
            """{"WriteCalls": 0, "Brokers": 3, "Findings": 1, "BrokersNeedingProvisioning": 0, "FindingsNeedingAction": 1, "Converged": 0, "Blocked": 0, "Failed": 0}""" },
        { "blocked after applying the additions", Blocked("orders", applied: true, writeCalls: 4),
            """{"WriteCalls": 4, "Brokers": 1, "Findings": 2, "BrokersNeedingProvisioning": 0, "FindingsNeedingAction": 2, "Converged": 0, "Blocked": 1, "Failed": 1, "Error": "BrokerLink.PlanBlocked"}""" },
        { "blocked before applying", Blocked("orders", applied: false),
            """{"WriteCalls": 0, "Brokers": 1, "Findings": 2, "BrokersNeedingProvisioning": 0, "FindingsNeedingAction": 2, "Converged": 0, "Blocked": 1, "Failed": 1, "Error": "BrokerLink.PlanBlocked"}""" },
        { "not converged", NotConverged("orders"),
            """{"WriteCalls": 9, "Brokers": 3, "Findings": 0, "BrokersNeedingProvisioning": 0, "FindingsNeedingAction": 0, "Converged": 0, "Blocked": 0, "Failed": 1, "Error": "BrokerLink.NotConverged"}""" },
        { "brokers needing provisioning are counted", NeedsProvisioning("orders"),
            """{"WriteCalls": 0, "Brokers": 4, "Findings": 3, "BrokersNeedingProvisioning": 2, "FindingsNeedingAction": 3, "Converged": 1, "Blocked": 0, "Failed": 0}""" },
        { "failed before its plan: what is not known is left out", Caught("orders", "BrokerLink.ClusterNotReady", "Cluster is UPDATING"),
            """{"Converged": 0, "Blocked": 0, "Failed": 1, "Error": "BrokerLink.ClusterNotReady"}""" },
    };

    /// <summary>The EMF directive a line carries: namespace BrokerLink, the one dimension, each metric a count.</summary>
    private static JsonObject Directive(string dimension, IEnumerable<string> metrics) => new()
    {
        ["Timestamp"] = EnteredMs,
        ["CloudWatchMetrics"] = new JsonArray(new JsonObject
        {
            ["Namespace"] = "BrokerLink",
            ["Dimensions"] = new JsonArray(new JsonArray(dimension)),
            ["Metrics"] = new JsonArray([.. metrics.Select(name => (JsonNode)new JsonObject { ["Name"] = name, ["Unit"] = "Count" })]),
        }),
    };

    [Theory]
    [MemberData(nameof(MetricLines))]
    public void Each_link_gets_one_embedded_metric_format_line(string what, JsonObject result, string values)
    {
        var summary = Summariser.Summarise(Functions.Json.Json.Read(Stream(Input([result])), Functions.Json.Json.Context.SummariseInput));

        var line = Assert.Single(summary.MetricLines);
        Assert.DoesNotContain('\n', line);
        var expected = JsonNode.Parse(values)!.AsObject();
        var document = new JsonObject
        {
            ["_aws"] = Directive("LinkId", expected.Where(p => p.Key != "Error").Select(p => p.Key)),
            ["LinkId"] = "orders",
        };
        foreach (var (name, value) in expected.Where(p => p.Key != "Error"))
        {
            document[name] = value!.DeepClone();
        }
        document["Trigger"] = "schedule";
        document["DryRun"] = false;
        if (expected["Error"] is { } error)
        {
            document["Error"] = error.DeepClone();
        }
        Assert.True(JsonNode.DeepEquals(document, JsonNode.Parse(line)), $"{what}:\n{line}");
        Assert.Equal(document.ToJsonString(), line); // and in this order
    }

    [Fact]
    public void Metric_line_is_exactly_the_documented_shape()
    {
        var line = Metrics.EmfLine(EnteredMs, "cloudtrail:UpdateBrokerCount", false,
            new LinkMetrics("orders", WriteCalls: 12, Brokers: 3, Findings: 0, Converged: true, Blocked: false, Failed: false), null);

        Assert.Equal(
            """{"_aws":{"Timestamp":1738324800123,"CloudWatchMetrics":[{"Namespace":"BrokerLink","Dimensions":[["LinkId"]],"Metrics":[{"Name":"WriteCalls","Unit":"Count"},{"Name":"Brokers","Unit":"Count"},{"Name":"Findings","Unit":"Count"},{"Name":"Converged","Unit":"Count"},{"Name":"Blocked","Unit":"Count"},{"Name":"Failed","Unit":"Count"}]}]},"LinkId":"orders","WriteCalls":12,"Brokers":3,"Findings":0,"Converged":1,"Blocked":0,"Failed":0,"Trigger":"cloudtrail:UpdateBrokerCount","DryRun":false}""",
            line);
    }

    [Fact]
    public void Without_per_link_metrics_a_links_line_is_the_same_fields_as_a_log_line_and_the_totals_stay_metrics()
    {
        var input = Functions.Json.Json.Read(Stream(Input([Converged("alpha"), Caught("beta", "BrokerLink.InvalidInput", "x")])),
            Functions.Json.Json.Context.SummariseInput);

        var metrics = Summariser.Summarise(input, "stack", perLinkMetrics: true);
        var logs = Summariser.Summarise(input, "stack", perLinkMetrics: false);

        Assert.Equal(2, logs.MetricLines.Count);
        for (var i = 0; i < 2; i++)
        {
            var full = JsonNode.Parse(metrics.MetricLines[i])!.AsObject();
            var plain = JsonNode.Parse(logs.MetricLines[i])!.AsObject();
            Assert.False(plain.ContainsKey("_aws"), logs.MetricLines[i]);
            full.Remove("_aws");
            Assert.True(JsonNode.DeepEquals(full, plain), logs.MetricLines[i]);
        }
        Assert.Equal(metrics.StackLine, logs.StackLine);
        Assert.NotNull(JsonNode.Parse(logs.StackLine!)!["_aws"]);
    }

    [Theory]
    //          timestamp as Step Functions gives it            Unix milliseconds
    [InlineData("2025-01-31T12:00:00.123Z",                       1738324800123)]
    [InlineData("2025-01-31T12:00:00Z",                           1738324800000)]
    [InlineData("2025-01-31T12:00:00.123456+00:00",               1738324800123)]
    [InlineData("2025-01-31T13:00:00.123+01:00",                  1738324800123)]
    public void Metrics_timestamp_is_the_state_entered_time_from_the_input(string timestamp, long ms)
    {
        var summary = Summariser.Summarise(Functions.Json.Json.Read(Stream(Input([Converged("orders")], timestamp: timestamp)), Functions.Json.Json.Context.SummariseInput));

        Assert.Equal(ms, (long)JsonNode.Parse(summary.MetricLines[0])!["_aws"]!["Timestamp"]!);
    }

    [Fact]
    public void Same_input_gives_the_same_output_and_lines()
    {
        var input = Input([Converged("alpha"), Caught("beta", "BrokerLink.InvalidInput", "x"), DryRun("gamma", true)]);
        Summary Run() => Summariser.Summarise(Functions.Json.Json.Read(Stream(input), Functions.Json.Json.Context.SummariseInput));

        var (first, second) = (Run(), Run());

        Assert.Equal(first.MetricLines, second.MetricLines);
        Assert.Equal(ReadAll(Lambda.Summarise(Stream(input))), ReadAll(Lambda.Summarise(Stream(input))));
        Assert.Equal(["alpha", "beta", "gamma"], first.MetricLines.Select(l => (string)JsonNode.Parse(l)!["LinkId"]!));
    }

    [Fact]
    public void Handler_writes_the_metric_lines_to_standard_output()
    {
        var input = Input([Converged("alpha"), Blocked("beta", applied: false)]);
        var previous = Console.Out;
        var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            ReadAll(Lambda.Summarise(Stream(input)));
        }
        finally
        {
            Console.SetOut(previous);
        }

        var lines = captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["alpha", "beta", null], lines.Select(l => (string?)JsonNode.Parse(l)!["LinkId"]));
        Assert.Equal(Metrics.UnknownStack, (string?)JsonNode.Parse(lines[^1])!["Stack"]);
        Assert.All(lines, l => Assert.Equal("BrokerLink", (string)JsonNode.Parse(l)!["_aws"]!["CloudWatchMetrics"]![0]!["Namespace"]!));
    }

    /// <summary>Records what reaches it by Write and refuses WriteLine, which the Lambda .NET runtime would format.</summary>
    private sealed class RuntimeLikeWriter : StringWriter
    {
        public override void WriteLine(string? value) => throw new InvalidOperationException($"WriteLine({value}) would be wrapped by the Lambda runtime");
        public override void WriteLine() => throw new InvalidOperationException("WriteLine() would be wrapped by the Lambda runtime");
    }

    [Fact]
    public void Handler_writes_each_line_unformatted_with_the_stack_from_its_environment()
    {
        var input = Input([Converged("alpha"), Blocked("beta", applied: false)], stage: "sweep");
        var (previousOut, previousStack) = (Console.Out, Environment.GetEnvironmentVariable(Metrics.StackVariable));
        var captured = new RuntimeLikeWriter();
        Console.SetOut(captured);
        Environment.SetEnvironmentVariable(Metrics.StackVariable, "brokerlink-prod");
        try
        {
            ReadAll(Lambda.Summarise(Stream(input)));
        }
        finally
        {
            Console.SetOut(previousOut);
            Environment.SetEnvironmentVariable(Metrics.StackVariable, previousStack);
        }

        var text = captured.ToString();
        Assert.EndsWith("\n", text);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        var totals = JsonNode.Parse(lines[2])!;
        Assert.Equal(("brokerlink-prod", "sweep", 2, 1, 1), ((string)totals["Stack"]!, (string)totals["Stage"]!, (int)totals["LinksReported"]!,
            (int)totals["LinksConverged"]!, (int)totals["LinksBlocked"]!));
    }

    public static TheoryData<string, JsonObject[], string, string> StackLines => new()
    {
        // what                                   results (a sweep's)                                                     stage    totals
        { "every link converged",                 [Converged("alpha"), Converged("beta", applied: false)],                "sweep",
            """{"LinksReported": 2, "LinksConverged": 2, "LinksNotConverged": 0, "LinksFailed": 0, "LinksBlocked": 0, "FindingsNeedingAction": 0}""" },
        { "no links at all: zeros, not nothing",  [],                                                                     "sweep",
            """{"LinksReported": 0, "LinksConverged": 0, "LinksNotConverged": 0, "LinksFailed": 0, "LinksBlocked": 0, "FindingsNeedingAction": 0}""" },
        { "a blocked link is blocked, not failed", [Blocked("alpha", applied: false), Caught("beta", "BrokerLink.ClusterNotReady", "UPDATING"), NotConverged("gamma")], "apply",
            """{"LinksReported": 3, "LinksConverged": 0, "LinksNotConverged": 3, "LinksFailed": 2, "LinksBlocked": 1, "FindingsNeedingAction": 2}""" },
        { "a handed-over link is left to its apply", [HandedOver("alpha"), Converged("beta", findings: 2)],               "sweep",
            """{"LinksReported": 1, "LinksConverged": 1, "LinksNotConverged": 0, "LinksFailed": 0, "LinksBlocked": 0, "FindingsNeedingAction": 2}""" },
        { "findings needing a person are summed", [NeedsProvisioning("alpha"), Converged("beta", findings: 1)],            "sweep",
            """{"LinksReported": 2, "LinksConverged": 2, "LinksNotConverged": 0, "LinksFailed": 0, "LinksBlocked": 0, "FindingsNeedingAction": 4}""" },
    };

    [Theory]
    [MemberData(nameof(StackLines))]
    public void Each_execution_that_is_not_a_dry_run_gets_one_stack_line_with_its_totals(string what, JsonObject[] results, string stage, string totals)
    {
        var summary = Summariser.Summarise(Functions.Json.Json.Read(Stream(Input(results, stage: stage)), Functions.Json.Json.Context.SummariseInput), "brokerlink");

        var expected = JsonNode.Parse(totals)!.AsObject();
        var document = new JsonObject
        {
            ["_aws"] = Directive("Stack", expected.Select(p => p.Key)),
            ["Stack"] = "brokerlink",
        };
        foreach (var (name, value) in expected)
        {
            document[name] = value!.DeepClone();
        }
        document["Stage"] = stage;
        document["Trigger"] = "schedule";
        Assert.NotNull(summary.StackLine);
        Assert.DoesNotContain('\n', summary.StackLine);
        Assert.True(JsonNode.DeepEquals(document, JsonNode.Parse(summary.StackLine)), $"{what}:\n{summary.StackLine}");
    }

    [Fact]
    public void Every_line_names_the_execution_when_the_state_machine_gives_it()
    {
        var input = JsonNode.Parse(Input([Converged("alpha"), Caught("beta", "BrokerLink.ClusterNotReady", "UPDATING")], stage: "sweep"))!;
        input["execution"] = "0f2c-sweep-1";

        var summary = Summariser.Summarise(Functions.Json.Json.Read(Stream(input.ToJsonString()), Functions.Json.Json.Context.SummariseInput));

        Assert.All([.. summary.MetricLines, summary.StackLine!], l => Assert.Equal("0f2c-sweep-1", (string?)JsonNode.Parse(l)!["Execution"]));
        Assert.Equal("BrokerLink.ClusterNotReady", (string?)JsonNode.Parse(summary.MetricLines[1])!["Error"]);
        var without = Summariser.Summarise(Functions.Json.Json.Read(Stream(Input([Converged("alpha")])), Functions.Json.Json.Context.SummariseInput));
        Assert.Null(JsonNode.Parse(without.MetricLines[0])!["Execution"]);
    }

    [Fact]
    public void A_dry_run_gets_no_stack_line()
    {
        var summary = Summariser.Summarise(Functions.Json.Json.Read(Stream(Input([DryRun("alpha", hasChanges: true)], dryRun: true, stage: "sweep")),
            Functions.Json.Json.Context.SummariseInput));

        Assert.Null(summary.StackLine);
        Assert.Single(summary.MetricLines);
    }

    [Theory]
    [InlineData("RemovalGuardOverridden", 0)]
    [InlineData("InstanceWithoutPrivateIp", 0)]
    [InlineData("RecordConflict", 1)]
    [InlineData("TargetGroupNotTagged", 1)]
    [InlineData("SomeCodeAddedLater", 1)]
    public void Findings_needing_action_leave_out_only_the_informational_codes(string code, int needingAction)
    {
        var result = Converged("orders", applied: false);
        result["findings"] = new JsonArray(new JsonObject { ["code"] = code, ["subject"] = "x", ["message"] = "y" });

        var summary = Summariser.Summarise(Functions.Json.Json.Read(Stream(Input([result])), Functions.Json.Json.Context.SummariseInput));

        var line = JsonNode.Parse(Assert.Single(summary.MetricLines))!;
        Assert.Equal((1, needingAction), ((int)line["Findings"]!, (int)line["FindingsNeedingAction"]!));
        Assert.Equal(needingAction, (int)JsonNode.Parse(summary.StackLine!)!["FindingsNeedingAction"]!);
    }

    public static TheoryData<string, string, string> Failures => new()
    {
        { "no timestamp",          Input([Converged("alpha")]).Replace("\"timestamp\":\"2025-01-31T12:00:00.123Z\",", ""), "timestamp: missing" },
        { "a timestamp that is not a time", Input([Converged("alpha")], timestamp: "yesterday"),                       "timestamp: 'yesterday' is not an ISO 8601 time" },
        { "a date without a time", Input([Converged("alpha")], timestamp: "2025-01-31"),                              "timestamp: '2025-01-31' is not an ISO 8601 time" },
        { "no results",            """{"stage": "sweep", "trigger": "schedule", "dryRun": false, "timestamp": "2025-01-31T12:00:00Z"}""", "results: missing" },
        { "no stage",              Input([Converged("alpha")]).Replace("\"stage\":\"apply\",", ""),                   "stage: missing" },
        { "an unknown stage",      Input([Converged("alpha")], stage: "detect"),                                     "stage: 'detect' is not sweep or apply" },
        { "a handed-over link in an apply", Input([HandedOver("alpha")]),                                             "results[0].status: 'applying' is not succeeded or failed" },
        { "no trigger",            Input([Converged("alpha")]).Replace("\"trigger\":\"schedule\",", ""),              "trigger: missing" },
        { "an unknown status",     Input([Converged("alpha"), Converged("beta")]).Replace("\"status\":\"succeeded\",\"converged\":true,\"applied\":true,\"summary\":{\"brokers\":3,\"writeCalls\":12,\"targetGroupsCreated\":0,\"listenersCreated\":0,\"targetsRegistered\":0,\"targetsDeregistered\":0,\"recordsUpserted\":0,\"recordsDeleted\":0,\"listenersDeleted\":0,\"targetGroupsDeleted\":0},\"advertisedListeners\":[],\"findings\":[]}]", "\"status\":\"done\"}]"), "results[1].status: 'done' is not succeeded or failed" },
        { "a failure without its error", Input([Caught("alpha", "x", "y")]).Replace("\"error\":\"x\",", ""),          "results[0].error: missing" },
        { "a success without its summary", Input([Converged("alpha")]).Replace("\"summary\":", "\"total\":"),        "results[0].summary: missing" },
        { "a result that is not an object", Input([Converged("alpha")]).Replace("\"results\":[{", "\"results\":[1,{"), "results[0]: expected an object" },
        { "a bad link id",         Input([Converged("Alpha")]),                                                       "results[0].linkId: 'Alpha' is not a link id" },
        { "a link that ran without an id", Input([Caught("alpha", "x", "y")]).Replace("\"linkId\":\"alpha\"", "\"linkId\":null"), "results[0].linkId: missing" },
        { "a bad item that is not a failure", Input([], invalidItems: [Converged("alpha")]),                        "invalidItems[0].status: a bad item is its link's failure" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Summarise_rejects_bad_input_with_a_named_error(string what, string input, string message)
    {
        var thrown = Assert.ThrowsAny<Exception>(() => ReadAll(Lambda.Summarise(Stream(input))));

        Assert.True(thrown is InvalidInputException, $"{what}: {thrown.GetType().Name}: {thrown.Message}");
        Assert.StartsWith(message, thrown.Message);
    }
}
