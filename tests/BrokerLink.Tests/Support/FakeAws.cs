using System.Text.Json.Nodes;
using BrokerLink.Functions;
using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Validation;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests.Support;

/// <summary>
/// A small in-memory AWS for one link: the cluster's brokers, the NLB's target groups and listeners, the operator's
/// target groups, a VPC endpoint's interfaces, EC2 instances, and the zones. <see cref="Observe"/> asks the check pass
/// what to observe (its <c>observe</c>) and produces the Plan input the state machine would build from that;
/// <see cref="Apply"/> carries out a plan the way the state machine and AWS would, failing on anything AWS would reject.
/// </summary>
internal sealed class FakeAws
{
    public sealed record Broker(int Id, string Ip, string Host);

    public sealed record Instance(string Id, string? Ip, string State, List<Tag> Tags);

    public const string VpcEndpointId = "vpce-0123456789abcdef0";

    /// <summary>The serverless cluster's VPC endpoint's network interfaces (id to private IP).</summary>
    public SortedDictionary<string, string> EndpointInterfaces { get; } = new(StringComparer.Ordinal);

    public List<Instance> Instances { get; } = [];

    public int InstancesPageSize { get; set; } = 2;

    public sealed record TargetGroup(string Arn, string Name, int Port, List<Tag> Tags, Dictionary<Target, string> Targets, bool Operator = false);

    public sealed record Listener(string Arn, int Port, string TargetGroupArn, List<Tag> Tags);

    public SortedDictionary<int, Broker> Brokers { get; } = [];

    /// <summary>Nodes ListNodes reports besides <see cref="Brokers"/>, e.g. a second node claiming a broker's id.</summary>
    public List<Broker> ExtraNodes { get; } = [];
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

    /// <summary>Another empty private zone (its apex records only).</summary>
    public FakeAws AddZone(string hostedZoneId)
    {
        Zones[hostedZoneId] = Apex();
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

    /// <summary>What the check pass says to observe; a config the check refuses is observed as msk-single-nlb (the plan then refuses it).</summary>
    public static ObserveSpec Spec(LinkConfigWire config)
    {
        try
        {
            return Planner.Plan(new PlanInput(Pass: "check", LinkConfig: Element(config), LinkId: config.LinkId, Item: new LinkItemWire(),
                StateMachineArn: StateMachineArn)).Observe!;
        }
        catch (BrokerLink.Functions.InvalidInputException)
        {
            return new ObserveSpec(true, true, true, null, null, null);
        }
    }

    public PlanInput Observe(LinkConfigWire config, string pass = "apply", bool? allowRemovals = null)
    {
        var spec = Spec(config);
        // A KRaft controller node has no BrokerNodeInfo: the planner must skip it.
        var nodes = Brokers.Values.Concat(ExtraNodes)
            .Select(b => new NodeInfoWire(new BrokerNodeInfoWire(b.Id, b.Ip, [b.Host], $"eni-{b.Id:x17}")))
            .Append(new NodeInfoWire())
            .ToList();
        var nodePages = nodes.Chunk(NodesPageSize).Select((chunk, i) => new NodesPage(chunk, $"token-{i}")).ToList();
        if (nodePages.Count == 0)
        {
            nodePages.Add(new NodesPage([]));
        }
        nodePages[^1] = nodePages[^1] with { NextToken = null };

        var configured = spec.TargetGroupArns ?? [];
        var described = spec.LoadBalancer ? TargetGroups.Where(t => !configured.Contains(t.Arn) && !t.Operator).ToList() : [];
        var arns = (spec.LoadBalancer ? Listeners.Select(l => (l.Arn, l.Tags)) : [])
            .Concat(described.Select(t => (t.Arn, t.Tags)))
            .Concat(configured.Select(arn => (Arn: arn, Group(arn).Tags)))
            .ToList();
        var healthOf = described.Concat(configured.Select(Group)).ToList();
        var zoneIds = (config.Consumers ?? []).Select(c => c!.HostedZoneId!).Concat(config.ProviderZone?.HostedZoneId is { } p ? [p] : [])
            .Concat((config.RetiringZones ?? []).Select(r => r!.HostedZoneId!));

        return new PlanInput(
            Pass: pass,
            LinkConfig: Element(config),
            ClusterState: spec.Cluster ? ClusterState : null,
            LoadBalancer: spec.LoadBalancer ? new LoadBalancerWire(LoadBalancerArn, NlbDnsName, NlbZone, VpcId) : null,
            Nodes: spec.Nodes ? Chain(nodePages) : null,
            Listeners: spec.LoadBalancer ? new ListenersPage([.. Listeners.Select(l => new ListenerWire(l.Arn, l.Port, "TCP", [new ActionWire("forward", l.TargetGroupArn)]))]) : null,
            TargetGroups: spec.LoadBalancer ? new TargetGroupsPage([.. described.Select(t => new TargetGroupWire(t.Arn, t.Name, t.Port, "TCP", VpcId))]) : null,
            Tags: [.. arns.Chunk(20).Select(chunk => new TagsPage([.. chunk.Select(a => new TagDescriptionWire(a.Arn, [.. a.Tags.Select(t => new TagWire(t.Key, t.Value))]))]))],
            TargetHealth: [.. healthOf.Select(t => new TargetHealthWire(t.Arn, [.. t.Targets.Select(kv =>
                new TargetHealthDescriptionWire(new TargetWire(kv.Key.Id, kv.Key.Port), new TargetHealthStateWire(kv.Value)))]))],
            Zones: [.. zoneIds.Select(id => new ZoneWire(id, RecordChain(Zones[id])))],
            AllowRemovals: allowRemovals,
            Instances: spec.InstanceFilters is { } filters ? InstanceChain(filters) : null,
            VpcEndpoints: spec.VpcEndpointId is { } endpoint
                ? new VpcEndpointsPage([new VpcEndpointWire(endpoint, VpcId, "available", [.. EndpointInterfaces.Keys])])
                : null,
            NetworkInterfaces: spec.VpcEndpointId is not null
                ? new NetworkInterfacesPage([.. EndpointInterfaces.Select(e => new NetworkInterfaceWire(e.Key, e.Value, "in-use"))])
                : null);
    }

    /// <summary>DescribeInstances with the spec's tag and state filters, paged, as the state machine conses the pages.</summary>
    private PageChain<InstancesPage> InstanceChain(IReadOnlyList<InstanceFilter> filters)
    {
        var matching = Instances.Where(i => filters.All(f => f.Name == "instance-state-name"
            ? f.Values.Contains(i.State)
            : f.Name.StartsWith("tag:", StringComparison.Ordinal) && i.Tags.Any(t => t.Key == f.Name["tag:".Length..] && f.Values.Contains(t.Value)))).ToList();
        var pages = matching.Chunk(InstancesPageSize)
            .Select((chunk, n) => new InstancesPage([new ReservationWire([.. chunk.Select(i =>
                new InstanceWire(i.Id, i.Ip, new InstanceStateWire(i.State), [.. i.Tags.Select(t => new TagWire(t.Key, t.Value))]))])], $"page-{n}"))
            .ToList();
        if (pages.Count == 0)
        {
            pages.Add(new InstancesPage([]));
        }
        pages[^1] = pages[^1] with { NextToken = null };
        return Chain(pages)!;
    }

    public Instance AddInstance(string id, string? brokerId, string? ip = null, string state = "running", string clusterTag = "ledger")
    {
        List<Tag> tags = [new("kafka-cluster", clusterTag), new("Name", id)];
        if (brokerId is not null)
        {
            tags.Add(new Tag("kafka-broker-id", brokerId));
        }
        var instance = new Instance(id, ip, state, tags);
        Instances.RemoveAll(i => i.Id == id);
        Instances.Add(instance);
        return instance;
    }

    /// <summary>A target group the operator created (msk-nlb-per-broker), tagged for <paramref name="linkId"/> or not.</summary>
    public TargetGroup AddOperatorGroup(string name, string? linkId = "orders")
    {
        var group = new TargetGroup(Arn($"targetgroup/{name}"), name, 9094, linkId is null ? [] : [new(Registry.LinkTag, linkId)], [], Operator: true);
        TargetGroups.Add(group);
        return group;
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
    /// The plan's change lists in the order the Apply state machine (src/StateMachine/apply.asl.json) applies them:
    /// its Map states from where <c>HoldsLock</c> goes to apply (past the tasks before them), following <c>Next</c>, each by the list it iterates
    /// (<c>$.plan.changes.registerTargets</c>; the zones' record batches: <c>$.plan.upsertZones</c>, <c>deleteZones</c>).
    /// </summary>
    public static IReadOnlyList<string> AslApplyOrder => AslOrder.Value;

    private static readonly Lazy<string[]> AslOrder = new(() =>
    {
        var asl = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "StateMachine", "apply.asl.json")))!;
        var states = asl["States"]!["RunLink"]!["Branches"]![0]!["States"]!;
        var order = new List<string>();
        var name = states["HoldsLock"]!["Choices"]![0]!["Next"]!.GetValue<string>();
        // Tasks before the first Map write no AWS resource (RecordLastChange: the link's last change, in the table).
        while (states[name] is { } task && task["Type"]!.GetValue<string>() == "Task")
        {
            name = task["Next"]!.GetValue<string>();
        }
        while (states[name] is { } state && state["Type"]!.GetValue<string>() == "Map")
        {
            var list = state["ItemsPath"]!.GetValue<string>().Split('.')[^1];
            order.Add(list switch { "upsertZones" => "upsertRecords", "deleteZones" => "deleteRecords", _ => list });
            name = state["Next"]!.GetValue<string>();
        }
        return [.. order];
    });

    /// <summary>
    /// Applies the lists in the order the Apply state machine does (<see cref="AslApplyOrder"/>), one phase per list.
    /// After every phase, no owned target group of a broker that exists (or the bootstrap group, while any broker
    /// exists) may be left without a live target, unless it had none before this apply.
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

        var phases = new Dictionary<string, Action>
        {
            ["createTargetGroups"] = () => Phase("createTargetGroups", c.CreateTargetGroups, g =>
            {
                Assert.DoesNotContain(TargetGroups, t => t.Name == g.Name);
                Assert.True(g.Name.Length <= 32, g.Name);
                var group = new TargetGroup(Arn($"targetgroup/{g.Name}"), g.Name, g.Port, [.. g.Tags], []);
                TargetGroups.Add(group);
                Register(group.Arn, g.Targets);
                if (g.Listener is { } listener)
                {
                    AddListener(listener.Port, group.Arn, listener.Tags);
                }
            }),
            ["createListeners"] = () => Phase("createListeners", c.CreateListeners, l => AddListener(l.Port, l.TargetGroupArn, l.Tags)),
            ["registerTargets"] = () => Phase("registerTargets", c.RegisterTargets, r => Register(r.TargetGroupArn, r.Targets)),
            ["upsertRecords"] = () => Phase("upsertRecords", c.UpsertRecords, ApplyBatch),
            ["deregisterTargets"] = () => Phase("deregisterTargets", c.DeregisterTargets, r =>
            {
                var group = Group(r.TargetGroupArn);
                foreach (var target in r.Targets)
                {
                    Assert.True(group.Targets.ContainsKey(target), $"{target} is not registered in {group.Name}");
                    group.Targets[target] = "draining";
                }
            }),
            ["deleteRecords"] = () => Phase("deleteRecords", c.DeleteRecords, ApplyBatch),
            ["deleteListeners"] = () => Phase("deleteListeners", c.DeleteListeners, l => Assert.Equal(1, Listeners.RemoveAll(x => x.Arn == l.ListenerArn))),
            ["deleteTargetGroups"] = () => Phase("deleteTargetGroups", c.DeleteTargetGroups, g =>
            {
                Assert.DoesNotContain(Listeners, l => l.TargetGroupArn == g.TargetGroupArn);
                Assert.Equal(1, TargetGroups.RemoveAll(t => t.Arn == g.TargetGroupArn));
            }),
        };
        Assert.Equal(phases.Keys.Order(StringComparer.Ordinal), AslApplyOrder.Order(StringComparer.Ordinal));
        foreach (var name in AslApplyOrder)
        {
            phases[name]();
        }
    }

    /// <summary>The group's key: its brokerlink:key tag, or for an operator's group handed over to the link (msk-nlb-per-broker,
    /// named <c>...-bN</c> by <see cref="AddOperatorGroup"/>'s callers) <c>broker-N</c>; null for a group not the link's.</summary>
    private static string? KeyOf(TargetGroup group) =>
        !group.Tags.Any(t => t.Key == "brokerlink:link") ? null
        : group.Operator ? (group.Name.LastIndexOf("-b", StringComparison.Ordinal) is var at and >= 0
            && int.TryParse(group.Name[(at + 2)..], out var id) ? $"broker-{id}" : null)
        : group.Tags.FirstOrDefault(t => t.Key == "brokerlink:key")?.Value;

    private static int Live(TargetGroup group) => group.Targets.Count(kv => kv.Value != "draining");

    private bool BrokerExists(string key) => key switch
    {
        "bootstrap" => Brokers.Count > 0 || LiveInstances.Any(),
        "serverless" => EndpointInterfaces.Count > 0,
        _ => key.StartsWith("broker-", StringComparison.Ordinal) && int.TryParse(key["broker-".Length..], out var id)
            && (Brokers.ContainsKey(id) || LiveInstances.Any(i => i.Tags.Contains(new Tag("kafka-broker-id", id.ToString(System.Globalization.CultureInfo.InvariantCulture))))),
    };

    private IEnumerable<Instance> LiveInstances => Instances.Where(i => i.State is "pending" or "running" or "stopping" or "stopped");

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
