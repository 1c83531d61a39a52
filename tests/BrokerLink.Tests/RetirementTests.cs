using BrokerLink.Functions;
using BrokerLink.Functions.Planning;
using BrokerLink.Tests.Support;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests;

/// <summary>
/// What onboarding's removals ask of the planner: a retired link (remove-link) desires nothing, and a retiring zone
/// (remove-consumer, a dropped provider zone) loses the link's records. Neither is held back by a guard.
/// </summary>
public sealed class RetirementTests
{
    private static readonly LinkConfigWire Both = Config(billing: true);

    private static FakeAws Converged(LinkConfigWire config, params int[] brokers)
    {
        var aws = FakeAws.WithBrokers(brokers);
        aws.Converge(config);
        Assert.False(Planner.Plan(aws.Observe(config, "verify")).HasChanges);
        return aws;
    }

    private static int OwnedRecords(FakeAws aws, string zone) => aws.Zones[zone].Count(r => r.Type is "A" or "TXT");

    [Theory]
    //          cluster        brokers  listed
    [InlineData("ACTIVE",      true)]
    [InlineData("NOT_OBSERVED", false)]
    [InlineData("UPDATING",    true)]
    public void A_retired_link_removes_everything_it_owns_whatever_its_cluster_says(string clusterState, bool brokersListed)
    {
        var aws = Converged(Both, 1, 2, 3);
        var retired = Both with { Retired = true };
        if (!brokersListed)
        {
            foreach (var id in aws.Brokers.Keys.ToList())
            {
                aws.RemoveBroker(id);
            }
        }
        aws.ClusterState = clusterState;

        var plan = aws.Converge(retired);

        Assert.Null(plan.Blocked);
        Assert.Equal(
            (0, 0, 0, 4, 4, 18, 0),
            (plan.Summary.Brokers, plan.Summary.TargetGroupsCreated, plan.Summary.RecordsUpserted, plan.Summary.ListenersDeleted,
             plan.Summary.TargetGroupsDeleted, plan.Summary.RecordsDeleted, plan.AdvertisedListeners.Count));
        Assert.Empty(aws.TargetGroups);
        Assert.Empty(aws.Listeners);
        Assert.All(new[] { AnalyticsZone, BillingZone, ProviderZone }, zone => Assert.Equal(0, OwnedRecords(aws, zone)));
        Assert.False(Planner.Plan(aws.Observe(retired, "verify")).HasChanges);
    }

    [Fact]
    public void A_retired_link_leaves_what_is_not_its_own()
    {
        var aws = Converged(Config(), 1, 2);
        var foreign = aws.AddTargetGroup("someone-elses", [new Tag("team", "payments")]);
        aws.AddListener(7000, foreign.Arn, []);
        aws.Put(AnalyticsZone, new RecordSetWire("other.kafka.us-east-1.amazonaws.com.", "A", Ttl: 60, ResourceRecords: [new("192.0.2.1")]));

        aws.Converge(Config() with { Retired = true });

        Assert.Equal(["someone-elses"], aws.TargetGroups.Select(t => t.Name));
        Assert.Equal([7000], aws.Listeners.Select(l => l.Port));
        Assert.Equal(["other.kafka.us-east-1.amazonaws.com."], aws.Zones[AnalyticsZone].Where(r => r.Type == "A").Select(r => r.Name));
    }

    [Theory]
    //          cluster     allowRemovals  other removals withheld
    [InlineData("ACTIVE",   false,         false)]
    [InlineData("UPDATING", false,         true)]
    public void A_retiring_zone_loses_the_links_records_even_when_a_guard_withholds_other_removals(string clusterState, bool allowRemovals, bool withheld)
    {
        var aws = Converged(Both, 1, 2, 3);
        var withoutBilling = Config() with { RetiringZones = [new RetiringZoneWire(BillingZone, BillingRole, "billing", null)] };
        aws.RemoveBroker(3);
        aws.ClusterState = clusterState;

        var plan = Planner.Plan(aws.Observe(withoutBilling, allowRemovals: allowRemovals));

        var deleted = plan.Changes.DeleteRecords.GroupBy(b => b.HostedZoneId).ToDictionary(g => g.Key, g => g.Sum(b => b.Changes.Count));
        var expected = new Dictionary<string, int> { [BillingZone] = 6 };
        if (!withheld)
        {
            expected[AnalyticsZone] = 2;
            expected[ProviderZone] = 2;
        }
        Assert.Equal(expected.OrderBy(kv => kv.Key), deleted.OrderBy(kv => kv.Key));
        Assert.Equal(withheld ? "ClusterNotActive" : null, plan.Blocked?.Code);
        Assert.All(plan.Changes.DeleteRecords.Where(b => b.HostedZoneId == BillingZone), b => Assert.Equal(BillingRole, b.RoleArn));
        Assert.DoesNotContain(plan.Changes.UpsertRecords, b => b.HostedZoneId == BillingZone);
    }

    [Fact]
    public void Removing_the_only_consumer_is_not_held_back_by_the_removal_share()
    {
        var analyticsOnly = Config(provider: false);
        var aws = Converged(analyticsOnly, 1, 2, 3);
        var none = analyticsOnly with { Consumers = [], RetiringZones = [new RetiringZoneWire(AnalyticsZone)] };

        var plan = aws.Converge(none);

        Assert.Null(plan.Blocked);
        Assert.Equal(6, plan.Summary.RecordsDeleted);
        Assert.Equal(0, OwnedRecords(aws, AnalyticsZone));
        Assert.Equal(4, aws.TargetGroups.Count);
    }

    private static readonly Dictionary<string, (LinkConfigWire Config, string Message)> BadMarks = new()
    {
        ["a retiring zone that is still a consumer's"] = (Config() with { RetiringZones = [new RetiringZoneWire(AnalyticsZone)] },
            "linkConfig.retiringZones[0].hostedZoneId: zone Z0ANALYTICS is also a current zone of the link or retiring twice"),
        ["a zone retiring twice"] = (Config() with { RetiringZones = [new RetiringZoneWire(BillingZone), new RetiringZoneWire(BillingZone)] },
            "linkConfig.retiringZones[1].hostedZoneId: zone Z0BILLING is also a current zone of the link or retiring twice"),
        ["a retiring zone's bad role"] = (Config() with { RetiringZones = [new RetiringZoneWire(BillingZone, "billing-role")] },
            "linkConfig.retiringZones[0].roleArn: 'billing-role' is not an IAM role ARN"),
        ["an endpoint service id that is not one"] = (Config() with { EndpointServiceId = "svc-123" },
            "linkConfig.endpointServiceId: 'svc-123' is not a VPC endpoint service id"),
        ["a consumer principal of '*'"] = (Config() with { Consumers = [new ConsumerWire("analytics", AnalyticsZone, AnalyticsEndpoint, EndpointZone, null, "*")] },
            "linkConfig.consumers[0].principal: '*' would allow every AWS account"),
    };

    [Theory]
    [InlineData("a retiring zone that is still a consumer's")]
    [InlineData("a zone retiring twice")]
    [InlineData("a retiring zone's bad role")]
    [InlineData("an endpoint service id that is not one")]
    [InlineData("a consumer principal of '*'")]
    public void Onboarding_fields_of_a_link_config_are_validated(string what)
    {
        var (config, message) = BadMarks[what];

        var thrown = Assert.Throws<InvalidInputException>(() => LinkConfigReader.Validate(config));

        Assert.True(thrown.Message.StartsWith(message, StringComparison.Ordinal), $"{what}: {thrown.Message}");
    }
}
