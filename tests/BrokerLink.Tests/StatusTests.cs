using System.Text.Json;
using System.Text.Json.Nodes;
using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Summarising;
using BrokerLink.Tests.Support;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;
using static BrokerLink.Tests.Support.KindFixtures;

namespace BrokerLink.Tests;

/// <summary>
/// <c>{"action": "status"}</c>: a link's status from the observations its plan is made from. A link of brokers 1-3 is
/// wired (converged), then one thing changes; the status must say what, and nothing else.
/// </summary>
public sealed class StatusTests
{
    private static readonly LastChangeItemWire LastWrite = new(new LastChangeAttributesWire(
        new AttributeValue("2026-12-01T09:00:00.000Z"), new AttributeValue("orders-sweep-1"), new AttributeValue(N: "4")));

    private static PlanOutput Plan(FakeAws aws, LinkConfigWire config, bool status = true, LastChangeItemWire? last = null) =>
        Planner.Plan(aws.Observe(config, "verify") with { Status = status, LastChange = last });

    private static FakeAws Wired(LinkConfigWire config, FakeAws aws)
    {
        aws.Apply(Planner.Plan(aws.Observe(config)));
        Assert.False(Planner.Plan(aws.Observe(config, "verify")).HasChanges);
        // Registered targets start "initial" and pass their health checks.
        foreach (var group in aws.TargetGroups)
        {
            foreach (var target in group.Targets.Where(t => t.Value == "initial").Select(t => t.Key).ToList())
            {
                group.Targets[target] = "healthy";
            }
        }
        return aws;
    }

    private static void Unhealthy(FakeAws aws, string key)
    {
        var group = aws.GroupFor(key);
        group.Targets[group.Targets.Keys.Single()] = "unhealthy";
    }

    private static void ForeignTxt(FakeAws aws, string zone, string name)
    {
        aws.Remove(zone, name, "TXT");
        aws.Put(zone, new RecordSetWire(name + ".", "TXT", Ttl: 300, ResourceRecords: [new ResourceRecordWire("\"someone-else\"")]));
    }

    /// <summary>
    /// what happened after the link was wired -> converged, pending write calls (&gt; 0 or 0), unhealthy targets, finding
    /// codes, each broker's state, and the analytics zone as owned/wanted.
    /// </summary>
    public static TheoryData<string, bool, bool, int, string, string, string> SingleNlb => new()
    {
        { "nothing",                        true,  false, 0, "",               "1:wired 2:wired 3:wired",           "3/3" },
        { "a target failing health checks", true,  false, 1, "",               "1:wired 2:wired 3:wired",           "3/3" },
        { "a new broker, not wired yet",    false, true,  2, "",               "1:wired 2:wired 3:wired 4:pending", "3/4" },
        { "a consumer record in conflict",  true,  false, 0, "RecordConflict", "1:wired 2:wired 3:wired",           "2/3" },
        { "a broker's IP changed",          false, true,  2, "",               "1:wired 2:wired 3:pending",         "3/3" },
        { "the cluster in an operation",    false, false, 0, "",               "1:wired 2:wired 3:wired",           "3/3" },
    };

    private static void Change(FakeAws aws, string what)
    {
        switch (what)
        {
            case "a target failing health checks": Unhealthy(aws, "broker-2"); break;
            case "a new broker, not wired yet": aws.AddBroker(4); break;
            case "a consumer record in conflict": ForeignTxt(aws, AnalyticsZone, Host(2)); break;
            case "a broker's IP changed": aws.MoveBroker(3, "10.9.9.9"); break;
            case "the cluster in an operation": aws.ClusterState = "REBOOTING_BROKER"; break;
            default: Assert.Equal("nothing", what); break;
        }
    }

    [Theory]
    [MemberData(nameof(SingleNlb))]
    public void A_single_nlb_links_status_says_what_changed_and_nothing_else(
        string what, bool converged, bool pending, int unhealthy, string findings, string brokers, string analytics)
    {
        var aws = Wired(Config(), FakeAws.WithBrokers(1, 2, 3));
        Change(aws, what);

        var status = Plan(aws, Config(), last: LastWrite).Status!;

        var o = status.Overview;
        Assert.Equal(("orders", "msk-single-nlb", converged, pending, unhealthy), (o.LinkId, o.Kind, o.Converged, o.PendingWriteCalls > 0, o.UnhealthyTargets));
        Assert.Equal(findings, string.Join(" ", o.Findings.Keys));
        Assert.Equal(brokers, string.Join(" ", status.Brokers.Select(b => $"{b.BrokerId}:{b.State}")));
        var zone = status.Zones.Single(z => z.HostedZoneId == AnalyticsZone);
        Assert.Equal(("analytics", analytics), (zone.Owner, $"{zone.Owned}/{zone.Wanted}"));
        Assert.Equal(new LastChange("2026-12-01T09:00:00.000Z", "orders-sweep-1", 4), o.LastChange);
    }

    [Fact]
    public void A_wired_broker_lists_its_ip_listener_target_group_and_health_and_every_zone_points_to_its_alias()
    {
        var aws = Wired(Config(), FakeAws.WithBrokers(1, 2, 3));
        Unhealthy(aws, "broker-2");

        var status = Plan(aws, Config()).Status!;

        var broker = status.Brokers.Single(b => b.BrokerId == 2);
        Assert.Equal((Host(2), Ip(2), (int?)9002), (broker.Name, broker.Ip, broker.ListenerPort));
        var group = status.TargetGroups.Single(g => g.Key == "broker-2");
        Assert.Equal(("present", (int?)9002, aws.GroupFor("broker-2").Arn), (group.State, group.ListenerPort, group.Arn));
        Assert.Equal([new TargetStatus(Ip(2), 9094, "unhealthy", null)], group.Targets);
        var bootstrap = status.TargetGroups.First();
        Assert.Equal(("bootstrap", (int?)8999, 3), (bootstrap.Key, bootstrap.ListenerPort, bootstrap.Targets.Count(t => t.Health == "healthy")));
        // Every owned name of a zone aliases its one target: listed once (null), not per zone.
        Assert.Equal(["analytics", "provider"], status.Zones.Select(z => z.Owner));
        var analytics = Assert.Single(status.Zones[0].PointsTo);
        Assert.Equal((AnalyticsEndpoint, 3, (IReadOnlyList<string>?)null), (analytics.DnsName, analytics.Records, analytics.Names));
        Assert.Contains(NlbDnsName, Assert.Single(status.Zones[1].PointsTo).DnsName!, StringComparison.Ordinal);
        Assert.Null(status.Overview.LastChange);
    }

    [Fact]
    public void A_zone_with_a_conflict_lists_the_names_it_owns_and_the_finding_names_the_other()
    {
        var aws = Wired(Config(), FakeAws.WithBrokers(1, 2, 3));
        ForeignTxt(aws, AnalyticsZone, Host(2));

        var status = Plan(aws, Config()).Status!;

        var points = Assert.Single(status.Zones[0].PointsTo);
        Assert.Equal([Host(1), Host(3)], points.Names);
        var finding = Assert.Single(status.Findings);
        Assert.Equal(("RecordConflict", Host(2)), (finding.Code, finding.Subject));
    }

    [Fact]
    public void A_broker_the_operator_has_not_provisioned_is_named_by_its_finding()
    {
        var aws = FakeAws.WithBrokers(1, 2, 3);
        var config = PerBroker(aws, [1, 2]);
        Wired(config, aws);

        var status = Plan(aws, config).Status!;

        Assert.Equal("1:wired 2:wired 3:BrokerNeedsProvisioning", string.Join(" ", status.Brokers.Select(b => $"{b.BrokerId}:{b.State}")));
        Assert.Equal(["broker-1", "broker-2"], status.TargetGroups.Select(g => g.Key));
        Assert.All(status.TargetGroups, g => Assert.Null(g.ListenerPort)); // the operator's listeners are not observed
        Assert.Equal(1, status.Overview.Findings["BrokerNeedsProvisioning"]);
        Assert.True(status.Overview.Converged);
    }

    [Fact]
    public void A_serverless_link_lists_its_endpoint_interfaces_as_targets_and_no_brokers()
    {
        var aws = new FakeAws();
        aws.EndpointInterfaces[Eni(1)] = "10.0.5.1";
        aws.EndpointInterfaces[Eni(2)] = "10.0.5.2";
        Wired(Serverless(), aws);

        var status = Plan(aws, Serverless()).Status!;

        Assert.Empty(status.Brokers);
        var group = Assert.Single(status.TargetGroups);
        Assert.Equal("serverless", group.Key);
        Assert.Equal(["10.0.5.1", "10.0.5.2"], group.Targets.Select(t => t.Id));
        var points = Assert.Single(status.Zones[0].PointsTo);
        Assert.Equal((1, 1, 1, (IReadOnlyList<string>?)null), (status.Zones[0].Wanted, status.Zones[0].Owned, points.Records, points.Names));
    }

    [Fact]
    public void A_plan_without_status_carries_none_and_is_the_same_plan()
    {
        var aws = Wired(Config(), FakeAws.WithBrokers(1, 2, 3));
        aws.AddBroker(4);

        var without = Plan(aws, Config(), status: false);
        var with = Plan(aws, Config(), status: true);

        Assert.Null(without.Status);
        Assert.Equal(WriteString(without, Context.PlanOutput), WriteString(with with { Status = null }, Context.PlanOutput));
    }

    // ------------------------------------------------------------------ the report

    private static JsonElement Result(PlanOutput plan, bool detail)
    {
        var result = new JsonObject
        {
            ["linkId"] = plan.LinkId,
            ["status"] = "succeeded",
            ["overview"] = JsonNode.Parse(WriteString(plan.Status!, Context.LinkStatus))!["overview"]!.DeepClone(),
        };
        if (detail)
        {
            result["detail"] = JsonNode.Parse(WriteString(plan.Status!, Context.LinkStatus));
        }
        return JsonSerializer.SerializeToElement(result);
    }

    [Fact]
    public void The_report_has_a_row_per_link_a_failed_one_included_and_tables_for_each_detailed_link()
    {
        var aws = Wired(Config(), FakeAws.WithBrokers(1, 2, 3));
        Unhealthy(aws, "broker-2");
        ForeignTxt(aws, AnalyticsZone, Host(1));
        var failed = JsonSerializer.SerializeToElement(new JsonObject
        {
            ["linkId"] = "broken", ["status"] = "failed", ["error"] = "BrokerLink.InvalidInput", ["cause"] = "linkConfig.kind: missing",
        });

        var report = StatusReport.Report(new SummariseInput(Stage: "status", Trigger: "manual", Results: [Result(Plan(aws, Config(), last: LastWrite), detail: true), failed]));

        var lines = report.Text.Split('\n');
        Assert.StartsWith("LINK    KIND            CLUSTER  BROKERS  UNHEALTHY  CONVERGED", lines[0]);
        Assert.StartsWith("broken  -", lines[1]);
        Assert.Contains("FAILED BrokerLink.InvalidInput: linkConfig.kind: missing", lines[1]);
        Assert.Matches(@"^orders  msk-single-nlb  ACTIVE   3        1          yes\s+RecordConflict x1\s+2026-12-01T09:00:00.000Z orders-sweep-1 \(4 write calls\)$", lines[2]);
        Assert.Contains("orders (msk-single-nlb, cluster ACTIVE): converged", report.Text);
        Assert.Contains(lines, l => l.StartsWith("  2       " + Host(2), StringComparison.Ordinal) && l.Contains(Ip(2)) && l.EndsWith("wired", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"{Ip(2)}:9094", StringComparison.Ordinal) && l.EndsWith("unhealthy", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"  {AnalyticsZone}", StringComparison.Ordinal) && l.Contains("2/3") && l.Contains($"{AnalyticsEndpoint} (2: {Host(2)}, {Host(3)})"));
        Assert.Contains(lines, l => l.StartsWith("  RecordConflict", StringComparison.Ordinal) && l.Contains(Host(1)));
        Assert.Equal(2, report.Links.Count);
    }

    [Fact]
    public void An_overview_only_link_is_a_row_without_tables()
    {
        var aws = Wired(Config(), FakeAws.WithBrokers(1, 2, 3));
        aws.AddBroker(4);

        var report = StatusReport.Report(new SummariseInput(Stage: "status", Trigger: "manual", Results: [Result(Plan(aws, Config()), detail: false)]));

        var lines = report.Text.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^orders  msk-single-nlb  ACTIVE   4        2          no, \d+ writes pending  -\s+none recorded$", lines[1]);
    }

    [Theory]
    [InlineData("""{"linkId": "orders"}""", "results[0].status: missing")]
    [InlineData("""{"linkId": "orders", "status": "succeeded"}""", "results[0].overview: missing")]
    [InlineData("""{"linkId": "orders", "status": "succeeded", "overview": {"linkId": "orders"}}""", "results[0].overview")]
    public void A_result_the_report_cannot_read_is_refused_by_name(string result, string message)
    {
        var thrown = Assert.Throws<BrokerLink.Functions.InvalidInputException>(() =>
            StatusReport.Report(new SummariseInput(Stage: "status", Trigger: "manual", Results: [JsonDocument.Parse(result).RootElement])));

        Assert.StartsWith(message, thrown.Message);
    }
}
