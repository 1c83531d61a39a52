using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Kinds.Shared;

/// <summary>The load balancer a kind puts its listeners on, as DescribeLoadBalancers reports it.</summary>
internal sealed record Nlb(string DnsName, string CanonicalHostedZoneId, string VpcId)
{
    public AliasTarget Alias => new(CanonicalHostedZoneId, DnsName, false);

    public static Nlb Read(LoadBalancerWire? wire, LinkConfig config)
    {
        var lb = Check.Present(wire, "loadBalancer");
        var arn = Check.Text(lb.LoadBalancerArn, "loadBalancer.LoadBalancerArn");
        if (arn != config.LoadBalancerArn?.Value)
        {
            throw Check.Invalid("loadBalancer.LoadBalancerArn", $"'{arn}' is not the link's load balancer {config.LoadBalancerArn?.Value}");
        }
        return new Nlb(
            Check.DnsName(lb.DnsName, "loadBalancer.DnsName"),
            Check.HostedZoneId(lb.CanonicalHostedZoneId, "loadBalancer.CanonicalHostedZoneId"),
            Check.Text(lb.VpcId, "loadBalancer.VpcId"));
    }
}

/// <summary>A broker as a kind found it: its id and the IP its target is registered at.</summary>
internal sealed record BrokerIp(int Id, string Ip);

/// <summary>
/// The one-NLB pattern shared by msk-single-nlb and ec2-self-managed: broker N gets a target group holding its IP at
/// targetPort and a listener on listenerBasePort + N, plus an optional bootstrap group over every broker.
/// </summary>
internal static class NlbListeners
{
    /// <summary>The finding of a broker whose listener port is the bootstrap listener's; onboarding refuses such a bootstrapPort.</summary>
    public const string BootstrapPortConflict = "BootstrapPortConflict";

    /// <summary>
    /// The groups for <paramref name="brokers"/>; a broker whose port would be above 65535 (finding <c>PortOutOfRange</c>)
    /// or is the bootstrap listener's (finding <c>BootstrapPortConflict</c>: the bootstrap keeps it) gets none and is in
    /// <c>Unwired</c>, as it can only come about as brokers are added; each held id keeps what it has.
    /// <paramref name="heldIps"/> (the IPs the held brokers' claimants have) stay in the bootstrap group.
    /// </summary>
    public static (List<DesiredTargetGroup> Groups, List<Finding> Findings, HashSet<int> Unwired) Groups(
        LinkConfig config, Nlb nlb, IReadOnlyList<BrokerIp> brokers, IReadOnlyCollection<int> heldIds, IReadOnlyCollection<string> heldIps)
    {
        var basePort = config.ListenerBasePort ?? throw new InvalidOperationException("a kind with per-broker listeners has a listenerBasePort");
        var groups = new List<DesiredTargetGroup>();
        var findings = new List<Finding>();
        var unwired = new HashSet<int>();
        foreach (var b in brokers)
        {
            var port = basePort + b.Id;
            if (port > 65535)
            {
                findings.Add(new Finding("PortOutOfRange", Registry.BrokerKey(b.Id),
                    $"broker {b.Id} needs listener port {basePort} + {b.Id} = {port}, above 65535: it gets no listener and no record"));
                unwired.Add(b.Id);
                continue;
            }
            if (port == config.BootstrapPort)
            {
                findings.Add(new Finding(BootstrapPortConflict, Registry.BrokerKey(b.Id),
                    $"broker {b.Id} needs listener port {basePort} + {b.Id} = {port}, the bootstrapPort: the bootstrap listener keeps it, "
                    + $"broker {b.Id} gets no listener and no record"));
                unwired.Add(b.Id);
                continue;
            }
            groups.Add(Group(config, nlb, Registry.BrokerKey(b.Id), [b.Ip], port));
        }
        groups.AddRange(heldIds.Select(id => DesiredTargetGroup.Held(Registry.BrokerKey(id))));
        var bootstrapIps = brokers.Where(b => !unwired.Contains(b.Id)).Select(b => b.Ip).Concat(heldIps).ToList();
        // No brokers, no bootstrap group: a target group cannot be created with no targets to register.
        if (config.BootstrapPort is { } bootstrapPort && bootstrapIps.Count > 0)
        {
            groups.Add(Group(config, nlb, Registry.Bootstrap, bootstrapIps, bootstrapPort));
        }
        return (groups, findings, unwired);
    }

    public static DesiredTargetGroup Group(LinkConfig config, Nlb nlb, string key, IEnumerable<string> ips, int listenerPort) => new(
        key,
        Registry.TargetGroupName(config.LinkId, key),
        config.TargetPort,
        nlb.VpcId,
        [.. ips.Select(ip => new Target(ip, config.TargetPort)).Distinct().OrderBy(t => t.Id, StringComparer.Ordinal)],
        listenerPort);

    /// <summary>Each name aliased in every consumer zone (to the consumer's endpoint) and in the provider zone (to the NLB).</summary>
    public static IEnumerable<DesiredRecord> Records(LinkConfig config, Nlb nlb, IReadOnlyCollection<string> names)
    {
        foreach (var consumer in config.Consumers)
        {
            var alias = new AliasTarget(consumer.EndpointHostedZoneId!, consumer.EndpointDnsName!, false);
            foreach (var name in names)
            {
                yield return new DesiredRecord(consumer.HostedZoneId, name, alias);
            }
        }
        if (config.ProviderZoneId is { } providerZone)
        {
            foreach (var name in names)
            {
                yield return new DesiredRecord(providerZone, name, nlb.Alias);
            }
        }
    }
}
