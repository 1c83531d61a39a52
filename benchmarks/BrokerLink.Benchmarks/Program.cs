using System.Diagnostics;
using System.Text;
using BenchmarkDotNet.Running;
using BrokerLink.Benchmarks;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;

// dotnet run -c Release -- [BenchmarkDotNet arguments]          the Plan benchmarks (PlanBenchmarks)
// BrokerLink.Benchmarks --plan-input <brokers> <zones>          a fresh link's Plan input (JSON) on stdout
// BrokerLink.Benchmarks --first-call <Function> [<input file>]  one function's first result in this fresh process
if (args is ["--plan-input", var brokers, var zones])
{
    Console.WriteLine(WriteString(PlanBenchmarks.Observation(int.Parse(brokers), int.Parse(zones), converged: false), Context.PlanInput));
    return 0;
}
if (args is ["--first-call", var function, .. var file])
{
    Console.Error.WriteLine(FirstCall.Measure(function, file.FirstOrDefault()));
    return 0;
}
BenchmarkSwitcher.FromAssembly(typeof(PlanBenchmarks).Assembly).Run(args);
return 0;

/// <summary>
/// A Lambda's first invocation in a new process: the time from process start to the function's first answer, on a
/// realistic input (runtime start, JIT or ReadyToRun code, type loading and JSON metadata included; the Lambda
/// runtime client's own work is not). Printed on stderr: Summarise writes its metrics (EMF) on stdout.
/// </summary>
internal static class FirstCall
{
    public static string Measure(string function, string? inputFile)
    {
        if (function == "Startup")  // the baseline: the runtime's own start, no function called
        {
            return $"Startup first result {(DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds:F0} ms after process start (0 bytes)";
        }
        var input = Encoding.UTF8.GetBytes(function switch
        {
            // Read, not built here: building it would run (and warm) the planner before the call measured.
            "Plan" => File.ReadAllText(inputFile ?? throw new ArgumentException("--first-call Plan needs the input file (--plan-input)")),
            "Triage" => """{"event": {"action": "reconcile", "all": true}, "links": [{"sk": {"S": "orders"}, "kind": {"S": "msk-single-nlb"}, "clusterArn": {"S": "arn:aws:kafka:us-east-1:123456789012:cluster/orders/0b9f3c1e-1111-2222-3333-444455556666-2"}}], "linksTruncated": false, "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Reconcile"}""",
            "Summarise" => """{"trigger": "schedule", "dryRun": false, "timestamp": "2026-12-02T10:30:00.000Z", "invalidItems": [], "stage": "sweep", "results": [{"linkId": "orders", "reason": "schedule", "status": "succeeded", "plan": {"hasChanges": false, "blocked": null, "findings": [], "summary": {"brokers": 3, "writeCalls": 0, "targetGroupsCreated": 0, "listenersCreated": 0, "targetsRegistered": 0, "targetsDeregistered": 0, "recordsUpserted": 0, "recordsDeleted": 0, "listenersDeleted": 0, "targetGroupsDeleted": 0}}}]}""",
            _ => throw new ArgumentException($"--first-call: '{function}' is not Startup, Plan, Triage or Summarise"),
        });
        var handler = Lambda;
        Func<Stream, Stream> call = function switch
        {
            "Plan" => handler.Plan,
            "Triage" => handler.Triage,
            _ => handler.Summarise,
        };
        using var output = call(new MemoryStream(input, writable: false));
        var firstResult = DateTime.Now - Process.GetCurrentProcess().StartTime;
        return $"{function} first result {firstResult.TotalMilliseconds:F0} ms after process start ({output.Length} bytes)";
    }
}
