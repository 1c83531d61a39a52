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
    /// <summary>
    /// The guards over a whole link: <paramref name="changes"/> (its target group changes) and every zone's plan, counted.
    /// Answers the changes with removals withheld when blocked, which zones' deletes may go ahead, and why not.
    /// </summary>
    public static (PlanChanges Changes, IReadOnlySet<string> DeletingZones, Blocked? Blocked, IReadOnlyList<Finding> Findings) Decide(
        PlanChanges changes, IReadOnlyList<ZonePlanWire> zones, GuardFacts facts, bool allowRemovals)
    {
        var deleting = zones.Where(z => z.Counts!.Deleted > 0).ToList();
        var all = deleting.Select(z => z.HostedZoneId!).ToHashSet(StringComparer.Ordinal);
        // The operator asked for these removals by name (remove-link, remove-consumer, a dropped provider zone), and
        // they do not depend on the broker list: no guard applies to a retired link or to a retiring zone's records.
        if (facts.Retired)
        {
            return (changes, all, null, []);
        }
        var retiring = deleting.Where(z => z.Retiring == true).Select(z => z.HostedZoneId!).ToHashSet(StringComparer.Ordinal);
        var current = zones.Where(z => z.Retiring != true).ToList();
        if (!changes.AnyRemovals && current.All(z => z.Counts!.Deleted == 0))
        {
            return (changes, all, null, []);
        }
        if (facts.Untrusted is { } untrusted)
        {
            return (changes.WithoutRemovals(), retiring, untrusted, []);
        }
        if (ShareExceeded(facts.Targets, RecordShare(zones), facts.MaxRemovalShare) is not { } exceeded)
        {
            return (changes, all, null, []);
        }
        return allowRemovals
            ? (changes, all, null, [new Finding("RemovalGuardOverridden", "allowRemovals", $"{exceeded}; allowRemovals is true: they are removed")])
            : (changes.WithoutRemovals(), retiring, new Blocked("RemovalShareExceeded",
                $"{exceeded}: removals are withheld, additions go ahead; check the plan and run again with allowRemovals: true to remove them"), []);
    }

    /// <summary>The owned record names the zones' deletes remove against those the link owns, in its current zones.</summary>
    public static RemovalShare RecordShare(IReadOnlyList<ZonePlanWire> zones)
    {
        var current = zones.Where(z => z.Retiring != true).ToList();
        return new RemovalShare(current.Sum(z => z.Counts!.RemovedNames), current.Sum(z => z.Counts!.OwnedNames));
    }

    private const string NotOverridden = "removals are withheld, additions go ahead (allowRemovals does not override this)";

    /// <summary>
    /// Why the broker list cannot be trusted for removals: the cluster is not ACTIVE (a kind without a cluster has no
    /// state: null), or no brokers were found. Null when it can.
    /// </summary>
    public static Blocked? Untrusted(string? clusterState, Desired desired) =>
        clusterState is not (null or "ACTIVE")
            ? new Blocked("ClusterNotActive", $"the cluster is {clusterState}, not ACTIVE, so its broker list is not trustworthy: {NotOverridden}")
            : desired.Brokers > 0 ? null : new Blocked("NoBrokers", $"{desired.NoBrokers}: {NotOverridden}");

    /// <summary>Why the plan removes too much, or null when it stays within <c>guards.maxRemovalShare</c>.</summary>
    private static string? ShareExceeded(RemovalShare targets, RemovalShare records, double max) =>
        targets.Exceeds(max) || records.Exceeds(max)
            ? $"the plan removes {targets.Removed} of {targets.Owned} registered targets ({Check.Show(targets.Rounded)}) "
                + $"and {records.Removed} of {records.Owned} owned record names ({Check.Show(records.Rounded)}), "
                + $"more than guards.maxRemovalShare {Check.Show(max)}"
            : null;

    /// <summary>The targets the link's target group changes remove against those it owns, counted as the table above says.</summary>
    public static RemovalShare TargetShare(PlanChanges changes, Observed observed)
    {
        int RegisteredIn(ObservedTargetGroup group) => (observed.Registered.GetValueOrDefault(group.Arn) ?? throw new IncompleteObservationException(
            $"targetHealth: no DescribeTargetHealth output for target group {group.Arn} ({group.Key}), which this link owns")).Count;

        var owned = observed.TargetGroups.Where(g => g.Key is not null).ToDictionary(g => g.Arn);
        var registering = changes.RegisterTargets.ToLookup(r => r.TargetGroupArn);
        var deregistered = changes.DeregisterTargets.Sum(d => Math.Max(0, d.Targets.Count - registering[d.TargetGroupArn].Sum(r => r.Targets.Count)));
        var deleted = changes.DeleteTargetGroups.Sum(d => RegisteredIn(owned[d.TargetGroupArn]));
        return new RemovalShare(deregistered + deleted, owned.Values.Sum(RegisteredIn));
    }
}

internal sealed record RemovalShare(int Removed, int Owned)
{
    // Divide rather than multiply the share: removed / owned and a decimal share like 0.3 round to the same double
    // when they are equal, so exactly the share is never mistaken for more.
    public bool Exceeds(double max) => Removed > 0 && (double)Removed / Owned > max;

    [System.Text.Json.Serialization.JsonIgnore]
    public double Rounded => Owned == 0 ? 0 : Math.Round((double)Removed / Owned, 2);

    public override string ToString() => $"{Removed}/{Owned}";
}
