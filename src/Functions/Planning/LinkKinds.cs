using BrokerLink.Functions.Kinds.Ec2SelfManaged;
using BrokerLink.Functions.Kinds.MskNlbPerBroker;
using BrokerLink.Functions.Kinds.MskServerless;
using BrokerLink.Functions.Kinds.MskSingleNlb;

namespace BrokerLink.Functions.Planning;

/// <summary>
/// The one switch over link kinds. A kind says what to observe (from the config), reads its brokers from the
/// observations and says what it desires; diff, ownership, ordering and guards are shared.
/// </summary>
internal static class LinkKinds
{
    public const string MskSingleNlb = "msk-single-nlb";
    public const string MskNlbPerBroker = "msk-nlb-per-broker";
    public const string MskServerless = "msk-serverless";
    public const string Ec2SelfManaged = "ec2-self-managed";

    public static readonly IReadOnlyList<string> Known = [MskSingleNlb, MskNlbPerBroker, MskServerless, Ec2SelfManaged];

    /// <summary>Whether links of the kind have an MSK cluster (a <c>clusterArn</c>, a cluster state, CloudTrail events).</summary>
    public static bool HasCluster(string kind) => kind != Ec2SelfManaged;

    public static Desired Desire(LinkConfig config, PlanInput input) => config.Kind switch
    {
        MskSingleNlb => MskSingleNlbKind.Desire(config, input),
        MskNlbPerBroker => MskNlbPerBrokerKind.Desire(config, input),
        MskServerless => MskServerlessKind.Desire(config, input),
        Ec2SelfManaged => Ec2SelfManagedKind.Desire(config, input),
        _ => throw Unknown(config.Kind),
    };

    /// <summary>What the state machine observes for the link (the check pass's <c>observe</c>).</summary>
    public static ObserveSpec Observe(LinkConfig config) => (config.Kind switch
    {
        MskSingleNlb => MskSingleNlbKind.Observe(config),
        MskNlbPerBroker => MskNlbPerBrokerKind.Observe(config),
        MskServerless => MskServerlessKind.Observe(config),
        Ec2SelfManaged => Ec2SelfManagedKind.Observe(config),
        _ => throw Unknown(config.Kind),
    }) with { ClusterArn = config.ClusterArn?.Value, LoadBalancerArn = config.LoadBalancerArn?.Value };

    /// <summary>The record names a link writes in every zone when its config says them; null when they are its brokers' names.</summary>
    public static IReadOnlyList<string>? RecordNames(LinkConfig config) => config.Kind switch
    {
        MskServerless => [MskServerlessKind.RecordName(config)],
        Ec2SelfManaged => config.RecordNames,
        _ => null,
    };

    private static InvalidInputException Unknown(string kind) => new($"linkConfig.kind: '{kind}' is not a known link kind");
}
