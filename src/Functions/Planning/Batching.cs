namespace BrokerLink.Functions.Planning;

/// <summary>Packs record changes into ChangeResourceRecordSets calls within Route 53's limits.</summary>
internal static class Batching
{
    // Route 53 counts an UPSERT twice against its 1,000 records and 32,000 value characters per request.
    public const int MaxChanges = 500;
    public const int MaxRecords = 1000;
    public const int MaxValueCharacters = 32000;

    /// <summary>Groups (an alias and its TXT) are never split across batches; order is kept.</summary>
    public static IEnumerable<RecordBatch> Batch(Zone zone, IEnumerable<IReadOnlyList<RecordChange>> groups)
    {
        var batch = new List<RecordChange>();
        var (records, characters) = (0, 0);
        foreach (var group in groups)
        {
            var (groupRecords, groupCharacters) = (group.Sum(Records), group.Sum(Characters));
            if (batch.Count > 0 && (batch.Count + group.Count > MaxChanges || records + groupRecords > MaxRecords || characters + groupCharacters > MaxValueCharacters))
            {
                yield return new RecordBatch(zone.HostedZoneId, zone.RoleArn, batch);
                (batch, records, characters) = ([], 0, 0);
            }
            batch.AddRange(group);
            (records, characters) = (records + groupRecords, characters + groupCharacters);
        }
        if (batch.Count > 0)
        {
            yield return new RecordBatch(zone.HostedZoneId, zone.RoleArn, batch);
        }
    }

    private static int Weight(RecordChange change) => change.Action == "UPSERT" ? 2 : 1;

    private static int Records(RecordChange change) => Weight(change) * Math.Max(1, change.ResourceRecordSet.ResourceRecords?.Count ?? 0);

    private static int Characters(RecordChange change) => Weight(change) * (change.ResourceRecordSet.ResourceRecords?.Sum(r => r.Value.Length) ?? 0);
}
