using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BrokerLink.Tests.Support;

/// <summary>Sets or removes one value in a JSON document by a dotted path such as <c>consumers[0].roleArn</c>.</summary>
internal static partial class JsonPatch
{
    public const string Absent = "<absent>";

    public static string Set(string json, string path, string value)
    {
        var root = JsonNode.Parse(json)!;
        var segments = path.Split('.');
        var node = root;
        foreach (var segment in segments[..^1])
        {
            node = Step(node, segment);
        }
        var last = Segment().Match(segments[^1]);
        var name = last.Groups["name"].Value;
        var replacement = value == Absent ? null : JsonNode.Parse(value);
        if (last.Groups["index"].Success)
        {
            var array = node[name]!.AsArray();
            var index = int.Parse(last.Groups["index"].Value);
            if (value == Absent)
            {
                array.RemoveAt(index);
            }
            else
            {
                array[index] = replacement;
            }
        }
        else if (value == Absent)
        {
            node.AsObject().Remove(name);
        }
        else
        {
            node[name] = replacement;
        }
        return root.ToJsonString();
    }

    private static JsonNode Step(JsonNode node, string segment)
    {
        var match = Segment().Match(segment);
        var child = node[match.Groups["name"].Value]!;
        return match.Groups["index"].Success ? child[int.Parse(match.Groups["index"].Value)]! : child;
    }

    [GeneratedRegex(@"^(?<name>[^\[]+)(?:\[(?<index>\d+)\])?$")]
    private static partial Regex Segment();
}
