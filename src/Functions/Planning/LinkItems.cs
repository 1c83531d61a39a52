using System.Text.Json;
using System.Text.Json.Serialization;
using BrokerLink.Functions.Validation;

namespace BrokerLink.Functions.Planning;

/// <summary>
/// A link item of the table as DynamoDB returns it (typed attribute values): in Triage's Query (without <c>config</c>),
/// the link's GetItem before its check pass, and onboarding's Query.
/// </summary>
internal sealed record LinkItemWire(
    AttributeValue? Pk = null,
    AttributeValue? Sk = null,
    AttributeValue? Kind = null,
    AttributeValue? ClusterArn = null,
    AttributeValue? Config = null,
    AttributeValue? Version = null);

/// <summary>A DynamoDB attribute value of the two types the table uses.</summary>
internal sealed record AttributeValue(
    [property: JsonPropertyName("S")] string? S = null,
    [property: JsonPropertyName("N")] string? N = null);

/// <summary>
/// What a link item must say. Onboarding writes the config and, beside it, <c>sk</c> (the link id), <c>kind</c> and, for a
/// kind with a cluster, <c>clusterArn</c>: Triage selects links by those attributes, Reconcile runs the config. An item
/// whose attributes disagree with its config is a bad item, refused before any AWS call.
/// </summary>
internal static class LinkItems
{
    /// <summary>The largest stored config (a config with 50 consumers is about 15,000 characters).</summary>
    public const int MaxConfigLength = 32768;

    /// <summary>
    /// The one validation of a stored config: Reconcile's check pass makes it before any AWS call, onboarding before it
    /// writes, so what onboarding stores the check pass accepts. The config is at most <see cref="MaxConfigLength"/>
    /// characters (the state machine carries it in every state of the link's run), valid, in the deployment's account
    /// and region (when <paramref name="deployment"/> is given), with its <c>consumers</c> (the state machine reads them,
    /// even if empty), the config of link <paramref name="linkId"/>; and an item as stored (with its <c>sk</c>) says
    /// in <c>sk</c>, <c>kind</c> and <c>clusterArn</c> what its config says. A proposed config (onboarding's dry run)
    /// comes in an item of its <c>config</c> alone: it has no attributes to compare.
    /// </summary>
    public static LinkConfig CheckStored(JsonElement? config, LinkItemWire? item, string linkId, Arn? deployment, string root = "linkConfig")
    {
        if (config is { ValueKind: JsonValueKind.String } text && text.GetString()!.Length > MaxConfigLength)
        {
            throw Check.Invalid(root, $"{text.GetString()!.Length} characters, more than {MaxConfigLength}: the state machine carries the config "
                + "in every state of the link's run, within Step Functions' 256 KiB limit");
        }
        var wire = LinkConfigReader.ReadWire(config, root);
        var validated = LinkConfigReader.Validate(wire, root, deployment);
        Check.Present(wire.Consumers, $"{root}.consumers");
        if (validated.LinkId != linkId)
        {
            throw Check.Invalid($"{root}.linkId", $"'{validated.LinkId}' is not the id of the table item that holds the config ('{linkId}')");
        }
        if (item?.Sk is not null)
        {
            AgreesWith(item, validated);
        }
        return validated;
    }

    /// <summary>The same, of a config as the JSON text an item stores.</summary>
    public static LinkConfig CheckStored(string text, LinkItemWire? item, string linkId, Arn? deployment, string root = "linkConfig")
    {
        using var document = JsonDocument.Parse($"\"{JsonEncodedText.Encode(text).Value}\"");
        return CheckStored(document.RootElement.Clone(), item, linkId, deployment, root);
    }

    /// <summary>The item's attributes name the field that disagrees: the config decides what Reconcile does, they only select it.</summary>
    private static void AgreesWith(LinkItemWire item, LinkConfig config)
    {
        if (item.Sk?.S != config.LinkId)
        {
            throw Check.Invalid("item.sk.S", $"{Quote(item.Sk?.S)} is not the config's linkId '{config.LinkId}'");
        }
        if (item.Kind?.S != config.Kind)
        {
            throw Check.Invalid("item.kind.S", item.Kind?.S is null
                ? $"missing (the config's kind is '{config.Kind}')"
                : $"{Quote(item.Kind.S)} is not the config's kind '{config.Kind}'");
        }
        if (config.ClusterArn is not { } cluster)
        {
            if (item.ClusterArn is not null)
            {
                throw Check.Invalid("item.clusterArn", $"not allowed for kind '{config.Kind}' (a link of that kind has no cluster)");
            }
            return;
        }
        if (item.ClusterArn?.S != cluster.Value)
        {
            throw Check.Invalid("item.clusterArn.S", item.ClusterArn?.S is null
                ? $"missing (the config's clusterArn is {cluster.Value})"
                : $"{Quote(item.ClusterArn.S)} is not the config's clusterArn {cluster.Value}");
        }
    }

    private static string Quote(string? value) => value is null ? "missing" : $"'{Check.Brief(value)}'";
}
