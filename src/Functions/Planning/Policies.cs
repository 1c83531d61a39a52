namespace BrokerLink.Functions.Planning;

/// <summary>Small filters over a plan: when the observation cannot be trusted to be whole, additions go ahead, removals do not.</summary>
internal static class Policies
{
    public static (PlanChanges Changes, IReadOnlyList<Finding> Findings) Apply(PlanChanges changes, string clusterState, int brokers)
    {
        var findings = new List<Finding>();
        if (clusterState != "ACTIVE")
        {
            findings.Add(new Finding("ClusterNotActive", clusterState, $"the cluster is {clusterState}, not ACTIVE: nothing is removed"));
        }
        if (brokers == 0)
        {
            findings.Add(new Finding("NoBrokers", "nodes", "ListNodes returned no brokers: nothing is removed"));
        }
        return (findings.Count == 0 ? changes : changes.WithoutRemovals(), findings);
    }
}
