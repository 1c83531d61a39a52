namespace BrokerLink.Functions.Planning;

/// <summary>
/// What a link kind wants to exist, in kind-agnostic terms the diff understands. <see cref="NoBrokers"/> says, in the
/// kind's words, why no broker was found (the NoBrokers guard's reason).
/// </summary>
internal sealed record Desired(
    IReadOnlyList<DesiredTargetGroup> TargetGroups,
    IReadOnlyList<DesiredRecord> Records,
    IReadOnlyList<AdvertisedListener> AdvertisedListeners,
    IReadOnlyList<Finding> Findings,
    int Brokers,
    string NoBrokers = "ListNodes returned no brokers",
    IReadOnlyList<ServerPropertiesEntry>? ServerProperties = null)
{
    public static readonly Desired Nothing = new([], [], [], [], 0);

    /// <summary>The brokers as the kind observed them, duplicates included (the status lists them; the plan does not read them).</summary>
    public IReadOnlyList<SeenBroker> Seen { get; init; } = [];
}

/// <summary>Who creates and deletes a desired target group.</summary>
internal enum GroupMode
{
    /// <summary>BrokerLink creates it with its listener and deletes both when no longer desired.</summary>
    Managed,

    /// <summary>The operator's group (<see cref="DesiredTargetGroup.Arn"/>): BrokerLink keeps its targets, never creates or deletes it.</summary>
    Operator,

    /// <summary>Left exactly as it is (a duplicate broker id, a limit): no create, register, deregister or delete.</summary>
    Held,
}

/// <summary>
/// A TCP target group of IP targets, under a stable <see cref="Key"/>. A managed group always has one listener forwarding
/// to it, on <see cref="ListenerPort"/>; the operator's and held groups have none (null).
/// </summary>
internal sealed record DesiredTargetGroup(
    string Key,
    string Name,
    int Port,
    string VpcId,
    IReadOnlyList<Target> Targets,
    int? ListenerPort,
    GroupMode Mode = GroupMode.Managed,
    string? Arn = null)
{
    public static DesiredTargetGroup Held(string key) => new(key, "", 0, "", [], null, GroupMode.Held);
}

/// <summary>An alias A record (with its ownership TXT record beside it).</summary>
internal sealed record DesiredRecord(string HostedZoneId, string Name, AliasTarget Alias);
