using System.Text.Json;
using BrokerLink.Functions.Planning;
using BrokerLink.Tests.Support;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests;

/// <summary>The guards of <see cref="Policies"/>: when removals are withheld, and what the operator's override changes.</summary>
public sealed class GuardTests
{
    /// <summary>A converged link (two zones: analytics and provider), then a change to the world.</summary>
    private sealed record Scenario(int[] Brokers, bool Bootstrap, Action<FakeAws> Change);

    private static readonly Dictionary<string, Scenario> Scenarios = new()
    {
        ["broker 2 moves to a new IP"] = new([1, 2, 3], true, aws => aws.MoveBroker(2, "10.0.9.2")),
        ["every broker moves to a new IP"] = new([1, 2, 3], true, aws => aws.MoveBroker(1, "10.0.9.1").MoveBroker(2, "10.0.9.2").MoveBroker(3, "10.0.9.3")),
        ["a stale extra target in broker-2"] = new([1, 2, 3], true, aws => aws.GroupFor("broker-2").Targets[new Target("10.0.9.2", 9094)] = "healthy"),
        ["broker 3 removed"] = new([1, 2, 3], true, aws => aws.RemoveBroker(3)),
        ["broker 3 replaced by broker 4"] = new([1, 2, 3], true, aws => aws.RemoveBroker(3).AddBroker(4)),
        ["broker 2 of 2 removed"] = new([1, 2], true, aws => aws.RemoveBroker(2)),
        ["brokers 2 and 3 removed"] = new([1, 2, 3], true, aws => aws.RemoveBroker(2).RemoveBroker(3)),
        ["3 of 10 brokers removed"] = new([.. Enumerable.Range(1, 10)], false, aws => aws.RemoveBroker(8).RemoveBroker(9).RemoveBroker(10)),
        ["4 of 10 brokers removed"] = new([.. Enumerable.Range(1, 10)], false, aws => aws.RemoveBroker(7).RemoveBroker(8).RemoveBroker(9).RemoveBroker(10)),
        ["1 of 3 brokers removed, no bootstrap"] = new([1, 2, 3], false, aws => aws.RemoveBroker(3)),
        ["records alone: stale ownership records of 3 departed brokers"] = new([1, 2], true, aws =>
        {
            foreach (var (zone, id) in new[] { AnalyticsZone, ProviderZone }.SelectMany(z => new[] { 3, 4, 5 }.Select(id => (z, id))))
            {
                aws.Put(zone, new RecordSetWire(Host(id) + ".", "TXT", Ttl: 300, ResourceRecords: [new(Txt)]));
            }
        }),
        ["targets alone: 8 stale targets in broker-1"] = new([1, 2, 3], true, aws =>
        {
            foreach (var i in Enumerable.Range(1, 8))
            {
                aws.GroupFor("broker-1").Targets[new Target($"10.0.8.{i}", 9094)] = "healthy";
            }
        }),
        ["a draining target does not count"] = new([1, 2, 3], true, aws =>
        {
            aws.GroupFor("broker-1").Targets[new Target("10.0.8.1", 9094)] = "draining";
            aws.RemoveBroker(3);
        }),
    };

    private static LinkConfigWire ConfigFor(Scenario scenario, double? share) =>
        Config(bootstrap: scenario.Bootstrap) with { Guards = share is null ? null : new GuardsWire(share) };

    private static FakeAws Arrange(Scenario scenario, LinkConfigWire config)
    {
        var aws = FakeAws.WithBrokers(scenario.Brokers);
        aws.Converge(config);
        scenario.Change(aws);
        return aws;
    }

    private static string ShareReason(string targets, string records, double share)
    {
        static string Part(string counts, string what)
        {
            var (removed, owned) = (int.Parse(counts.Split('/')[0]), int.Parse(counts.Split('/')[1]));
            return $"{removed} of {owned} {what} ({Math.Round((double)removed / owned, 2).ToString(System.Globalization.CultureInfo.InvariantCulture)})";
        }
        return $"the plan removes {Part(targets, "registered targets")} and {Part(records, "owned record names")}, "
            + $"more than guards.maxRemovalShare {share.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    // The doc comment's table on Policies, then the threshold: exactly the share goes ahead, just above it is blocked.
    [Theory]
    //          scenario                                                        share   targets  records  outcome
    [InlineData("broker 2 moves to a new IP",                                    null,   "0/6",   "0/6",   "applied")]
    [InlineData("every broker moves to a new IP",                                null,   "0/6",   "0/6",   "applied")]
    [InlineData("a stale extra target in broker-2",                              null,   "1/7",   "0/6",   "applied")]
    [InlineData("broker 3 removed",                                              null,   "2/6",   "2/6",   "applied")]
    [InlineData("broker 3 replaced by broker 4",                                 null,   "1/6",   "2/6",   "applied")]
    [InlineData("broker 2 of 2 removed",                                         null,   "2/4",   "2/4",   "applied")]
    [InlineData("brokers 2 and 3 removed",                                       null,   "4/6",   "4/6",   "blocked")]
    [InlineData("brokers 2 and 3 removed",                                       0.67,   "4/6",   "4/6",   "applied")]
    [InlineData("brokers 2 and 3 removed",                                       0.66,   "4/6",   "4/6",   "blocked")]
    [InlineData("brokers 2 and 3 removed",                                       1.0,    "4/6",   "4/6",   "applied")]
    [InlineData("broker 3 removed",                                              0.3,    "2/6",   "2/6",   "blocked")]
    [InlineData("3 of 10 brokers removed",                                       0.3,    "3/10",  "6/20",  "applied")]
    [InlineData("4 of 10 brokers removed",                                       0.3,    "4/10",  "8/20",  "blocked")]
    [InlineData("4 of 10 brokers removed",                                       0.4,    "4/10",  "8/20",  "applied")]
    [InlineData("4 of 10 brokers removed",                                       null,   "4/10",  "8/20",  "applied")]
    [InlineData("1 of 3 brokers removed, no bootstrap",                          0.34,   "1/3",   "2/6",   "applied")]
    [InlineData("1 of 3 brokers removed, no bootstrap",                          0.333,  "1/3",   "2/6",   "blocked")]
    [InlineData("records alone: stale ownership records of 3 departed brokers", null,   "0/4",   "6/10",  "blocked")]
    [InlineData("records alone: stale ownership records of 3 departed brokers", 0.6,    "0/4",   "6/10",  "applied")]
    [InlineData("targets alone: 8 stale targets in broker-1",                    null,   "8/14",  "0/6",   "blocked")]
    [InlineData("targets alone: 8 stale targets in broker-1",                    0.58,   "8/14",  "0/6",   "applied")]
    [InlineData("a draining target does not count",                              null,   "2/6",   "2/6",   "applied")]
    public void Removals_beyond_the_share_of_owned_targets_or_records_are_withheld_and_additions_go_ahead(
        string scenario, double? share, string targets, string records, string outcome)
    {
        var config = ConfigFor(Scenarios[scenario], share);
        var aws = Arrange(Scenarios[scenario], config);
        var input = aws.Observe(config);
        var unguarded = Planner.Plan(aws.Observe(config, allowRemovals: true));

        var plan = Planner.Plan(input);

        var (link, zones) = Planner.LinkAndZones(input);
        Assert.Equal((targets, records), (link.Guard.Targets.ToString(), Policies.RecordShare(zones).ToString()));
        if (outcome == "applied")
        {
            JsonAssert.Equal(unguarded.Changes, plan.Changes, Context.PlanChanges);
            Assert.Null(plan.Blocked);
            Assert.DoesNotContain(plan.Findings, f => f.Code == "RemovalGuardOverridden");
        }
        else
        {
            JsonAssert.Equal(unguarded.Changes.WithoutRemovals(), plan.Changes, Context.PlanChanges);
            Assert.Equal(new Blocked("RemovalShareExceeded", ShareReason(targets, records, share ?? 0.5)
                + ": removals are withheld, additions go ahead; check the plan and run again with allowRemovals: true to remove them"), plan.Blocked);
            Assert.True(unguarded.Changes.AnyRemovals);
        }
    }

    [Theory]
    [InlineData("broker 2 moves to a new IP",                                    null)]
    [InlineData("every broker moves to a new IP",                                null)]
    [InlineData("broker 3 removed",                                              null)]
    [InlineData("broker 3 replaced by broker 4",                                 null)]
    [InlineData("broker 2 of 2 removed",                                         null)]
    [InlineData("3 of 10 brokers removed",                                       0.3)]
    [InlineData("records alone: stale ownership records of 3 departed brokers", 0.6)]
    public void Change_within_the_share_converges_in_one_apply(string scenario, double? share)
    {
        var config = ConfigFor(Scenarios[scenario], share);
        var aws = Arrange(Scenarios[scenario], config);

        Assert.True(aws.Converge(config).HasChanges);

        var verify = Planner.Plan(aws.Observe(config, "verify"));
        Assert.False(verify.HasChanges);
        Assert.Null(verify.Blocked);
    }

    [Theory]
    [InlineData("brokers 2 and 3 removed")]
    [InlineData("records alone: stale ownership records of 3 departed brokers")]
    [InlineData("targets alone: 8 stale targets in broker-1")]
    public void Blocked_link_stays_blocked_until_the_operator_allows_removals_then_converges(string scenario)
    {
        var config = ConfigFor(Scenarios[scenario], null);
        var aws = Arrange(Scenarios[scenario], config);

        aws.Converge(config);
        var verify = Planner.Plan(aws.Observe(config, "verify"));
        Assert.False(verify.HasChanges); // the additions are done; what is left is withheld
        Assert.Equal("RemovalShareExceeded", verify.Blocked?.Code);

        var overridden = aws.Converge(config, allowRemovals: true);
        Assert.Null(overridden.Blocked);
        var finding = Assert.Single(overridden.Findings);
        Assert.Equal(("RemovalGuardOverridden", "allowRemovals"), (finding.Code, finding.Subject));
        Assert.StartsWith("the plan removes ", finding.Message);
        Assert.EndsWith("more than guards.maxRemovalShare 0.5; allowRemovals is true: they are removed", finding.Message);

        var converged = Planner.Plan(aws.Observe(config, "verify"));
        Assert.False(converged.HasChanges);
        Assert.Null(converged.Blocked);
        Assert.Empty(converged.Findings);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(false)]
    public void Without_the_override_the_share_guard_blocks(bool? allowRemovals)
    {
        var config = ConfigFor(Scenarios["brokers 2 and 3 removed"], null);
        var aws = Arrange(Scenarios["brokers 2 and 3 removed"], config);

        var plan = Planner.Plan(aws.Observe(config, allowRemovals: allowRemovals));

        Assert.Equal("RemovalShareExceeded", plan.Blocked?.Code);
        Assert.Empty(plan.Findings);
    }

    [Fact]
    public void Override_within_the_share_changes_nothing_and_logs_nothing()
    {
        var config = ConfigFor(Scenarios["broker 3 removed"], null);
        var aws = Arrange(Scenarios["broker 3 removed"], config);

        var plain = Planner.Plan(aws.Observe(config));
        var overridden = Planner.Plan(aws.Observe(config, allowRemovals: true));

        JsonAssert.Equal(plain, overridden, Context.PlanOutput);
        Assert.Empty(overridden.Findings);
    }

    private const string NotOverridden = "removals are withheld, additions go ahead (allowRemovals does not override this)";

    // Neither guard is about how much is removed: a cluster that is not ACTIVE or has no brokers is never a reason to remove.
    [Theory]
    //          cluster      brokers after  override  blocked.code         reason
    [InlineData("UPDATING",  new[] { 1, 2, 4 }, false, "ClusterNotActive", "the cluster is UPDATING, not ACTIVE, so its broker list is not trustworthy: " + NotOverridden)]
    [InlineData("UPDATING",  new[] { 1, 2, 4 }, true,  "ClusterNotActive", "the cluster is UPDATING, not ACTIVE, so its broker list is not trustworthy: " + NotOverridden)]
    [InlineData("DELETING",  new int[0],        true,  "ClusterNotActive", "the cluster is DELETING, not ACTIVE, so its broker list is not trustworthy: " + NotOverridden)]
    [InlineData("ACTIVE",    new int[0],        false, "NoBrokers",        "ListNodes returned no brokers: " + NotOverridden)]
    [InlineData("ACTIVE",    new int[0],        true,  "NoBrokers",        "ListNodes returned no brokers: " + NotOverridden)]
    [InlineData("UPDATING",  new[] { 1, 2, 3, 4 }, false, null,            null)]
    [InlineData("CREATING",  new[] { 1, 2, 3 }, true,  null,               null)]
    public void Untrustworthy_broker_list_withholds_every_removal_even_with_the_override(
        string clusterState, int[] brokersAfter, bool allowRemovals, string? code, string? reason)
    {
        var aws = FakeAws.WithBrokers(1, 2, 3);
        aws.Converge(Config());
        foreach (var id in aws.Brokers.Keys.Except(brokersAfter).ToList())
        {
            aws.RemoveBroker(id);
        }
        foreach (var id in brokersAfter.Except(aws.Brokers.Keys).ToList())
        {
            aws.AddBroker(id);
        }
        var trusted = Planner.Plan(aws.Observe(Config(), allowRemovals: true));
        aws.ClusterState = clusterState;

        var plan = Planner.Plan(aws.Observe(Config(), allowRemovals: allowRemovals));

        Assert.Equal(code is null ? null : new Blocked(code, reason!), plan.Blocked);
        JsonAssert.Equal(trusted.Changes.WithoutRemovals(), plan.Changes, Context.PlanChanges);
        Assert.Empty(plan.Findings);
    }

    [Fact]
    public void Cluster_without_brokers_and_nothing_owned_is_not_blocked()
    {
        var plan = Planner.Plan(FakeAws.WithBrokers().Observe(Config()));

        Assert.False(plan.HasChanges);
        Assert.Null(plan.Blocked);
    }

    [Fact]
    public void Blocked_plan_writes_its_code_and_reason()
    {
        var aws = FakeAws.WithBrokers(1, 2);
        aws.Converge(Config());
        aws.RemoveBroker(1).RemoveBroker(2);

        var plan = Invoke(Lambda.Plan, Serialise(aws.Observe(Config())));

        JsonAssert.Equal($$"""{"code": "NoBrokers", "reason": "ListNodes returned no brokers: {{NotOverridden}}"}""", plan["blocked"]);
        Assert.False(plan["hasChanges"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData(null,                              0.5)]
    [InlineData("null",                            0.5)]
    [InlineData("{}",                              0.5)]
    [InlineData("{\"maxRemovalShare\": null}",     0.5)]
    [InlineData("{\"maxRemovalShare\": 0.25}",     0.25)]
    [InlineData("{\"maxRemovalShare\": 1}",        1.0)]
    [InlineData("{\"maxRemovalShare\": 1e-9}",     1e-9)]
    public void Max_removal_share_defaults_to_half(string? guards, double expected)
    {
        var json = WriteString(Config(), Context.LinkConfigWire);
        if (guards is not null)
        {
            json = JsonPatch.Set(json, "guards", guards);
        }

        Assert.Equal(expected, LinkConfigReader.Read(JsonDocument.Parse(json).RootElement.Clone()).MaxRemovalShare);
    }

    [Fact]
    public void The_apply_state_machine_applies_every_addition_before_any_removal()
    {
        string[] additions = ["createTargetGroups", "createListeners", "registerTargets", "upsertRecords"];
        string[] removals = ["deregisterTargets", "deleteRecords", "deleteListeners", "deleteTargetGroups"];
        var order = FakeAws.AslApplyOrder.ToList();

        Assert.Equal(additions.Concat(removals).Order(StringComparer.Ordinal), order.Order(StringComparer.Ordinal));
        Assert.True(additions.Max(a => order.IndexOf(a)) < removals.Min(r => order.IndexOf(r)), string.Join(" -> ", order));
    }

    [Fact]
    public void Ip_change_of_every_broker_registers_the_new_ips_before_any_old_one_is_deregistered()
    {
        var aws = FakeAws.WithBrokers(1, 2, 3);
        aws.Converge(Config());
        aws.MoveBroker(1, "10.0.9.1").MoveBroker(2, "10.0.9.2").MoveBroker(3, "10.0.9.3");

        aws.Converge(Config());

        // Live (not draining) targets per owned target group after each phase: never zero for a broker that exists.
        Assert.Equal(
            [
                "registerTargets: bootstrap=6 broker-1=2 broker-2=2 broker-3=2",
                "deregisterTargets: bootstrap=3 broker-1=1 broker-2=1 broker-3=1",
            ],
            aws.Phases.Select(p => $"{p.Phase}: {string.Join(" ", p.Live.Select(kv => $"{kv.Key}={kv.Value}"))}"));
    }

    [Fact]
    public void Fake_aws_fails_a_plan_that_would_leave_an_existing_broker_without_a_target()
    {
        var aws = FakeAws.WithBrokers(1, 2, 3);
        aws.Converge(Config());
        aws.MoveBroker(2, "10.0.9.2");
        var plan = Planner.Plan(aws.Observe(Config()));

        var thrown = Assert.ThrowsAny<Exception>(() => aws.Apply(plan with { Changes = plan.Changes with { RegisterTargets = [] } }));

        Assert.Contains("after deregisterTargets: target groups of existing brokers without a live target: bl-orders-1c168a-b2", thrown.Message);
    }
}
