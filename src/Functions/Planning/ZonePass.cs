using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Planning;

/// <summary>
/// The zone pass: one zone's records, a ListResourceRecordSets page at a time. A zone may hold thousands of records
/// that are not the link's; the state carries only those that matter to the plan from one page to the next:
/// <code>
/// a record on the page                                   kept
/// at a name the zone should hold                         yes (to compare, or report a conflict)
/// at a name where this link's ownership TXT record is    yes (to delete when no longer wanted)
/// at the page's first or last name                       yes (its other records may be on the page next to it)
/// anything else                                          no
/// </code>
/// On the last page (not truncated) the kept records and the zone's wanted ones give its plan (<see cref="RecordDiff"/>).
/// </summary>
internal static class ZonePass
{
    /// <summary>
    /// <paramref name="pagePath"/>: where the page is in the input, for the errors that name a field of it.
    /// <paramref name="status"/>: the zone's plan also says where the link's owned names point (the link's status).
    /// </summary>
    public static ZonePage Plan(
        string linkId, ZoneWork zone, IReadOnlyList<string> names, RecordsPage page, IReadOnlyList<RecordSetWire?>? kept,
        string pagePath = "page", bool status = false)
    {
        var desired = zone.Desired(names).ToList();
        var wantedNames = desired.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        var ownValue = Registry.TxtValue(linkId);

        var carried = Check.Items(kept ?? [], "kept").Select(r => Read(r.Item, r.Path)).ToList();
        var onPage = Check.Items(page.ResourceRecordSets, $"{pagePath}.ResourceRecordSets").Select(r => Read(r.Item, r.Path)).ToList();
        var owned = onPage.Where(r => RecordDiff.IsOwnershipRecord(r.Record, ownValue)).Select(r => r.Record.Name);
        var relevant = wantedNames.Concat(owned).Concat(onPage.Take(1).Concat(onPage.TakeLast(1)).Select(r => r.Record.Name)).ToHashSet(StringComparer.Ordinal);
        var records = carried.Concat(onPage.Where(r => relevant.Contains(r.Record.Name))).ToList();

        if (page.IsTruncated == true)
        {
            var next = new NextRecord(
                Check.Text(page.NextRecordName, $"{pagePath}.NextRecordName"),
                Check.Text(page.NextRecordType, $"{pagePath}.NextRecordType"),
                string.IsNullOrEmpty(page.NextRecordIdentifier) ? null : page.NextRecordIdentifier);
            return new ZonePage(zone.HostedZoneId, next, [.. records.Select(r => r.Wire)], null);
        }

        var observed = records.Select(r => r.Record).ToList();
        var (upserts, deletes, findings) = RecordDiff.Diff(linkId, new Zone(zone.HostedZoneId, zone.RoleArn), desired, observed);
        var ownedNames = observed.Where(r => RecordDiff.IsOwnershipRecord(r, ownValue)).Select(r => r.Name).Distinct().Count();
        var removedNames = deletes.SelectMany(b => b.Changes).Select(c => Names.Normalise(c.ResourceRecordSet.Name)).Distinct().Count();
        var counts = new ZoneCounts(
            upserts.Sum(b => b.Changes.Count), upserts.Count, deletes.Sum(b => b.Changes.Count), deletes.Count, ownedNames, removedNames);
        var pointsTo = status ? StatusView.PointsTo(observed, ownValue, wantedNames) : null;
        return new ZonePage(zone.HostedZoneId, null, null,
            new ZonePlan(zone.HostedZoneId, zone.RoleArn, zone.Retiring, upserts, deletes, counts, findings) { PointsTo = pointsTo });
    }

    private static (ObservedRecord Record, RecordSetWire Wire) Read(RecordSetWire wire, string path) => (Observation.ReadRecord(wire, path), wire);
}
