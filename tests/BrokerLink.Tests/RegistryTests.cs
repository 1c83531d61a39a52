using System.Text.RegularExpressions;
using BrokerLink.Functions.Planning;
using BrokerLink.Functions.Validation;

namespace BrokerLink.Tests;

public sealed class RegistryTests
{
    [Theory]
    [InlineData("orders",                                   "broker-1",     "bl-orders-1c168a-b1")]
    [InlineData("orders",                                   "bootstrap",    "bl-orders-1c168a-boot")]
    [InlineData("a",                                        "broker-65534", null)]
    [InlineData("payments-eu-central",                      "broker-12",    null)]
    [InlineData("payments-eu-c-x",                          "broker-1",     null)]
    [InlineData("a-link-id-that-is-exactly-forty-chars-xy", "broker-65534", null)]
    public void Target_group_names_are_deterministic_short_and_valid(string linkId, string key, string? expected)
    {
        var name = Registry.TargetGroupName(linkId, key);

        Assert.Matches(new Regex("^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$"), name);
        Assert.InRange(name.Length, 1, 32);
        Assert.Equal(name, Registry.TargetGroupName(linkId, key));
        if (expected is not null)
        {
            Assert.Equal(expected, name);
        }
    }

    [Fact]
    public void Links_sharing_a_long_prefix_get_different_target_group_names()
    {
        Assert.NotEqual(Registry.TargetGroupName("payments-eu-central-1", "broker-1"), Registry.TargetGroupName("payments-eu-central-2", "broker-1"));
    }

    [Fact]
    public void Keys_sort_bootstrap_first_then_brokers_by_number()
    {
        string[] keys = ["broker-10", "broker-2", "bootstrap", "broker-1"];

        Assert.Equal(["bootstrap", "broker-1", "broker-2", "broker-10"], keys.Order(Registry.KeyOrder));
    }

    [Theory]
    [InlineData("B-1.Orders.Example.COM.",         "b-1.orders.example.com")]
    [InlineData("\\052.kafka-serverless.example.", "*.kafka-serverless.example")]
    [InlineData("plain",                           "plain")]
    public void Record_names_compare_lower_case_without_trailing_dot_and_unescaped(string observed, string normal)
    {
        Assert.Equal(normal, Names.Normalise(observed));
    }

    [Theory]
    [InlineData("dualstack.orders-nlb-1.elb.us-east-1.amazonaws.com.", "orders-nlb-1.elb.us-east-1.amazonaws.com")]
    [InlineData("Orders-NLB-1.elb.us-east-1.amazonaws.com",            "orders-nlb-1.elb.us-east-1.amazonaws.com")]
    public void Alias_targets_compare_without_dualstack_prefix(string observed, string normal)
    {
        Assert.Equal(normal, Names.NormaliseAliasTarget(observed));
    }

    [Fact]
    public void Ownership_needs_both_tags_and_the_right_link()
    {
        Assert.Equal("broker-1", Registry.OwnedKey([new Tag("brokerlink:link", "orders"), new Tag("brokerlink:key", "broker-1")], "orders"));
        Assert.Null(Registry.OwnedKey([new Tag("brokerlink:link", "orders")], "orders"));
        Assert.Null(Registry.OwnedKey([new Tag("brokerlink:key", "broker-1")], "orders"));
        Assert.Null(Registry.OwnedKey([new Tag("brokerlink:link", "other"), new Tag("brokerlink:key", "broker-1")], "orders"));
    }
}
