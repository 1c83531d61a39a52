using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Planning;

/// <summary>
/// Guards: small filters over a plan that withhold every removal (deregisterTargets, deleteRecords, deleteListeners,
/// deleteTargetGroups) when removing could take the cluster offline. Additions always go ahead. The first guard that
/// applies wins; a plan that removes nothing is never blocked.
/// <code>
/// guard                                                  blocked.code           with allowRemovals: true
/// clusterState is not ACTIVE (its broker list is not     ClusterNotActive       still blocked
///   trustworthy; only kinds with a cluster)
/// no brokers observed (ListNodes, the endpoint's         NoBrokers              still blocked
///   interfaces, the tagged instances)
/// removed / owned > guards.maxRemovalShare, for targets  RemovalShareExceeded   removals go ahead,
///   or for records (exactly the share is allowed)                                 finding RemovalGuardOverridden
/// none of these, or nothing to remove                    blocked: null          -
/// </code>
/// Onboarding's removals pass every guard: a retired link's (remove-link) and a retiring zone's records (remove-consumer,
/// a dropped provider zone). The operator named them, and they do not depend on the broker list; they neither count
/// against the share nor are withheld when another guard withholds the link's other removals.
/// What counts, against what the link owns before the plan:
/// <code>
/// in the plan                                            removed                owned
/// kept target group: deregisters d, registers r          max(0, d - r)          its registered targets
///   (an IP change, d = r = 1, is a replacement: 0)
/// deleted target group with n registered targets         n                      n
/// created target group                                   0                      0
/// draining target                                        -                      0 (already on its way out)
/// owned name (our TXT) deleted, per zone                 1 (A + TXT once)       1
/// owned name upserted or unchanged                       0                      1
/// </code>
/// Replacements do not count because registrations are applied before deregistrations: a group that gains a target
/// for each one it loses never shrinks, so no broker loses its way in. A share is over the limit only when it is
/// strictly above it. At the default share 0.5, with bootstrap and two zones (GuardTests has these rows and more):
/// <code>
/// brokers  change                               targets  records  outcome
/// 3        broker 2 moves to a new IP           0/6      0/6      applied
/// 3        every broker moves to a new IP       0/6      0/6      applied
/// 3        a stale extra target in broker-2     1/7      0/6      applied
/// 3        broker 3 removed                     2/6      2/6      applied
/// 3        broker 3 replaced by broker 4        1/6      2/6      applied
/// 2        broker 2 removed                     2/4      2/4      applied (exactly the share)
/// 3        brokers 2 and 3 removed              4/6      4/6      blocked: RemovalShareExceeded
/// </code>
/// </summary>
internal static class Policies
{
    public static (PlanChanges Changes, Blocked? Blocked, IReadOnlyList<Finding> Findings) Apply(
        PlanChanges changes, Observed observed, LinkConfig config, string? clusterState, Desired desired, bool allowRemovals)
    {
        // The operator asked for these removals by name (remove-link, remove-consumer, a dropped provider zone), and
        // they do not depend on the broker list: no guard applies to a retired link or to a retiring zone's records.
        if (config.Retired)
        {
            return (changes, null, []);
        }
        var retiring = config.Retiring.Select(z => z.HostedZoneId).ToHashSet(StringComparer.Ordinal);
        var retiringDeletes = changes.DeleteRecords.Where(b => retiring.Contains(b.HostedZoneId)).ToList();
        if (retiringDeletes.Count == 0)
        {
            return Guard(changes, observed, config, clusterState, desired, allowRemovals);
        }
        var (guarded, blocked, findings) = Guard(
            changes with { DeleteRecords = [.. changes.DeleteRecords.Where(b => !retiring.Contains(b.HostedZoneId))] },
            observed, config, clusterState, desired, allowRemovals);
        // OrderBy is stable: batches keep their order within a zone.
        var deletes = guarded.DeleteRecords.Concat(retiringDeletes).OrderBy(b => b.HostedZoneId, StringComparer.Ordinal).ToList();
        return (guarded with { DeleteRecords = deletes }, blocked, findings);
    }

    private static (PlanChanges Changes, Blocked? Blocked, IReadOnlyList<Finding> Findings) Guard(
        PlanChanges changes, Observed observed, LinkConfig config, string? clusterState, Desired desired, bool allowRemovals)
    {
        if (!changes.AnyRemovals)
        {
            return (changes, null, []);
        }
        if ((ClusterNotActive(clusterState) ?? NoBrokers(desired)) is { } untrusted)
        {
            return (changes.WithoutRemovals(), untrusted, []);
        }
        if (ShareExceeded(changes, observed, config) is not { } exceeded)
        {
            return (changes, null, []);
        }
        return allowRemovals
            ? (changes, null, [new Finding("RemovalGuardOverridden", "allowRemovals", $"{exceeded}; allowRemovals is true: they are removed")])
            : (changes.WithoutRemovals(), new Blocked("RemovalShareExceeded",
                $"{exceeded}: removals are withheld, additions go ahead; check the plan and run again with allowRemovals: true to remove them"), []);
    }

    private const string NotOverridden = "removals are withheld, additions go ahead (allowRemovals does not override this)";

    /// <summary>A kind without a cluster has no cluster state (null): this guard does not apply.</summary>
    private static Blocked? ClusterNotActive(string? clusterState) => clusterState is null or "ACTIVE"
        ? null
        : new Blocked("ClusterNotActive", $"the cluster is {clusterState}, not ACTIVE, so its broker list is not trustworthy: {NotOverridden}");

    private static Blocked? NoBrokers(Desired desired) => desired.Brokers > 0
        ? null
        : new Blocked("NoBrokers", $"{desired.NoBrokers}: {NotOverridden}");

    /// <summary>Why the plan removes too much, or null when it stays within <c>guards.maxRemovalShare</c>.</summary>
    private static string? ShareExceeded(PlanChanges changes, Observed observed, LinkConfig config)
    {
        var (targets, records) = Measure(changes, observed, config);
        var max = config.MaxRemovalShare;
        return targets.Exceeds(max) || records.Exceeds(max)
            ? $"the plan removes {targets.Removed} of {targets.Owned} registered targets ({Check.Show(targets.Rounded)}) "
                + $"and {records.Removed} of {records.Owned} owned record names ({Check.Show(records.Rounded)}), "
                + $"more than guards.maxRemovalShare {Check.Show(max)}"
            : null;
    }

    /// <summary>What the plan removes against what the link owns, counted as the table above says.</summary>
    public static (RemovalShare Targets, RemovalShare Records) Measure(PlanChanges changes, Observed observed, LinkConfig config) =>
        (TargetShare(changes, observed), RecordShare(changes, observed, config));

    private static RemovalShare TargetShare(PlanChanges changes, Observed observed)
    {
        int RegisteredIn(ObservedTargetGroup group) => (observed.Registered.GetValueOrDefault(group.Arn) ?? throw new IncompleteObservationException(
            $"targetHealth: no DescribeTargetHealth output for target group {group.Arn} ({group.Key}), which this link owns")).Count;

        var owned = observed.TargetGroups.Where(g => g.Key is not null).ToDictionary(g => g.Arn);
        var registering = changes.RegisterTargets.ToLookup(r => r.TargetGroupArn);
        var deregistered = changes.DeregisterTargets.Sum(d => Math.Max(0, d.Targets.Count - registering[d.TargetGroupArn].Sum(r => r.Targets.Count)));
        var deleted = changes.DeleteTargetGroups.Sum(d => RegisteredIn(owned[d.TargetGroupArn]));
        return new RemovalShare(deregistered + deleted, owned.Values.Sum(RegisteredIn));
    }

    private static RemovalShare RecordShare(PlanChanges changes, Observed observed, LinkConfig config)
    {
        var ownValue = Registry.TxtValue(config.LinkId);
        var owned = config.Zones.Sum(z => observed.Zones[z.HostedZoneId].Where(r => RecordDiff.IsOwnershipRecord(r, ownValue)).Select(r => r.Name).Distinct().Count());
        var removed = changes.DeleteRecords
            .SelectMany(b => b.Changes.Select(c => (b.HostedZoneId, Names.Normalise(c.ResourceRecordSet.Name))))
            .Distinct()
            .Count();
        return new RemovalShare(removed, owned);
    }
}

internal sealed record RemovalShare(int Removed, int Owned)
{
    // Divide rather than multiply the share: removed / owned and a decimal share like 0.3 round to the same double
    // when they are equal, so exactly the share is never mistaken for more.
    public bool Exceeds(double max) => Removed > 0 && (double)Removed / Owned > max;

    public double Rounded => Owned == 0 ? 0 : Math.Round((double)Removed / Owned, 2);

    public override string ToString() => $"{Removed}/{Owned}";
}
