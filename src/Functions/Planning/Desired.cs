namespace BrokerLink.Functions.Planning;

/// <summary>What a link kind wants to exist, in kind-agnostic terms the diff understands.</summary>
internal sealed record Desired(
    IReadOnlyList<DesiredTargetGroup> TargetGroups,
    IReadOnlyList<DesiredRecord> Records,
    IReadOnlyList<AdvertisedListener> AdvertisedListeners,
    IReadOnlyList<Finding> Findings,
    int Brokers)
{
    public static readonly Desired Nothing = new([], [], [], [], 0);
}

/// <summary>A TCP target group of IP targets, under a stable <see cref="Key"/>, with one listener forwarding to it.</summary>
internal sealed record DesiredTargetGroup(string Key, string Name, int Port, string VpcId, IReadOnlyList<Target> Targets, int ListenerPort);

/// <summary>An alias A record (with its ownership TXT record beside it).</summary>
internal sealed record DesiredRecord(string HostedZoneId, string Name, AliasTarget Alias);
