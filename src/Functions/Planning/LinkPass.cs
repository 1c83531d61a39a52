using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Planning;

/// <summary>
/// The link pass: from the config and the link's observations (cluster, brokers, load balancer, target groups, tags,
/// target health; no zone records), the target group changes and what each zone should hold. The zone passes plan the
/// records, zone by zone, and the decide pass applies the guards (<see cref="DecidePass"/>).
/// </summary>
internal static class LinkPass
{
    public static LinkPlan Plan(PlanInput input, LinkConfig config, string? zoneRoleArn)
    {
        var spec = LinkKinds.Observe(config);
        // A kind without a cluster has no state; a retired link's cluster is not looked at (it may be gone).
        var clusterState = spec.Cluster ? Check.Text(input.ClusterState, "clusterState") : null;
        // A retired link (being removed by onboarding) desires nothing, whatever its brokers: everything it owns goes.
        var desired = config.Retired ? Desired.Nothing : LinkKinds.Desire(config, input);
        var observed = Observation.Read(input, config, spec);
        var (limited, limitFindings) = Limits.Apply(desired, observed);

        var (changes, groupFindings) = TargetGroupDiff.Diff(config.LinkId, limited.TargetGroups, observed);
        var wiringFindings = limitFindings.Concat(groupFindings).ToList();
        desired = WithoutUnwiredBrokers(limited, wiringFindings);
        var status = input.Status == true ? StatusView.Draft(config, desired, observed) : null;
        var (names, zones) = ZonesOf(config, desired.Records, zoneRoleArn);

        var guard = new GuardFacts(
            Policies.Untrusted(clusterState, desired),
            Policies.TargetShare(changes, observed),
            config.MaxRemovalShare,
            config.Retired);
        return new LinkPlan(
            config.LinkId,
            config.ClusterArn?.Value,
            clusterState,
            config.LoadBalancerArn?.Value,
            changes,
            names,
            zones,
            desired.AdvertisedListeners,
            [.. (desired.ServerProperties ?? []).OrderBy(p => p.BrokerId)],
            [.. desired.Findings.Concat(wiringFindings)],
            desired.Brokers,
            guard)
        { Status = status };
    }

    /// <summary>
    /// What each zone the link observes should hold, compactly: the names every zone of one alias wants are listed once
    /// (<see cref="LinkPlan.Names"/>), so a link of 49 brokers and 50 zones stays a few kilobytes; only zones whose names
    /// alias different targets (an endpoint per broker) list their records. Own-account zones are read and written
    /// through <paramref name="zoneRoleArn"/>, the provider's zone role (null only when a test plans in one call).
    /// </summary>
    public static (IReadOnlyList<string> Names, IReadOnlyList<ZoneWork> Zones) ZonesOf(
        LinkConfig config, IReadOnlyList<DesiredRecord> records, string? zoneRoleArn)
    {
        var names = records.Select(r => r.Name).Distinct().Order(StringComparer.Ordinal).ToList();
        var zones = new List<ZoneWork>();
        foreach (var zone in config.Zones)
        {
            var wanted = records.Where(r => r.HostedZoneId == zone.HostedZoneId).DistinctBy(r => r.Name).ToList();
            var role = zone.RoleArn ?? zoneRoleArn;
            var aliases = wanted.Select(r => r.Alias).Distinct().ToList();
            zones.Add(wanted.Count == names.Count && aliases.Count == 1
                ? new ZoneWork(zone.HostedZoneId, role, false, aliases[0], null)
                : new ZoneWork(zone.HostedZoneId, role, false, null, [.. wanted.OrderBy(r => r.Name, StringComparer.Ordinal).Select(r => new ZoneRecord(r.Name, r.Alias))]));
        }
        zones.AddRange(config.Retiring.Select(r => new ZoneWork(r.HostedZoneId, r.RoleArn ?? zoneRoleArn, true, null, null)));
        return (names, zones);
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
}
