using System.Text.Json;
using System.Text.Json.Nodes;
using BrokerLink.Functions;
using BrokerLink.Functions.Planning;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests;

/// <summary>Every file in events/ goes through the real serializer context and the function that takes it.</summary>
public sealed class EventFilesTests
{
    private static string Events => Path.Combine(AppContext.BaseDirectory, "events");

    /// <summary>The sample links of every kind (events/link-*.json), as the table holds them.</summary>
    private static readonly Lazy<List<string>> LinkConfigs = new(() =>
        [.. Directory.GetFiles(Events, "link-*.json").Order(StringComparer.Ordinal).Select(File.ReadAllText)]);

    private static (string? Id, string? Kind, string? Cluster)[] Links => [.. LinkConfigs.Value.Select(text => JsonNode.Parse(text)).Select(c =>
        (c!["linkId"]!.GetValue<string>(), c["kind"]!.GetValue<string>(), c["clusterArn"]?.GetValue<string>()))];

    [Fact]
    public void Every_event_file_is_read_by_the_function_that_takes_it()
    {
        var files = Directory.GetFiles(Events, "*.json").Order(StringComparer.Ordinal).ToList();
        var problems = files.Select(Check).OfType<string>().ToList();

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        // Not vacuous: every rule below has files to check (one of each link kind among the links).
        var kinds = files.Select(f => Path.GetFileName(f).Split('-')[0]).ToHashSet();
        Assert.Superset(new HashSet<string> { "invalid", "link", "onboard", "cloudtrail", "schedule", "manual", "ec2", "status" }, kinds);
        Assert.Equal(4, LinkConfigs.Value.Count);
    }

    /// <summary>A problem with the file, or null when it behaves as its name says.</summary>
    private static string? Check(string path)
    {
        var name = Path.GetFileName(path);
        var json = File.ReadAllText(path);
        try
        {
            switch (name.Split('-')[0])
            {
                case "invalid":
                    var thrown = Record.Exception(() => Triage(json));
                    return thrown is InvalidInputException ? null : $"{name}: expected InvalidInputException, got {thrown?.GetType().Name ?? "no error"}";
                case "link":
                    LinkConfigReader.Read(JsonDocument.Parse(json).RootElement.Clone());
                    return null;
                case "onboard":
                    return CheckOnboarding(name, json);
                case "cloudtrail" or "schedule" or "manual" or "ec2":
                    var output = Triage(json);
                    return output["links"]!.AsArray().Count > 0 ^ output["ignored"] is not null ? null : $"{name}: links and ignored disagree: {output.ToJsonString()}";
                case "status":
                    // The Sweep's action: a status of the links it names, planned as a dry run.
                    var status = Invoke(Lambda.Triage, TriageTests.Input(json, Links, actions: ["reconcile", "status"]));
                    return status["status"]!.GetValue<bool>() && status["dryRun"]!.GetValue<bool>() && status["links"]!.AsArray().Count > 0
                        ? null : $"{name}: not a status of some links: {status.ToJsonString()}";
                default:
                    return $"{name}: no rule for this kind of file; teach {nameof(EventFilesTests)} which function reads it";
            }
        }
        catch (Exception e)
        {
            return $"{name}: {e.GetType().Name}: {e.Message}";
        }
    }

    private static JsonNode Triage(string eventJson) => Invoke(Lambda.Triage, TriageTests.Input(eventJson, Links));

    /// <summary>
    /// An onboarding input against the table of the sample links (events/link-*.json); register-link against that table
    /// without the link it registers. <c>onboard-invalid-*</c> must be refused with a named error, the others decided.
    /// </summary>
    private static string? CheckOnboarding(string name, string json)
    {
        var request = JsonNode.Parse(json)!;
        var registering = request["operation"]?.GetValue<string>() == "register-link" ? request["link"]?["linkId"]?.GetValue<string>() : null;
        var table = LinkConfigs.Value
            .Where(c => JsonNode.Parse(c)!["linkId"]!.GetValue<string>() != registering)
            .Select(c => OnboardTests.Item(c, version: 1))
            .ToList();
        var input = OnboardTests.Input(json, table);
        if (name.StartsWith("onboard-invalid-", StringComparison.Ordinal))
        {
            var thrown = Record.Exception(() => Invoke(Lambda.Onboard, input));
            return thrown is InvalidInputException or UnknownLinkException ? null : $"{name}: expected a named error, got {thrown?.GetType().Name ?? "no error"}";
        }
        var decision = Invoke(Lambda.Onboard, input);
        return decision["operation"]?.GetValue<string>() == request["operation"]?.GetValue<string>()
            ? null
            : $"{name}: decided {decision["operation"]}, not the file's operation";
    }
}
