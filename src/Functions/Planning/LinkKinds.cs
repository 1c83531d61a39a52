using BrokerLink.Functions.Kinds.MskSingleNlb;

namespace BrokerLink.Functions.Planning;

/// <summary>The one switch over link kinds. A kind reads its brokers from the observations and says what it desires.</summary>
internal static class LinkKinds
{
    public const string MskSingleNlb = "msk-single-nlb";

    public static readonly IReadOnlyList<string> Known = [MskSingleNlb];

    public static Desired Desire(LinkConfig config, PlanInput input) => config.Kind switch
    {
        MskSingleNlb => MskSingleNlbKind.Desire(config, input),
        _ => throw new InvalidInputException($"linkConfig.kind: '{config.Kind}' is not a known link kind"),
    };
}
