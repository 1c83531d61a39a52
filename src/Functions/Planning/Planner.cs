using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Planning;

/// <summary>
/// Read the config and observations, ask the link kind what should exist, diff against what this link owns,
/// filter through the guards (<see cref="Policies"/>). Pure: the same input always gives the same plan, every list sorted.
/// </summary>
internal static class Planner
{
    public static PlanOutput Plan(PlanInput input)
    {
        if (input.Pass == "check")
        {
            return CheckStoredConfig(input);
        }
        var config = LinkConfigReader.Read(input.LinkConfig);
        var pass = Check.Text(input.Pass, "pass");
        if (pass is not ("apply" or "verify"))
        {
            throw Check.Invalid("pass", $"'{pass}' is not apply or verify");
        }
        var spec = LinkKinds.Observe(config);
        // A kind without a cluster has no state; a retired link's cluster is not looked at (it may be gone).
        var clusterState = spec.Cluster ? Check.Text(input.ClusterState, "clusterState") : null;
        // A retired link (being removed by onboarding) desires nothing, whatever its brokers: everything it owns goes.
        var desired = config.Retired ? Desired.Nothing : LinkKinds.Desire(config, input);
        var observed = Observation.Read(input, config, spec);
        var (limited, limitFindings) = Limits.Apply(desired, observed);

        var (groupChanges, groupFindings) = TargetGroupDiff.Diff(config.LinkId, limited.TargetGroups, observed);
        var wiringFindings = limitFindings.Concat(groupFindings).ToList();
        desired = WithoutUnwiredBrokers(limited, wiringFindings);
        var (upserts, deletes, recordFindings) = RecordDiff.Diff(config.LinkId, config.ObservedZones, desired.Records, observed);
        var (changes, blocked, policyFindings) = Policies.Apply(
            groupChanges with { UpsertRecords = upserts, DeleteRecords = deletes }, observed, config, clusterState, desired, input.AllowRemovals ?? false);

        var findings = desired.Findings.Concat(wiringFindings).Concat(recordFindings).Concat(policyFindings)
            .OrderBy(f => f.Code, StringComparer.Ordinal)
            .ThenBy(f => f.Subject, StringComparer.Ordinal)
            .ThenBy(f => f.Message, StringComparer.Ordinal)
            .ToList();
        var serverProperties = (desired.ServerProperties ?? []).OrderBy(p => p.BrokerId).ToList();
        return new PlanOutput(config.LinkId, pass, changes.Any, blocked, changes, desired.AdvertisedListeners, findings, Summarise(changes, desired.Brokers),
            serverProperties, null);
    }

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

    /// <summary>
    /// A broker whose listener port or target group name belongs to someone else gets no listener; its name must then
    /// neither resolve to the endpoint nor be advertised, or its clients would reach the other owner's service.
    /// </summary>
    private static Desired WithoutUnwiredBrokers(Desired desired, IEnumerable<Finding> groupFindings)
    {
        var unwiredKeys = groupFindings
            .Where(f => f.Code is "ListenerPortConflict" or "TargetGroupNameConflict" or "ListenerQuotaExceeded")
            .Select(f => f.Subject)
            .ToHashSet(StringComparer.Ordinal);
        var unwiredHosts = desired.AdvertisedListeners
            .Where(a => unwiredKeys.Contains(Registry.BrokerKey(a.BrokerId)))
            .Select(a => a.Host)
            .ToHashSet(StringComparer.Ordinal);
        if (unwiredHosts.Count == 0)
        {
            return desired;
        }
        return desired with
        {
            Records = [.. desired.Records.Where(r => !unwiredHosts.Contains(r.Name))],
            AdvertisedListeners = [.. desired.AdvertisedListeners.Select(a => unwiredHosts.Contains(a.Host) ? a with { ListenerName = null, Entry = null } : a)],
        };
    }

    private static PlanSummary Summarise(PlanChanges c, int brokers)
    {
        var upserted = c.UpsertRecords.Sum(b => b.Changes.Count);
        var deleted = c.DeleteRecords.Sum(b => b.Changes.Count);
        var writeCalls = c.CreateTargetGroups.Count * 3 // CreateTargetGroup, RegisterTargets, CreateListener
            + c.CreateListeners.Count + c.RegisterTargets.Count + c.DeregisterTargets.Count
            + c.UpsertRecords.Count + c.DeleteRecords.Count + c.DeleteListeners.Count + c.DeleteTargetGroups.Count;
        return new PlanSummary(
            brokers,
            writeCalls,
            TargetGroupsCreated: c.CreateTargetGroups.Count,
            ListenersCreated: c.CreateTargetGroups.Count + c.CreateListeners.Count,
            TargetsRegistered: c.CreateTargetGroups.Sum(g => g.Targets.Count) + c.RegisterTargets.Sum(r => r.Targets.Count),
            TargetsDeregistered: c.DeregisterTargets.Sum(r => r.Targets.Count),
            RecordsUpserted: upserted,
            RecordsDeleted: deleted,
            ListenersDeleted: c.DeleteListeners.Count,
            TargetGroupsDeleted: c.DeleteTargetGroups.Count);
    }
}
