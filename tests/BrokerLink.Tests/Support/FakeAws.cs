using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Validation;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests.Support;

/// <summary>
/// A small in-memory AWS for one link: the cluster's brokers, the NLB's target groups and listeners, and the zones.
/// <see cref="Observe"/> produces the Plan input the state machine would build; <see cref="Apply"/> carries out a plan
/// the way the state machine and AWS would, failing on anything AWS would reject.
/// </summary>
internal sealed class FakeAws
{
    public sealed record Broker(int Id, string Ip, string Host);

    public sealed record TargetGroup(string Arn, string Name, int Port, List<Tag> Tags, Dictionary<Target, string> Targets);

    public sealed record Listener(string Arn, int Port, string TargetGroupArn, List<Tag> Tags);

    public SortedDictionary<int, Broker> Brokers { get; } = [];
    public List<TargetGroup> TargetGroups { get; } = [];
    public List<Listener> Listeners { get; } = [];
    public Dictionary<string, List<RecordSetWire>> Zones { get; } = new() { [AnalyticsZone] = Apex(), [BillingZone] = Apex(), [ProviderZone] = Apex() };
    public string ClusterState { get; set; } = "ACTIVE";
    public int NodesPageSize { get; set; } = 2;
    public int RecordsPageSize { get; set; } = 3;
    private int _serial;

    public static FakeAws WithBrokers(params int[] ids)
    {
        var aws = new FakeAws();
        foreach (var id in ids)
        {
            aws.AddBroker(id);
        }
        return aws;
    }

    public FakeAws AddBroker(int id, string? ip = null)
    {
        Brokers[id] = new Broker(id, ip ?? Ip(id), Host(id));
        return this;
    }

    public FakeAws MoveBroker(int id, string ip)
    {
        Brokers[id] = Brokers[id] with { Ip = ip };
        return this;
    }

    public FakeAws RemoveBroker(int id)
    {
        Brokers.Remove(id);
        return this;
    }

    /// <summary>Plans against the current state and applies the plan.</summary>
    public PlanOutput Converge(LinkConfigWire config, bool? allowRemovals = null)
    {
        var plan = Planner.Plan(Observe(config, allowRemovals: allowRemovals));
        Apply(plan);
        return plan;
    }

    public PlanInput Observe(LinkConfigWire config, string pass = "apply", bool? allowRemovals = null)
    {
        // A KRaft controller node has no BrokerNodeInfo: the planner must skip it.
        var nodes = Brokers.Values
            .Select(b => new NodeInfoWire(new BrokerNodeInfoWire(b.Id, b.Ip, [b.Host], $"eni-{b.Id:x17}")))
            .Append(new NodeInfoWire())
            .ToList();
        var nodePages = nodes.Chunk(NodesPageSize).Select((chunk, i) => new NodesPage(chunk, $"token-{i}")).ToList();
        if (nodePages.Count == 0)
        {
            nodePages.Add(new NodesPage([]));
        }
        nodePages[^1] = nodePages[^1] with { NextToken = null };

        var arns = Listeners.Select(l => (l.Arn, l.Tags)).Concat(TargetGroups.Select(t => (t.Arn, t.Tags))).ToList();
        var zoneIds = (config.Consumers ?? []).Select(c => c!.HostedZoneId!).Concat(config.ProviderZone?.HostedZoneId is { } p ? [p] : [])
            .Concat((config.RetiringZones ?? []).Select(r => r!.HostedZoneId!));

        return new PlanInput(
            Pass: pass,
            LinkConfig: Element(config),
            ClusterState: ClusterState,
            LoadBalancer: new LoadBalancerWire(LoadBalancerArn, NlbDnsName, NlbZone, VpcId),
            Nodes: Chain(nodePages),
            Listeners: new ListenersPage([.. Listeners.Select(l => new ListenerWire(l.Arn, l.Port, "TCP", [new ActionWire("forward", l.TargetGroupArn)]))]),
            TargetGroups: new TargetGroupsPage([.. TargetGroups.Select(t => new TargetGroupWire(t.Arn, t.Name, t.Port, "TCP", VpcId))]),
            Tags: [.. arns.Chunk(20).Select(chunk => new TagsPage([.. chunk.Select(a => new TagDescriptionWire(a.Arn, [.. a.Tags.Select(t => new TagWire(t.Key, t.Value))]))]))],
            TargetHealth: [.. TargetGroups.Select(t => new TargetHealthWire(t.Arn, [.. t.Targets.Select(kv =>
                new TargetHealthDescriptionWire(new TargetWire(kv.Key.Id, kv.Key.Port), new TargetHealthStateWire(kv.Value)))]))],
            Zones: [.. zoneIds.Select(id => new ZoneWire(id, RecordChain(Zones[id])))],
            AllowRemovals: allowRemovals);
    }

    private PageChain<RecordsPage> RecordChain(List<RecordSetWire> records)
    {
        var pages = records.Chunk(RecordsPageSize).Select(chunk => new RecordsPage(chunk, true)).ToList();
        pages[^1] = pages[^1] with { IsTruncated = false };
        return Chain(pages)!;
    }

    private static PageChain<T>? Chain<T>(IEnumerable<T> oldestFirst) where T : class =>
        oldestFirst.Aggregate((PageChain<T>?)null, (rest, page) => new PageChain<T>(page, rest));

    /// <summary>
    /// The live (not draining) targets of each owned target group by key, after each apply phase that had work, of
    /// the last <see cref="Apply"/>.
    /// </summary>
    public List<(string Phase, SortedDictionary<string, int> Live)> Phases { get; } = [];

    /// <summary>
    /// Applies the lists in the contract's order, one phase per list. After every phase, no owned target group of a
    /// broker that exists (or the bootstrap group, while any broker exists) may be left without a live target,
    /// unless it had none before this apply.
    /// </summary>
    public void Apply(PlanOutput plan)
    {
        var c = plan.Changes;
        var liveBefore = TargetGroups.Where(t => Live(t) > 0).Select(t => t.Arn).ToHashSet();
        Phases.Clear();
        void Phase<T>(string name, IReadOnlyList<T> items, Action<T> apply)
        {
            foreach (var item in items)
            {
                apply(item);
            }
            var emptied = TargetGroups.Where(t => KeyOf(t) is { } key && BrokerExists(key) && Live(t) == 0
                && (liveBefore.Contains(t.Arn) || c.CreateTargetGroups.Any(g => g.Name == t.Name))).Select(t => t.Name).ToList();
            Assert.True(emptied.Count == 0, $"after {name}: target groups of existing brokers without a live target: {string.Join(", ", emptied)}");
            if (items.Count > 0)
            {
                Phases.Add((name, new SortedDictionary<string, int>(TargetGroups.Where(t => KeyOf(t) is not null)
                    .GroupBy(t => KeyOf(t)!).ToDictionary(g => g.Key, g => g.Sum(Live)), StringComparer.Ordinal)));
            }
        }

        Phase("createTargetGroups", c.CreateTargetGroups, g =>
        {
            Assert.DoesNotContain(TargetGroups, t => t.Name == g.Name);
            Assert.True(g.Name.Length <= 32, g.Name);
            var group = new TargetGroup(Arn($"targetgroup/{g.Name}"), g.Name, g.Port, [.. g.Tags], []);
            TargetGroups.Add(group);
            Register(group.Arn, g.Targets);
            AddListener(g.Listener.Port, group.Arn, g.Listener.Tags);
        });
        Phase("createListeners", c.CreateListeners, l => AddListener(l.Port, l.TargetGroupArn, l.Tags));
        Phase("registerTargets", c.RegisterTargets, r => Register(r.TargetGroupArn, r.Targets));
        Phase("upsertRecords", c.UpsertRecords, ApplyBatch);
        Phase("deregisterTargets", c.DeregisterTargets, r =>
        {
            var group = Group(r.TargetGroupArn);
            foreach (var target in r.Targets)
            {
                Assert.True(group.Targets.ContainsKey(target), $"{target} is not registered in {group.Name}");
                group.Targets[target] = "draining";
            }
        });
        Phase("deleteRecords", c.DeleteRecords, ApplyBatch);
        Phase("deleteListeners", c.DeleteListeners, l => Assert.Equal(1, Listeners.RemoveAll(x => x.Arn == l.ListenerArn)));
        Phase("deleteTargetGroups", c.DeleteTargetGroups, g =>
        {
            Assert.DoesNotContain(Listeners, l => l.TargetGroupArn == g.TargetGroupArn);
            Assert.Equal(1, TargetGroups.RemoveAll(t => t.Arn == g.TargetGroupArn));
        });
    }

    private static string? KeyOf(TargetGroup group) =>
        group.Tags.Any(t => t.Key == "brokerlink:link") ? group.Tags.FirstOrDefault(t => t.Key == "brokerlink:key")?.Value : null;

    private static int Live(TargetGroup group) => group.Targets.Count(kv => kv.Value != "draining");

    private bool BrokerExists(string key) => key == "bootstrap"
        ? Brokers.Count > 0
        : key.StartsWith("broker-", StringComparison.Ordinal) && int.TryParse(key["broker-".Length..], out var id) && Brokers.ContainsKey(id);

    public Listener AddListener(int port, string targetGroupArn, IEnumerable<Tag> tags)
    {
        Assert.DoesNotContain(Listeners, l => l.Port == port); // DuplicateListener
        Group(targetGroupArn);
        var listener = new Listener(Arn("listener/net/orders-nlb/50dc6c495c0c9188"), port, targetGroupArn, [.. tags]);
        Listeners.Add(listener);
        return listener;
    }

    public TargetGroup AddTargetGroup(string name, IEnumerable<Tag> tags)
    {
        var group = new TargetGroup(Arn($"targetgroup/{name}"), name, 9094, [.. tags], []);
        TargetGroups.Add(group);
        return group;
    }

    public TargetGroup Group(string arn) => TargetGroups.Single(t => t.Arn == arn);

    public TargetGroup GroupFor(string key) => TargetGroups.Single(t => t.Tags.Contains(new Tag("brokerlink:key", key)));

    public Listener ListenerFor(string key) => Listeners.Single(l => l.Tags.Contains(new Tag("brokerlink:key", key)));

    public List<RecordSetWire> RecordsAt(string zone, string name) =>
        [.. Zones[zone].Where(r => Names.Normalise(r.Name!) == Names.Normalise(name))];

    /// <summary>Puts a record set as Route 53 would list it, replacing the one of the same name, type and set identifier.</summary>
    public void Put(string zone, RecordSetWire record)
    {
        Zones[zone].RemoveAll(r => SameSet(r, record));
        Zones[zone].Add(record);
    }

    public void Remove(string zone, string name, string type) =>
        Assert.Equal(1, Zones[zone].RemoveAll(r => Names.Normalise(r.Name!) == Names.Normalise(name) && r.Type == type && r.SetIdentifier is null));

    private void ApplyBatch(RecordBatch batch)
    {
        Assert.InRange(batch.Changes.Count, 1, 500);
        var zone = Zones[batch.HostedZoneId];
        foreach (var change in batch.Changes)
        {
            var set = change.ResourceRecordSet;
            switch (change.Action)
            {
                case "UPSERT":
                    Put(batch.HostedZoneId, Stored(set));
                    break;
                case "DELETE":
                    // Route 53 deletes only an exact match of the record set as it is stored.
                    var match = zone.SingleOrDefault(r => Serialise(r) == Serialise(Stored(set)) || Serialise(r) == Serialise(Listed(set)));
                    Assert.True(match is not null, $"DELETE of a record set that does not exist as given: {Serialise(Stored(set))}");
                    zone.Remove(match);
                    break;
                default:
                    Assert.Fail($"unexpected action {change.Action}");
                    break;
            }
        }
    }

    // Route 53 lists names with a trailing dot and load balancer aliases with "dualstack." in front.
    private static RecordSetWire Stored(ResourceRecordSet set) => new(
        Names.Normalise(set.Name) + ".",
        set.Type,
        null,
        set.Ttl,
        set.ResourceRecords?.Select(r => new ResourceRecordWire(r.Value)).ToList(),
        set.AliasTarget is { } a
            ? new AliasTargetWire(a.HostedZoneId, (a.HostedZoneId == NlbZone && !a.DnsName.StartsWith("dualstack.") ? "dualstack." : "") + Names.Normalise(a.DnsName) + ".", a.EvaluateTargetHealth)
            : null);

    private static RecordSetWire Listed(ResourceRecordSet set) => new(
        set.Name, set.Type, null, set.Ttl, set.ResourceRecords?.Select(r => new ResourceRecordWire(r.Value)).ToList(),
        set.AliasTarget is { } a ? new AliasTargetWire(a.HostedZoneId, a.DnsName, a.EvaluateTargetHealth) : null);

    private static string Serialise(RecordSetWire r) =>
        $"{r.Name}|{r.Type}|{r.SetIdentifier}|{r.Ttl}|{string.Join(",", r.ResourceRecords?.Select(v => v!.Value) ?? [])}|{r.AliasTarget}";

    private static bool SameSet(RecordSetWire a, RecordSetWire b) =>
        Names.Normalise(a.Name!) == Names.Normalise(b.Name!) && a.Type == b.Type && a.SetIdentifier == b.SetIdentifier;

    private void Register(string groupArn, IEnumerable<Target> targets)
    {
        var group = Group(groupArn);
        foreach (var target in targets)
        {
            group.Targets[target] = "initial";
        }
    }

    private string Arn(string resource) => $"arn:aws:elasticloadbalancing:us-east-1:{Account}:{resource}/{++_serial:x16}";

    private static List<RecordSetWire> Apex() =>
    [
        new("kafka.us-east-1.amazonaws.com.", "NS", Ttl: 172800, ResourceRecords: [new("ns-1.awsdns-01.org."), new("ns-2.awsdns-02.com.")]),
        new("kafka.us-east-1.amazonaws.com.", "SOA", Ttl: 900, ResourceRecords: [new("ns-1.awsdns-01.org. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400")]),
    ];
}
