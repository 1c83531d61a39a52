using BrokerLink.Functions.Onboarding;
using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Summarising;
using BrokerLink.Functions.Triaging;
using static BrokerLink.Functions.Json.Json;

namespace BrokerLink.Functions;

/// <summary>
/// The Lambda entry points: JSON stream in, JSON stream out, no AWS calls. Failures throw a named exception
/// (the Lambda errorType) for the state machine to catch.
/// </summary>
public sealed class Handlers
{
    /// <summary><c>BrokerLink.Functions::BrokerLink.Functions.Handlers::Triage</c>: which links an event concerns.</summary>
    public Stream Triage(Stream input) =>
        Write(Triager.Triage(Read(input, Context.TriageInput)), Context.TriageOutput);

    /// <summary>
    /// <c>BrokerLink.Functions::BrokerLink.Functions.Handlers::Plan</c>: desired versus observed, as a list of changes, in
    /// the passes <see cref="Planner"/> describes.
    /// </summary>
    public Stream Plan(Stream input)
    {
        var plan = Read(input, Context.PlanInput);
        return plan.Pass switch
        {
            "link" => Write(Planner.PlanLink(plan), Context.LinkPlan),
            "zone" => Write(Planner.PlanZone(plan), Context.ZonePage),
            "instances" => Write(Planner.DigestInstances(plan), Context.InstancesDigest),
            _ => Write(Planner.Plan(plan), Context.PlanOutput),
        };
    }

    /// <summary>
    /// <c>BrokerLink.Functions::BrokerLink.Functions.Handlers::Onboard</c>: an onboarding operation, validated against the
    /// table's links, as the steps the Onboard state machine applies.
    /// </summary>
    public Stream Onboard(Stream input) =>
        Write(Onboarder.Decide(Read(input, Context.OnboardInput)), Context.OnboardDecision);

    /// <summary>
    /// <c>BrokerLink.Functions::BrokerLink.Functions.Handlers::Summarise</c>: the execution's outcome from every link's result.
    /// Writes one CloudWatch Embedded Metric Format line per link, and the stack's totals line, to standard output (the function's
    /// log). Each line goes out with <c>Write</c>, not <c>WriteLine</c>: the Lambda .NET runtime formats every <c>WriteLine</c> of
    /// <c>Console.Out</c> (a timestamp, request id and level in front; with the JSON log format, a JSON object whose
    /// <c>message</c> is the line, which CloudWatch does not read as EMF) and passes <c>Write</c> through unchanged.
    /// </summary>
    public Stream Summarise(Stream input)
    {
        var request = Read(input, Context.SummariseInput);
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
}
