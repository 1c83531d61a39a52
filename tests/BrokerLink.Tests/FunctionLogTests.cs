using System.Text.Json.Nodes;
using BrokerLink.Functions;
using BrokerLink.Tests.Support;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests;

/// <summary>The functions' own log lines: JSON, at the function's level, each naming its link and execution.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class FunctionLogTests
{
    [Theory]
    [InlineData("ERROR", null, true)]
    [InlineData("DEBUG", null, false)]
    [InlineData("INFO", "INFO", true)]
    [InlineData("DEBUG", "DEBUG", true)]
    [InlineData("DEBUG", "debug", true)]
    [InlineData("TRACE", "DEBUG", false)]
    [InlineData("ERROR", "WARN", true)]
    [InlineData("WARN", "ERROR", false)]
    [InlineData("ERROR", "FATAL", false)]
    [InlineData("INFO", "LOUD", true)] // an unknown level reads as INFO
    [InlineData("DEBUG", "LOUD", false)]
    public void A_line_is_kept_at_its_level_and_above(string level, string? configured, bool kept) =>
        Assert.Equal(kept, FunctionLog.Keeps(level, configured));

    [Fact]
    public void A_line_is_one_json_object_with_the_calls_fields_and_no_nulls()
    {
        var line = FunctionLog.Line(new DateTimeOffset(2026, 12, 2, 10, 0, 0, 123, TimeSpan.FromHours(1)), "ERROR", "InvalidInputException: zone: \"x\"",
            new LogContext("Plan", "zone", "orders", "orders-sweep-1"), [KeyValuePair.Create("errorType", (string?)"InvalidInputException"), KeyValuePair.Create("none", (string?)null)]);

        Assert.DoesNotContain('\n', line);
        Assert.Equal("""{"timestamp":"2026-12-02T09:00:00.123Z","level":"ERROR","message":"InvalidInputException: zone: \"x\"","function":"Plan","pass":"zone","linkId":"orders","execution":"orders-sweep-1","errorType":"InvalidInputException"}""", line);
    }

    private static (string Output, Exception? Thrown) Captured(Func<Stream, Stream> handler, string input, string? level = null)
    {
        var (previousOut, previousLevel) = (Console.Out, Environment.GetEnvironmentVariable(FunctionLog.LevelVariable));
        var captured = new StringWriter();
        Console.SetOut(captured);
        Environment.SetEnvironmentVariable(FunctionLog.LevelVariable, level);
        try
        {
            ReadAll(handler(Stream(input)));
            return (captured.ToString(), null);
        }
        catch (Exception e)
        {
            return (captured.ToString(), e);
        }
        finally
        {
            Console.SetOut(previousOut);
            Environment.SetEnvironmentVariable(FunctionLog.LevelVariable, previousLevel);
        }
    }

    [Fact]
    public void A_failing_call_logs_one_error_line_naming_its_link_and_execution_and_still_throws()
    {
        var input = """{"pass": "zone", "linkId": "orders", "execution": "orders-sweep-1", "zone": null}""";

        var (output, thrown) = Captured(Lambda.Plan, input);

        Assert.IsType<InvalidInputException>(thrown);
        var line = JsonNode.Parse(Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)))!;
        Assert.Equal(("ERROR", "Plan", "zone", "orders", "orders-sweep-1", "InvalidInputException"),
            ((string)line["level"]!, (string)line["function"]!, (string)line["pass"]!, (string)line["linkId"]!, (string)line["execution"]!, (string)line["errorType"]!));
        Assert.Equal($"InvalidInputException: {thrown!.Message}", (string)line["message"]!);
    }

    [Fact]
    public void An_input_that_does_not_read_is_logged_by_the_function_alone()
    {
        var (output, thrown) = Captured(Lambda.Triage, "{\"event\": ");

        Assert.IsType<InvalidInputException>(thrown);
        var line = JsonNode.Parse(Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)))!;
        Assert.Equal(("Triage", null), ((string)line["function"]!, line["linkId"]));
    }

    [Fact]
    public void A_call_that_succeeds_logs_nothing_at_info_and_a_done_line_at_debug()
    {
        var input = TriageTests.Input("""{"action": "reconcile", "linkId": "orders"}""").Replace("\"linksTruncated\"", "\"execution\":\"orders-manual\",\"linksTruncated\"");

        Assert.Equal(("", null), Captured(Lambda.Triage, input, "INFO"));
        var (output, _) = Captured(Lambda.Triage, input, "DEBUG");
        var line = JsonNode.Parse(output)!;
        Assert.Equal(("DEBUG", "done", "Triage", "orders", "orders-manual"),
            ((string)line["level"]!, (string)line["message"]!, (string)line["function"]!, (string)line["linkId"]!, (string)line["execution"]!));
    }
}
