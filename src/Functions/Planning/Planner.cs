using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Planning;

/// <summary>
/// The Plan function's passes. The state machine plans a link in pieces, so that no state holds more than one zone's
/// records: <c>check</c> (the stored config, and what to observe), <c>link</c> (<see cref="LinkPass"/>: target groups,
/// listeners, targets, and what each zone should hold), <c>zone</c> (<see cref="ZonePass"/>: one zone, a page of its
/// records at a time), <c>instances</c> (one page of EC2 instances, digested) and <c>decide</c> (<see cref="DecidePass"/>: the guards, over counts). <c>apply</c> and
/// <c>verify</c> make the same plan in one call from every observation at once (tests, tools). Pure: the same input
/// always gives the same plan, every list sorted.
/// </summary>
internal static class Planner
{
    public static PlanOutput Plan(PlanInput input) => Check.Text(input.Pass, "pass") switch
    {
        "check" => CheckStoredConfig(input),
        "decide" => DecidePass.Decide(Check.Present(input.Link, "link"), ZonePlans(input.ZonePlans), input.AllowRemovals ?? false, "decide",
            StatusView.ReadLastChange(input.LastChange)),
        "apply" or "verify" => InOneCall(input),
        var pass => throw Check.Invalid("pass", $"'{Check.Brief(pass)}' is not check, link, zone, instances, decide, apply or verify"),
    };

    /// <summary>The link pass, with the provider's zone role for own-account zones (the state machine always gives it).</summary>
    public static LinkPlan PlanLink(PlanInput input) =>
        LinkPass.Plan(input, LinkConfigReader.Read(input.LinkConfig), Check.RoleArn(input.ZoneRoleArn, "zoneRoleArn"));

    /// <summary>The instances pass over one DescribeInstances page (ec2-self-managed), before the link pass.</summary>
    public static InstancesDigest DigestInstances(PlanInput input)
    {
        var keep = Check.Items(Check.Present(input.InstanceTags, "instanceTags"), "instanceTags").Select(t => t.Item).ToList();
        var page = Check.Present(input.InstancesPage, "instancesPage");
        var kept = Check.Items(input.KeptInstances ?? [], "keptInstances").Select(i => i.Item)
            .Concat(Kinds.Ec2SelfManaged.Ec2SelfManagedKind.Digest(keep, page, "instancesPage"));
        return new InstancesDigest(string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken, [.. kept]);
    }

    /// <summary>The zone pass over one page of a zone's records.</summary>
    public static ZonePage PlanZone(PlanInput input) => ZonePass.Plan(
        Check.LinkId(input.LinkId, "linkId"), Check.Present(input.Zone, "zone"), Check.Present(input.Names, "names"),
        Check.Present(input.Page, "page"), input.Kept, status: input.Status == true);

    /// <summary>Every pass the state machine makes, in one call: the zones' record changes are kept in the plan.</summary>
    private static PlanOutput InOneCall(PlanInput input)
    {
        var (link, zones) = LinkAndZones(input);
        return DecidePass.Decide(link, zones, input.AllowRemovals ?? false, input.Pass!, StatusView.ReadLastChange(input.LastChange));
    }

    /// <summary>The link pass and every zone's pass over all its pages, from every observation at once.</summary>
    public static (LinkPlan Link, List<ZonePlanWire> Zones) LinkAndZones(PlanInput input)
    {
        var config = LinkConfigReader.Read(input.LinkConfig);
        var link = LinkPass.Plan(input, config, input.ZoneRoleArn);
        var pages = Observation.ReadZonePages(input.Zones, config);
        var zones = new List<ZonePlanWire>();
        foreach (var zone in link.Zones)
        {
            IReadOnlyList<RecordSetWire?>? kept = null;
            foreach (var (page, path) in pages[zone.HostedZoneId])
            {
                var answer = ZonePass.Plan(config.LinkId, zone, link.Names, page, kept, path, input.Status == true);
                kept = answer.Kept;
                if (answer.Plan is { } plan)
                {
                    zones.Add(new ZonePlanWire(plan.HostedZoneId, plan.RoleArn, plan.Retiring, plan.Upserts, plan.Deletes, plan.Counts, plan.Findings, plan.PointsTo));
                }
            }
        }
        return (link, zones);
    }

    private static List<ZonePlanWire> ZonePlans(IReadOnlyList<ZonePlanWire?>? plans) =>
        [.. Check.Items(Check.Present(plans, "zonePlans"), "zonePlans").Select(p =>
        {
            Check.HostedZoneId(p.Item.HostedZoneId, $"{p.Path}.hostedZoneId");
            Check.Present(p.Item.Counts, $"{p.Path}.counts");
            return p.Item;
        })];

    /// <summary>
    /// The <c>check</c> pass, before the state machine reads any field of a stored config: <see cref="LinkItems.CheckStored"/>
    /// against the item that holds it and the deployment (the state machine's ARN), so a bad item fails its link with
    /// InvalidInput instead of an AWS error or a States.Runtime error that would end every link.
    /// </summary>
    private static PlanOutput CheckStoredConfig(PlanInput input)
    {
        var deployment = Check.StateMachineArn(input.StateMachineArn, "stateMachineArn");
        var linkId = Check.LinkId(input.LinkId, "linkId");
        var config = LinkItems.CheckStored(input.LinkConfig, Check.Present(input.Item, "item"), linkId, deployment);
        return new PlanOutput(config.LinkId, "check", false, null, PlanChanges.None, [], [], new PlanSummary(0, 0, 0, 0, 0, 0, 0, 0, 0, 0), [],
            LinkKinds.Observe(config));
    }
}
