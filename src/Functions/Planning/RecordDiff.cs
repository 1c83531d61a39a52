namespace BrokerLink.Functions.Planning;

/// <summary>
/// Alias records and their ownership TXT records of one zone, per name. Names compare normalised (lower case, no
/// trailing dot, <c>\052</c> as <c>*</c>); record sets with a SetIdentifier are never ours.
/// <code>
/// observed at the name                            desired   action
/// nothing                                         name      UPSERT A + TXT
/// our TXT, no A                                   name      UPSERT A + TXT (recreate)
/// A + our TXT, A differs                          name      UPSERT A (+ TXT if it differs)
/// A + our TXT, only TXT differs (TTL, values)     name      UPSERT TXT
/// A without TXT, a TXT not ours, a CNAME, or
///   an A/TXT with a SetIdentifier                 name      finding RecordConflict, no change
/// our TXT (+ A)                                   -         DELETE both, exactly as observed
/// </code>
/// </summary>
internal static class RecordDiff
{
    public static (List<RecordBatch> Upserts, List<RecordBatch> Deletes, List<Finding> Findings) Diff(
        string linkId, Zone zone, IEnumerable<DesiredRecord> desired, IEnumerable<ObservedRecord> observed)
    {
        var findings = new List<Finding>();
        var ownValue = Registry.TxtValue(linkId);
        var atName = observed.ToLookup(r => r.Name);
        var wanted = desired.DistinctBy(d => d.Name).ToDictionary(d => d.Name);
        var upsertGroups = new List<IReadOnlyList<RecordChange>>();
        var deleteGroups = new List<IReadOnlyList<RecordChange>>();

        foreach (var d in wanted.Values.OrderBy(d => d.Name, StringComparer.Ordinal))
        {
            var records = atName[d.Name].ToList();
            var a = records.FirstOrDefault(r => r.Type == "A" && r.SetIdentifier is null);
            var txt = records.FirstOrDefault(r => r.Type == "TXT" && r.SetIdentifier is null);
            var blocker = records.FirstOrDefault(r => r.Type == "CNAME" || (r.SetIdentifier is not null && r.Type is "A" or "TXT"));
            var conflict = (blocker, txt, a) switch
            {
                ({ } b, _, _) => b.SetIdentifier is null ? "a CNAME record exists at the name" : $"a {b.Type} record with SetIdentifier '{b.SetIdentifier}' exists at the name",
                (_, { } t, _) when !t.Values.Contains(ownValue) => "its TXT record is not BrokerLink's for this link",
                (_, null, { }) => "an A record exists without BrokerLink's ownership TXT record",
                _ => null,
            };
            if (conflict is not null)
            {
                findings.Add(new Finding("RecordConflict", d.Name, $"zone {zone.HostedZoneId}: {conflict}: it is left alone"));
                continue;
            }

            var desiredA = new ResourceRecordSet(d.Name, "A", AliasTarget: d.Alias);
            var desiredTxt = new ResourceRecordSet(d.Name, "TXT", Registry.TxtTtl, [new ResourceRecord(ownValue)]);
            var aCurrent = a is not null && SameAlias(a.Raw.AliasTarget, d.Alias);
            var txtCurrent = a is not null && txt is not null && txt.Raw.Ttl == Registry.TxtTtl && txt.Values.SequenceEqual([ownValue]);
            var group = new[] { aCurrent ? null : desiredA, txtCurrent ? null : desiredTxt }
                .OfType<ResourceRecordSet>()
                .Select(r => new RecordChange("UPSERT", r))
                .ToList();
            if (group.Count > 0)
            {
                upsertGroups.Add(group);
            }
        }

        foreach (var name in atName.Select(g => g.Key).Where(n => !wanted.ContainsKey(n)).Order(StringComparer.Ordinal))
        {
            var txt = atName[name].FirstOrDefault(r => IsOwnershipRecord(r, ownValue));
            if (txt is not null)
            {
                deleteGroups.Add([.. atName[name].Where(r => r.Type == "A" && r.SetIdentifier is null).Append(txt).Select(r => new RecordChange("DELETE", r.Raw))]);
            }
        }

        return ([.. Batching.Batch(zone, upsertGroups)], [.. Batching.Batch(zone, deleteGroups)], findings);
    }

    /// <summary>The registry's mark on a name: our TXT record, without a SetIdentifier.</summary>
    public static bool IsOwnershipRecord(ObservedRecord record, string ownValue) =>
        record.Type == "TXT" && record.SetIdentifier is null && record.Values.Contains(ownValue);

    private static bool SameAlias(AliasTarget? observed, AliasTarget desired) =>
        observed is not null
        && string.Equals(observed.HostedZoneId, desired.HostedZoneId, StringComparison.OrdinalIgnoreCase)
        && Validation.Names.NormaliseAliasTarget(observed.DnsName) == Validation.Names.NormaliseAliasTarget(desired.DnsName)
        && observed.EvaluateTargetHealth == desired.EvaluateTargetHealth;
}
