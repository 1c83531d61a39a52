namespace BrokerLink.Tests.Support;

/// <summary>
/// Tests that capture the process's standard output run alone: every handler that throws writes an ERROR line there, so a
/// test of another class running meanwhile would put its line into the capture.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "Console";
}
