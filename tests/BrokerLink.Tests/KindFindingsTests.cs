using BrokerLink.Functions.Planning;
using BrokerLink.Tests.Support;
using static BrokerLink.Tests.Support.Fixtures;
using static BrokerLink.Tests.Support.KindFixtures;

namespace BrokerLink.Tests;

/// <summary>Limits and findings (docs/contract.md, "Limits and findings"): never a crash, never a reason to touch healthy brokers.</summary>
public sealed class KindFindingsTests
{
    private static PlanOutput Plan(FakeAws aws, LinkConfigWire config) => Planner.Plan(aws.Observe(config));

    private static string Id(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static List<(string Code, string Subject)> Codes(PlanOutput plan) => [.. plan.Findings.Select(f => (f.Code, f.Subject))];

    private static void AssertConverged(FakeAws aws, LinkConfigWire config)
    {
        var plan = Plan(aws, config);
        aws.Apply(plan);
        Assert.False(Planner.Plan(aws.Observe(config, "verify")).HasChanges);
    }

    // ------------------------------------------------------------------ DuplicateBrokerId

    [Fact]
    public void Ec2_two_live_instances_claiming_one_id_hold_that_broker_and_the_others_converge()
    {
        var aws = new FakeAws();
        foreach (var id in new[] { 1, 2, 3 })
        {
            aws.AddInstance(InstanceId(id), Id(id), Ip(id));
        }
        AssertConverged(aws, Ec2());
        aws.AddInstance("i-0intruder00000002", "2", "10.0.9.2");
        aws.AddInstance(InstanceId(4), "4", Ip(4));

        var plan = Plan(aws, Ec2());

        Assert.Equal([("DuplicateBrokerId", "broker-2")], Codes(plan));
        Assert.Contains("i-0intruder00000002", plan.Findings[0].Message);
        Assert.Contains(InstanceId(2), plan.Findings[0].Message);
        Assert.Equal(["broker-4"], plan.Changes.CreateTargetGroups.Select(g => g.Key));
        Assert.Empty(plan.Changes.RegisterTargets);
        Assert.Empty(plan.Changes.DeregisterTargets);
        Assert.Empty(plan.Changes.DeleteListeners);
        Assert.Empty(plan.Changes.DeleteTargetGroups);
        Assert.Equal(4, plan.Summary.Brokers);
        Assert.DoesNotContain(plan.ServerProperties, p => p.BrokerId == 2);
    }

    [Theory]
    [InlineData("msk-single-nlb")]
    [InlineData("msk-nlb-per-broker")]
    public void ListNodes_reporting_one_id_twice_holds_that_broker_instead_of_failing(string kind)
    {
        var aws = FakeAws.WithBrokers(1, 2, 3);
        LinkConfigWire Config() => kind == "msk-single-nlb" ? Fixtures.Config(bootstrap: false) : PerBroker(aws, [1, 2, 3]);
        AssertConverged(aws, Config());
        aws.ExtraNodes.Add(new FakeAws.Broker(2, "10.0.9.2", Host(2)));
        aws.MoveBroker(3, "10.0.9.3");

        var plan = Plan(aws, Config());

        Assert.Equal([("DuplicateBrokerId", "broker-2")], Codes(plan));
        Assert.Equal(["broker-3"], plan.Changes.RegisterTargets.Select(r => r.Key));
        Assert.Equal(["broker-3"], plan.Changes.DeregisterTargets.Select(r => r.Key));
        Assert.Empty(plan.Changes.DeleteRecords);
        Assert.Empty(plan.Changes.DeleteTargetGroups);
        Assert.DoesNotContain(plan.AdvertisedListeners, a => a.BrokerId == 2);
    }

    // ------------------------------------------------------------------ InvalidBrokerIdTag

    [Theory]
    [InlineData(null)]
    [InlineData("abc")]
    [InlineData("70000")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("")]
    public void Ec2_instance_with_a_bad_broker_id_tag_is_ignored_with_a_finding(string? tag)
    {
        var aws = new FakeAws();
        aws.AddInstance(InstanceId(1), "1", Ip(1));
        aws.AddInstance("i-0bad0000000000001", tag, "10.0.9.1");

        var plan = Plan(aws, Ec2());

        Assert.Equal([("InvalidBrokerIdTag", "i-0bad0000000000001")], Codes(plan));
        Assert.Equal(["broker-1"], plan.Changes.CreateTargetGroups.Select(g => g.Key));
        Assert.Equal(1, plan.Summary.Brokers);
    }

    [Fact]
    public void Ec2_instances_not_tagged_for_the_link_or_gone_are_not_brokers_and_stopped_ones_keep_their_wiring()
    {
        var aws = new FakeAws();
        aws.AddInstance(InstanceId(0), "0", Ip(0));
        aws.AddInstance(InstanceId(1), "1", Ip(1), state: "pending");
        aws.AddInstance(InstanceId(2), "2", Ip(2), clusterTag: "another-cluster");
        aws.AddInstance(InstanceId(3), "3", Ip(3), state: "shutting-down");
        aws.AddInstance(InstanceId(4), "4", Ip(4), state: "terminated");
        var first = Plan(aws, Ec2());
        Assert.Equal(["broker-0", "broker-1"], first.Changes.CreateTargetGroups.Select(g => g.Key));
        Assert.Equal([6000, 6001], first.Changes.CreateTargetGroups.Select(g => g.Listener!.Port));
        Assert.StartsWith("bl-orders-1c168a-b0", first.Changes.CreateTargetGroups[0].Name);
        aws.Apply(first);

        aws.AddInstance(InstanceId(1), "1", Ip(1), state: "stopped");

        Assert.False(Plan(aws, Ec2()).HasChanges);
    }

    [Fact]
    public void Ec2_plan_writes_each_brokers_server_properties()
    {
        var aws = new FakeAws();
        aws.AddInstance(InstanceId(2), "2", "10.0.1.22");
        aws.AddInstance(InstanceId(1), "1", "10.0.1.21");

        var plan = Plan(aws, Ec2());

        Assert.Equal(
        [
            new ServerPropertiesEntry(1, InstanceId(1), [
                "listeners=INTERNAL://0.0.0.0:9092,PRIVATELINK://0.0.0.0:9093",
                "advertised.listeners=INTERNAL://10.0.1.21:9092,PRIVATELINK://ledger.kafka.internal:6001",
                "listener.security.protocol.map=INTERNAL:SSL,PRIVATELINK:SSL",
                "inter.broker.listener.name=INTERNAL"]),
            new ServerPropertiesEntry(2, InstanceId(2), [
                "listeners=INTERNAL://0.0.0.0:9092,PRIVATELINK://0.0.0.0:9093",
                "advertised.listeners=INTERNAL://10.0.1.22:9092,PRIVATELINK://ledger.kafka.internal:6002",
                "listener.security.protocol.map=INTERNAL:SSL,PRIVATELINK:SSL",
                "inter.broker.listener.name=INTERNAL"]),
        ], plan.ServerProperties, new ServerPropertiesComparer());
        Assert.Empty(plan.AdvertisedListeners);
        Assert.Equal([RecordName], plan.Changes.UpsertRecords.SelectMany(b => b.Changes).Select(c => c.ResourceRecordSet.Name).Distinct());
        Assert.Empty(Plan(FakeAws.WithBrokers(1), Fixtures.Config()).ServerProperties);
    }

    private sealed class ServerPropertiesComparer : IEqualityComparer<ServerPropertiesEntry>
    {
        public bool Equals(ServerPropertiesEntry? x, ServerPropertiesEntry? y) =>
            x is not null && y is not null && (x.BrokerId, x.InstanceId) == (y.BrokerId, y.InstanceId) && x.Lines.SequenceEqual(y.Lines);

        public int GetHashCode(ServerPropertiesEntry obj) => obj.BrokerId;
    }

    // ------------------------------------------------------------------ msk-nlb-per-broker

    [Fact]
    public void Per_broker_broker_the_operator_has_not_provisioned_gets_a_finding_and_no_record()
    {
        var aws = FakeAws.WithBrokers(1, 2, 3, 4);
        var config = PerBroker(aws, [1, 2, 3]);

        var plan = Plan(aws, config);

        Assert.Equal([("BrokerNeedsProvisioning", "broker-4")], Codes(plan));
        Assert.Equal(["broker-1", "broker-2", "broker-3"], plan.Changes.RegisterTargets.Select(r => r.Key));
        var names = plan.Changes.UpsertRecords.SelectMany(b => b.Changes).Select(c => c.ResourceRecordSet.Name).Distinct();
        Assert.Equal([Host(1), Host(2), Host(3)], names);
        Assert.Empty(plan.Changes.CreateTargetGroups);
        Assert.Empty(plan.Changes.CreateListeners);
        aws.Apply(plan);
        var verify = Planner.Plan(aws.Observe(config, "verify"));
        Assert.False(verify.HasChanges);
        Assert.Equal([("BrokerNeedsProvisioning", "broker-4")], Codes(verify));
    }

    [Fact]
    public void Per_broker_consumer_without_an_endpoint_for_a_broker_gets_no_record_for_it()
    {
        var aws = FakeAws.WithBrokers(1, 2, 3);
        var config = PerBroker(aws, [1, 2, 3], endpoints: [1, 3]);

        var plan = Plan(aws, config);

        var finding = Assert.Single(plan.Findings);
        Assert.Equal(("BrokerNeedsProvisioning", "broker-2"), (finding.Code, finding.Subject));
        Assert.Contains("consumer 'analytics'", finding.Message);
        var records = plan.Changes.UpsertRecords.Single().Changes.Where(c => c.ResourceRecordSet.Type == "A").ToList();
        Assert.Equal([(Host(1), BrokerEndpoint(1)), (Host(3), BrokerEndpoint(3))],
            records.Select(r => (r.ResourceRecordSet.Name, r.ResourceRecordSet.AliasTarget!.DnsName)));
        Assert.Equal(["broker-1", "broker-2", "broker-3"], plan.Changes.RegisterTargets.Select(r => r.Key));
    }

    [Fact]
    public void Per_broker_target_group_without_the_link_tag_is_left_alone_with_a_finding()
    {
        var aws = FakeAws.WithBrokers(1, 2);
        OperatorGroup(aws, 2, tagged: false);
        var config = PerBroker(aws, [1, 2]);

        var plan = Plan(aws, config);

        Assert.Equal([("TargetGroupNotTagged", "broker-2")], Codes(plan));
        Assert.Equal(["broker-1"], plan.Changes.RegisterTargets.Select(r => r.Key));
        Assert.Equal(2, plan.Changes.UpsertRecords.Single().Changes.Count(c => c.ResourceRecordSet.Type == "A"));
        aws.Apply(plan);
        Assert.Empty(OperatorGroup(aws, 2).Targets);
    }

    [Fact]
    public void Per_broker_never_creates_or_deletes_groups_and_empties_a_gone_brokers_group()
    {
        var aws = FakeAws.WithBrokers(1, 2, 3);
        var config = PerBroker(aws, [1, 2, 3]);
        AssertConverged(aws, config);
        aws.RemoveBroker(3);

        var plan = Plan(aws, config);

        var deregistered = Assert.Single(plan.Changes.DeregisterTargets);
        Assert.Equal(("broker-3", OperatorGroup(aws, 3).Arn, new Target(Ip(3), 9094)), (deregistered.Key, deregistered.TargetGroupArn, Assert.Single(deregistered.Targets)));
        Assert.Empty(plan.Changes.DeleteTargetGroups);
        Assert.Empty(plan.Changes.DeleteListeners);
        Assert.Equal(2, plan.Summary.WriteCalls); // the deregistration and the record deletion
        aws.Apply(plan);
        Assert.Contains(aws.TargetGroups, t => t.Arn == OperatorGroup(aws, 3).Arn);
    }

    [Fact]
    public void More_than_500_record_changes_are_split_with_each_alias_beside_its_txt()
    {
        // Replaces the msk-single-nlb version: a single NLB holds at most 50 listeners, so 251 brokers need per-broker NLBs.
        var ids = Enumerable.Range(1, 251).ToArray();
        var aws = FakeAws.WithBrokers(ids);

        var plan = Plan(aws, PerBroker(aws, ids));

        var batches = plan.Changes.UpsertRecords;
        Assert.Equal([500, 2], batches.Select(b => b.Changes.Count));
        Assert.All(batches.SelectMany(b => b.Changes.Chunk(2)), pair =>
            Assert.Equal((pair[0].ResourceRecordSet.Name, "A", "TXT"), (pair[1].ResourceRecordSet.Name, pair[0].ResourceRecordSet.Type, pair[1].ResourceRecordSet.Type)));
        Assert.Equal(251 + 2, plan.Summary.WriteCalls);
    }

    // ------------------------------------------------------------------ PortOutOfRange

    [Fact]
    public void Msk_broker_whose_listener_port_is_above_65535_gets_nothing_and_the_rest_converges()
    {
        var aws = FakeAws.WithBrokers(1, 2, 3);
        var config = Fixtures.Config(bootstrap: false) with { ListenerBasePort = 65533 };

        var plan = Plan(aws, config);

        Assert.Equal([("PortOutOfRange", "broker-3")], Codes(plan));
        Assert.Contains("65533 + 3 = 65536", plan.Findings[0].Message);
        Assert.Equal([("broker-1", 65534), ("broker-2", 65535)], plan.Changes.CreateTargetGroups.Select(g => (g.Key, g.Listener!.Port)));
        Assert.DoesNotContain(plan.Changes.UpsertRecords.SelectMany(b => b.Changes), c => c.ResourceRecordSet.Name == Host(3));
        Assert.Equal([1, 2], plan.AdvertisedListeners.Select(a => a.BrokerId));
        Assert.Equal(3, plan.Summary.Brokers);
        AssertConverged(aws, config);
    }

    [Fact]
    public void Ec2_broker_whose_listener_port_is_above_65535_gets_no_listener_nor_server_properties()
    {
        var aws = new FakeAws();
        aws.AddInstance(InstanceId(0), "0", Ip(0));
        aws.AddInstance(InstanceId(1), "1", Ip(1));
        var config = Ec2(listenerBasePort: 65535);

        var plan = Plan(aws, config);

        Assert.Equal([("PortOutOfRange", "broker-1")], Codes(plan));
        Assert.Equal(["broker-0"], plan.Changes.CreateTargetGroups.Select(g => g.Key));
        Assert.Equal([0], plan.ServerProperties.Select(p => p.BrokerId));
        AssertConverged(aws, config);
    }

    // ------------------------------------------------------------------ BootstrapPortConflict

    [Fact]
    public void Msk_brokers_added_up_to_the_bootstrap_port_leave_that_broker_unwired_and_the_rest_converges()
    {
        var aws = FakeAws.WithBrokers(1, 2);
        var config = Fixtures.Config(bootstrap: true, provider: false) with { BootstrapPort = 9003 };
        AssertConverged(aws, config);
        aws.AddBroker(3).AddBroker(4);

        var plan = Plan(aws, config);

        Assert.Equal([("BootstrapPortConflict", "broker-3")], Codes(plan));
        Assert.Contains("9000 + 3 = 9003, the bootstrapPort", plan.Findings[0].Message);
        Assert.Null(plan.Blocked);
        Assert.Equal([("broker-4", 9004)], plan.Changes.CreateTargetGroups.Select(g => (g.Key, g.Listener!.Port)));
        Assert.Equal([("bootstrap", Ip(4))], plan.Changes.RegisterTargets.SelectMany(r => r.Targets.Select(t => (r.Key, t.Id))));
        Assert.Empty(plan.Changes.DeleteListeners);
        var named = plan.Changes.UpsertRecords.SelectMany(b => b.Changes).Select(c => c.ResourceRecordSet.Name).ToHashSet();
        Assert.DoesNotContain(Host(3), named);
        Assert.Contains(Host(4), named);
        Assert.Equal([1, 2, 4], plan.AdvertisedListeners.Select(a => a.BrokerId));
        Assert.Equal(4, plan.Summary.Brokers);
        AssertConverged(aws, config);
    }

    [Fact]
    public void Ec2_broker_whose_listener_port_is_the_bootstrap_port_gets_no_listener_nor_server_properties()
    {
        var aws = new FakeAws();
        aws.AddInstance(InstanceId(0), "0", Ip(0));
        aws.AddInstance(InstanceId(1), "1", Ip(1));
        var config = Ec2(bootstrap: true) with { BootstrapPort = 6001 };

        var plan = Plan(aws, config);

        Assert.Equal([("BootstrapPortConflict", "broker-1")], Codes(plan));
        Assert.Equal([("bootstrap", 6001), ("broker-0", 6000)], plan.Changes.CreateTargetGroups.Select(g => (g.Key, g.Listener!.Port)));
        Assert.Equal([Ip(0)], plan.Changes.CreateTargetGroups[0].Targets.Select(t => t.Id));
        Assert.Equal([0], plan.ServerProperties.Select(p => p.BrokerId));
        AssertConverged(aws, config);
    }

    // ------------------------------------------------------------------ ListenerQuotaExceeded, TargetGroupQuota

    [Theory]
    [InlineData(49, 0, new int[0])]
    [InlineData(50, 0, new[] { 50 })]
    [InlineData(52, 0, new[] { 50, 51, 52 })]
    [InlineData(48, 2, new[] { 48 })]
    public void An_nlb_holds_at_most_50_listeners_counting_other_owners_and_the_bootstrap_first(int brokers, int foreign, int[] excess)
    {
        var aws = FakeAws.WithBrokers([.. Enumerable.Range(1, brokers)]);
        for (var i = 0; i < foreign; i++)
        {
            aws.AddListener(7000 + i, aws.AddTargetGroup($"someone-elses-{i}", []).Arn, []);
        }
        var config = Fixtures.Config(bootstrap: true, provider: false);

        var plan = Plan(aws, config);

        Assert.Equal(excess.Select(id => ("ListenerQuotaExceeded", $"broker-{id}")), Codes(plan));
        Assert.Equal(50 - foreign, plan.Summary.ListenersCreated);
        Assert.Equal("bootstrap", plan.Changes.CreateTargetGroups[0].Key);
        var named = plan.Changes.UpsertRecords.SelectMany(b => b.Changes).Select(c => c.ResourceRecordSet.Name).ToHashSet();
        Assert.All(excess, id => Assert.DoesNotContain(Host(id), named));
        // As for a port taken by another listener: the broker is listed, with nothing to advertise.
        Assert.All(excess, id => Assert.Null(plan.AdvertisedListeners.Single(a => a.BrokerId == id).Entry));
        aws.Apply(plan);
        Assert.True(aws.Listeners.Count <= 50);
        var verify = Planner.Plan(aws.Observe(config, "verify"));
        Assert.False(verify.HasChanges);
        Assert.Equal(Codes(plan), Codes(verify));
    }

    [Fact]
    public void At_the_listener_limit_a_replacement_waits_for_the_stale_listener_to_go_first()
    {
        var aws = FakeAws.WithBrokers([.. Enumerable.Range(1, 49)]);
        var config = Fixtures.Config(bootstrap: true, provider: false);
        aws.Converge(config);
        aws.RemoveBroker(49).AddBroker(60);

        var first = Plan(aws, config);
        aws.Apply(first);
        var second = Plan(aws, config);
        aws.Apply(second);

        Assert.Equal([("ListenerQuotaExceeded", "broker-60")], Codes(first));
        Assert.Equal(["broker-49"], first.Changes.DeleteListeners.Select(l => l.Key));
        Assert.Empty(Codes(second));
        Assert.Equal(["broker-60"], second.Changes.CreateTargetGroups.Select(g => g.Key));
        Assert.Equal(50, aws.Listeners.Count);
        Assert.False(Plan(aws, config).HasChanges);
    }

    [Fact]
    public void A_bootstrap_group_of_more_than_1000_targets_is_refused_with_a_finding()
    {
        var aws = FakeAws.WithBrokers([.. Enumerable.Range(1, 1001)]);

        var plan = Plan(aws, Fixtures.Config(bootstrap: true, provider: false));

        Assert.Contains(("TargetGroupQuota", "bootstrap"), Codes(plan));
        Assert.DoesNotContain(plan.Changes.CreateTargetGroups, g => g.Key == "bootstrap");
        Assert.All(plan.Changes.CreateTargetGroups, g => Assert.True(g.Targets.Count <= 1000));
        Assert.Equal(50, plan.Summary.ListenersCreated);
    }

    // ------------------------------------------------------------------ msk-serverless

    [Fact]
    public void Serverless_puts_the_endpoints_interface_ips_in_one_group_and_one_wildcard_name_per_zone()
    {
        var aws = new FakeAws();
        aws.EndpointInterfaces[Eni(2)] = "10.0.2.50";
        aws.EndpointInterfaces[Eni(1)] = "10.0.1.50";

        var plan = Plan(aws, Serverless());

        var group = Assert.Single(plan.Changes.CreateTargetGroups);
        Assert.Equal(("serverless", "bl-orders-1c168a-sls", 9098, 9098), (group.Key, group.Name, group.Port, group.Listener!.Port));
        Assert.Equal([new Target("10.0.1.50", 9098), new Target("10.0.2.50", 9098)], group.Targets);
        Assert.Equal([(AnalyticsZone, ServerlessName, AnalyticsEndpoint), (ProviderZone, ServerlessName, NlbDnsName)],
            plan.Changes.UpsertRecords.SelectMany(b => b.Changes.Where(c => c.ResourceRecordSet.Type == "A")
                .Select(c => (b.HostedZoneId, c.ResourceRecordSet.Name, c.ResourceRecordSet.AliasTarget!.DnsName))));
        Assert.Empty(plan.AdvertisedListeners);
        Assert.Equal(2, plan.Summary.Brokers);
        aws.Apply(plan);
        // Route 53 lists the wildcard escaped: it still compares equal.
        Assert.False(Planner.Plan(aws.Observe(Serverless(), "verify")).HasChanges);
    }

    [Fact]
    public void Serverless_listener_port_may_differ_from_the_target_port()
    {
        var aws = new FakeAws();
        aws.EndpointInterfaces[Eni(1)] = "10.0.1.50";

        var plan = Plan(aws, Serverless() with { ListenerPort = 19098 });

        Assert.Equal((9098, 19098), (plan.Changes.CreateTargetGroups[0].Port, plan.Changes.CreateTargetGroups[0].Listener!.Port));
    }

    [Theory]
    [InlineData("serverless", "bl-orders-1c168a-sls")]
    [InlineData("broker-0", "bl-orders-1c168a-b0")]
    [InlineData("broker-65535", "bl-orders-1c168a-b65535")]
    [InlineData("bootstrap", "bl-orders-1c168a-boot")]
    public void Target_group_names_cover_every_key(string key, string name)
    {
        Assert.Equal(name, Registry.TargetGroupName("orders", key));
    }
}
