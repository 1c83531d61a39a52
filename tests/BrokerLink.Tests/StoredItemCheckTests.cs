using System.Text.Json.Nodes;
using BrokerLink.Functions;
using BrokerLink.Functions.Planning;
using BrokerLink.Tests.Support;
using static BrokerLink.Functions.Json.Json;
using static BrokerLink.Tests.Support.Fixtures;
using static BrokerLink.Tests.Support.KindFixtures;

namespace BrokerLink.Tests;

/// <summary>
/// Plan's check pass on a stored item: the config, in the deployment's account and region, and the item's attributes
/// saying what the config says. Anything else fails the link with InvalidInput before any AWS call, naming the field.
/// </summary>
public sealed class StoredItemCheckTests
{
    private const string Absent = JsonPatch.Absent;
    private const string ElsewhereCluster = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/0b9f3c1e-1111-2222-3333-444455556666-2";

    private static string Msk => WriteString(Config(), Context.LinkConfigWire);

    private static string Long => JsonPatch.Set(Msk, "consumers[0].name", $"\"{new string('x', LinkItems.MaxConfigLength)}\"");

    private static string Ec2Link => WriteString(Ec2() with { LinkId = "orders" }, Context.LinkConfigWire);

    /// <summary>The item onboarding writes for the config, with <paramref name="attribute"/> set to <paramref name="value"/> (JSON; Absent removes it).</summary>
    private static JsonObject Item(string config, string? attribute = null, string? value = null)
    {
        var parsed = JsonNode.Parse(config)!;
        var item = new JsonObject
        {
            ["pk"] = new JsonObject { ["S"] = "LINK" },
            ["sk"] = new JsonObject { ["S"] = (string)parsed["linkId"]! },
            ["kind"] = new JsonObject { ["S"] = (string)parsed["kind"]! },
            ["config"] = new JsonObject { ["S"] = config },
            ["version"] = new JsonObject { ["N"] = "3" },
        };
        if (parsed["clusterArn"] is { } cluster)
        {
            item["clusterArn"] = new JsonObject { ["S"] = (string)cluster! };
        }
        if (attribute is not null)
        {
            item.Remove(attribute);
            if (value != Absent)
            {
                item[attribute] = JsonNode.Parse(value!);
            }
        }
        return item;
    }

    public static TheoryData<string, string, JsonObject, string?> Items => new()
    {
        // what                                                    config  item                                                                      error (null: passes)
        { "an msk item that says what its config says",            Msk,    Item(Msk),                                                                null },
        { "an ec2 item, without a clusterArn as its kind has none", Ec2Link, Item(Ec2Link),                                                          null },
        { "a proposed config comes in an item of its config alone", Msk,   new JsonObject { ["config"] = new JsonObject { ["S"] = Msk } },           null },
        { "an item of another kind than its config",               Msk,    Item(Msk, "kind", """{"S": "ec2-self-managed"}"""),                       "item.kind.S: 'ec2-self-managed' is not the config's kind 'msk-single-nlb'" },
        { "an item without a kind",                                Msk,    Item(Msk, "kind", Absent),                                                "item.kind.S: missing (the config's kind is 'msk-single-nlb')" },
        { "an item whose kind is not a string",                    Msk,    Item(Msk, "kind", """{"N": "1"}"""),                                      "item.kind.S: missing (the config's kind is 'msk-single-nlb')" },
        { "an item naming another cluster than its config",        Msk,    Item(Msk, "clusterArn", $$"""{"S": "{{OtherClusterArn}}"}"""),            $"item.clusterArn.S: '{OtherClusterArn}' is not the config's clusterArn {ClusterArn}" },
        { "an msk item without its clusterArn",                    Msk,    Item(Msk, "clusterArn", Absent),                                          $"item.clusterArn.S: missing (the config's clusterArn is {ClusterArn})" },
        { "an ec2 item with a clusterArn",                         Ec2Link, Item(Ec2Link, "clusterArn", $$"""{"S": "{{ClusterArn}}"}"""),            "item.clusterArn: not allowed for kind 'ec2-self-managed' (a link of that kind has no cluster)" },
        { "an item under another key than its config's link id",  Msk,    Item(Msk, "sk", """{"S": "zeta"}"""),                                     "item.sk.S: 'zeta' is not the config's linkId 'orders'" },
        { "a cluster in another region, the load balancer here",   JsonPatch.Set(Msk, "clusterArn", $"\"{ElsewhereCluster}\""), Item(Msk),           "linkConfig.clusterArn: region eu-west-1 is not this deployment's region us-east-1" },
        { "a load balancer in another region, the cluster here",   JsonPatch.Set(Msk, "loadBalancerArn", $"\"{LoadBalancerArn.Replace("us-east-1", "eu-west-1")}\""), Item(Msk),
                                                                                                                                                     "linkConfig.loadBalancerArn: region eu-west-1 is not this deployment's region us-east-1" },
        { "a load balancer of another account",                    JsonPatch.Set(Msk, "loadBalancerArn", $"\"{LoadBalancerArn.Replace("123456789012", "210987654321")}\""), Item(Msk),
                                                                                                                                                     "linkConfig.loadBalancerArn: account 210987654321 is not this deployment's account 123456789012" },
        { "a config longer than the state machine carries",        Long,   Item(Msk),                                                                $"linkConfig: {Long.Length} characters, more than {LinkItems.MaxConfigLength}" },
    };

    [Theory]
    [MemberData(nameof(Items))]
    public void The_check_pass_refuses_an_item_that_disagrees_with_its_config_naming_the_field(string what, string config, JsonObject item, string? error)
    {
        var input = CheckPass("orders", config, item);

        var thrown = Record.Exception(() => ReadAll(Lambda.Plan(Stream(input))));

        if (error is null)
        {
            Assert.True(thrown is null, $"{what}: {thrown?.Message}");
        }
        else
        {
            var invalid = Assert.IsType<InvalidInputException>(thrown);
            Assert.StartsWith(error, invalid.Message);
        }
    }

    [Theory]
    [InlineData("stateMachineArn", "stateMachineArn: missing")]
    [InlineData("item", "item: missing")]
    public void The_check_pass_needs_the_deployment_and_the_item(string field, string error)
    {
        var input = JsonNode.Parse(CheckPass("orders", Msk, Item(Msk)))!.AsObject();
        input.Remove(field);

        var thrown = Assert.Throws<InvalidInputException>(() => ReadAll(Lambda.Plan(Stream(input.ToJsonString()))));

        Assert.StartsWith(error, thrown.Message);
    }
}
