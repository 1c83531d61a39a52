using System.Security.Cryptography;
using System.Text;

namespace BrokerLink.Functions.Planning;

/// <summary>How BrokerLink marks and recognises what it owns: tags on ELB resources, a TXT record beside each alias.</summary>
internal static class Registry
{
    public const string LinkTag = "brokerlink:link";
    public const string KeyTag = "brokerlink:key";
    public const string Bootstrap = "bootstrap";
    public const string Serverless = "serverless";
    public const long TxtTtl = 300;

    public static string BrokerKey(int brokerId) => $"broker-{brokerId}";

    public static IReadOnlyList<Tag> Tags(string linkId, string key) => [new(LinkTag, linkId), new(KeyTag, key)];

    /// <summary>The key of a resource this link owns, or null when the tags do not say it is ours.</summary>
    public static string? OwnedKey(IReadOnlyList<Tag> tags, string linkId) =>
        tags.Any(t => t.Key == LinkTag && t.Value == linkId) ? tags.FirstOrDefault(t => t.Key == KeyTag)?.Value : null;

    /// <summary>The ownership TXT value, quoted as Route 53 stores TXT values.</summary>
    public static string TxtValue(string linkId) => $"\"heritage=brokerlink,brokerlink/link={linkId}\"";

    /// <summary><c>bl-&lt;linkId, 14 chars&gt;-&lt;6 hex of sha256(linkId)&gt;-&lt;suffix&gt;</c>: deterministic, at most 32 characters.</summary>
    public static string TargetGroupName(string linkId, string key)
    {
        var suffix = key switch
        {
            Bootstrap => "boot",
            Serverless => "sls",
            _ when BrokerNumber(key) is { } n => $"b{n}",
            _ => throw new ArgumentException($"'{key}' is not a target group key", nameof(key)),
        };
        var stem = new string([.. linkId.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]);
        stem = stem[..Math.Min(14, stem.Length)].Trim('-');
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(linkId)))[..6];
        return stem.Length == 0 ? $"bl-{hash}-{suffix}" : $"bl-{stem}-{hash}-{suffix}";
    }

    /// <summary>The broker id of a <c>broker-N</c> key, else null.</summary>
    public static int? BrokerIdOf(string key) => BrokerNumber(key) is { } n and <= int.MaxValue ? (int)n : null;

    /// <summary>Orders keys <c>bootstrap</c>, <c>broker-1</c>, <c>broker-2</c>, ..., <c>broker-10</c>.</summary>
    public static readonly IComparer<string> KeyOrder = Comparer<string>.Create((a, b) =>
    {
        var (na, nb) = (BrokerNumber(a), BrokerNumber(b));
        return na is not null && nb is not null && na != nb ? na.Value.CompareTo(nb.Value) : string.CompareOrdinal(a, b);
    });

    private static long? BrokerNumber(string key) =>
        key.StartsWith("broker-", StringComparison.Ordinal) && long.TryParse(key["broker-".Length..], out var n) ? n : null;
}
