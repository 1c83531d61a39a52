using System.Text.Json.Nodes;
using BrokerLink.Tests.Support;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests;

/// <summary>Bad input of any shape ends in one of the named errors, never in a NullReferenceException or the like.</summary>
public sealed class RobustnessTests
{
    private static readonly string[] Replacements = ["null", "1.5", "\"\"", "[null]", "{}", JsonPatch.Absent];

    private static readonly Type[] Named = [typeof(Functions.InvalidInputException), typeof(Functions.UnknownLinkException), typeof(Functions.IncompleteObservationException)];

    [Fact]
    public void Every_mutation_of_a_plan_input_either_plans_or_fails_with_a_named_error()
    {
        // Small but with every part present: an owned group with targets, a stale broker, owned records, a role.
        var aws = FakeAws.WithBrokers(1, 2);
        aws.NodesPageSize = 1;
        aws.Converge(Config(bootstrap: false, provider: false, billing: true));
        aws.RemoveBroker(2);
        var input = JsonNode.Parse(Serialise(aws.Observe(Config(bootstrap: false, provider: false, billing: true))))!;
        input["linkConfig"] = WriteString(Config(bootstrap: false, provider: false, billing: true), Context.LinkConfigWire);

        AssertOnlyNamedErrors(input.ToJsonString(), json => ReadAll(Lambda.Plan(Stream(json))));
    }

    [Theory]
    [InlineData("msk-nlb-per-broker")]
    [InlineData("msk-serverless")]
    [InlineData("ec2-self-managed")]
    public void Every_mutation_of_a_plan_input_of_another_kind_either_plans_or_fails_with_a_named_error(string kind)
    {
        var aws = FakeAws.WithBrokers(1, 2);
        aws.NodesPageSize = 1;
        aws.InstancesPageSize = 1;
        aws.AddInstance(KindFixtures.InstanceId(1), "1", Ip(1));
        aws.AddInstance(KindFixtures.InstanceId(2), "2", Ip(2));
        aws.EndpointInterfaces[KindFixtures.Eni(1)] = Ip(1);
        var config = kind switch
        {
            "msk-nlb-per-broker" => KindFixtures.PerBroker(aws, [1, 2]),
            "msk-serverless" => KindFixtures.Serverless(provider: false),
            _ => KindFixtures.Ec2(provider: false),
        };
        aws.Converge(config);
        var input = JsonNode.Parse(Serialise(aws.Observe(config)))!;
        input["linkConfig"] = WriteString(config, Context.LinkConfigWire);

        AssertOnlyNamedErrors(input.ToJsonString(), json => ReadAll(Lambda.Plan(Stream(json))));
    }

    [Theory]
    [InlineData("""{"source": "aws.kafka", "detail-type": "AWS API Call via CloudTrail", "account": "123456789012", "region": "us-east-1", "detail": {"eventName": "UpdateBrokerCount", "requestParameters": {"clusterArn": "arn%3Aaws%3Akafka%3Aus-east-1%3A123456789012%3Acluster%2Forders%2F0b9f3c1e-1111-2222-3333-444455556666-2"}, "responseElements": {"clusterArn": "arn:aws:kafka:us-east-1:123456789012:cluster/orders/0b9f3c1e-1111-2222-3333-444455556666-2"}}}""")]
    [InlineData("""{"action": "reconcile", "linkIds": ["orders"], "dryRun": true}""")]
    [InlineData("""{"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "account": "123456789012", "region": "us-east-1", "detail": {"instance-id": "i-1", "state": "running"}}""")]
    public void Every_mutation_of_a_triage_input_either_triages_or_fails_with_a_named_error(string ev)
    {
        var input = TriageTests.Input(ev, [("orders", "msk-single-nlb", ClusterArn), ("ledger", "ec2-self-managed", null)]);

        AssertOnlyNamedErrors(input, json => ReadAll(Lambda.Triage(Stream(json))));
    }

    [Fact]
    public void Every_mutation_of_a_summarise_input_either_summarises_or_fails_with_a_named_error()
    {
        // One result of each shape: converged, a dry run's plan, blocked (failed with a summary), caught (failed without).
        const string input = """
            {"stage": "sweep", "trigger": "schedule", "dryRun": false, "timestamp": "2025-01-31T12:00:00.123Z", "results": [
              {"linkId": "alpha", "reason": "r", "status": "succeeded", "converged": true, "applied": true,
               "summary": {"brokers": 3, "writeCalls": 12}, "advertisedListeners": [], "findings": [{"code": "c", "subject": "s", "message": "m"}]},
              {"linkId": "beta", "reason": "r", "status": "succeeded", "dryRun": true,
               "plan": {"hasChanges": true, "blocked": {"code": "NoBrokers", "reason": "x"}, "summary": {"brokers": 0, "writeCalls": 0}, "findings": []}},
              {"linkId": "gamma", "reason": "r", "status": "failed", "error": "BrokerLink.PlanBlocked", "cause": "c", "converged": false,
               "applied": false, "summary": {"brokers": 1, "writeCalls": 0}, "findings": [], "blocked": {"code": "RemovalShareExceeded", "reason": "x"}},
              {"linkId": "delta", "reason": "r", "status": "failed", "error": "States.Runtime", "cause": "c"}
            ]}
            """;

        AssertOnlyNamedErrors(input, json => Functions.Summarising.Summariser.Summarise(Read(Stream(json), Context.SummariseInput)));
    }

    private static void AssertOnlyNamedErrors(string json, Action<string> run)
    {
        run(json);
        var failures = new List<string>();
        foreach (var path in Paths(JsonNode.Parse(json)!, ""))
        {
            foreach (var replacement in Replacements)
            {
                var mutated = JsonPatch.Set(json, path, replacement);
                var thrown = Record.Exception(() => run(mutated));
                if (thrown is not null && !Named.Contains(thrown.GetType()))
                {
                    failures.Add($"{path} = {replacement}: {thrown.GetType().Name}: {thrown.Message}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(20)));
    }

    /// <summary>Every property and array item path under <paramref name="node"/> (property names without dots or brackets only).</summary>
    private static IEnumerable<string> Paths(JsonNode node, string prefix) => node switch
    {
        JsonObject o => o.Where(p => !p.Key.Contains('.') && !p.Key.Contains('['))
            .SelectMany(p => new[] { Join(prefix, p.Key) }.Concat(p.Value is null ? [] : Paths(p.Value, Join(prefix, p.Key)))),
        JsonArray a => a.SelectMany((item, i) => new[] { $"{prefix}[{i}]" }.Concat(item is null ? [] : Paths(item, $"{prefix}[{i}]"))),
        _ => [],
    };

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : $"{prefix}.{name}";
}
