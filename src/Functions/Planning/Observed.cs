using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Planning;

/// <summary>
/// The load balancer's target groups and listeners (with the keys we own) and each group's targets as DescribeTargetHealth
/// lists them (<see cref="Health"/>, by group ARN). <see cref="Registered"/>: those not draining, which the plan reads (a
/// draining target is on its way out: it counts as not registered, so a desired one is registered again).
/// </summary>
internal sealed record Observed(
    IReadOnlyList<ObservedTargetGroup> TargetGroups,
    IReadOnlyList<ObservedListener> Listeners,
    IReadOnlyDictionary<string, IReadOnlyList<TargetStatus>> Health)
{
    public IReadOnlyDictionary<string, IReadOnlyList<Target>> Registered { get; } = Health.ToDictionary(
        g => g.Key, g => (IReadOnlyList<Target>)[.. g.Value.Where(t => t.Health != "draining").Select(t => new Target(t.Id, t.Port)).Distinct()]);
}

/// <summary>
/// <see cref="Key"/> is null unless this link owns the target group. <see cref="Operator"/>: a group the operator
/// created and configured for the link (msk-nlb-per-broker); BrokerLink may change its targets but never deletes it.
/// </summary>
internal sealed record ObservedTargetGroup(string Arn, string Name, string? Key, bool Operator = false);

internal sealed record ObservedListener(string Arn, int Port, string? Key, IReadOnlyList<string> TargetGroupArns);

/// <summary>A record set: <see cref="Name"/> normalised for comparison, <see cref="Raw"/> as observed, for a DELETE.</summary>
internal sealed record ObservedRecord(string Name, string Type, string? SetIdentifier, ResourceRecordSet Raw)
{
    public IEnumerable<string> Values => Raw.ResourceRecords?.Select(r => r.Value) ?? [];
}

internal static class Observation
{
    /// <summary>
    /// Reads what <paramref name="spec"/> says the state machine observed: the load balancer's listeners and target groups,
    /// or the operator's configured target groups (owned, keyed <c>broker-N</c>, only when tagged <c>brokerlink:link</c>
    /// with the link's id). Zones are read page by page by the zone pass.
    /// </summary>
    public static Observed Read(PlanInput input, LinkConfig config, ObserveSpec spec)
    {
        var configured = spec.TargetGroupArns ?? [];
        var observesResources = spec.LoadBalancer || configured.Count > 0;
        var tags = ReadTags(observesResources ? Check.Present(input.Tags, "tags") : input.Tags ?? []);
        IReadOnlyList<Tag> TagsOf(string arn) => tags.GetValueOrDefault(arn) ?? [];

        var listeners = new List<ObservedListener>();
        var groups = new List<ObservedTargetGroup>();
        if (spec.LoadBalancer)
        {
            var listenersPage = Check.Present(input.Listeners, "listeners");
            Complete(string.IsNullOrEmpty(listenersPage.NextMarker), "listeners", "has a NextMarker");
            listeners.AddRange(Check.Items(listenersPage.Listeners, "listeners.Listeners").Select(x =>
            {
                var arn = Check.Text(x.Item.ListenerArn, $"{x.Path}.ListenerArn");
                return new ObservedListener(arn, Check.Port(x.Item.Port, $"{x.Path}.Port"), Registry.OwnedKey(TagsOf(arn), config.LinkId), ForwardsTo(x.Item, x.Path));
            }));

            var groupsPage = Check.Present(input.TargetGroups, "targetGroups");
            Complete(string.IsNullOrEmpty(groupsPage.NextMarker), "targetGroups", "has a NextMarker");
            groups.AddRange(Check.Items(groupsPage.TargetGroups, "targetGroups.TargetGroups").Select(x =>
            {
                var arn = Check.Text(x.Item.TargetGroupArn, $"{x.Path}.TargetGroupArn");
                return new ObservedTargetGroup(arn, Check.Text(x.Item.TargetGroupName, $"{x.Path}.TargetGroupName"), Registry.OwnedKey(TagsOf(arn), config.LinkId));
            }));
        }
        foreach (var broker in config.ConfiguredBrokers.Where(b => configured.Contains(b.TargetGroupArn)))
        {
            var owned = TagsOf(broker.TargetGroupArn).Any(t => t.Key == Registry.LinkTag && t.Value == config.LinkId);
            groups.Add(new ObservedTargetGroup(broker.TargetGroupArn, broker.TargetGroupArn.Split('/')[1],
                owned ? Registry.BrokerKey(broker.BrokerId) : null, Operator: true));
        }

        var health = observesResources ? Check.Present(input.TargetHealth, "targetHealth") : input.TargetHealth ?? [];
        return new Observed(groups, listeners, ReadTargetHealth(health));
    }

    /// <summary>Unrolls a page chain, newest page first; a newest page that says there is more is a partial read.</summary>
    public static IEnumerable<(TPage Page, string Path)> Unroll<TPage>(PageChain<TPage>? chain, string path, Func<TPage, bool> hasMore, string more)
        where TPage : class
    {
        var link = Check.Present(chain, path);
        Complete(!hasMore(Check.Present(link.Page, $"{path}.page")), path, $"its newest page {more}");
        for (var at = path; link is not null; link = link.Rest, at += ".rest")
        {
            yield return (Check.Present(link.Page, $"{at}.page"), $"{at}.page");
        }
    }

    private static void Complete(bool complete, string path, string problem)
    {
        if (!complete)
        {
            throw new IncompleteObservationException($"{path}: {problem}; this is a partial read, observe again");
        }
    }

    // A resource missing from the tags reads as untagged, so as not ours: the planner then never changes it.
    private static Dictionary<string, IReadOnlyList<Tag>> ReadTags(IReadOnlyList<TagsPage?> pages)
    {
        var tags = new Dictionary<string, IReadOnlyList<Tag>>();
        foreach (var (page, pagePath) in Check.Items(pages, "tags"))
        {
            foreach (var (description, path) in Check.Items(page.TagDescriptions, $"{pagePath}.TagDescriptions"))
            {
                tags[Check.Text(description.ResourceArn, $"{path}.ResourceArn")] = [.. Check.Items(description.Tags, $"{path}.Tags")
                    .Select(t => new Tag(Check.Text(t.Item.Key, $"{t.Path}.Key"), t.Item.Value ?? ""))];
            }
        }
        return tags;
    }

    private static List<string> ForwardsTo(ListenerWire listener, string path) =>
        [.. Check.Items(listener.DefaultActions, $"{path}.DefaultActions")
            .SelectMany(a => new[] { a.Item.TargetGroupArn }.Concat(
                Check.Items(a.Item.ForwardConfig?.TargetGroups, $"{a.Path}.ForwardConfig.TargetGroups").Select(t => t.Item.TargetGroupArn)))
            .OfType<string>()
            .Distinct()];

    /// <summary>Every target of each group with its health state (<c>unknown</c> when none is given) and reason.</summary>
    private static Dictionary<string, IReadOnlyList<TargetStatus>> ReadTargetHealth(IReadOnlyList<TargetHealthWire?> outputs)
    {
        var health = new Dictionary<string, IReadOnlyList<TargetStatus>>(StringComparer.Ordinal);
        foreach (var (output, path) in Check.Items(outputs, "targetHealth"))
        {
            health[Check.Text(output.TargetGroupArn, $"{path}.TargetGroupArn")] = [.. Check.Items(output.TargetHealthDescriptions, $"{path}.TargetHealthDescriptions")
                .Select(d => new TargetStatus(
                    Check.Text(d.Item.Target?.Id, $"{d.Path}.Target.Id"),
                    Check.Port(d.Item.Target?.Port, $"{d.Path}.Target.Port"),
                    d.Item.TargetHealth?.State ?? "unknown",
                    d.Item.TargetHealth?.Reason))];
        }
        return health;
    }

    /// <summary>
    /// A plan made in one call (tests, tools): every zone's records as one page chain each, checked complete, as the
    /// pages the state machine hands the zone pass one by one (the newest first in the chain, so reversed here).
    /// </summary>
    public static Dictionary<string, IReadOnlyList<(RecordsPage Page, string Path)>> ReadZonePages(IReadOnlyList<ZoneWire?>? zones, LinkConfig config)
    {
        var observed = new Dictionary<string, IReadOnlyList<(RecordsPage, string)>>();
        foreach (var (zone, path) in Check.Items(Check.Present(zones, "zones"), "zones"))
        {
            var id = Check.HostedZoneId(zone.HostedZoneId?.Replace("/hostedzone/", ""), $"{path}.HostedZoneId");
            if (observed.ContainsKey(id))
            {
                throw Check.Invalid($"{path}.HostedZoneId", $"zone {id} appears twice");
            }
            var pages = Unroll(zone.Records, $"{path}.Records", p => p.IsTruncated == true, "has IsTruncated: true").Reverse().ToList();
            // Only the last page says the listing is complete; the ones before continue where the next one starts
            // (which page that is, the chain says: where they continue is of no use here).
            observed[id] = [.. pages.Select((p, i) => (p.Page with { IsTruncated = i < pages.Count - 1, NextRecordName = "-", NextRecordType = "-" }, p.Path))];
        }
        foreach (var zone in config.ObservedZones.Where(z => !observed.ContainsKey(z.HostedZoneId)))
        {
            throw Check.Invalid("zones", $"no entry for hosted zone {zone.HostedZoneId}, which the link config names");
        }
        return observed;
    }

    public static ObservedRecord ReadRecord(RecordSetWire record, string path)
    {
        var name = Check.Text(record.Name, $"{path}.Name");
        var type = Check.Text(record.Type, $"{path}.Type").ToUpperInvariant();
        var alias = record.AliasTarget is { } a
            ? new AliasTarget(
                Check.Text(a.HostedZoneId, $"{path}.AliasTarget.HostedZoneId"),
                Check.Text(a.DnsName, $"{path}.AliasTarget.DnsName"),
                a.EvaluateTargetHealth ?? false)
            : null;
        // An alias record set has no TTL or values in the API (moto reports TTL 0): leave them out, or a DELETE is rejected.
        var raw = new ResourceRecordSet(
            name,
            type,
            alias is null ? record.Ttl : null,
            alias is null ? [.. Check.Items(record.ResourceRecords, $"{path}.ResourceRecords").Select(v => new ResourceRecord(v.Item.Value ?? ""))] : null,
            alias);
        return new ObservedRecord(Names.Normalise(name), type, string.IsNullOrEmpty(record.SetIdentifier) ? null : record.SetIdentifier, raw);
    }
}
