using System.Text.Json;
using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Triaging;

/// <summary>Decides which links an event concerns. Pure: the table's links come in with the event.</summary>
internal static class Triager
{
    private const string Manual = "manual";

    public static TriageOutput Triage(TriageInput input) =>
        Decide(input) with { LockExpiresAt = LockExpiry(input.Now, input.LeaseSeconds) };

    /// <summary>The longest lease a lock may have: a week.</summary>
    public const int MaxLeaseSeconds = 7 * 24 * 3600;

    /// <summary>
    /// When the per-link lock expires: <paramref name="now"/> (Step Functions' <c>$$.State.EnteredTime</c>, any ISO 8601
    /// time with a zone) plus the lease, as <c>yyyy-MM-ddTHH:mm:ss.fffZ</c> in UTC. Its first 19 characters are the same
    /// fields as those of every ISO 8601 UTC time, so the lock's condition compares it with the acquirer's
    /// <c>$$.State.EnteredTime</c> as text, correctly to the second. Null without <paramref name="now"/>.
    /// </summary>
    internal static string? LockExpiry(string? now, int? leaseSeconds)
    {
        if (now is null)
        {
            return null;
        }
        if (!now.Contains('T')
            || !DateTimeOffset.TryParse(now, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AdjustToUniversal, out var start)
            || !(now.EndsWith('Z') || now.EndsWith("z") || System.Text.RegularExpressions.Regex.IsMatch(now, @"[+-]\d\d:?\d\d$")))
        {
            throw Check.Invalid("now", $"{Check.Show(Check.Brief(now))} is not an ISO 8601 time with a zone (e.g. 2025-01-31T12:00:00.000Z)");
        }
        var lease = leaseSeconds ?? throw Check.Invalid("leaseSeconds", "missing (a number of seconds, given with now)");
        if (lease is < 1 or > MaxLeaseSeconds)
        {
            throw Check.Invalid("leaseSeconds", $"{lease} is not between 1 and {MaxLeaseSeconds}");
        }
        return start.UtcDateTime.AddSeconds(lease).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static TriageOutput Decide(TriageInput input)
    {
        var deployment = Check.StateMachineArn(input.StateMachineArn, "stateMachineArn");
        if (Check.Flag(input.LinksTruncated, "linksTruncated"))
        {
            throw Check.Invalid("linksTruncated", "true: the links Query returned more than one page, and Triage must see every link");
        }
        var links = ReadLinks(input.Links);
        var ev = Check.Present(input.Event, "event");

        if (ev.Action is not null)
        {
            return ManualAction(ev, links, deployment, Answered(input.Actions));
        }
        return (ev.Source, ev.DetailType) switch
        {
            ("aws.kafka", "AWS API Call via CloudTrail") => CloudTrail(ev, deployment, links),
            ("aws.events", "Scheduled Event") => Select("schedule", Options.None, links, "scheduled sweep", "no links in the table"),
            ("aws.ec2", "EC2 Instance State-change Notification") => Ec2(ev, deployment, links),
            _ => throw Check.Invalid("event", $"unknown event type (source {Check.Show(ev.Source)}, detail-type {Check.Show(ev.DetailType)}); "
                + "expected an MSK CloudTrail API call, a Scheduled Event, an EC2 state change or {\"action\": \"reconcile\", ...}"),
        };
    }

    /// <summary>
    /// A table item as Triage reads it: a link, or (<see cref="Problem"/> set) an item that is not one, which becomes
    /// that link's failure. Whatever could be read of a bad item still decides which runs it concerns; what could not
    /// (null) may be anything. <see cref="ClusterArn"/> is null for a kind without a cluster (ec2-self-managed).
    /// </summary>
    private sealed record Link(string? Id, string? Kind, string? ClusterArn, string? Problem = null)
    {
        /// <summary>A CloudTrail call on <paramref name="cluster"/> concerns the link of that cluster, and a bad item that may be it.</summary>
        public bool MayBeOfCluster(string cluster) =>
            (Kind is null || LinkKinds.HasCluster(Kind)) && (ClusterArn == cluster || (ClusterArn is null && Problem is not null));

        /// <summary>An EC2 state change concerns every ec2-self-managed link, and a bad item of no known kind.</summary>
        public bool MayFollowInstances => Kind == LinkKinds.Ec2SelfManaged || (Kind is null && Problem is not null);
    }

    private static List<Link> ReadLinks(IReadOnlyList<LinkItemWire?>? items)
    {
        var links = new List<Link>();
        var list = Check.Present(items, "links");
        for (var i = 0; i < list.Count; i++)
        {
            links.Add(ReadLink(list[i], i, links));
        }
        return links;
    }

    /// <summary>
    /// One item of the links Query. A bad item never fails the run: its problem names the item's field and why (every
    /// cause is its own link's, so no position in the Query), and a <c>sk</c> that is no link id is quoted as stored.
    /// </summary>
    private static Link ReadLink(LinkItemWire? item, int index, List<Link> before)
    {
        if (item is null)
        {
            return new Link(null, null, null, Check.Invalid("item", $"null (item {index} of the links Query)").Message);
        }
        string? id = null, kind = null, cluster = null;
        try
        {
            id = item.Sk?.S is null ? throw Check.Invalid("item.sk.S", $"missing (item {index} of the links Query)") : Check.LinkId(item.Sk.S, "item.sk.S");
            if (before.Any(l => l.Id == id))
            {
                throw Check.Invalid("item.sk.S", $"link '{id}' appears twice in the links Query");
            }
            var given = Check.Text(item.Kind?.S, "item.kind.S");
            kind = LinkKinds.Known.Contains(given) ? given
                : throw Check.Invalid("item.kind.S", $"'{Check.Brief(given)}' is not a known link kind ({string.Join(", ", LinkKinds.Known)})");
            if (LinkKinds.HasCluster(kind))
            {
                cluster = item.ClusterArn?.S is null
                    ? throw Check.Invalid("item.clusterArn.S", $"missing (required for kind '{kind}': CloudTrail events find the link by it)")
                    : Check.ClusterArn(item.ClusterArn.S, "item.clusterArn.S").Value;
            }
            else if (item.ClusterArn is not null)
            {
                throw Check.Invalid("item.clusterArn", $"not allowed for kind '{kind}' (a link of that kind has no cluster)");
            }
            return new Link(id, kind, cluster);
        }
        catch (InvalidInputException e)
        {
            // What can be read of it still says which runs it concerns: a known kind, a cluster that parses, whatever else is wrong.
            kind ??= item.Kind?.S is { } given && LinkKinds.Known.Contains(given) ? given : null;
            cluster ??= kind is null || LinkKinds.HasCluster(kind) ? ReadableCluster(item.ClusterArn?.S) : null;
            return new Link(id, kind, cluster, e.Message);
        }
    }

    private static string? ReadableCluster(string? value)
    {
        try
        {
            return value is null ? null : Check.ClusterArn(value, "item.clusterArn.S").Value;
        }
        catch (InvalidInputException)
        {
            return null;
        }
    }

    private static TriageOutput CloudTrail(EventWire ev, Arn deployment, List<Link> links)
    {
        var detail = Check.Present(ev.Detail, "event.detail");
        var call = Check.ApiName(detail.EventName, "event.detail.eventName");
        var trigger = $"cloudtrail:{call}";
        var account = Check.AccountId(ev.Account ?? detail.RecipientAccountId, ev.Account is null ? "event.detail.recipientAccountId" : "event.account");
        var region = Check.AwsRegion(ev.Region ?? detail.AwsRegion, ev.Region is null ? "event.detail.awsRegion" : "event.region");

        if (Elsewhere(call, account, region, deployment) is { } elsewhere)
        {
            return Ignore(trigger, elsewhere);
        }
        if (!string.IsNullOrEmpty(detail.ErrorCode))
        {
            return Ignore(trigger, $"{call} failed with {Check.Brief(detail.ErrorCode)}: nothing changed");
        }
        // The request's ARN is URL-encoded by CloudTrail; the response's is plain and also covers CreateClusterV2.
        var request = NonEmpty(detail.RequestParameters?.ClusterArn);
        var response = NonEmpty(detail.ResponseElements?.ClusterArn);
        if (response is null && request is null)
        {
            return Ignore(trigger, $"{call} names no cluster");
        }
        // A successful call names a real cluster: an ARN that does not parse is a malformed event, not someone else's cluster.
        var cluster = response is not null
            ? Check.ClusterArn(response, "event.detail.responseElements.clusterArn").Value
            : Check.ClusterArn(Uri.UnescapeDataString(request!), "event.detail.requestParameters.clusterArn").Value;
        var matched = links.Where(l => l.MayBeOfCluster(cluster)).ToList();
        return matched.Count == 0
            ? Ignore(trigger, $"no link for cluster {cluster}")
            : Select(trigger, Options.None, matched, $"{call} on {cluster}");
    }

    /// <summary>
    /// An instance changed state: every ec2-self-managed link of this deployment is observed again (the event carries no
    /// tags, so whether the instance is one of its brokers is decided by observing).
    /// </summary>
    private static TriageOutput Ec2(EventWire ev, Arn deployment, List<Link> links)
    {
        var instance = Check.Brief(ev.Detail?.InstanceId ?? "(no instance id)");
        var state = ev.Detail?.State is { } s ? Check.Brief(s) : null;
        var trigger = "ec2:" + (state ?? "unknown");
        var what = $"instance {instance} is {state ?? "in an unknown state"}";
        var account = Check.AccountId(ev.Account, "event.account");
        var region = Check.AwsRegion(ev.Region, "event.region");
        if (Elsewhere(what, account, region, deployment) is { } elsewhere)
        {
            return Ignore(trigger, elsewhere);
        }
        var matched = links.Where(l => l.MayFollowInstances).ToList();
        return matched.Count == 0
            ? Ignore(trigger, $"{what}: no {LinkKinds.Ec2SelfManaged} link follows EC2 instances")
            : Select(trigger, Options.None, matched, what);
    }

    /// <summary>Why an event from another account or region is not this deployment's, or null when it is.</summary>
    private static string? Elsewhere(string what, string account, string region, Arn deployment) =>
        account != deployment.Account ? $"{what} in account {account}, not this deployment's account {deployment.Account}"
        : region != deployment.Region ? $"{what} in region {region}, not this deployment's region {deployment.Region}"
        : null;

    /// <summary>The manual actions: <c>reconcile</c> (the Sweep and Apply state machines) and <c>status</c> (the Sweep's).</summary>
    public static readonly IReadOnlyList<string> Actions = ["reconcile", "status"];

    /// <summary>A status of more links than this lists each link's overview only: every link's brokers, target groups and
    /// zones would not fit the execution's output (256 KiB) for a few hundred links.</summary>
    public const int StatusDetailLinks = 10;

    /// <summary>The actions the calling state machine answers (<c>actions</c>; absent: reconcile only, as Apply).</summary>
    private static IReadOnlyList<string> Answered(IReadOnlyList<string?>? actions)
    {
        if (actions is null)
        {
            return ["reconcile"];
        }
        return [.. Check.Items(actions, "actions").Select(a => Actions.Contains(a.Item)
            ? a.Item
            : throw Check.Invalid(a.Path, $"'{Check.Brief(a.Item)}' is not a known action ({string.Join(", ", Actions)})"))];
    }

    private static TriageOutput ManualAction(EventWire ev, List<Link> links, Arn deployment, IReadOnlyList<string> answered)
    {
        var action = ev.Action!;
        if (!Actions.Contains(action))
        {
            throw Check.Invalid("event.action", $"'{Check.Brief(action)}' is not a known action ({string.Join(", ", Actions)})");
        }
        if (!answered.Contains(action))
        {
            throw Check.Invalid("event.action", $"'{action}' is not answered by this state machine (it answers {string.Join(", ", answered)}): start the Sweep state machine with it");
        }
        var named = new[] { ev.LinkId is not null, ev.LinkIds is not null, ev.All is not null }.Count(given => given);
        if (named != 1)
        {
            throw Check.Invalid("event", $"a manual {action} names exactly one of \"linkId\", \"linkIds\" or \"all\": true");
        }
        return action == "status" ? Status(ev, links) : Reconcile(ev, links, deployment);
    }

    /// <summary>
    /// What each link is wired to: its plan, observed as a dry run's, reported as its status. It writes nothing, so it takes
    /// none of a reconcile's options.
    /// </summary>
    private static TriageOutput Status(EventWire ev, List<Link> links)
    {
        foreach (var (given, field) in new[] { (ev.DryRun is not null, "dryRun"), (ev.AllowRemovals is not null, "allowRemovals"), (ev.LinkConfig is not null, "linkConfig") })
        {
            if (given)
            {
                throw Check.Invalid($"event.{field}", "not allowed with action 'status': a status run writes nothing and plans against the stored config");
            }
        }
        var output = Chosen(ev, links, new Options(true, false), "status", "status", "status of all links");
        return output with { Status = true, Detail = output.Links.Count + output.InvalidItems.Count <= StatusDetailLinks };
    }

    private static TriageOutput Reconcile(EventWire ev, List<Link> links, Arn deployment)
    {
        // Only a manual input carries the operator's override: an EventBridge event never allows removals.
        var options = new Options(ev.DryRun ?? false, ev.AllowRemovals ?? false);
        if (ev.LinkConfig is { ValueKind: not JsonValueKind.Null })
        {
            return ProposedConfigDryRun(ev, options, deployment);
        }
        return Chosen(ev, links, options, "reconcile", "manual reconcile", "manual reconcile of all links");
    }

    /// <summary>
    /// The links a manual input names, selected: <c>all</c>, or each of <c>linkId</c> / <c>linkIds</c>, which must be in the
    /// table; each with <paramref name="reason"/> (<paramref name="allReason"/> for all).
    /// </summary>
    private static TriageOutput Chosen(EventWire ev, List<Link> links, Options options, string action, string reason, string allReason)
    {
        if (ev.All is { } all)
        {
            return all
                ? Select(Manual, options, links, allReason, "no links in the table")
                : throw Check.Invalid("event.all", $"false; to {action} some links name them with \"linkId\" or \"linkIds\"");
        }

        List<(string Id, string Path)> requested = ev.LinkId is not null
            ? [(Check.LinkId(ev.LinkId, "event.linkId"), "event.linkId")]
            : [.. Check.Items(ev.LinkIds, "event.linkIds").Select(x => (Check.LinkId(x.Item, x.Path), x.Path))];
        if (requested.Count == 0)
        {
            throw Check.Invalid("event.linkIds", "empty");
        }
        var chosen = new List<Link>();
        foreach (var (id, path) in requested)
        {
            var known = links.Select(l => l.Id).OfType<string>().Order(StringComparer.Ordinal).ToList();
            var link = links.FirstOrDefault(l => l.Id == id) ?? throw new UnknownLinkException(
                $"{path}: no link '{id}' in the table (links: {(known.Count == 0 ? "none" : string.Join(", ", known))})");
            chosen.Add(link);
        }
        return Select(Manual, options, chosen.Distinct(), reason);
    }

    /// <summary>
    /// Onboarding's dry runs: plan one link against the config it would write (the link need not be stored yet).
    /// Only a dry run may carry a config: whatever writes always plans against the stored one.
    /// </summary>
    private static TriageOutput ProposedConfigDryRun(EventWire ev, Options options, Arn deployment)
    {
        if (!options.DryRun)
        {
            throw Check.Invalid("event.linkConfig", "only a dry run (\"dryRun\": true) may plan against a proposed config");
        }
        if (ev.LinkId is null)
        {
            throw Check.Invalid("event.linkConfig", "a proposed config is planned for one link, named by \"linkId\"");
        }
        var id = Check.LinkId(ev.LinkId, "event.linkId");
        var element = ev.LinkConfig!.Value;
        var config = LinkConfigReader.Read(element, "event.linkConfig", deployment);
        if (config.LinkId != id)
        {
            throw Check.Invalid("event.linkConfig.linkId", $"'{config.LinkId}' is not the link named by event.linkId ('{id}')");
        }
        var text = element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();
        return new TriageOutput(Manual, options.DryRun, options.AllowRemovals, [new TriagedLink(id, "manual dry run of a proposed config", text)], [], null);
    }

    private sealed record Options(bool DryRun, bool AllowRemovals)
    {
        public static readonly Options None = new(false, false);
    }

    /// <summary>The links to run and, apart, the bad items among them (each its link's failure); ignored when there are neither.</summary>
    private static TriageOutput Select(string trigger, Options options, IEnumerable<Link> links, string reason, string noneReason = "no links selected")
    {
        var chosen = links.ToList();
        var selected = chosen.Where(l => l.Problem is null).OrderBy(l => l.Id, StringComparer.Ordinal).Select(l => new TriagedLink(l.Id!, reason)).ToList();
        var invalid = chosen.Where(l => l.Problem is not null)
            .OrderBy(l => l.Id is null).ThenBy(l => l.Id, StringComparer.Ordinal)
            .Select(l => new InvalidItem(l.Id, reason, l.Problem!)).ToList();
        return new TriageOutput(trigger, options.DryRun, options.AllowRemovals, selected, invalid,
            selected.Count + invalid.Count == 0 ? noneReason : null);
    }

    private static TriageOutput Ignore(string trigger, string reason) => new(trigger, false, false, [], [], reason);

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
