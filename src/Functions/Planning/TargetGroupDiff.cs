namespace BrokerLink.Functions.Planning;

/// <summary>
/// Target groups, listeners and targets, per key. Only resources tagged for this link are changed or removed.
/// <code>
/// observed (for the key)                        desired   action
/// no owned TG, listener port free, name free    key       createTargetGroups (TG, its targets, its listener)
/// no owned TG, port taken / name taken          key       finding ListenerPortConflict / TargetGroupNameConflict
/// owned TG, no owned listener on the port       key       createListeners, or ListenerPortConflict if the port is taken
/// desired target not registered (or draining)   target    registerTargets
/// registered target                             -         deregisterTargets
/// owned TG / listener                           -         deleteListeners, deleteTargetGroups
/// owned TG still used by a listener not ours    -         finding TargetGroupInUse, kept
/// held key (duplicate broker id, a limit)       held      nothing: its owned TG and listener stay as they are
/// operator's TG, tagged for this link           operator  register / deregister only; never created, deleted, no listener
/// operator's TG, not tagged for this link       operator  finding TargetGroupNotTagged, its targets left alone
/// operator's TG                                 -         left as it is (never deleted)
/// </code>
/// </summary>
internal static class TargetGroupDiff
{
    public static (PlanChanges Changes, List<Finding> Findings) Diff(string linkId, IReadOnlyList<DesiredTargetGroup> desired, Observed observed)
    {
        var createGroups = new List<CreateTargetGroup>();
        var createListeners = new List<CreateListener>();
        var register = new List<TargetsChange>();
        var deregister = new List<TargetsChange>();
        var findings = new List<Finding>();
        var kept = new HashSet<string>();

        foreach (var d in desired.OrderBy(d => d.Key, Registry.KeyOrder))
        {
            if (d.Mode == GroupMode.Held)
            {
                kept.UnionWith(observed.Listeners.Where(l => l.Key == d.Key).Select(l => l.Arn));
                kept.UnionWith(observed.TargetGroups.Where(t => t.Key == d.Key).Select(t => t.Arn));
                continue;
            }
            if (d.Mode == GroupMode.Operator)
            {
                var theirs = observed.TargetGroups.FirstOrDefault(t => t.Arn == d.Arn) ?? throw new IncompleteObservationException(
                    $"targetGroups: no observation of target group {d.Arn} ({d.Key}), which the link config names");
                if (theirs.Key is null)
                {
                    findings.Add(new Finding("TargetGroupNotTagged", d.Key,
                        $"target group {theirs.Arn} is not tagged {Registry.LinkTag} = {linkId}: BrokerLink may not change its targets, they are left alone"));
                    continue;
                }
                var current = observed.Registered.GetValueOrDefault(theirs.Arn) ?? throw new IncompleteObservationException(
                    $"targetHealth: no DescribeTargetHealth output for target group {theirs.Arn} ({d.Key}), which the link config names");
                AddIfAny(register, d.Key, theirs.Arn, d.Targets.Except(current));
                AddIfAny(deregister, d.Key, theirs.Arn, current.Except(d.Targets));
                continue;
            }
            // A group BrokerLink creates always has its listener: the state machine creates both together.
            var listenerPort = d.ListenerPort ?? throw new InvalidOperationException($"the managed target group {d.Key} has no listener port");
            var listener = observed.Listeners.Where(l => l.Key == d.Key && l.Port == listenerPort).MinBy(l => l.Arn, StringComparer.Ordinal);
            var owned = observed.TargetGroups.Where(t => t.Key == d.Key).OrderBy(t => t.Arn, StringComparer.Ordinal).ToList();
            // Prefer the group our listener forwards to; any other group owned under this key is surplus.
            var group = owned.FirstOrDefault(t => listener?.TargetGroupArns.Contains(t.Arn) == true) ?? owned.FirstOrDefault();
            var portHolder = observed.Listeners.Where(l => l.Port == listenerPort).MinBy(l => l.Arn, StringComparer.Ordinal);
            var tags = Registry.Tags(linkId, d.Key);
            kept.UnionWith(new[] { listener?.Arn, group?.Arn }.OfType<string>());

            if (group is null)
            {
                if (portHolder is not null)
                {
                    findings.Add(PortConflict(d, portHolder));
                }
                else if (observed.TargetGroups.FirstOrDefault(t => t.Name == d.Name) is { } namesake)
                {
                    findings.Add(new Finding("TargetGroupNameConflict", d.Name,
                        $"target group {namesake.Arn} has the name BrokerLink needs for {d.Key} but is not tagged as this link's: it is left alone"));
                }
                else
                {
                    createGroups.Add(new CreateTargetGroup(d.Key, d.Name, d.Port, d.VpcId, tags, d.Targets, new ListenerSpec(listenerPort, tags)));
                }
                continue;
            }

            var registered = observed.Registered.GetValueOrDefault(group.Arn) ?? throw new IncompleteObservationException(
                $"targetHealth: no DescribeTargetHealth output for target group {group.Arn} ({d.Key}), which this link owns");
            AddIfAny(register, d.Key, group.Arn, d.Targets.Except(registered));
            AddIfAny(deregister, d.Key, group.Arn, registered.Except(d.Targets));

            if (listener is null)
            {
                if (portHolder is not null)
                {
                    findings.Add(PortConflict(d, portHolder));
                }
                else
                {
                    createListeners.Add(new CreateListener(d.Key, group.Arn, listenerPort, tags));
                }
            }
            else if (!listener.TargetGroupArns.Contains(group.Arn))
            {
                findings.Add(new Finding("ListenerMisrouted", d.Key,
                    $"listener {listener.Arn} on port {d.ListenerPort} is this link's but does not forward to its target group {group.Arn}"));
            }
        }

        var deleteListeners = observed.Listeners
            .Where(l => l.Key is not null && !kept.Contains(l.Arn))
            .Select(l => new DeleteListener(l.Key!, l.Arn))
            .ToList();
        var deleteGroups = new List<DeleteTargetGroup>();
        foreach (var group in observed.TargetGroups.Where(t => t.Key is not null && !t.Operator && !kept.Contains(t.Arn)))
        {
            // DeleteTargetGroup fails while any listener forwards to the group.
            var user = observed.Listeners.FirstOrDefault(l => l.TargetGroupArns.Contains(group.Arn) && !deleteListeners.Any(d => d.ListenerArn == l.Arn));
            if (user is null)
            {
                deleteGroups.Add(new DeleteTargetGroup(group.Key!, group.Arn));
            }
            else
            {
                findings.Add(new Finding("TargetGroupInUse", group.Key!,
                    $"target group {group.Arn} is no longer needed but listener {user.Arn}, which is not this link's, forwards to it: it is kept"));
            }
        }

        var changes = PlanChanges.None with
        {
            CreateTargetGroups = createGroups,
            CreateListeners = createListeners,
            RegisterTargets = register,
            DeregisterTargets = deregister,
            DeleteListeners = [.. deleteListeners.OrderBy(d => d.Key, Registry.KeyOrder).ThenBy(d => d.ListenerArn, StringComparer.Ordinal)],
            DeleteTargetGroups = [.. deleteGroups.OrderBy(d => d.Key, Registry.KeyOrder).ThenBy(d => d.TargetGroupArn, StringComparer.Ordinal)],
        };
        return (changes, findings);
    }

    private static Finding PortConflict(DesiredTargetGroup d, ObservedListener holder) => new("ListenerPortConflict", d.Key, holder.Key switch
    {
        null => $"port {d.ListenerPort} is taken by listener {holder.Arn}, which is not this link's: {d.Key} gets no listener",
        var key when key == d.Key => $"port {d.ListenerPort} is held by this link's listener {holder.Arn}, which forwards to no target group of this link",
        var key => $"port {d.ListenerPort} is taken by this link's listener {holder.Arn} for {key}: {d.Key} gets its listener once that one is gone",
    });

    private static void AddIfAny(List<TargetsChange> list, string key, string groupArn, IEnumerable<Target> targets)
    {
        var sorted = targets.OrderBy(t => t.Id, StringComparer.Ordinal).ThenBy(t => t.Port).ToList();
        if (sorted.Count > 0)
        {
            list.Add(new TargetsChange(key, groupArn, sorted));
        }
    }
}
