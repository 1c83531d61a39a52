using System.Globalization;
using BrokerLink.Functions.Kinds.Shared;
using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Onboarding;

/// <summary>
/// Decides an onboarding: validates the operation against the table's links and returns every step as a value
/// (<see cref="OnboardDecision"/>) for the Onboard state machine to apply. Pure: nothing here writes, so a bad input
/// fails before anything is written. Every step is safe to run again, so a failed onboarding is finished by running
/// it again:
/// <code>
/// operation        before reconcile                              reconcile (waits)          after
/// register-link    plan first*, allow the consumers' principals,  the new link               -
///                    store
/// update-link      plan first*, store (a dropped provider zone:   the new config             forget the retiring zone
///                    retiring)
/// add-consumer     add its region**, allow, accept the connection, so its records appear      -
///                    create zone, associate a VPC of another
///                    account, store
/// remove-consumer  store (the consumer's zone: retiring)          its records are deleted    revoke, drop its region**,
///                                                                                              forget the zone
/// remove-link      store retired: true                            everything it owns goes    revoke, drop regions**,
///                                                                                              delete the item
/// </code>
/// ** A consumer in another region (cross-Region PrivateLink): the endpoint service's supported regions are read first
/// (<see cref="OnboardDecision.RegionsCheck"/>), see <see cref="Regions"/>. A peered consumer (add-consumer with peerOf)
/// only associates, and on removal disassociates, its VPC with another consumer's zone.
///
/// A removal is written before Reconcile runs (a retiring zone, <c>retired</c>), so every later run, scheduled or not,
/// finishes it even if this execution stops half way; the marks are dropped only after a converged reconcile.
/// Principals are revoked only when no other consumer on the same endpoint service still uses them.
/// * A config with a bootstrapPort is planned (a Reconcile dry run, <see cref="OnboardDecision.Preflight"/>) before
/// anything is written: only the current brokers tell whether the bootstrap port is one of their listener ports, which
/// Reconcile could then only report (BootstrapPortConflict); onboarding refuses it instead.
/// </summary>
internal static class Onboarder
{
    private const string Operations = "register-link, update-link, remove-link, add-consumer, remove-consumer";

    public static OnboardDecision Decide(OnboardInput input)
    {
        var deployment = Check.StateMachineArn(input.StateMachineArn, "stateMachineArn");
        if (Check.Flag(input.LinksTruncated, "linksTruncated"))
        {
            throw Check.Invalid("linksTruncated", "true: the links Query returned more than one page, and onboarding must see every link");
        }
        var links = StoredLinks.Load(input.Links);
        var request = Check.Present(input.Request, "request");
        var operation = Check.Text(request.Operation, "operation");
        var run = new Run(deployment, links, request.DryRun ?? false, request.AllowRemovals ?? false, input.Zones, input.Plan,
            input.Services is null ? null : input.Services.Configurations ?? []);
        return operation switch
        {
            "register-link" => RegisterLink(request, run),
            "update-link" => UpdateLink(request, run),
            "remove-link" => RemoveLink(request, run),
            "add-consumer" => AddConsumer(request, run),
            "remove-consumer" => RemoveConsumer(request, run),
            _ => throw Check.Invalid("operation", $"'{operation}' is not an onboarding operation ({Operations})"),
        };
    }

    private sealed record Run(
        Arn Deployment, IReadOnlyDictionary<string, StoredLink> Links, bool DryRun, bool AllowRemovals, IReadOnlyList<HostedZoneWire?>? Zones,
        PreflightPlanWire? Plan, IReadOnlyList<ServiceConfigurationWire?>? Services)
    {
        public string Region => Deployment.Region;
    }

    private static OnboardDecision RegisterLink(OnboardRequest request, Run run)
    {
        var wire = LinkConfigReader.ReadWire(request.Link, "link");
        NotMarked(wire);
        var config = LinkConfigReader.Validate(wire, "link", run.Deployment);
        var principals = config.Consumers.Select(c => c.Principal).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
        if (principals.Count > 0 && config.Kind == LinkKinds.MskNlbPerBroker)
        {
            throw PerBrokerPrincipal("link.consumers");
        }
        if (principals.Count > 0 && config.EndpointServiceId is null)
        {
            throw Check.Invalid("link.endpointServiceId", "missing: consumers with a principal are allowed on the link's endpoint service");
        }
        var stored = run.Links.GetValueOrDefault(config.LinkId);
        var notes = new List<string>();
        TableWrite? store = null;
        if (stored is null)
        {
            store = StoredLinks.Put(config, StoredLinks.Expected.Nothing);
        }
        else if (StoredLinks.Text(stored.Config) == StoredLinks.Text(config))
        {
            notes.Add($"link '{config.LinkId}' is already stored with this config: it is only reconciled");
        }
        else
        {
            throw Check.Invalid("link.linkId", $"link '{config.LinkId}' is already registered with another config: change it with update-link");
        }
        if (store is not null)
        {
            RefuseBootstrapPortOfABroker(config, run.Plan);
        }
        var allow = principals.Count > 0 ? new PrincipalChange(config.EndpointServiceId!, principals) : null;
        return Decision("register-link", config, run, $"register {config.Kind} link '{config.LinkId}'"
            + (config.ClusterArn is { } cluster ? $" for cluster {cluster.Value}" : $" for instances tagged {config.BrokerTag?.Key} = {config.BrokerTag?.Value}")
            + (config.LoadBalancerArn is { } nlb ? $" on {nlb.Value}" : $" with {config.ConfiguredBrokers.Count} broker target groups"),
            allow: allow, store: store, notes: notes, planFirst: store is not null && config.BootstrapPort is not null,
            regions: Regions(null, config, run));
    }

    private static OnboardDecision UpdateLink(OnboardRequest request, Run run)
    {
        var wire = LinkConfigReader.ReadWire(request.Link, "link");
        NotMarked(wire);
        if (wire.Consumers is not null)
        {
            throw Check.Invalid("link.consumers", "consumers change with add-consumer and remove-consumer: leave them out of update-link");
        }
        var proposed = LinkConfigReader.Validate(wire, "link", run.Deployment);
        var stored = Stored(run, proposed.LinkId, "link.linkId");
        var current = Current(stored, "link.linkId");
        if (proposed.Kind != current.Kind)
        {
            throw Check.Invalid("link.kind", $"the link is {current.Kind}: a link cannot change its kind; remove it and register it again");
        }
        if (proposed.LoadBalancerArn?.Value != current.LoadBalancerArn?.Value)
        {
            throw Check.Invalid("link.loadBalancerArn",
                $"the link is on {current.LoadBalancerArn?.Value}: a link cannot move to another load balancer; remove it and register it again");
        }
        var allowed = Principals(current);
        if (allowed.Count > 0 && proposed.EndpointServiceId != current.EndpointServiceId)
        {
            throw Check.Invalid("link.endpointServiceId",
                $"consumers are allowed on {current.EndpointServiceId} ({string.Join(", ", allowed)}): remove them before changing the link's endpoint service");
        }

        var retiring = current.Retiring.ToList();
        if (current.ProviderZoneId is { } oldZone && oldZone != proposed.ProviderZoneId && retiring.All(r => r.HostedZoneId != oldZone))
        {
            retiring.Add(new RetiringZone(oldZone, null, null, null));
        }
        var updated = proposed with
        {
            Consumers = current.Consumers,
            Peers = current.Peers,
            RetiringZones = [.. retiring.Where(r => r.HostedZoneId != proposed.ProviderZoneId)],
        };
        var notes = new List<string>();
        var unchanged = StoredLinks.Text(updated) == StoredLinks.Text(current);
        if (unchanged)
        {
            notes.Add($"link '{updated.LinkId}' already has this config: it is only reconciled");
        }
        var store = unchanged ? null : StoredLinks.Put(updated, StoredLinks.Expected.Of(stored));
        if (store is not null)
        {
            RefuseBootstrapPortOfABroker(updated, run.Plan);
        }
        var afterStore = store is null ? StoredLinks.Expected.Of(stored) : StoredLinks.Expected.At(store.Version);
        // A dropped provider zone retires until a converged reconcile has deleted the link's records there.
        var providerRetiring = updated.Retiring.Where(r => r.Consumer is null).ToList();
        var finish = providerRetiring.Count == 0 ? null
            : StoredLinks.Put(updated with { RetiringZones = [.. updated.Retiring.Where(r => r.Consumer is not null)] }, afterStore);
        return Decision("update-link", updated, run, $"update link '{updated.LinkId}'", store: store, finish: finish, notes: notes,
            planFirst: store is not null && updated.BootstrapPort is not null, regions: Regions(current, updated, run));
    }

    private static OnboardDecision RemoveLink(OnboardRequest request, Run run)
    {
        var id = Check.LinkId(request.LinkId, "linkId");
        var stored = Stored(run, id, "linkId");
        var current = stored.Config;
        if (current.PeeredConsumers.Count > 0)
        {
            throw Check.Invalid("linkId", $"link '{id}' has peered consumers ({string.Join(", ", current.PeeredConsumers.Select(p => p.Name))}) "
                + "associated with its consumers' zones: remove them first (remove-consumer)");
        }
        var retired = current with { Retired = true };
        var store = current.Retired ? null : StoredLinks.Put(retired, StoredLinks.Expected.Of(stored), "linkId");
        var afterStore = store is null ? StoredLinks.Expected.Of(stored) : StoredLinks.Expected.At(store.Version);
        var notes = current.Retired ? new List<string> { $"link '{id}' is already being removed: its removal is finished" } : [];
        return Decision("remove-link", retired, run,
            $"remove link '{id}': delete its listeners, target groups and records (not the load balancer, not the zones), then the link",
            store: store, revoke: Revocation(current, Principals(current), run), finish: StoredLinks.Delete(id, afterStore), notes: notes,
            regions: Regions(current, current with { Consumers = [], RetiringZones = null, PinnedRegions = null }, run, adds: false));
    }

    private static OnboardDecision AddConsumer(OnboardRequest request, Run run)
    {
        var id = Check.LinkId(request.LinkId, "linkId");
        var stored = Stored(run, id, "linkId");
        var current = Current(stored, "linkId");
        var c = Check.Present(request.Consumer, "consumer");

        var name = Check.ConsumerName(c.Name, "consumer.name");
        if (c.PeerOf is not null)
        {
            return AddPeer(id, stored, current, name, c, run);
        }
        if (current.PeeredConsumers.FirstOrDefault(p => p.Name == name) is { } peered)
        {
            throw Check.Invalid("consumer.name", $"'{name}' is already a peered consumer of link '{id}' (of '{peered.PeerOf}'): remove it first to change it");
        }
        var perBroker = current.Kind == LinkKinds.MskNlbPerBroker;
        if (perBroker)
        {
            PerBrokerConsumer(c);
        }
        else if (c.BrokerEndpoints is not null)
        {
            throw Check.Invalid("consumer.brokerEndpoints", $"not allowed for kind '{current.Kind}': brokerEndpoints are for msk-nlb-per-broker links; give endpointDnsName");
        }
        var principal = c.Principal is null ? null : Principal(c.Principal, run.Deployment);
        var givenRegion = c.Region is null ? null : Check.AwsRegion(c.Region, "consumer.region");
        if (!perBroker && c is { EndpointDnsName: null, HostedZoneId: null, CreateZone: null, AcceptConnection: not true })
        {
            return AllowOnly(id, current, name, principal, givenRegion ?? run.Region, c.PinRegion, run);
        }
        string? endpointName = null, endpointZone = null, endpointId = null;
        List<BrokerEndpoint>? brokerEndpoints = null;
        string region;
        if (perBroker)
        {
            (brokerEndpoints, region) = BrokerEndpoints(c.BrokerEndpoints, givenRegion);
        }
        else
        {
            var endpoint = Check.EndpointDnsName(c.EndpointDnsName, "consumer.endpointDnsName", givenRegion, "consumer.region");
            region = endpoint.Region;
            if (current.EndpointServiceId is { } service && endpoint.ServiceId != service)
            {
                throw Check.Invalid("consumer.endpointDnsName", $"'{endpoint.DnsName}' is an endpoint of {endpoint.ServiceId}, not of the link's endpoint service {service}");
            }
            endpointZone = Check.HostedZoneId(c.EndpointHostedZoneId, "consumer.endpointHostedZoneId");
            if (c.VpcEndpointId is not null && Check.VpcEndpointId(c.VpcEndpointId, "consumer.vpcEndpointId") != endpoint.EndpointId)
            {
                throw Check.Invalid("consumer.vpcEndpointId", $"'{c.VpcEndpointId}' is not the endpoint consumer.endpointDnsName names ({endpoint.EndpointId})");
            }
            (endpointName, endpointId) = (endpoint.DnsName, endpoint.EndpointId);
        }
        var role = c.RoleArn is null ? null : Check.RoleArn(c.RoleArn, "consumer.roleArn");
        var accept = c.AcceptConnection ?? false;
        if ((principal is not null || accept) && current.EndpointServiceId is null)
        {
            throw Check.Invalid("linkId", $"link '{id}' has no endpointServiceId: set it with update-link before allowing consumers on its endpoint service");
        }
        var otherRegion = region == run.Region ? null : region;
        if (otherRegion is not null && !perBroker && current.EndpointServiceId is null)
        {
            throw Check.Invalid("linkId", $"link '{id}' has no endpointServiceId: a consumer in {region} connects once the link's endpoint service "
                + "supports that region; set endpointServiceId with update-link");
        }

        var (zoneId, creation, association) = ConsumerZone(c, current, name, role, region, run);
        var existing = current.Consumers.FirstOrDefault(x => x.Name == name);
        var consumer = new Consumer(name, zoneId ?? existing?.HostedZoneId ?? "", endpointName, endpointZone, role, principal, brokerEndpoints, otherRegion);
        var pinned = PinRegion(current, c.PinRegion, otherRegion, run);
        List<string> consumerNotes = existing switch
        {
            null => [],
            _ when existing.SameAs(consumer) => [$"consumer '{name}' is already stored with these settings: the steps are run again"],
            // A per-broker consumer gains an endpoint with every broker provisioned: its endpoints change in place, so the
            // records of its other brokers stay up meanwhile (removing and adding it again would delete them).
            _ when perBroker && existing.HostedZoneId == consumer.HostedZoneId && existing.RoleArn == consumer.RoleArn =>
                [$"consumer '{name}' gets new broker endpoints (brokers {string.Join(", ", brokerEndpoints!.Select(e => e.BrokerId))}): its records follow"],
            _ => throw AlreadyAConsumer(existing, id),
        };
        if (zoneId is not null && current.Consumers.FirstOrDefault(x => x.HostedZoneId == zoneId && x.Name != name) is { } other)
        {
            throw Check.Invalid(creation is null ? "consumer.hostedZoneId" : "consumer.createZone", $"zone {zoneId} is already the zone of consumer '{other.Name}' of link '{id}'");
        }
        if (zoneId is not null && zoneId == current.ProviderZoneId)
        {
            throw Check.Invalid("consumer.hostedZoneId", $"zone {zoneId} is the provider zone of link '{id}'");
        }

        var allow = principal is null ? null : new PrincipalChange(current.EndpointServiceId!, [principal]);
        var acceptance = accept ? new ConnectionAcceptance(current.EndpointServiceId!, endpointId!) : null;
        var summary = $"add consumer '{name}' to link '{id}'" + (otherRegion is null ? "" : $" in {otherRegion}");
        var regions = perBroker
            ? BrokerServicesSupport(brokerEndpoints!, otherRegion, run)
            : Regions(current, current with { Consumers = [.. current.Consumers, consumer], PinnedRegions = pinned }, run);
        if (zoneId is null)
        {
            // The zone does not exist yet: the state machine creates it and asks again with it.
            var notes = new List<string> { $"the zone {creation!.Name} is created first; the consumer is stored and reconciled once it exists" };
            if (run.DryRun)
            {
                notes.Add("a dry run creates no zone, so there is no reconcile plan: every broker gets an A and a TXT record in the new zone");
            }
            return Decision("add-consumer", current, run, summary, allow: allow, accept: acceptance, createZone: creation, reconcile: false, notes: notes,
                regions: regions);
        }
        var added = current with
        {
            Consumers = existing is null ? [.. current.Consumers, consumer] : [.. current.Consumers.Select(x => x.Name == name ? consumer : x)],
            RetiringZones = [.. current.Retiring.Where(r => r.HostedZoneId != zoneId)],
            PinnedRegions = pinned,
        };
        var store = StoredLinks.Text(added) == StoredLinks.Text(current) ? null : StoredLinks.Put(added, StoredLinks.Expected.Of(stored), "consumer");
        return Decision("add-consumer", added, run, summary, allow: allow, accept: acceptance, createZone: creation, associate: association,
            store: store, recordsZone: new ZoneRef(zoneId, role, LinkKinds.RecordNames(added)), notes: consumerNotes, regions: regions);
    }

    /// <summary>
    /// A consumer cannot create its interface endpoint before its principal is allowed: add-consumer with only a name
    /// and a principal allows it and stores nothing; once the endpoint exists, add-consumer runs again with it.
    /// </summary>
    /// With a region other than the stack's, the endpoint service also gets that region (a consumer there cannot create its
    /// endpoint before); it is stored with the consumer, and removing the consumer takes it off again.
    private static OnboardDecision AllowOnly(string id, LinkConfig current, string name, string? principal, string region, bool? pin, Run run)
    {
        if (principal is null)
        {
            throw Check.Invalid("consumer.endpointDnsName", "missing: give the consumer's endpoint and zone, or only its principal to allow it first");
        }
        if (current.EndpointServiceId is not { } service)
        {
            throw Check.Invalid("linkId", $"link '{id}' has no endpointServiceId: set it with update-link before allowing consumers on its endpoint service");
        }
        if (pin is not null)
        {
            throw Check.Invalid("consumer.pinRegion", "a region is pinned with the consumer's endpoint and zone (add-consumer), or with update-link's pinnedRegions");
        }
        var elsewhere = region == run.Region ? "" : $" and add {region} to its supported regions";
        return Decision("add-consumer", current, run, $"allow consumer '{name}' ({principal}) on {service} of link '{id}'{elsewhere}",
            allow: new PrincipalChange(service, [principal]), reconcile: false,
            notes: [$"only the principal is allowed: once the consumer has created its interface endpoint to {service}"
                + (region == run.Region ? "" : $" (in {region}, service region {run.Region})")
                + ", run add-consumer again with its endpoint and zone"],
            regions: Regions(current, current, run, also: region));
    }

    private static OnboardDecision RemoveConsumer(OnboardRequest request, Run run)
    {
        var id = Check.LinkId(request.LinkId, "linkId");
        var stored = Stored(run, id, "linkId");
        var current = Current(stored, "linkId");
        var name = Check.Text(request.ConsumerName, "consumerName");
        if (current.PeeredConsumers.FirstOrDefault(p => p.Name == name) is { } peer)
        {
            return RemovePeer(stored, current, peer, run);
        }
        if (current.PeeredConsumers.Where(p => p.PeerOf == name).Select(p => p.Name).ToList() is { Count: > 0 } peers)
        {
            throw Check.Invalid("consumerName", $"consumer '{name}' has peered consumers ({string.Join(", ", peers)}) whose VPCs reach its endpoint "
                + "and resolve in its zone: remove them first");
        }
        var existing = current.Consumers.FirstOrDefault(x => x.Name == name);
        var retiringEntry = current.Retiring.FirstOrDefault(r => r.Consumer == name);

        LinkConfig removed;
        TableWrite? store;
        var notes = new List<string>();
        if (existing is not null)
        {
            removed = current with
            {
                Consumers = [.. current.Consumers.Where(x => x != existing)],
                RetiringZones = [.. current.Retiring, new RetiringZone(existing.HostedZoneId, existing.RoleArn, name, existing.Principal, existing.Region)],
            };
            store = StoredLinks.Put(removed, StoredLinks.Expected.Of(stored), "consumerName");
        }
        else if (retiringEntry is not null)
        {
            removed = current;
            store = null;
            notes.Add($"consumer '{name}' is already being removed: its removal is finished");
        }
        else
        {
            var names = current.Consumers.Count == 0 ? "none" : string.Join(", ", current.Consumers.Select(x => x.Name).Order(StringComparer.Ordinal));
            throw Check.Invalid("consumerName", $"link '{id}' has no consumer '{name}' (consumers: {names})");
        }
        var entry = removed.Retiring.First(r => r.Consumer == name);
        var afterStore = store is null ? StoredLinks.Expected.Of(stored) : StoredLinks.Expected.At(store.Version);
        var forgotten = removed with { RetiringZones = [.. removed.Retiring.Where(r => r != entry)] };
        var finish = StoredLinks.Put(forgotten, afterStore, "consumerName");
        // Other consumers of this link and every consumer of other links on the same endpoint service keep theirs.
        var stillUsed = Principals(forgotten);
        var revoke = entry.Principal is { } p && !stillUsed.Contains(p) ? Revocation(removed, [p], run) : null;
        return Decision("remove-consumer", removed, run, $"remove consumer '{name}' from link '{id}': delete the link's records in zone {entry.HostedZoneId}",
            store: store, revoke: revoke, finish: finish, notes: notes, regions: Regions(removed, forgotten, run, adds: false));
    }

    private static InvalidInputException AlreadyAConsumer(Consumer existing, string linkId)
    {
        var where = existing.EndpointDnsName is { } dns ? $"endpoint {dns}" : $"endpoints for brokers {string.Join(", ", (existing.BrokerEndpoints ?? []).Select(e => e.BrokerId))}";
        return Check.Invalid("consumer.name", $"'{existing.Name}' is already a consumer of link '{linkId}' (zone {existing.HostedZoneId}, {where}): remove it first to change it");
    }

    // ------------------------------------------------------------------ consumers in other regions (cross-Region PrivateLink)

    /// <summary>What an operation asks of the link's endpoint service's supported regions (all null: nothing).</summary>
    private sealed record RegionSteps(IReadOnlyList<string>? Check, RegionChange? Add, RegionChange? Drop);

    private static readonly RegionSteps NoRegionSteps = new(null, null, null);

    /// <summary>
    /// The supported regions of the link's endpoint service, from the link <paramref name="before"/> and <paramref name="after"/>
    /// the operation (once finished):
    /// <code>
    /// region                                                    supported now   step
    /// used after (a consumer's, a retiring one's, pinned)        no              add, before anything else is written
    /// used before, not after, by no other link on the service    yes             drop, after Reconcile (its records are gone)
    /// the stack's own region                                     -               never changed
    /// </code>
    /// The service's regions are read first (<see cref="RegionSteps.Check"/>): only what is missing is added, only what is
    /// there is removed, so a re-run repeats nothing. <paramref name="adds"/>: false for removals, which only drop;
    /// <paramref name="also"/>: a region to add that no stored consumer has yet (add-consumer's allow step).
    /// </summary>
    private static RegionSteps Regions(LinkConfig? before, LinkConfig after, Run run, bool adds = true, string? also = null)
    {
        if ((after.EndpointServiceId ?? before?.EndpointServiceId) is not { } service)
        {
            return NoRegionSteps;
        }
        var wanted = UsedRegions(after, run).Union(also is null || also == run.Region ? [] : [also]).ToHashSet(StringComparer.Ordinal);
        var elsewhere = run.Links.Values
            .Where(l => l.Id != after.LinkId && l.Wire.EndpointServiceId == service)
            .SelectMany(l => (l.Wire.Consumers ?? []).Select(c => c?.Region)
                .Concat((l.Wire.RetiringZones ?? []).Select(r => r?.Region))
                .Concat(l.Wire.PinnedRegions ?? []))
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);
        var toAdd = adds ? wanted.Order(StringComparer.Ordinal).ToList() : [];
        var toDrop = (before is null ? [] : UsedRegions(before, run)).Where(r => !wanted.Contains(r) && !elsewhere.Contains(r)).Order(StringComparer.Ordinal).ToList();
        if (toAdd.Count + toDrop.Count == 0)
        {
            return NoRegionSteps;
        }
        if (run.Services is null)
        {
            return new RegionSteps([service], null, null);
        }
        var supported = Supported(run, service);
        foreach (var region in toAdd)
        {
            if (supported.TryGetValue(region, out var state) && !Usable(state))
            {
                throw Check.Invalid("consumer.region", $"endpoint service {service} lists {region} as {state}: it can neither be used nor added now; "
                    + "run again once AWS has finished with it (describe-vpc-endpoint-service-configurations)");
            }
        }
        var add = toAdd.Where(r => !supported.ContainsKey(r)).ToList();
        var drop = toDrop.Where(r => supported.TryGetValue(r, out var state) && Usable(state)).ToList();
        return new RegionSteps(null, add.Count == 0 ? null : new RegionChange(service, add), drop.Count == 0 ? null : new RegionChange(service, drop));
    }

    /// <summary>The regions a link's consumers (current and retiring) and pins need on its service, but the stack's own.</summary>
    private static IEnumerable<string> UsedRegions(LinkConfig config, Run run) =>
        config.Consumers.Select(c => c.Region).Concat(config.Retiring.Select(r => r.Region)).OfType<string>().Concat(config.Pinned)
            .Where(r => r != run.Region).Distinct();

    /// <summary>A listed region the service supports or is adding (ServiceState: Pending, Available, Deleting, Deleted, Rejected, Failed, Closed).</summary>
    private static bool Usable(string state) => state is "Available" or "Pending";

    /// <summary>The service's supported regions and their states; the service's own region is always supported.</summary>
    private static Dictionary<string, string> Supported(Run run, string service)
    {
        foreach (var (s, path) in Check.Items(run.Services, "services.configurations"))
        {
            if (s.ServiceId != service)
            {
                continue;
            }
            var supported = new Dictionary<string, string>(StringComparer.Ordinal) { [run.Region] = "Available" };
            foreach (var (r, at) in Check.Items(s.SupportedRegions, $"{path}.SupportedRegions"))
            {
                supported[Check.AwsRegion(r.Region, $"{at}.Region")] = r.ServiceState ?? "Available";
            }
            return supported;
        }
        throw Check.Invalid("services.configurations", $"DescribeVpcEndpointServiceConfigurations did not describe {service}");
    }

    /// <summary>The link's pinned regions with the consumer's, when add-consumer pins it.</summary>
    private static IReadOnlyList<string>? PinRegion(LinkConfig link, bool? pin, string? otherRegion, Run run)
    {
        if (pin is not true)
        {
            return link.PinnedRegions;
        }
        return otherRegion is null
            ? throw Check.Invalid("consumer.pinRegion", $"the consumer is in the stack's own region {run.Region}, which the service always supports")
            : [.. link.Pinned.Union([otherRegion]).Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// msk-nlb-per-broker: the broker endpoint services are the operator's (the link names none), so onboarding changes none of
    /// them; a consumer in another region is refused, before anything is written, until every one of them supports its region.
    /// </summary>
    private static RegionSteps BrokerServicesSupport(IReadOnlyList<BrokerEndpoint> endpoints, string? otherRegion, Run run)
    {
        if (otherRegion is null)
        {
            return NoRegionSteps;
        }
        var services = endpoints.Select(e => Check.EndpointDnsName(e.EndpointDnsName, "consumer.brokerEndpoints").ServiceId)
            .Distinct().Order(StringComparer.Ordinal).ToList();
        if (run.Services is null)
        {
            return new RegionSteps(services, null, null);
        }
        var missing = services.Where(s => !(Supported(run, s).TryGetValue(otherRegion, out var state) && Usable(state))).ToList();
        return missing.Count == 0 ? NoRegionSteps : throw Check.Invalid("consumer.region",
            $"the broker endpoint services {string.Join(", ", missing)} do not support {otherRegion}, and BrokerLink changes only a link's own "
            + $"endpoint service: add it to each (aws ec2 modify-vpc-endpoint-service-configuration --service-id <id> --add-supported-regions {otherRegion})");
    }

    // ------------------------------------------------------------------ peered consumers (VPC peering, transit gateway)

    /// <summary>
    /// A consumer whose VPC reaches another consumer's endpoint (peering or a transit gateway, e.g. where cross-Region
    /// PrivateLink is not offered): no endpoint, no zone, no records of its own; that consumer's zone is associated with its
    /// VPC, as createZone.associateVpc does (authorized by the zone's owner, associated by the VPC's).
    /// </summary>
    private static OnboardDecision AddPeer(string id, StoredLink stored, LinkConfig current, string name, ConsumerRequest c, Run run)
    {
        foreach (var (value, field) in new (object?, string)[]
        {
            (c.Principal, "principal"), (c.EndpointDnsName, "endpointDnsName"), (c.EndpointHostedZoneId, "endpointHostedZoneId"),
            (c.VpcEndpointId, "vpcEndpointId"), (c.AcceptConnection, "acceptConnection"), (c.HostedZoneId, "hostedZoneId"), (c.CreateZone, "createZone"),
            (c.RoleArn, "roleArn"), (c.BrokerEndpoints, "brokerEndpoints"), (c.Region, "region"), (c.PinRegion, "pinRegion"),
        })
        {
            if (value is not null)
            {
                throw Check.Invalid($"consumer.{field}", "not allowed with peerOf: a peered consumer has no endpoint and no zone of its own (give consumer.vpc)");
            }
        }
        var peerOf = Check.Text(c.PeerOf, "consumer.peerOf");
        var target = current.Consumers.FirstOrDefault(x => x.Name == peerOf) ?? throw Check.Invalid("consumer.peerOf",
            $"link '{id}' has no consumer '{peerOf}' (consumers: {(current.Consumers.Count == 0 ? "none" : string.Join(", ", current.Consumers.Select(x => x.Name)))})");
        var zoneRole = target.RoleArn ?? throw Check.Invalid("consumer.peerOf",
            $"consumer '{peerOf}' has its zone {target.HostedZoneId} in this account (no roleArn): BrokerLink associates VPCs only with a zone it "
            + "reaches through the consumer's role; associate it yourself (aws route53 create-vpc-association-authorization, associate-vpc-with-hosted-zone)");
        var vpc = Check.Present(c.Vpc, "consumer.vpc");
        var vpcRole = Check.RoleArn(vpc.RoleArn, "consumer.vpc.roleArn");
        if (Check.AccountOf(vpcRole) == Check.AccountOf(zoneRole))
        {
            throw Check.Invalid("consumer.vpc.roleArn", $"account {Check.AccountOf(vpcRole)} owns the zone of '{peerOf}' too: the association flow is for "
                + "a VPC of another account (associate a VPC of the zone's own account yourself: aws route53 associate-vpc-with-hosted-zone)");
        }
        var vpcRef = new VpcRef(Check.VpcId(vpc.VpcId, "consumer.vpc.vpcId"), vpc.VpcRegion is null ? run.Region : Check.AwsRegion(vpc.VpcRegion, "consumer.vpc.vpcRegion"));
        if (current.Consumers.FirstOrDefault(x => x.Name == name) is { } consumer)
        {
            throw AlreadyAConsumer(consumer, id);
        }
        var peer = new Peer(name, peerOf, vpcRef.VpcId, vpcRef.VpcRegion, vpcRole);
        var existing = current.PeeredConsumers.FirstOrDefault(p => p.Name == name);
        if (existing is not null && existing != peer)
        {
            throw Check.Invalid("consumer.name", $"'{name}' is already a peered consumer of link '{id}' (VPC {existing.VpcId} in {existing.VpcRegion}, "
                + $"zone of '{existing.PeerOf}'): remove it first to change it");
        }
        if (current.PeeredConsumers.FirstOrDefault(p => p.VpcId == peer.VpcId && p.Name != name) is { } twice)
        {
            throw Check.Invalid("consumer.vpc.vpcId", $"{peer.VpcId} is already the VPC of peered consumer '{twice.Name}'");
        }
        var added = current with { Peers = [.. current.PeeredConsumers.Where(p => p.Name != name), peer] };
        return Decision("add-consumer", added, run,
            $"add consumer '{name}' to link '{id}': associate its VPC {peer.VpcId} ({peer.VpcRegion}) with zone {target.HostedZoneId} of consumer '{peerOf}'",
            associate: new VpcAssociation(target.HostedZoneId, vpcRef, zoneRole, vpcRole),
            store: existing is null ? StoredLinks.Put(added, StoredLinks.Expected.Of(stored), "consumer") : null, reconcile: false,
            notes: existing is null ? [] : [$"consumer '{name}' is already stored with these settings: the association is checked again"]);
    }

    /// <summary>The peered VPC is disassociated (by its owner, if it still is associated), then forgotten; the zone stays.</summary>
    private static OnboardDecision RemovePeer(StoredLink stored, LinkConfig current, Peer peer, Run run)
    {
        var target = current.Consumers.First(x => x.Name == peer.PeerOf);
        var forgotten = current with { Peers = [.. current.PeeredConsumers.Where(p => p != peer)] };
        return Decision("remove-consumer", forgotten, run,
            $"remove consumer '{peer.Name}' from link '{current.LinkId}': disassociate its VPC {peer.VpcId} ({peer.VpcRegion}) from zone {target.HostedZoneId} of consumer '{peer.PeerOf}'",
            reconcile: false, finish: StoredLinks.Put(forgotten, StoredLinks.Expected.Of(stored), "consumerName"),
            disassociate: new VpcAssociation(target.HostedZoneId, new VpcRef(peer.VpcId, peer.VpcRegion), target.RoleArn!, peer.RoleArn));
    }

    // ------------------------------------------------------------------ msk-nlb-per-broker consumers

    /// <summary>One link of this kind has an endpoint service per broker, all the operator's: onboarding allows and accepts nothing.</summary>
    private static InvalidInputException PerBrokerPrincipal(string path) => Check.Invalid(path,
        "not allowed for kind 'msk-nlb-per-broker': the link has an endpoint service per broker, so the operator allows the consumer's principal "
        + "(and accepts its connections) on each broker's endpoint service; give only the consumer's brokerEndpoints");

    private static void PerBrokerConsumer(ConsumerRequest c)
    {
        if (c.Principal is not null)
        {
            throw PerBrokerPrincipal("consumer.principal");
        }
        if (c.AcceptConnection is not null)
        {
            throw PerBrokerPrincipal("consumer.acceptConnection");
        }
        foreach (var (value, field) in new[] { (c.EndpointDnsName, "endpointDnsName"), (c.EndpointHostedZoneId, "endpointHostedZoneId"), (c.VpcEndpointId, "vpcEndpointId") })
        {
            if (value is not null)
            {
                throw Check.Invalid($"consumer.{field}", "not allowed for kind 'msk-nlb-per-broker': give consumer.brokerEndpoints, one endpoint per broker");
            }
        }
    }

    /// <summary>The consumer's endpoint per broker, all in one region: <paramref name="region"/>, else the first one's.</summary>
    private static (List<BrokerEndpoint> Endpoints, string Region) BrokerEndpoints(IReadOnlyList<BrokerEndpointWire?>? wire, string? region)
    {
        var endpoints = new List<BrokerEndpoint>();
        foreach (var (e, path) in Check.Items(Check.Present(wire, "consumer.brokerEndpoints"), "consumer.brokerEndpoints"))
        {
            var id = e.BrokerId is { } n and >= 1 and <= 65535 ? n : throw Check.Invalid($"{path}.brokerId", e.BrokerId is null ? "missing" : $"{e.BrokerId} is not an MSK broker id (1-65535)");
            var endpoint = Check.EndpointDnsName(e.EndpointDnsName, $"{path}.endpointDnsName", region, "consumer.region");
            region ??= endpoint.Region;
            if (endpoints.Any(other => other.BrokerId == id))
            {
                throw Check.Invalid($"{path}.brokerId", $"broker {id} has two endpoints");
            }
            endpoints.Add(new BrokerEndpoint(id, endpoint.DnsName, Check.HostedZoneId(e.EndpointHostedZoneId, $"{path}.endpointHostedZoneId")));
        }
        return endpoints.Count > 0 ? ([.. endpoints.OrderBy(x => x.BrokerId)], region!) : throw Check.Invalid("consumer.brokerEndpoints", "empty: give the consumer's endpoint for each broker");
    }

    // ------------------------------------------------------------------ the consumer's zone

    /// <summary>The zone keeps the cluster's names (so TLS works unchanged) wherever the consumer is; its VPC is in the consumer's region.</summary>
    private static (string? ZoneId, ZoneCreation? Creation, VpcAssociation? Association) ConsumerZone(
        ConsumerRequest c, LinkConfig link, string name, string? role, string region, Run run)
    {
        var linkId = link.LinkId;
        if (c.HostedZoneId is not null && c.CreateZone is not null)
        {
            throw Check.Invalid("consumer.createZone", "give consumer.hostedZoneId (an existing zone) or consumer.createZone (a zone to create), not both");
        }
        if (c.CreateZone is null)
        {
            return c.HostedZoneId is null
                ? throw Check.Invalid("consumer.hostedZoneId", "missing: give the consumer's private zone, or consumer.createZone to create it")
                : (Check.HostedZoneId(c.HostedZoneId, "consumer.hostedZoneId"), null, null);
        }
        var create = c.CreateZone;
        if (role is null)
        {
            throw Check.Invalid("consumer.roleArn", "missing: a zone is created in the consumer's account, through the role it deployed with consumer-account.yaml");
        }
        var zoneName = create.Name is not null ? Check.DnsName(create.Name, "consumer.createZone.name") : link.Kind switch
        {
            // The wildcard *.kafka-serverless.<region>.amazonaws.com lives in a zone of that name.
            LinkKinds.MskServerless => $"kafka-serverless.{run.Deployment.Region}.amazonaws.com",
            LinkKinds.Ec2SelfManaged => throw Check.Invalid("consumer.createZone.name",
                "missing: an ec2-self-managed link's names are the operator's (recordNames), so is the zone that holds them"),
            _ => $"kafka.{run.Deployment.Region}.amazonaws.com",
        };
        var vpc = new VpcRef(Check.VpcId(create.VpcId, "consumer.createZone.vpcId"),
            create.VpcRegion is null ? region : Check.AwsRegion(create.VpcRegion, "consumer.createZone.vpcRegion"));
        if (vpc.VpcRegion != region)
        {
            throw Check.Invalid("consumer.createZone.vpcRegion", $"{vpc.VpcRegion} is not the region of the consumer's endpoint ({region}): "
                + "the zone's names would point at an endpoint its VPC cannot reach");
        }
        var reference = $"brokerlink-{linkId}-{name}";
        var zoneId = run.Zones is null ? null : PickZone(run.Zones, reference, zoneName);
        var creation = new ZoneCreation(zoneName, reference, vpc, $"BrokerLink link {linkId}, consumer {name}", role, zoneId);

        VpcAssociation? association = null;
        if (create.AssociateVpc is { } other)
        {
            var otherRole = Check.RoleArn(other.RoleArn, "consumer.createZone.associateVpc.roleArn");
            if (Check.AccountOf(otherRole) == Check.AccountOf(role))
            {
                throw Check.Invalid("consumer.createZone.associateVpc.roleArn",
                    $"account {Check.AccountOf(otherRole)} owns the zone too: the association flow is for a VPC of another account (create the zone with that VPC instead)");
            }
            var otherVpc = new VpcRef(Check.VpcId(other.VpcId, "consumer.createZone.associateVpc.vpcId"),
                other.VpcRegion is null ? region : Check.AwsRegion(other.VpcRegion, "consumer.createZone.associateVpc.vpcRegion"));
            association = zoneId is null ? null : new VpcAssociation(zoneId, otherVpc, role, otherRole);
        }
        return (zoneId, creation, association);
    }

    /// <summary>The zone this onboarding created: the one with its caller reference (CreateHostedZone's, or found after a re-run).</summary>
    private static string PickZone(IReadOnlyList<HostedZoneWire?> zones, string reference, string name)
    {
        foreach (var (zone, path) in Check.Items(zones, "zones"))
        {
            if (zone.CallerReference != reference)
            {
                continue;
            }
            var id = Check.HostedZoneId(Check.Text(zone.Id, $"{path}.Id").Replace("/hostedzone/", ""), $"{path}.Id");
            if (zone.Config?.PrivateZone != true)
            {
                throw Check.Invalid($"{path}.Config.PrivateZone", $"zone {id} with caller reference {reference} is not a private zone");
            }
            if (Names.Normalise(zone.Name ?? "") != name)
            {
                throw Check.Invalid($"{path}.Name", $"zone {id} with caller reference {reference} is {zone.Name}, not {name}");
            }
            return id;
        }
        throw Check.Invalid("zones", $"no zone with caller reference {reference} among the zones named {name}");
    }

    // ------------------------------------------------------------------ shared

    /// <summary>
    /// <paramref name="planFirst"/>: a real run plans the config it would store before writing anything (a dry run always
    /// does: that plan is its output). Once the state machine has that plan (<see cref="Run.Plan"/>) it asks again, and the
    /// decision has no preflight left.
    /// </summary>
    private static OnboardDecision Decision(
        string operation, LinkConfig after, Run run, string summary,
        PrincipalChange? allow = null, ConnectionAcceptance? accept = null, ZoneCreation? createZone = null, VpcAssociation? associate = null,
        TableWrite? store = null, bool reconcile = true, PrincipalChange? revoke = null, TableWrite? finish = null, ZoneRef? recordsZone = null,
        IReadOnlyList<string>? notes = null, bool planFirst = false, RegionSteps? regions = null, VpcAssociation? disassociate = null)
    {
        // A dry run plans against the config this onboarding would store; a real run against the stored one, just written.
        var request = reconcile
            ? new ReconcileRequest("reconcile", after.LinkId, run.DryRun, run.AllowRemovals, run.DryRun ? StoredLinks.Text(after) : null)
            : null;
        var preflight = run.Plan is null && (run.DryRun ? reconcile : planFirst)
            ? new ReconcileRequest("reconcile", after.LinkId, true, run.AllowRemovals, StoredLinks.Text(after))
            : null;
        return new OnboardDecision(operation, after.LinkId, run.DryRun, summary, preflight, allow, accept, createZone, associate, store, request, revoke,
            finish, recordsZone, notes ?? [], regions?.Check, regions?.Add, regions?.Drop, disassociate);
    }

    /// <summary>
    /// A bootstrap port that is a current broker's listener port (<c>listenerBasePort + N</c>): Reconcile would leave that
    /// broker without a listener (finding BootstrapPortConflict), so onboarding refuses to store it. The dry run of the
    /// config to store says which brokers there are; without its plan there is nothing to refuse yet.
    /// </summary>
    private static void RefuseBootstrapPortOfABroker(LinkConfig config, PreflightPlanWire? plan)
    {
        foreach (var (finding, _) in Check.Items(plan?.Findings, "plan.findings"))
        {
            if (finding.Code != NlbListeners.BootstrapPortConflict)
            {
                continue;
            }
            var broker = finding.Subject is { } subject && subject.StartsWith("broker-", StringComparison.Ordinal)
                && int.TryParse(subject["broker-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : (int?)null;
            throw Check.Invalid("link.bootstrapPort", broker is { } n
                ? $"{config.BootstrapPort} is also broker {n}'s listener port ({config.ListenerBasePort} + {n}): choose a bootstrapPort that no current broker's listener port (listenerBasePort + broker id) is"
                : $"{config.BootstrapPort} is a current broker's listener port: {Check.Brief(finding.Message ?? "")}");
        }
    }

    private static StoredLink Stored(Run run, string id, string path) => run.Links.GetValueOrDefault(id) ?? throw new UnknownLinkException(
        $"{path}: no link '{id}' in the table (links: {(run.Links.Count == 0 ? "none" : string.Join(", ", run.Links.Keys.Order(StringComparer.Ordinal)))})");

    /// <summary>The stored config of a link that is not being removed.</summary>
    private static LinkConfig Current(StoredLink stored, string path)
    {
        var config = stored.Config;
        return config.Retired
            ? throw Check.Invalid(path, $"link '{stored.Id}' is being removed: finish with remove-link, then register it again")
            : config;
    }

    private static void NotMarked(LinkConfigWire wire)
    {
        if (wire.RetiringZones is not null)
        {
            throw Check.Invalid("link.retiringZones", "set by onboarding only (remove-consumer, update-link)");
        }
        if (wire.Retired is not null)
        {
            throw Check.Invalid("link.retired", "set by onboarding only (remove-link)");
        }
        if (wire.Peers is not null)
        {
            throw Check.Invalid("link.peers", "set by onboarding only (add-consumer with peerOf, remove-consumer)");
        }
    }

    /// <summary>An account id becomes its root principal; an ARN must name an account root, a role or a user.</summary>
    private static string Principal(string value, Arn deployment) => value.Length == 12 && value.All(char.IsAsciiDigit)
        ? $"arn:{deployment.Partition}:iam::{value}:root"
        : value.All(char.IsAsciiDigit)
            ? throw Check.Invalid("consumer.principal", $"'{value}' is not an AWS account id (12 digits)")
            : Check.Principal(value, "consumer.principal");

    /// <summary>The principals a link's consumers (and its retiring ones) were allowed with.</summary>
    private static HashSet<string> Principals(LinkConfig config) =>
        [.. config.Consumers.Select(c => c.Principal).Concat(config.Retiring.Select(r => r.Principal)).OfType<string>()];

    /// <summary>RemoveAllowedPrincipals for those no other link on the same endpoint service still uses; null when none is left.</summary>
    private static PrincipalChange? Revocation(LinkConfig config, IEnumerable<string> principals, Run run)
    {
        if (config.EndpointServiceId is not { } service)
        {
            return null;
        }
        var elsewhere = run.Links.Values
            .Where(l => l.Id != config.LinkId && l.Wire.EndpointServiceId == service)
            .SelectMany(l => (l.Wire.Consumers ?? []).Select(c => c?.Principal).Concat((l.Wire.RetiringZones ?? []).Select(r => r?.Principal)))
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);
        var revoked = principals.Where(p => !elsewhere.Contains(p)).Distinct().Order(StringComparer.Ordinal).ToList();
        return revoked.Count == 0 ? null : new PrincipalChange(service, revoked);
    }
}
