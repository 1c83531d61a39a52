using BrokerLink.Functions.Kinds.Shared;
using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Kinds.MskServerless;

/// <summary>
/// MSK Serverless behind an NLB: the cluster is reached through an interface VPC endpoint in the provider VPC; one
/// target group (key <c>serverless</c>) holds the private IPs of that endpoint's network interfaces at targetPort, one
/// listener on listenerPort forwards to it, and one wildcard alias <c>*.kafka-serverless.&lt;region&gt;.amazonaws.com</c>
/// per zone covers every broker name. The "brokers" are the endpoint's interface IPs.
/// </summary>
internal static class MskServerlessKind
{
    public static ObserveSpec Observe(LinkConfig config) => new(
        Cluster: !config.Retired, LoadBalancer: true, Nodes: false, VpcEndpointId: config.Retired ? null : config.VpcEndpointId,
        InstanceFilters: null, TargetGroupArns: null);

    public static string RecordName(LinkConfig config) => $"*.kafka-serverless.{config.ClusterArn!.Region}.amazonaws.com";

    public static Desired Desire(LinkConfig config, PlanInput input)
    {
        var nlb = Nlb.Read(input.LoadBalancer, config);
        var ips = ReadInterfaceIps(input, config);
        List<DesiredTargetGroup> groups = ips.Count == 0 ? [] : [NlbListeners.Group(config, nlb, Registry.Serverless, ips, config.ListenerPort!.Value)];
        var records = NlbListeners.Records(config, nlb, [RecordName(config)]).ToList();
        return new Desired(groups, records, [], [], ips.Count,
            NoBrokers: $"VPC endpoint {config.VpcEndpointId} has no network interface with an IP");
    }

    /// <summary>The private IPs of the configured endpoint's network interfaces, sorted.</summary>
    private static List<string> ReadInterfaceIps(PlanInput input, LinkConfig config)
    {
        var endpoints = Check.Present(input.VpcEndpoints, "vpcEndpoints");
        var endpoint = Check.Items(endpoints.VpcEndpoints, "vpcEndpoints.VpcEndpoints")
            .FirstOrDefault(e => e.Item.VpcEndpointId == config.VpcEndpointId);
        if (endpoint.Item is null)
        {
            throw Check.Invalid("vpcEndpoints.VpcEndpoints", $"no entry for VPC endpoint {config.VpcEndpointId}, which the link config names");
        }
        var interfaceIds = Check.Items(endpoint.Item.NetworkInterfaceIds, $"{endpoint.Path}.NetworkInterfaceIds").Select(x => x.Item).ToHashSet(StringComparer.Ordinal);
        var interfaces = Check.Present(input.NetworkInterfaces, "networkInterfaces");
        var ips = new List<string>();
        foreach (var (eni, path) in Check.Items(interfaces.NetworkInterfaces, "networkInterfaces.NetworkInterfaces"))
        {
            var id = Check.Text(eni.NetworkInterfaceId, $"{path}.NetworkInterfaceId");
            if (interfaceIds.Contains(id))
            {
                ips.Add(Check.Ipv4(eni.PrivateIpAddress, $"{path}.PrivateIpAddress"));
            }
        }
        return [.. ips.Distinct().Order(StringComparer.Ordinal)];
    }
}
