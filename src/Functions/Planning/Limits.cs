namespace BrokerLink.Functions.Planning;

/// <summary>
/// AWS limits a plan must stay within, as findings: what would exceed one is held (left as it is), never attempted.
/// <code>
/// limit                                                          finding                 held
/// more than 1,000 targets in one target group                    TargetGroupQuota        that group
/// the link's listeners + the NLB's other listeners > 50          ListenerQuotaExceeded   the highest broker ids beyond 50
///   (bootstrap counted first; the link's stale listeners count                             (no listener, no record)
///   until deleted, as creation is applied before deletion)
/// </code>
/// </summary>
internal static class Limits
{
    public const int MaxTargetsPerGroup = 1000;
    public const int MaxListenersPerLoadBalancer = 50;

    public static (Desired Desired, List<Finding> Findings) Apply(Desired desired, Observed observed)
    {
        var findings = new List<Finding>();
        var groups = desired.TargetGroups.Select(d =>
        {
            if (d.Mode == GroupMode.Held || d.Targets.Count <= MaxTargetsPerGroup)
            {
                return d;
            }
            findings.Add(new Finding("TargetGroupQuota", d.Key,
                $"{d.Key} would hold {d.Targets.Count} targets, more than a target group's {MaxTargetsPerGroup}: it is left as it is"));
            return DesiredTargetGroup.Held(d.Key);
        }).ToList();

        // Listeners that are not this link's stay; a held key keeps the listener it has.
        var foreign = observed.Listeners.Count(l => l.Key is null);
        var heldKeys = groups.Where(g => g.Mode == GroupMode.Held).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        var heldListeners = observed.Listeners.Count(l => l.Key is not null && heldKeys.Contains(l.Key));
        var wanting = groups.Where(g => g.Mode == GroupMode.Managed && g.ListenerPort is not null).OrderBy(g => g.Key, Registry.KeyOrder).ToList();
        // The plan creates listeners before it deletes the stale ones: until they are gone they take room too.
        var wanted = wanting.Select(g => (g.Key, g.ListenerPort!.Value)).ToHashSet();
        var stale = observed.Listeners.Count(l => l.Key is not null && !heldKeys.Contains(l.Key) && !wanted.Contains((l.Key, l.Port)));
        var room = MaxListenersPerLoadBalancer - foreign - heldListeners - stale;
        if (wanting.Count > room)
        {
            var excess = wanting.Skip(Math.Max(0, room)).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
            foreach (var key in excess.Order(Registry.KeyOrder))
            {
                findings.Add(new Finding("ListenerQuotaExceeded", key,
                    $"the load balancer holds at most {MaxListenersPerLoadBalancer} listeners: {foreign} are not this link's and the link wants {wanting.Count}; "
                    + $"{key} gets no listener (and no record)"));
            }
            groups = [.. groups.Select(g => excess.Contains(g.Key) ? DesiredTargetGroup.Held(g.Key) : g)];
        }
        return (desired with { TargetGroups = groups }, findings);
    }
}
