using System.Text;
using BenchmarkDotNet.Attributes;
using BrokerLink.Functions.Planning;
using BrokerLink.Tests.Support;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Benchmarks;

/// <summary>
/// The Plan function at brokers x consumer zones: <see cref="Passes"/> is the planner alone (every pass, from every
/// observation at once), <see cref="Handler"/> the Lambda handler on the same input as JSON (parse, plan, write), as a
/// warm Lambda runs it. <c>fresh</c>: nothing exists yet (the first reconcile plans every write); <c>converged</c>:
/// everything is in place (what every sweep at rest plans).
/// </summary>
[MemoryDiagnoser]
public class PlanBenchmarks
{
    [Params("3x2", "30x10", "49x50")]
    public string Size { get; set; } = "3x2";

    [Params("fresh", "converged")]
    public string World { get; set; } = "fresh";

    private PlanInput _input = null!;
    private byte[] _json = [];

    [GlobalSetup]
    public void Setup()
    {
        var parts = Size.Split('x');
        _input = Observation(int.Parse(parts[0]), int.Parse(parts[1]), World == "converged");
        _json = Encoding.UTF8.GetBytes(WriteString(_input, Context.PlanInput));
    }

    [Benchmark]
    public int Passes() => Planner.Plan(_input).Summary.WriteCalls;

    [Benchmark]
    public long Handler()
    {
        using var output = Lambda.Plan(new MemoryStream(_json, writable: false));
        return output.Length;
    }

    /// <summary>The apply pass's input for a link of <paramref name="brokers"/> brokers (plus bootstrap) and
    /// <paramref name="zones"/> consumer zones, observed as the state machine pages it (100 records, 100 nodes a page).</summary>
    internal static PlanInput Observation(int brokers, int zones, bool converged)
    {
        var aws = FakeAws.WithBrokers([.. Enumerable.Range(1, brokers)]);
        aws.NodesPageSize = 100;
        aws.RecordsPageSize = 100;
        var consumers = Enumerable.Range(1, zones).Select(n => new ConsumerWire($"consumer-{n:D2}", $"Z0CONSUMER{n:D3}", AnalyticsEndpoint, EndpointZone, null)).ToList();
        foreach (var consumer in consumers)
        {
            aws.AddZone(consumer.HostedZoneId!);
        }
        var config = Config(provider: false) with { Consumers = consumers };
        if (converged)
        {
            aws.Converge(config);
        }
        return aws.Observe(config);
    }
}
