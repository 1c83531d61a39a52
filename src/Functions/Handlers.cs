using BrokerLink.Functions.Planning;
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

    /// <summary><c>BrokerLink.Functions::BrokerLink.Functions.Handlers::Plan</c>: desired versus observed, as a list of changes.</summary>
    public Stream Plan(Stream input) =>
        Write(Planner.Plan(Read(input, Context.PlanInput)), Context.PlanOutput);
}
