using System.Text.Json.Nodes;
using BrokerLink.Functions;
using BrokerLink.Functions.Triaging;
using static BrokerLink.Tests.Support.Fixtures;

namespace BrokerLink.Tests;

/// <summary>Triage computes when a per-link lock expires: the state machine's JSONPath cannot add times.</summary>
public sealed class LockLeaseTests
{
    [Theory]
    [InlineData("2025-01-31T12:00:00.123Z", 3600, "2025-01-31T13:00:00.123Z")] // AWS's $$.State.EnteredTime
    [InlineData("2025-01-31T12:00:00.123456+00:00", 3600, "2025-01-31T13:00:00.123Z")] // moto's
    [InlineData("2025-01-31T12:00:00+00:00", 60, "2025-01-31T12:01:00.000Z")] // moto, whole second
    [InlineData("2025-01-31T14:00:00.5+02:00", 1, "2025-01-31T12:00:01.500Z")] // another zone: UTC out
    [InlineData("2025-12-31T23:30:00Z", 3600, "2026-01-01T00:30:00.000Z")] // over the year
    public void The_lock_expires_lease_seconds_after_now_in_one_fixed_utc_format(string now, int lease, string expected)
    {
        Assert.Equal(expected, Triager.LockExpiry(now, lease));
    }

    [Fact]
    public void The_expiry_compares_as_text_with_both_engines_times()
    {
        // The acquire condition is expiresAt < :now, as strings. Correct to the second for AWS's and moto's formats.
        var expires = Triager.LockExpiry("2025-01-31T12:00:00.000Z", 60)!;
        foreach (var later in new[] { "2025-01-31T12:01:01.000Z", "2025-01-31T12:01:01.000001+00:00", "2025-01-31T12:01:01+00:00", "2025-02-01T00:00:00Z" })
        {
            Assert.True(string.CompareOrdinal(expires, later) < 0, later);
        }
        foreach (var earlier in new[] { "2025-01-31T12:00:59.999Z", "2025-01-31T12:00:30.123456+00:00", "2025-01-31T12:00:59+00:00" })
        {
            Assert.True(string.CompareOrdinal(expires, earlier) > 0, earlier);
        }
    }

    [Fact]
    public void Without_now_there_is_no_expiry()
    {
        Assert.Null(Triager.LockExpiry(null, null));
        Assert.Null(Triager.LockExpiry(null, 3600));
    }

    [Theory]
    [InlineData("yesterday", 3600, "now")]
    [InlineData("2025-01-31", 3600, "now")]
    [InlineData("2025-01-31T12:00:00", 3600, "now")] // no zone: ambiguous
    [InlineData("2025-01-31T12:00:00Z", null, "leaseSeconds")]
    [InlineData("2025-01-31T12:00:00Z", 0, "leaseSeconds")]
    [InlineData("2025-01-31T12:00:00Z", 604801, "leaseSeconds")]
    public void A_bad_time_or_lease_is_invalid_input_naming_the_field(string now, int? lease, string field)
    {
        var thrown = Assert.Throws<InvalidInputException>(() => Triager.LockExpiry(now, lease));
        Assert.StartsWith($"{field}: ", thrown.Message);
    }

    [Fact]
    public void The_handler_reads_now_and_lease_seconds_and_writes_lock_expires_at()
    {
        var input = JsonNode.Parse(TriageTests.Input("""{"action": "reconcile", "linkId": "orders"}"""))!.AsObject();
        input["now"] = "2025-01-31T12:00:00.123456+00:00";
        input["leaseSeconds"] = 3600;
        var output = Invoke(Lambda.Triage, input.ToJsonString());
        Assert.Equal("2025-01-31T13:00:00.123Z", (string?)output["lockExpiresAt"]);
        Assert.Equal("orders", (string?)output["links"]![0]!["linkId"]);
    }

    [Fact]
    public void An_ignored_event_still_says_when_a_lock_would_expire_and_without_now_it_is_null()
    {
        var withNow = JsonNode.Parse(TriageTests.Input("""{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}""", links: []))!.AsObject();
        withNow["now"] = "2025-01-31T12:00:00Z";
        withNow["leaseSeconds"] = 10;
        Assert.Equal("2025-01-31T12:00:10.000Z", (string?)Invoke(Lambda.Triage, withNow.ToJsonString())["lockExpiresAt"]);
        var without = Invoke(Lambda.Triage, TriageTests.Input("""{"action": "reconcile", "linkId": "orders"}""")).AsObject();
        Assert.True(without.ContainsKey("lockExpiresAt"));
        Assert.Null(without["lockExpiresAt"]);
    }
}
