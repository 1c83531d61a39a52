using BrokerLink.Functions;
using BrokerLink.Functions.Planning;
using BrokerLink.Tests.Support;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests;

public sealed class PlanScenarioTests
{
    private static readonly LinkConfigWire Link = Config();

    private static PlanOutput Plan(FakeAws aws, LinkConfigWire? config = null) => Planner.Plan(aws.Observe(config ?? Link));

    private static IReadOnlyList<Tag> Tags(string key) => [new("brokerlink:link", "orders"), new("brokerlink:key", key)];

    private static RecordChange Upsert(string name, string type, string zone) => new("UPSERT", type == "TXT"
        ? new ResourceRecordSet(name, "TXT", 300, [new ResourceRecord(Txt)])
        : new ResourceRecordSet(name, "A", AliasTarget: zone == ProviderZone
            ? new AliasTarget(NlbZone, NlbDnsName, false)
            : new AliasTarget(EndpointZone, AnalyticsEndpoint, false)));

    private static void AssertChanges(PlanChanges expected, PlanOutput plan) => JsonAssert.Equal(expected, plan.Changes, Context.PlanChanges);

    [Fact]
    public void Fresh_link_creates_target_groups_listeners_and_records_for_every_broker()
    {
        var plan = Lambda.Plan(Stream(Serialise(FakeAws.WithBrokers(1, 2).Observe(Link))));

        JsonAssert.Equal("""
            {
              "linkId": "orders", "pass": "apply", "hasChanges": true, "blocked": null,
              "changes": {
                "createTargetGroups": [
                  { "key": "bootstrap", "name": "bl-orders-1c168a-boot", "port": 9094, "vpcId": "vpc-0provider0000001",
                    "tags": [ { "Key": "brokerlink:link", "Value": "orders" }, { "Key": "brokerlink:key", "Value": "bootstrap" } ],
                    "targets": [ { "Id": "10.0.2.11", "Port": 9094 }, { "Id": "10.0.3.12", "Port": 9094 } ],
                    "listener": { "port": 8999, "tags": [ { "Key": "brokerlink:link", "Value": "orders" }, { "Key": "brokerlink:key", "Value": "bootstrap" } ] } },
                  { "key": "broker-1", "name": "bl-orders-1c168a-b1", "port": 9094, "vpcId": "vpc-0provider0000001",
                    "tags": [ { "Key": "brokerlink:link", "Value": "orders" }, { "Key": "brokerlink:key", "Value": "broker-1" } ],
                    "targets": [ { "Id": "10.0.2.11", "Port": 9094 } ],
                    "listener": { "port": 9001, "tags": [ { "Key": "brokerlink:link", "Value": "orders" }, { "Key": "brokerlink:key", "Value": "broker-1" } ] } },
                  { "key": "broker-2", "name": "bl-orders-1c168a-b2", "port": 9094, "vpcId": "vpc-0provider0000001",
                    "tags": [ { "Key": "brokerlink:link", "Value": "orders" }, { "Key": "brokerlink:key", "Value": "broker-2" } ],
                    "targets": [ { "Id": "10.0.3.12", "Port": 9094 } ],
                    "listener": { "port": 9002, "tags": [ { "Key": "brokerlink:link", "Value": "orders" }, { "Key": "brokerlink:key", "Value": "broker-2" } ] } }
                ],
                "createListeners": [],
                "registerTargets": [],
                "upsertRecords": [
                  { "hostedZoneId": "Z0ANALYTICS", "roleArn": null, "changes": [
                    { "Action": "UPSERT", "ResourceRecordSet": { "Name": "b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com", "Type": "A",
                      "AliasTarget": { "HostedZoneId": "Z7HUB22UULQXV", "DnsName": "vpce-0a1b2c3d4e5f60718-abcdefgh.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com", "EvaluateTargetHealth": false } } },
                    { "Action": "UPSERT", "ResourceRecordSet": { "Name": "b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com", "Type": "TXT", "Ttl": 300,
                      "ResourceRecords": [ { "Value": "\"heritage=brokerlink,brokerlink/link=orders\"" } ] } },
                    { "Action": "UPSERT", "ResourceRecordSet": { "Name": "b-2.orders.abc123.c2.kafka.us-east-1.amazonaws.com", "Type": "A",
                      "AliasTarget": { "HostedZoneId": "Z7HUB22UULQXV", "DnsName": "vpce-0a1b2c3d4e5f60718-abcdefgh.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com", "EvaluateTargetHealth": false } } },
                    { "Action": "UPSERT", "ResourceRecordSet": { "Name": "b-2.orders.abc123.c2.kafka.us-east-1.amazonaws.com", "Type": "TXT", "Ttl": 300,
                      "ResourceRecords": [ { "Value": "\"heritage=brokerlink,brokerlink/link=orders\"" } ] } }
                  ] },
                  { "hostedZoneId": "Z0PROVIDER", "roleArn": null, "changes": [
                    { "Action": "UPSERT", "ResourceRecordSet": { "Name": "b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com", "Type": "A",
                      "AliasTarget": { "HostedZoneId": "Z26RNL4JYFTOTI", "DnsName": "orders-nlb-50dc6c495c0c9188.elb.us-east-1.amazonaws.com", "EvaluateTargetHealth": false } } },
                    { "Action": "UPSERT", "ResourceRecordSet": { "Name": "b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com", "Type": "TXT", "Ttl": 300,
                      "ResourceRecords": [ { "Value": "\"heritage=brokerlink,brokerlink/link=orders\"" } ] } },
                    { "Action": "UPSERT", "ResourceRecordSet": { "Name": "b-2.orders.abc123.c2.kafka.us-east-1.amazonaws.com", "Type": "A",
                      "AliasTarget": { "HostedZoneId": "Z26RNL4JYFTOTI", "DnsName": "orders-nlb-50dc6c495c0c9188.elb.us-east-1.amazonaws.com", "EvaluateTargetHealth": false } } },
                    { "Action": "UPSERT", "ResourceRecordSet": { "Name": "b-2.orders.abc123.c2.kafka.us-east-1.amazonaws.com", "Type": "TXT", "Ttl": 300,
                      "ResourceRecords": [ { "Value": "\"heritage=brokerlink,brokerlink/link=orders\"" } ] } }
                  ] }
                ],
                "deregisterTargets": [],
                "deleteRecords": [],
                "deleteListeners": [],
                "deleteTargetGroups": []
              },
              "advertisedListeners": [
                { "brokerId": 1, "host": "b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com", "port": 9001,
                  "listenerName": "CLIENT_SECURE", "entry": "CLIENT_SECURE://b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com:9001" },
                { "brokerId": 2, "host": "b-2.orders.abc123.c2.kafka.us-east-1.amazonaws.com", "port": 9002,
                  "listenerName": "CLIENT_SECURE", "entry": "CLIENT_SECURE://b-2.orders.abc123.c2.kafka.us-east-1.amazonaws.com:9002" }
              ],
              "findings": [],
              "summary": { "brokers": 2, "writeCalls": 11, "targetGroupsCreated": 3, "listenersCreated": 3, "targetsRegistered": 4,
                           "targetsDeregistered": 0, "recordsUpserted": 8, "recordsDeleted": 0, "listenersDeleted": 0, "targetGroupsDeleted": 0 },
              "serverProperties": [],
              "observe": null,
              "clusterArn": "arn:aws:kafka:us-east-1:123456789012:cluster/orders/0b9f3c1e-1111-2222-3333-444455556666-2",
              "clusterState": "ACTIVE",
              "loadBalancerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/orders-nlb/50dc6c495c0c9188",
              "names": [ "b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com", "b-2.orders.abc123.c2.kafka.us-east-1.amazonaws.com" ],
              "upsertZones": [
                { "hostedZoneId": "Z0ANALYTICS", "roleArn": null, "retiring": false, "alias":
                  { "HostedZoneId": "Z7HUB22UULQXV", "DnsName": "vpce-0a1b2c3d4e5f60718-abcdefgh.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com", "EvaluateTargetHealth": false },
                  "records": null },
                { "hostedZoneId": "Z0PROVIDER", "roleArn": null, "retiring": false, "alias":
                  { "HostedZoneId": "Z26RNL4JYFTOTI", "DnsName": "orders-nlb-50dc6c495c0c9188.elb.us-east-1.amazonaws.com", "EvaluateTargetHealth": false },
                  "records": null }
              ],
              "deleteZones": []
            }
            """, System.Text.Json.Nodes.JsonNode.Parse(ReadAll(plan)));
    }

    [Theory]
    [InlineData(new[] { 1 },                true,  true,  true)]
    [InlineData(new[] { 1, 2, 3 },          false, true,  false)]
    [InlineData(new[] { 1, 2, 3, 4, 5, 6 }, true,  false, true)]
    [InlineData(new[] { 2, 5, 11 },         true,  true,  true)]
    [InlineData(new int[0],                 true,  true,  false)]
    public void Applying_a_plan_converges_so_the_next_plan_is_empty(int[] brokers, bool bootstrap, bool provider, bool billing)
    {
        var config = Config(bootstrap, provider, billing);
        var aws = FakeAws.WithBrokers(brokers);
        aws.Converge(config);

        var verify = Planner.Plan(aws.Observe(config, "verify"));

        Assert.False(verify.HasChanges);
        Assert.Equal(0, verify.Summary.WriteCalls);
        Assert.Equal("verify", verify.Pass);
        AssertChanges(PlanChanges.None, verify);
    }

    [Fact]
    public void Each_change_to_the_cluster_converges_in_one_apply()
    {
        var aws = FakeAws.WithBrokers(1, 2, 3);
        var steps = new Action[]
        {
            () => aws.AddBroker(4).AddBroker(5).AddBroker(6),
            () => aws.MoveBroker(2, "10.0.9.99"),
            () => aws.RemoveBroker(6),
            () => aws.MoveBroker(2, Ip(2)),
            () => aws.RemoveBroker(1).RemoveBroker(3).AddBroker(7),
        };
        aws.Converge(Link);
        foreach (var step in steps)
        {
            step();
            Assert.True(aws.Converge(Link).HasChanges);
            Assert.False(Plan(aws).HasChanges);
        }
    }

    [Fact]
    public void Added_broker_gets_its_group_listener_and_records_and_joins_bootstrap()
    {
        var aws = FakeAws.WithBrokers(1, 2);
        aws.Converge(Link);
        aws.AddBroker(3);

        var plan = Plan(aws);

        AssertChanges(PlanChanges.None with
        {
            CreateTargetGroups = [new CreateTargetGroup("broker-3", "bl-orders-1c168a-b3", 9094, VpcId, Tags("broker-3"),
                [new Target(Ip(3), 9094)], new ListenerSpec(9003, Tags("broker-3")))],
            RegisterTargets = [new TargetsChange("bootstrap", aws.GroupFor("bootstrap").Arn, [new Target(Ip(3), 9094)])],
            UpsertRecords =
            [
                new RecordBatch(AnalyticsZone, null, [Upsert(Host(3), "A", AnalyticsZone), Upsert(Host(3), "TXT", AnalyticsZone)]),
                new RecordBatch(ProviderZone, null, [Upsert(Host(3), "A", ProviderZone), Upsert(Host(3), "TXT", ProviderZone)]),
            ],
        }, plan);
        Assert.Equal(3 + 1 + 2, plan.Summary.WriteCalls);
    }

    [Fact]
    public void Broker_with_a_new_ip_registers_the_new_ip_and_deregisters_the_old_one()
    {
        var aws = FakeAws.WithBrokers(1, 2, 3);
        aws.Converge(Link);
        aws.MoveBroker(2, "10.0.9.99");

        var plan = Plan(aws);

        AssertChanges(PlanChanges.None with
        {
            RegisterTargets =
            [
                new TargetsChange("bootstrap", aws.GroupFor("bootstrap").Arn, [new Target("10.0.9.99", 9094)]),
                new TargetsChange("broker-2", aws.GroupFor("broker-2").Arn, [new Target("10.0.9.99", 9094)]),
            ],
            DeregisterTargets =
            [
                new TargetsChange("bootstrap", aws.GroupFor("bootstrap").Arn, [new Target(Ip(2), 9094)]),
                new TargetsChange("broker-2", aws.GroupFor("broker-2").Arn, [new Target(Ip(2), 9094)]),
            ],
        }, plan);
        Assert.Equal(4, plan.Summary.WriteCalls);
    }

    [Fact]
    public void Removed_broker_loses_its_listener_target_group_and_records()
    {
        var aws = FakeAws.WithBrokers(1, 2, 3);
        aws.Converge(Link);
        aws.RemoveBroker(3);

        var plan = Plan(aws);

        var recordsAt = (string zone) => aws.RecordsAt(zone, Host(3))
            .OrderBy(r => r.Type, StringComparer.Ordinal)
            .Select(r => new RecordChange("DELETE", new ResourceRecordSet(r.Name!, r.Type!, r.Ttl,
                r.ResourceRecords?.Select(v => new ResourceRecord(v!.Value!)).ToList(),
                r.AliasTarget is { } a ? new AliasTarget(a.HostedZoneId!, a.DnsName!, a.EvaluateTargetHealth!.Value) : null)))
            .ToList();
        AssertChanges(PlanChanges.None with
        {
            DeregisterTargets = [new TargetsChange("bootstrap", aws.GroupFor("bootstrap").Arn, [new Target(Ip(3), 9094)])],
            DeleteRecords = [new RecordBatch(AnalyticsZone, null, recordsAt(AnalyticsZone)), new RecordBatch(ProviderZone, null, recordsAt(ProviderZone))],
            DeleteListeners = [new DeleteListener("broker-3", aws.ListenerFor("broker-3").Arn)],
            DeleteTargetGroups = [new DeleteTargetGroup("broker-3", aws.GroupFor("broker-3").Arn)],
        }, plan);
        Assert.Equal("dualstack." + NlbDnsName + ".", plan.Changes.DeleteRecords[1].Changes[0].ResourceRecordSet.AliasTarget!.DnsName);
    }

    [Fact]
    public void Turning_bootstrap_off_deletes_its_listener_and_target_group()
    {
        var aws = FakeAws.WithBrokers(1, 2);
        aws.Converge(Link);

        var plan = Plan(aws, Config(bootstrap: false));

        AssertChanges(PlanChanges.None with
        {
            DeleteListeners = [new DeleteListener("bootstrap", aws.ListenerFor("bootstrap").Arn)],
            DeleteTargetGroups = [new DeleteTargetGroup("bootstrap", aws.GroupFor("bootstrap").Arn)],
        }, plan);
    }

    [Fact]
    public void Owned_target_group_without_its_listener_gets_the_listener()
    {
        var aws = FakeAws.WithBrokers(1);
        aws.Converge(Link);
        aws.Listeners.Remove(aws.ListenerFor("broker-1"));

        var plan = Plan(aws);

        AssertChanges(PlanChanges.None with
        {
            CreateListeners = [new CreateListener("broker-1", aws.GroupFor("broker-1").Arn, 9001, Tags("broker-1"))],
        }, plan);
    }

    [Fact]
    public void Listener_port_taken_by_a_listener_not_ours_leaves_that_broker_unwired_unresolved_and_unadvertised()
    {
        var aws = FakeAws.WithBrokers(1, 2);
        var foreign = aws.AddListener(9002, aws.AddTargetGroup("someone-elses", []).Arn, []);

        var plan = Plan(aws, Config(bootstrap: false, provider: false));

        Assert.Equal(["broker-1"], plan.Changes.CreateTargetGroups.Select(g => g.Key));
        var finding = Assert.Single(plan.Findings);
        Assert.Equal(("ListenerPortConflict", "broker-2"), (finding.Code, finding.Subject));
        Assert.Contains(foreign.Arn, finding.Message);
        // Port 9002 forwards to someone else's service: broker 2's name must not lead clients there.
        var upserted = plan.Changes.UpsertRecords.Single().Changes.Select(c => c.ResourceRecordSet.Name).Distinct();
        Assert.Equal([aws.Brokers[1].Host], upserted);
        Assert.Equal(
            [("CLIENT_SECURE://" + aws.Brokers[1].Host + ":9001"), null],
            plan.AdvertisedListeners.Select(a => a.Entry));
    }

    [Fact]
    public void Target_group_with_our_name_but_not_our_tags_is_a_conflict()
    {
        var aws = FakeAws.WithBrokers(1);
        aws.AddTargetGroup("bl-orders-1c168a-b1", [new Tag("team", "payments")]);

        var plan = Plan(aws, Config(bootstrap: false));

        Assert.Empty(plan.Changes.CreateTargetGroups);
        Assert.Equal(["TargetGroupNameConflict"], plan.Findings.Select(f => f.Code));
    }

    [Fact]
    public void Target_port_change_registers_the_new_port_and_deregisters_the_old_port_in_every_group()
    {
        // ELBv2 keys a target by Id and Port: IP:9096 is registered beside IP:9094, which must be deregistered.
        var aws = FakeAws.WithBrokers(1, 2);
        aws.Converge(Link);
        var moved = Link with { TargetPort = 9096 };

        var plan = aws.Converge(moved);

        static IEnumerable<string> Listed(IEnumerable<TargetsChange> changes) =>
            changes.SelectMany(c => c.Targets.Select(t => $"{c.Key} {t.Id}:{t.Port}")).Order(StringComparer.Ordinal);
        string[] groups = ["bootstrap", "bootstrap", "broker-1", "broker-2"];
        string[] ips = [Ip(1), Ip(2), Ip(1), Ip(2)];
        Assert.Equal(groups.Zip(ips, (g, ip) => $"{g} {ip}:9096").Order(StringComparer.Ordinal), Listed(plan.Changes.RegisterTargets));
        Assert.Equal(groups.Zip(ips, (g, ip) => $"{g} {ip}:9094").Order(StringComparer.Ordinal), Listed(plan.Changes.DeregisterTargets));
        Assert.False(Plan(aws, moved).HasChanges);
        // Left behind: only draining old-port targets.
        Assert.Equal(new[] { "draining" }, aws.TargetGroups.SelectMany(g => g.Targets).Where(kv => kv.Key.Port == 9094).Select(kv => kv.Value).Distinct());
    }

    [Fact]
    public void Stale_target_group_still_used_by_a_listener_not_ours_is_kept()
    {
        var aws = FakeAws.WithBrokers(1, 2);
        aws.Converge(Link);
        aws.RemoveBroker(2);
        aws.Listeners.Add(new FakeAws.Listener("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/orders-nlb/50dc6c495c0c9188/f00d",
            7000, aws.GroupFor("broker-2").Arn, []));

        var plan = Plan(aws);

        Assert.Equal(["broker-2"], plan.Changes.DeleteListeners.Select(l => l.Key));
        Assert.Empty(plan.Changes.DeleteTargetGroups);
        Assert.Equal(["TargetGroupInUse"], plan.Findings.Select(f => f.Code));
    }

    private static readonly Dictionary<string, Action<FakeAws>> RecordConflicts = new()
    {
        { "an A record without TXT", aws => aws.Put(AnalyticsZone, new RecordSetWire(Host(1) + ".", "A", Ttl: 60, ResourceRecords: [new("10.9.9.9")])) },
        { "an alias and a TXT of another owner", aws =>
            {
                aws.Put(AnalyticsZone, new RecordSetWire(Host(1), "A", AliasTarget: new AliasTargetWire(EndpointZone, AnalyticsEndpoint, false)));
                aws.Put(AnalyticsZone, new RecordSetWire(Host(1), "TXT", Ttl: 300, ResourceRecords: [new("\"heritage=external-dns,external-dns/owner=k8s\"")]));
            } },
        { "a TXT of another owner alone", aws => aws.Put(AnalyticsZone, new RecordSetWire(Host(1), "TXT", Ttl: 300, ResourceRecords: [new("\"v=spf1 -all\"")])) },
        { "a TXT of another link", aws => aws.Put(AnalyticsZone, new RecordSetWire(Host(1), "TXT", Ttl: 300, ResourceRecords: [new("\"heritage=brokerlink,brokerlink/link=orders-2\"")])) },
        { "a CNAME", aws => aws.Put(AnalyticsZone, new RecordSetWire(Host(1), "CNAME", Ttl: 300, ResourceRecords: [new("elsewhere.example.com")])) },
        { "a weighted A with our TXT", aws =>
            {
                aws.Put(AnalyticsZone, new RecordSetWire(Host(1), "A", SetIdentifier: "blue", Ttl: 60, ResourceRecords: [new("10.9.9.9")]));
                aws.Put(AnalyticsZone, new RecordSetWire(Host(1), "TXT", Ttl: 300, ResourceRecords: [new(Txt)]));
            } },
    };

    [Theory]
    [InlineData("an A record without TXT")]
    [InlineData("an alias and a TXT of another owner")]
    [InlineData("a TXT of another owner alone")]
    [InlineData("a TXT of another link")]
    [InlineData("a CNAME")]
    [InlineData("a weighted A with our TXT")]
    public void Records_at_our_name_that_are_not_ours_are_reported_and_left_alone(string what)
    {
        var aws = FakeAws.WithBrokers(1);
        RecordConflicts[what](aws);

        var plan = Plan(aws, Config(bootstrap: false, provider: false));

        var finding = Assert.Single(plan.Findings);
        Assert.True(finding is { Code: "RecordConflict" } && finding.Subject == Host(1), what);
        Assert.Contains(AnalyticsZone, finding.Message);
        Assert.Empty(plan.Changes.UpsertRecords);
        Assert.Empty(plan.Changes.DeleteRecords);
    }

    [Fact]
    public void Hand_edited_owned_alias_is_repaired_without_touching_its_txt()
    {
        var aws = FakeAws.WithBrokers(1, 2);
        aws.Converge(Link);
        aws.Put(AnalyticsZone, new RecordSetWire(Host(2) + ".", "A", AliasTarget: new AliasTargetWire(EndpointZone, "vpce-somewhere-else.example.com.", false)));

        var plan = Plan(aws);

        AssertChanges(PlanChanges.None with { UpsertRecords = [new RecordBatch(AnalyticsZone, null, [Upsert(Host(2), "A", AnalyticsZone)])] }, plan);
    }

    [Fact]
    public void Owned_txt_with_a_changed_ttl_is_repaired_alone()
    {
        var aws = FakeAws.WithBrokers(1);
        aws.Converge(Link);
        aws.Put(ProviderZone, new RecordSetWire(Host(1) + ".", "TXT", Ttl: 60, ResourceRecords: [new(Txt)]));

        var plan = Plan(aws);

        AssertChanges(PlanChanges.None with { UpsertRecords = [new RecordBatch(ProviderZone, null, [Upsert(Host(1), "TXT", ProviderZone)])] }, plan);
    }

    [Fact]
    public void Owned_alias_deleted_by_hand_with_its_txt_left_is_recreated_with_both()
    {
        var aws = FakeAws.WithBrokers(1, 2);
        aws.Converge(Link);
        aws.Remove(AnalyticsZone, Host(1), "A");

        var plan = Plan(aws);

        AssertChanges(PlanChanges.None with
        {
            UpsertRecords = [new RecordBatch(AnalyticsZone, null, [Upsert(Host(1), "A", AnalyticsZone), Upsert(Host(1), "TXT", AnalyticsZone)])],
        }, plan);
    }

    [Fact]
    public void Records_compare_by_normalised_name_and_alias_target()
    {
        var aws = FakeAws.WithBrokers(1);
        aws.Converge(Config(bootstrap: false, provider: true));
        aws.Zones[ProviderZone].Clear();
        aws.Put(ProviderZone, new RecordSetWire(Host(1).ToUpperInvariant() + ".", "A",
            AliasTarget: new AliasTargetWire(NlbZone, "DualStack." + NlbDnsName.ToUpperInvariant() + ".", false)));
        aws.Put(ProviderZone, new RecordSetWire(Host(1).Replace("b-1", "\\142-1") + ".", "TXT", Ttl: 300, ResourceRecords: [new(Txt)]));

        Assert.False(Plan(aws, Config(bootstrap: false, provider: true)).HasChanges);
    }

    [Fact]
    public void Draining_target_that_is_desired_again_is_registered_again()
    {
        var aws = FakeAws.WithBrokers(1);
        aws.Converge(Link);
        aws.GroupFor("broker-1").Targets[new Target(Ip(1), 9094)] = "draining";

        var plan = Plan(aws);

        Assert.Equal(["broker-1"], plan.Changes.RegisterTargets.Select(r => r.Key));
        Assert.Empty(plan.Changes.DeregisterTargets);
    }

    [Fact]
    public void Cluster_that_is_not_active_gets_additions_but_no_removals()
    {
        var aws = FakeAws.WithBrokers(1, 2, 3);
        aws.Converge(Link);
        aws.RemoveBroker(3).MoveBroker(2, "10.0.9.99").AddBroker(4);
        aws.ClusterState = "UPDATING";

        var plan = Plan(aws);

        Assert.Equal(["broker-4"], plan.Changes.CreateTargetGroups.Select(g => g.Key));
        Assert.Equal(["bootstrap", "broker-2"], plan.Changes.RegisterTargets.Select(r => r.Key));
        Assert.Empty(plan.Changes.DeregisterTargets);
        Assert.Empty(plan.Changes.DeleteRecords);
        Assert.Empty(plan.Changes.DeleteListeners);
        Assert.Empty(plan.Changes.DeleteTargetGroups);
        Assert.Equal("ClusterNotActive", plan.Blocked?.Code);
        Assert.Empty(plan.Findings);
    }

    [Fact]
    public void No_brokers_observed_removes_nothing()
    {
        var aws = FakeAws.WithBrokers(1, 2);
        aws.Converge(Link);
        aws.RemoveBroker(1).RemoveBroker(2);

        var plan = Plan(aws);

        Assert.False(plan.HasChanges);
        Assert.Equal(0, plan.Summary.Brokers);
        Assert.Equal("NoBrokers", plan.Blocked?.Code);
        Assert.Empty(plan.Findings);
    }

    [Fact]
    public void Target_port_without_an_msk_listener_name_leaves_advertised_names_null()
    {
        var plan = Plan(FakeAws.WithBrokers(1), Config() with { TargetPort = 19094 });

        var advertised = Assert.Single(plan.AdvertisedListeners);
        Assert.Equal((1, 9001, (string?)null, (string?)null), (advertised.BrokerId, advertised.Port, advertised.ListenerName, advertised.Entry));
        Assert.Equal(["UnknownTargetPort"], plan.Findings.Select(f => f.Code));
    }

    [Theory]
    [InlineData(9092, "CLIENT")]
    [InlineData(9094, "CLIENT_SECURE")]
    [InlineData(9096, "CLIENT_SASL_SCRAM")]
    [InlineData(9098, "CLIENT_IAM")]
    public void Advertised_listener_is_named_after_the_target_port(int targetPort, string listenerName)
    {
        var plan = Plan(FakeAws.WithBrokers(7), Config() with { TargetPort = targetPort });

        Assert.Equal($"{listenerName}://{Host(7)}:9007", Assert.Single(plan.AdvertisedListeners).Entry);
    }

    [Fact]
    public void Batches_also_respect_route53_value_character_limit()
    {
        var longId = "a-link-id-that-is-exactly-forty-chars-xy";
        var groups = Enumerable.Range(1, 300).Select(i => (IReadOnlyList<RecordChange>)
            [new RecordChange("UPSERT", new ResourceRecordSet($"b-{i}.x", "TXT", 300, [new ResourceRecord(BrokerLink.Functions.Planning.Registry.TxtValue(longId))]))]);

        var batches = Batching.Batch(new Zone(AnalyticsZone, null), groups).ToList();

        Assert.All(batches, b => Assert.True(b.Changes.Sum(c => c.ResourceRecordSet.ResourceRecords![0].Value.Length * 2) <= 32000));
        Assert.Equal(300, batches.Sum(b => b.Changes.Count));
        Assert.True(batches.Count > 1);
    }

    [Fact]
    public void The_plan_does_not_depend_on_the_order_of_the_observations()
    {
        var aws = FakeAws.WithBrokers(1, 2, 3, 4, 10);
        aws.Converge(Config(billing: true));
        aws.RemoveBroker(4).MoveBroker(1, "10.0.9.1").AddBroker(12);
        aws.Remove(ProviderZone, Host(2), "A");
        var input = aws.Observe(Config(billing: true));
        aws.TargetGroups.Reverse();
        aws.Listeners.Reverse();
        foreach (var zone in aws.Zones.Values)
        {
            zone.Reverse();
        }
        aws.NodesPageSize = 4;
        aws.RecordsPageSize = 1;
        var shuffled = aws.Observe(Config(billing: true));

        var first = WriteString(Planner.Plan(input), Context.PlanOutput);
        Assert.Equal(first, WriteString(Planner.Plan(shuffled), Context.PlanOutput));
        Assert.Equal(first, ReadAll(Lambda.Plan(Stream(Serialise(input)))));
    }

    [Fact]
    public void Cross_account_consumer_batches_carry_its_role()
    {
        var plan = Plan(FakeAws.WithBrokers(1), Config(billing: true));

        Assert.Equal([(AnalyticsZone, null), (BillingZone, BillingRole), (ProviderZone, null)],
            plan.Changes.UpsertRecords.Select(b => (b.HostedZoneId, b.RoleArn)));
    }
}
