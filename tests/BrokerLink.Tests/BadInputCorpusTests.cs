using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BrokerLink.Functions;
using BrokerLink.Tests.Support;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests;

/// <summary>
/// The bad-input corpus (tests/badinput/cases.json) through the functions: execution inputs through Triage, stored link
/// configs through Plan's check pass and then its apply pass (3 brokers observed). The same cases run as real executions
/// in tests/localcloud/test_bad_input.py; a new case is one JSON entry there.
/// </summary>
public sealed partial class BadInputCorpusTests
{
    private const string LinkId = "orders";

    /// <summary>Step Functions keeps at most 256 KiB per state: an error or output must stay far below, whatever the input.</summary>
    private const int MaxMessage = 4096;

    private static readonly Lazy<JsonArray> Cases = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "badinput", "cases.json")))!["cases"]!.AsArray());

    public static TheoryData<string> Names()
    {
        var names = new TheoryData<string>();
        foreach (var c in Cases.Value)
        {
            if (Applicable(c!))
            {
                names.Add(c!["name"]!.GetValue<string>());
            }
        }
        return names;
    }

    /// <summary>Cases about the item's config attribute exist only in the state machine (it reads the config before any function does).</summary>
    private static bool Applicable(JsonNode c) => c["linkItem"] is not JsonObject item || !item.ContainsKey("config");

    [Fact]
    public void The_corpus_has_cases_of_every_kind_and_unique_names()
    {
        var cases = Cases.Value.Select(c => c!).ToList();
        var names = cases.Select(c => c["name"]!.GetValue<string>()).ToList();

        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.True(cases.Count(c => c["input"] is not null || c.AsObject().ContainsKey("input")) >= 40, "execution inputs");
        Assert.True(cases.Count(c => c["linkConfig"] is not null || c["linkConfigText"] is not null) >= 30, "stored link configs");
        Assert.Contains(cases, c => c["expect"]!["status"]!.GetValue<string>() == "SUCCEEDED");
        Assert.True(cases.Count(Applicable) >= cases.Count - 2, "only the table-attribute cases are for the state machine alone");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Case_fails_with_its_named_error_or_is_ignored(string name)
    {
        var c = Cases.Value.Select(x => x!).Single(x => x["name"]!.GetValue<string>() == name);
        var expect = c["expect"]!;

        string output;
        try
        {
            output = Run(c);
        }
        catch (Exception e) when (e is InvalidInputException or UnknownLinkException)
        {
            Assert.Equal("FAILED", expect["status"]!.GetValue<string>());
            Assert.Equal(expect["error"]!.GetValue<string>(), "BrokerLink." + e.GetType().Name.Replace("Exception", ""));
            Assert.Contains(Expand(expect["causeContains"]!.GetValue<string>()), e.Message);
            Assert.StartsWith(expect["field"]!.GetValue<string>() + ": ", e.Message);
            Assert.True(e.Message.Length <= MaxMessage, $"message of {e.Message.Length} characters");
            return;
        }
        Assert.True(expect["status"]!.GetValue<string>() == "SUCCEEDED", $"expected {expect.ToJsonString()}, got output {Brief(output)}");
        var result = JsonNode.Parse(output)!;
        Assert.Empty(result["links"]!.AsArray());
        Assert.Contains(Expand(expect["ignoredContains"]!.GetValue<string>()), result["ignored"]!.GetValue<string>());
        Assert.True(output.Length <= MaxMessage, $"output of {output.Length} characters");
    }

    /// <summary>The function output for the case, or the named exception it throws.</summary>
    private static string Run(JsonNode c)
    {
        if (c["linkConfig"] is not null || c["linkConfigText"] is not null)
        {
            var text = c["linkConfigText"] is { } raw ? Expand(raw.GetValue<string>()) : Patched(c["linkConfig"]!);
            // The state machine's check pass comes first; a config it passes must then fail (or plan) in the apply pass.
            ReadAll(Lambda.Plan(Stream(CheckPass(LinkId, text, StoredItem(text)))));
            var apply = JsonNode.Parse(Serialise(FakeAws.WithBrokers(1, 2, 3).Observe(Config(billing: true))))!;
            apply["linkConfig"] = text;
            return ReadAll(Lambda.Plan(Stream(apply.ToJsonString())));
        }
        if (c["linkItem"] is JsonObject attributes)
        {
            return RunItem(attributes, c["sweep"]?.GetValue<bool>() ?? false);
        }
        var input = ExpandNode(c["input"])?.ToJsonString() ?? "null";
        if (c["proposedConfig"] is { } proposed)
        {
            input = input.Replace("\"${proposedConfig}\"", Patched(proposed), StringComparison.Ordinal);
        }
        var output = ReadAll(Lambda.Triage(Stream(TriageTests.Input(input, [(LinkId, "msk-single-nlb", ClusterArn)]))));
        // A dry run of a proposed config: the state machine checks it as it checks a stored one.
        foreach (var link in JsonNode.Parse(output)!["links"]!.AsArray())
        {
            if (link!["linkConfig"] is { } config)
            {
                return ReadAll(Lambda.Plan(Stream(CheckPass(link["linkId"]!.GetValue<string>(), config.GetValue<string>()))));
            }
        }
        return output;
    }

    /// <summary>
    /// A bad table item, as the state machine runs it: Triage reads the links Query (a bad item becomes its link's failure,
    /// thrown here as the error the execution then has), then the check pass compares the item with its config.
    /// </summary>
    private static string RunItem(JsonObject attributes, bool sweep)
    {
        var item = new JsonObject
        {
            ["pk"] = new JsonObject { ["S"] = "LINK" },
            ["sk"] = new JsonObject { ["S"] = LinkId },
            ["kind"] = new JsonObject { ["S"] = "msk-single-nlb" },
            ["clusterArn"] = new JsonObject { ["S"] = ClusterArn },
            ["config"] = new JsonObject { ["S"] = BaseConfig() },
        };
        foreach (var (name, value) in ExpandNode(attributes)!.AsObject())
        {
            item[name] = name == "sk" ? new JsonObject { ["S"] = value!.DeepClone() } : value?.DeepClone();
            if (value is null)
            {
                item.Remove(name);
            }
        }
        var ev = sweep ? """{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}""" : """{"action": "reconcile", "linkId": "orders"}""";
        var triage = JsonNode.Parse(TriageTests.Input(ev, []))!;
        triage["links"] = new JsonArray(item.DeepClone());
        var output = Invoke(Lambda.Triage, triage.ToJsonString());
        if (output["invalidItems"]!.AsArray().FirstOrDefault() is { } invalid)
        {
            throw new InvalidInputException(invalid["cause"]!.GetValue<string>());
        }
        var check = JsonNode.Parse(CheckPass(LinkId, BaseConfig(), item))!;
        return ReadAll(Lambda.Plan(Stream(check.ToJsonString())));
    }

    /// <summary>The link's item as the local-cloud test stores it around a bad config.</summary>
    private static JsonObject StoredItem(string configText) => new()
    {
        ["pk"] = new JsonObject { ["S"] = "LINK" },
        ["sk"] = new JsonObject { ["S"] = LinkId },
        ["kind"] = new JsonObject { ["S"] = "msk-single-nlb" },
        ["clusterArn"] = new JsonObject { ["S"] = ClusterArn },
        ["config"] = new JsonObject { ["S"] = configText },
    };

    private static string BaseConfig() => WriteString(Config(billing: true), Context.LinkConfigWire);

    private static string Patched(JsonNode patch)
    {
        var json = BaseConfig();
        foreach (var (path, value) in patch["set"]?.AsObject() ?? [])
        {
            json = JsonPatch.Set(json, path, ExpandNode(value)?.ToJsonString() ?? "null");
        }
        foreach (var path in patch["remove"]?.AsArray() ?? [])
        {
            json = JsonPatch.Set(json, path!.GetValue<string>(), JsonPatch.Absent);
        }
        return json;
    }

    private static JsonNode? ExpandNode(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(Expand(p.Key), ExpandNode(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(ExpandNode)]),
        JsonValue v when v.TryGetValue<string>(out var s) => JsonValue.Create(s == "${proposedConfig}" ? s : Expand(s)),
        _ => node.DeepClone(),
    };

    /// <summary>Fills the corpus placeholders with the fixtures' link (the local-cloud test fills them with its world's).</summary>
    private static string Expand(string text) => Placeholder().Replace(text, m => m.Groups[1].Value switch
    {
        "linkId" => LinkId,
        "clusterArn" => ClusterArn,
        "clusterArnUrlEncoded" => Uri.EscapeDataString(ClusterArn),
        "account" => Account,
        "region" => "us-east-1",
        var p when p.StartsWith("repeat:", StringComparison.Ordinal) => Repeat(p),
        var p when p.StartsWith("config:", StringComparison.Ordinal) => ConfigValue(p["config:".Length..]),
        var p => throw new InvalidOperationException($"unknown placeholder {p}"),
    });

    private static string Repeat(string placeholder)
    {
        var parts = placeholder.Split(':');
        return string.Concat(Enumerable.Repeat(parts[1], int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static string ConfigValue(string path)
    {
        JsonNode node = JsonNode.Parse(BaseConfig())!;
        foreach (var segment in path.Split('.'))
        {
            var match = Segment().Match(segment);
            node = node[match.Groups["name"].Value]!;
            if (match.Groups["index"].Success)
            {
                node = node[int.Parse(match.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture)]!;
            }
        }
        return node.GetValue<string>();
    }

    private static string Brief(string text) => text.Length <= 300 ? text : text[..300] + "...";

    [GeneratedRegex(@"\$\{([^}]+)\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^(?<name>[^\[]+)(?:\[(?<index>\d+)\])?$")]
    private static partial Regex Segment();
}
