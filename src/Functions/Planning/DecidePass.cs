namespace BrokerLink.Functions.Planning;

/// <summary>
/// The decide pass: the link pass's plan and every zone's plan become the link's plan, through the guards
/// (<see cref="Policies"/>, over counts: no zone's records need to be here). Zones whose record changes were kept (a
/// dry run, a plan made in one call) contribute their batches to <see cref="PlanChanges"/>; the others only their
/// counts, and the state machine asks for a zone's changes again when it applies them.
/// </summary>
internal static class DecidePass
{
    /// <param name="lastChange">the link's last change, for its status (<see cref="LinkPlan.Status"/>); else unused</param>
    public static PlanOutput Decide(LinkPlan link, IReadOnlyList<ZonePlanWire> zones, bool allowRemovals, string pass, LastChange? lastChange = null)
    {
        var byId = zones.ToDictionary(z => z.HostedZoneId!, StringComparer.Ordinal);
        var missing = link.Zones.FirstOrDefault(z => !byId.ContainsKey(z.HostedZoneId));
        if (missing is not null)
        {
            throw Validation.Check.Invalid("zonePlans", $"no plan for hosted zone {missing.HostedZoneId}, which the link plan names");
        }
        var (changes, deleting, blocked, policyFindings) = Policies.Decide(link.Changes, zones, link.Guard, allowRemovals);

        // Zones in the link plan's order: consumers, then the provider zone, then the retiring ones.
        var ordered = link.Zones.Select(z => (Work: z, Plan: byId[z.HostedZoneId])).ToList();
        var upsertZones = ordered.Where(z => z.Plan.Counts!.Upserted > 0).Select(z => z.Work).ToList();
        var deleteZones = ordered.Where(z => z.Plan.Counts!.Deleted > 0 && deleting.Contains(z.Work.HostedZoneId)).Select(z => z.Work).ToList();
        changes = changes with
        {
            UpsertRecords = [.. ordered.OrderBy(z => z.Work.HostedZoneId, StringComparer.Ordinal).SelectMany(z => z.Plan.Upserts ?? [])],
            DeleteRecords = [.. ordered.Where(z => deleting.Contains(z.Work.HostedZoneId))
                .OrderBy(z => z.Work.HostedZoneId, StringComparer.Ordinal).SelectMany(z => z.Plan.Deletes ?? [])],
        };

        var findings = link.Findings.Concat(zones.SelectMany(z => z.Findings ?? [])).Concat(policyFindings)
            .OrderBy(f => f.Code, StringComparer.Ordinal)
            .ThenBy(f => f.Subject, StringComparer.Ordinal)
            .ThenBy(f => f.Message, StringComparer.Ordinal)
            .ToList();
        var counted = ordered.Select(z => (z.Plan.Counts!, Deleting: deleting.Contains(z.Work.HostedZoneId))).ToList();
        var summary = Summarise(changes, link.Brokers, counted);
        var hasChanges = changes.CreateTargetGroups.Count + changes.CreateListeners.Count + changes.RegisterTargets.Count
            + changes.DeregisterTargets.Count + changes.DeleteListeners.Count + changes.DeleteTargetGroups.Count
            + upsertZones.Count + deleteZones.Count > 0;
        var converged = !hasChanges && blocked is null && link.ClusterState is null or "ACTIVE";
        var status = link.Status is { } draft
            ? StatusView.Complete(link.LinkId, draft, ordered, link.Names, findings, converged, blocked, link.ClusterState, summary.WriteCalls, lastChange)
            : null;
        return new PlanOutput(link.LinkId, pass, hasChanges, blocked, changes, link.AdvertisedListeners, findings, summary, link.ServerProperties, null)
        {
            Status = status,
            ClusterArn = link.ClusterArn,
            ClusterState = link.ClusterState,
            LoadBalancerArn = link.LoadBalancerArn,
            Names = link.Names,
            UpsertZones = upsertZones,
            DeleteZones = deleteZones,
        };
    }

    private static PlanSummary Summarise(PlanChanges c, int brokers, IReadOnlyList<(ZoneCounts Counts, bool Deleting)> zones)
    {
        var writeCalls = c.CreateTargetGroups.Count * 3 // CreateTargetGroup, RegisterTargets, CreateListener
            + c.CreateListeners.Count + c.RegisterTargets.Count + c.DeregisterTargets.Count
            + zones.Sum(z => z.Counts.UpsertBatches + (z.Deleting ? z.Counts.DeleteBatches : 0))
            + c.DeleteListeners.Count + c.DeleteTargetGroups.Count;
        return new PlanSummary(
            brokers,
            writeCalls,
            TargetGroupsCreated: c.CreateTargetGroups.Count,
            ListenersCreated: c.CreateTargetGroups.Count + c.CreateListeners.Count,
            TargetsRegistered: c.CreateTargetGroups.Sum(g => g.Targets.Count) + c.RegisterTargets.Sum(r => r.Targets.Count),
            TargetsDeregistered: c.DeregisterTargets.Sum(r => r.Targets.Count),
            RecordsUpserted: zones.Sum(z => z.Counts.Upserted),
            RecordsDeleted: zones.Sum(z => z.Deleting ? z.Counts.Deleted : 0),
            ListenersDeleted: c.DeleteListeners.Count,
            TargetGroupsDeleted: c.DeleteTargetGroups.Count);
    }
}
