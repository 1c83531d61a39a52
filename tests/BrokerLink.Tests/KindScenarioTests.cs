using BrokerLink.Functions.Planning;
using BrokerLink.Tests.Support;
using static BrokerLink.Tests.Support.Fixtures;
using static BrokerLink.Tests.Support.KindFixtures;

namespace BrokerLink.Tests;

/// <summary>
/// Every kind through the same life: fresh, a broker added, a broker replaced (new IP), a broker gone. Each step plans
/// against the fake AWS, the plan is applied, and the next plan is empty (converged).
/// </summary>
public sealed class KindScenarioTests
{
    /// <summary>One kind's world: how its brokers come and go in the fake AWS, and its config.</summary>
    private sealed class World(string kind)
    {
        public FakeAws Aws { get; } = new();

        public string Kind => kind;

        /// <summary>msk-nlb-per-broker: the brokers the operator has provisioned (configured).</summary>
        public SortedSet<int> Provisioned { get; } = [];

        public LinkConfigWire Config() => kind switch
        {
            "msk-single-nlb" => Fixtures.Config(bootstrap: true),
            "msk-nlb-per-broker" => PerBroker(Aws, Provisioned),
            "msk-serverless" => Serverless(),
            "ec2-self-managed" => Ec2(bootstrap: true),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        public World Add(int id, string? ip = null)
        {
            ip ??= Ip(id);
            switch (kind)
            {
                case "msk-single-nlb":
                    Aws.AddBroker(id, ip);
                    break;
                case "msk-nlb-per-broker":
                    Aws.AddBroker(id, ip);
                    Provisioned.Add(id);
                    break;
                case "msk-serverless":
                    Aws.EndpointInterfaces[Eni(id)] = ip;
                    break;
                default:
                    Aws.AddInstance(InstanceId(id), id.ToString(System.Globalization.CultureInfo.InvariantCulture), ip);
                    break;
            }
            return this;
        }

        public World Move(int id, string ip)
        {
            switch (kind)
            {
                case "msk-serverless":
                    Aws.EndpointInterfaces[Eni(id)] = ip;
                    break;
                case "ec2-self-managed":
                    // A replaced instance: the old one is terminated, a new one claims the id.
                    Aws.AddInstance(InstanceId(id), id.ToString(System.Globalization.CultureInfo.InvariantCulture), Ip(id), state: "terminated");
                    Aws.AddInstance(InstanceId(id) + "-new", id.ToString(System.Globalization.CultureInfo.InvariantCulture), ip);
                    break;
                default:
                    Aws.MoveBroker(id, ip);
                    break;
            }
            return this;
        }

        public World Remove(int id)
        {
            switch (kind)
            {
                case "msk-serverless":
                    Aws.EndpointInterfaces.Remove(Eni(id));
                    break;
                case "ec2-self-managed":
                    foreach (var instance in Aws.Instances.Where(i => i.Tags.Contains(new Tag("kafka-broker-id", id.ToString(System.Globalization.CultureInfo.InvariantCulture)))).ToList())
                    {
                        Aws.AddInstance(instance.Id, id.ToString(System.Globalization.CultureInfo.InvariantCulture), instance.Ip, state: "terminated");
                    }
                    break;
                default:
                    Aws.RemoveBroker(id);
                    break;
            }
            return this;
        }

        public PlanOutput Plan(string pass = "apply") => Planner.Plan(Aws.Observe(Config(), pass));

        /// <summary>Plans, applies, and asserts the verify plan is empty; returns the applied plan.</summary>
        public PlanOutput Converge()
        {
            var plan = Plan();
            Aws.Apply(plan);
            var verify = Plan("verify");
            Assert.False(verify.HasChanges, $"{kind}: still plans {verify.Summary.WriteCalls} write calls after applying");
            Assert.Null(verify.Blocked);
            return plan;
        }
    }

    public static TheoryData<string> Kinds => ["msk-single-nlb", "msk-nlb-per-broker", "msk-serverless", "ec2-self-managed"];

    private static World Fresh(string kind, params int[] ids)
    {
        var world = new World(kind);
        foreach (var id in ids)
        {
            world.Add(id);
        }
        return world;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Fresh_link_converges_in_one_apply_and_then_plans_nothing(string kind)
    {
        var world = Fresh(kind, 1, 2, 3);

        var first = world.Converge();

        Assert.True(first.HasChanges);
        Assert.Equal(3, first.Summary.Brokers);
        Assert.Empty(first.Findings);
        var again = world.Plan();
        Assert.Equal((false, 0, 3), (again.HasChanges, again.Summary.WriteCalls, again.Summary.Brokers));
    }

    /// <summary>What the first plan after each change must contain (by key), before it converges.</summary>
    public static TheoryData<string, string, string[], string[]> Changes => new()
    {
        { "msk-single-nlb", "added", ["create broker-4", "register bootstrap"], [] },
        { "msk-nlb-per-broker", "added", ["register broker-4"], [] },
        { "msk-serverless", "added", ["register serverless"], [] },
        { "ec2-self-managed", "added", ["create broker-4", "register bootstrap"], [] },
        { "msk-single-nlb", "replaced", ["register bootstrap", "register broker-2"], ["deregister bootstrap", "deregister broker-2"] },
        { "msk-nlb-per-broker", "replaced", ["register broker-2"], ["deregister broker-2"] },
        { "msk-serverless", "replaced", ["register serverless"], ["deregister serverless"] },
        { "ec2-self-managed", "replaced", ["register bootstrap", "register broker-2"], ["deregister bootstrap", "deregister broker-2"] },
        { "msk-single-nlb", "gone", [], ["deregister bootstrap", "delete listener broker-3", "delete group broker-3"] },
        { "msk-nlb-per-broker", "gone", [], ["deregister broker-3"] },
        { "msk-serverless", "gone", [], ["deregister serverless"] },
        { "ec2-self-managed", "gone", [], ["deregister bootstrap", "delete listener broker-3", "delete group broker-3"] },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void Each_broker_change_plans_exactly_its_wiring_and_converges(string kind, string change, string[] additions, string[] removals)
    {
        var world = Fresh(kind, 1, 2, 3);
        world.Converge();
        _ = change switch
        {
            "added" => world.Add(4),
            "replaced" => world.Move(2, "10.0.9.99"),
            _ => world.Remove(3),
        };

        var plan = world.Plan();

        var c = plan.Changes;
        Assert.Equal(additions, (string[])[.. c.CreateTargetGroups.Select(g => $"create {g.Key}"), .. c.CreateListeners.Select(l => $"listener {l.Key}"),
            .. c.RegisterTargets.Select(r => $"register {r.Key}")]);
        Assert.Equal(removals, (string[])[.. c.DeregisterTargets.Select(r => $"deregister {r.Key}"), .. c.DeleteListeners.Select(l => $"delete listener {l.Key}"),
            .. c.DeleteTargetGroups.Select(g => $"delete group {g.Key}")]);
        Assert.Null(plan.Blocked);
        Assert.Empty(plan.Findings);
        // Per-broker kinds name each broker; serverless has one wildcard name, ec2 its configured names.
        var recordChanges = c.UpsertRecords.Concat(c.DeleteRecords).SelectMany(b => b.Changes).Select(x => BrokerLink.Functions.Validation.Names.Normalise(x.ResourceRecordSet.Name)).Distinct().ToList();
        Assert.Equal(kind switch
        {
            "msk-single-nlb" or "msk-nlb-per-broker" => change switch { "added" => [Host(4)], "gone" => [Host(3)], _ => [] },
            _ => (List<string>)[],
        }, recordChanges);
        world.Aws.Apply(plan);
        Assert.False(world.Plan("verify").HasChanges);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_change_in_turn_converges_in_one_apply(string kind)
    {
        var world = Fresh(kind, 1, 2, 3);
        world.Converge();
        var steps = new Func<World>[]
        {
            () => world.Add(4).Add(5),
            () => world.Move(2, "10.0.9.99"),
            () => world.Remove(5),
            () => world.Move(1, "10.0.9.1").Add(6),
            () => world.Remove(1),
        };
        foreach (var step in steps)
        {
            step();
            Assert.True(world.Converge().HasChanges);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void No_brokers_removes_nothing_and_says_why_in_the_kinds_words(string kind)
    {
        var world = Fresh(kind, 1, 2);
        world.Converge();
        world.Remove(1).Remove(2);

        var plan = world.Plan();

        Assert.Equal("NoBrokers", plan.Blocked?.Code);
        Assert.Empty(plan.Changes.DeregisterTargets);
        Assert.Empty(plan.Changes.DeleteRecords);
        Assert.StartsWith(kind switch
        {
            "msk-serverless" => $"VPC endpoint {FakeAws.VpcEndpointId} has no network interface",
            "ec2-self-managed" => "no live EC2 instance tagged kafka-cluster = ledger",
            _ => "ListNodes returned no brokers",
        }, plan.Blocked!.Reason);
    }

    [Theory]
    [InlineData("msk-single-nlb", "ClusterNotActive")]
    [InlineData("msk-nlb-per-broker", "ClusterNotActive")]
    [InlineData("msk-serverless", "ClusterNotActive")]
    [InlineData("ec2-self-managed", null)]
    public void A_cluster_that_is_not_active_blocks_removals_only_for_kinds_with_a_cluster(string kind, string? code)
    {
        var world = Fresh(kind, 1, 2, 3);
        world.Converge();
        world.Remove(3);
        world.Aws.ClusterState = "UPDATING";

        var plan = world.Plan();

        Assert.Equal(code, plan.Blocked?.Code);
        Assert.Equal(code is null, plan.Changes.DeregisterTargets.Count > 0);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Retired_link_removes_what_it_owns_and_never_the_operators_groups(string kind)
    {
        var world = Fresh(kind, 1, 2);
        world.Converge();
        var retired = world.Config() with { Retired = true };
        var operatorGroups = world.Aws.TargetGroups.Where(t => t.Operator).Select(t => (t.Arn, t.Targets.Count)).ToList();

        world.Aws.Apply(Planner.Plan(world.Aws.Observe(retired)));

        Assert.False(Planner.Plan(world.Aws.Observe(retired, "verify")).HasChanges);
        Assert.DoesNotContain(world.Aws.TargetGroups, t => t.Tags.Any(x => x.Key == "brokerlink:key"));
        Assert.Empty(world.Aws.Listeners);
        Assert.All(world.Aws.Zones.Values, zone => Assert.All(zone, r => Assert.Contains(r.Type, new[] { "NS", "SOA" })));
        Assert.Equal(operatorGroups, world.Aws.TargetGroups.Where(t => t.Operator).Select(t => (t.Arn, t.Targets.Count)).ToList());
    }
}
