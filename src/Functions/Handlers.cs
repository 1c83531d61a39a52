using BrokerLink.Functions.Onboarding;
using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Summarising;
using BrokerLink.Functions.Triaging;
using System.Text.Json.Serialization.Metadata;
using static BrokerLink.Functions.Json.Json;

namespace BrokerLink.Functions;

/// <summary>
/// The Lambda entry points: JSON stream in, JSON stream out, no AWS calls. Failures throw a named exception
/// (the Lambda errorType) for the state machine to catch.
/// </summary>
public sealed class Handlers
{
    /// <summary><c>BrokerLink.Functions::BrokerLink.Functions.Handlers::Triage</c>: which links an event concerns.</summary>
    public Stream Triage(Stream input) => Logged("Triage", input, Context.TriageInput,
        i => (null, i.Event?.LinkId, i.Execution),
        i => Write(Triager.Triage(i), Context.TriageOutput));

    /// <summary>
    /// <c>BrokerLink.Functions::BrokerLink.Functions.Handlers::Plan</c>: desired versus observed, as a list of changes, in
    /// the passes <see cref="Planner"/> describes.
    /// </summary>
    public Stream Plan(Stream input) => Logged("Plan", input, Context.PlanInput,
        plan => (plan.Pass, plan.LinkId ?? plan.Link?.LinkId, plan.Execution),
        plan => plan.Pass switch
        {
            "link" => Write(Planner.PlanLink(plan), Context.LinkPlan),
            "zone" => Write(Planner.PlanZone(plan), Context.ZonePage),
            "instances" => Write(Planner.DigestInstances(plan), Context.InstancesDigest),
            _ => Write(Planner.Plan(plan), Context.PlanOutput),
        });

    /// <summary>
    /// <c>BrokerLink.Functions::BrokerLink.Functions.Handlers::Onboard</c>: an onboarding operation, validated against the
    /// table's links, as the steps the Onboard state machine applies.
    /// </summary>
    public Stream Onboard(Stream input) => Logged("Onboard", input, Context.OnboardInput,
        i => (i.Request?.Operation, i.Request?.LinkId, i.Execution),
        i => Write(Onboarder.Decide(i), Context.OnboardDecision));

    /// <summary>
    /// <c>BrokerLink.Functions::BrokerLink.Functions.Handlers::Summarise</c>: the execution's outcome from every link's result.
    /// Writes one CloudWatch Embedded Metric Format line per link, and the stack's totals line, to standard output (the function's
    /// log). Each line goes out with <c>Write</c>, not <c>WriteLine</c>: the Lambda .NET runtime formats every <c>WriteLine</c> of
    /// <c>Console.Out</c> (a timestamp, request id and level in front; with the JSON log format, a JSON object whose
    /// <c>message</c> is the line, which CloudWatch does not read as EMF) and passes <c>Write</c> through unchanged.
    /// </summary>
    public Stream Summarise(Stream input) => Logged("Summarise", input, Context.SummariseInput,
        i => (i.Stage, i.Results is [var only] && only.TryGetProperty("linkId", out var id) ? id.ToString() : null, i.Execution),
        Summarise);

    private static Stream Summarise(SummariseInput request)
    {
        if (request.Stage == "status")
        {
            return Write(StatusReport.Report(request), Context.StatusReportOutput);
        }
        var stack = Environment.GetEnvironmentVariable(Metrics.StackVariable) is { Length: > 0 } name ? name : Metrics.UnknownStack;
        // Outside a stack (no variable) the lines stay metrics, as the pure function's default.
        var perLinkMetrics = Environment.GetEnvironmentVariable(Metrics.PerLinkVariable) != "false";
        var summary = Summariser.Summarise(request, stack, perLinkMetrics);
        foreach (var line in summary.StackLine is null ? summary.MetricLines : [.. summary.MetricLines, summary.StackLine])
        {
            Console.Out.Write(line + "\n");
        }
        Console.Out.Flush();
        return Write(summary.Output, Context.SummariseOutput);
    }

    /// <summary>
    /// Reads the input, runs the call, and logs it (<see cref="FunctionLog"/>): a DEBUG line when it is done, an ERROR line
    /// naming the error when it throws (then rethrown: the errorType the state machine catches), each with the call's link
    /// and execution, as far as the input could be read.
    /// </summary>
    private static Stream Logged<T>(
        string function, Stream input, JsonTypeInfo<T> type, Func<T, (string? Pass, string? LinkId, string? Execution)> context, Func<T, Stream> run)
        where T : class
    {
        var log = new LogContext(function);
        try
        {
            var request = Read(input, type);
            var (pass, linkId, execution) = context(request);
            log = new LogContext(function, pass, linkId, execution);
            var output = run(request);
            Emit("DEBUG", "done", log);
            return output;
        }
        catch (Exception e)
        {
            Emit("ERROR", $"{e.GetType().Name}: {e.Message}", log, [KeyValuePair.Create("errorType", (string?)e.GetType().Name)]);
            throw;
        }
    }

    private static void Emit(string level, string message, LogContext context, IEnumerable<KeyValuePair<string, string?>>? fields = null)
    {
        if (FunctionLog.Keeps(level, Environment.GetEnvironmentVariable(FunctionLog.LevelVariable)))
        {
            Console.Out.Write(FunctionLog.Line(DateTimeOffset.UtcNow, level, message, context, fields) + "\n");
            Console.Out.Flush();
        }
    }
}
