using System.Globalization;
using System.Text.RegularExpressions;

namespace BrokerLink.Functions.Validation;

/// <summary>Field checks that fail with an <see cref="InvalidInputException"/> naming the path and the problem.</summary>
internal static partial class Check
{
    /// <summary>Messages quote the input; capped so that a huge field cannot push the error past Step Functions' 256 KiB state limit.</summary>
    public static InvalidInputException Invalid(string path, string problem) => new($"{path}: {Brief(problem, MaxProblem)}");

    private const int MaxProblem = 2000;

    /// <summary>Text from the input as a message quotes it: at most <paramref name="max"/> characters, the rest counted.</summary>
    public static string Brief(string text, int max = 200) =>
        text.Length <= max ? text : $"{text[..max]}... ({text.Length - max} more characters)";

    public static T Present<T>(T? value, string path) where T : class => value ?? throw Invalid(path, "missing");

    public static string Text(string? value, string path) => value switch
    {
        null => throw Invalid(path, "missing"),
        _ when string.IsNullOrWhiteSpace(value) => throw Invalid(path, "empty"),
        _ => value,
    };

    public static bool Flag(bool? value, string path) => value ?? throw Invalid(path, "missing");

    public static int Port(int? value, string path) => value switch
    {
        null => throw Invalid(path, "missing"),
        >= 1 and <= 65535 => value.Value,
        _ => throw Invalid(path, $"{value} is not a port (1-65535)"),
    };

    /// <summary>The items of an AWS list with their paths; an absent list is empty, a null item is invalid.</summary>
    public static IEnumerable<(T Item, string Path)> Items<T>(IReadOnlyList<T?>? list, string path) where T : class
    {
        for (var i = 0; i < (list?.Count ?? 0); i++)
        {
            yield return (list![i] ?? throw Invalid($"{path}[{i}]", "null"), $"{path}[{i}]");
        }
    }

    public static string Matching(string? value, Regex pattern, string path, string what)
    {
        var text = Text(value, path);
        return pattern.IsMatch(text) ? text : throw Invalid(path, $"'{Brief(text)}' is not {what}");
    }

    public static string LinkId(string? value, string path) =>
        Matching(value, LinkIdPattern(), path, "a link id (1-40 of a-z, 0-9 and '-', not starting or ending with '-')");

    public static string HostedZoneId(string? value, string path) =>
        Matching(value, HostedZoneIdPattern(), path, "a hosted zone id (upper-case letters and digits, e.g. Z0123456789ABC, without /hostedzone/)");

    public static string RoleArn(string? value, string path) =>
        Matching(value, RoleArnPattern(), path, "an IAM role ARN (arn:<partition>:iam::<account>:role/<path/name>)");

    public static string Ipv4(string? value, string path) => Matching(value, Ipv4Pattern(), path, "an IPv4 address");

    /// <summary>An AWS API action name as CloudTrail logs it (e.g. UpdateBrokerCount).</summary>
    public static string ApiName(string? value, string path) => Matching(value, ApiNamePattern(), path, "an API action name (1-128 letters and digits)");

    public static string AccountId(string? value, string path) => Matching(value, AccountPattern(), path, "an AWS account id (12 digits)");

    public static string AwsRegion(string? value, string path) => Matching(value, RegionPattern(), path, "an AWS region (e.g. us-east-1)");

    public static string VpcId(string? value, string path) => Matching(value, VpcIdPattern(), path, "a VPC id (vpc- and 8 or 17 hex digits)");

    public static string VpcEndpointId(string? value, string path) =>
        Matching(value, VpcEndpointIdPattern(), path, "a VPC endpoint id (vpce- and 8 or 17 hex digits)");

    public static string EndpointServiceId(string? value, string path) =>
        Matching(value, EndpointServiceIdPattern(), path, "a VPC endpoint service id (vpce-svc- and 8 or 17 hex digits)");

    /// <summary>An IAM principal ARN an endpoint service may allow (an account's root, a role or a user), never <c>*</c>.</summary>
    public static string Principal(string? value, string path) => Text(value, path) switch
    {
        "*" => throw Invalid(path, "'*' would allow every AWS account: name the consumer's account or role"),
        var text => Matching(text, PrincipalPattern(), path, "an IAM principal ARN (arn:<partition>:iam::<account>:root, :role/<name> or :user/<name>)"),
    };

    public static string ConsumerName(string? value, string path) =>
        Matching(value, LinkIdPattern(), path, "a consumer name (1-40 of a-z, 0-9 and '-', not starting or ending with '-')");

    /// <summary>An interface endpoint's regional or zonal DNS name, with the endpoint, service and region it names.</summary>
    public static EndpointName EndpointDnsName(string? value, string path)
    {
        var name = DnsName(value, path);
        var match = EndpointDnsNamePattern().Match(name);
        return match.Success
            ? new EndpointName(name, match.Groups["endpoint"].Value, match.Groups["service"].Value, match.Groups["region"].Value)
            : throw Invalid(path, $"'{name}' is not an interface endpoint's DNS name (vpce-<id>-<suffix>.vpce-svc-<id>.<region>.vpce.amazonaws.com)");
    }

    /// <summary>
    /// An interface endpoint's DNS name in the consumer's region: a cross-Region endpoint is named in the region it is in,
    /// not the service's, and must be <paramref name="region"/> when one is given (<paramref name="regionField"/>: where it was).
    /// </summary>
    public static EndpointName EndpointDnsName(string? value, string path, string? region, string? regionField = null)
    {
        var endpoint = EndpointDnsName(value, path);
        return region is null || endpoint.Region == region
            ? endpoint
            : throw Invalid(path, $"the endpoint is in region {endpoint.Region}, not the consumer's region {region}" + (regionField is null ? "" : $" ({regionField})"));
    }

    /// <summary>The account of a role or principal ARN already validated by its pattern.</summary>
    public static string AccountOf(string iamArn) => iamArn.Split(':')[4];

    /// <summary>A DNS name, lower-cased, without its trailing dot.</summary>
    public static string DnsName(string? value, string path)
    {
        var text = Text(value, path);
        var name = Names.Normalise(text);
        return DnsNamePattern().IsMatch(name) && name.Length <= 253
            ? name
            : throw Invalid(path, $"'{text}' is not a DNS name (labels of 1-63 a-z, 0-9 or '-', at most 253 characters)");
    }

    public static Arn ClusterArn(string? value, string path) =>
        Arn.Parse(Matching(value, ClusterArnPattern(), path, "an MSK cluster ARN (arn:<partition>:kafka:<region>:<account>:cluster/<name>/<id>)"));

    public static Arn LoadBalancerArn(string? value, string path) =>
        Arn.Parse(Matching(value, LoadBalancerArnPattern(), path,
            "a Network Load Balancer ARN (arn:<partition>:elasticloadbalancing:<region>:<account>:loadbalancer/net/<name>/<id>)"));

    public static Arn TargetGroupArn(string? value, string path) =>
        Arn.Parse(Matching(value, TargetGroupArnPattern(), path,
            "an ELBv2 target group ARN (arn:<partition>:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)"));

    /// <summary>
    /// An ARN of a resource the deployment's state machines call: their aws-sdk tasks run in its account and region only.
    /// Without a <paramref name="deployment"/> the ARN is taken as it is.
    /// </summary>
    public static Arn InDeployment(Arn arn, Arn? deployment, string path) =>
        deployment is null ? arn
        : arn.Region != deployment.Region ? throw Invalid(path, $"region {arn.Region} is not this deployment's region {deployment.Region}")
        : arn.Account != deployment.Account ? throw Invalid(path, $"account {arn.Account} is not this deployment's account {deployment.Account}")
        : arn;

    /// <summary>A Kafka listener name as server.properties takes it (upper-case letters, digits and '_').</summary>
    public static string ListenerName(string? value, string path) =>
        Matching(value, ListenerNamePattern(), path, "a Kafka listener name (A-Z, 0-9 and '_', starting with a letter, at most 64)");

    public static string SecurityProtocol(string? value, string path) =>
        Matching(value, SecurityProtocolPattern(), path, "a Kafka security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)");

    public static Arn StateMachineArn(string? value, string path) =>
        Arn.Parse(Matching(value, StateMachineArnPattern(), path, "a state machine ARN (arn:<partition>:states:<region>:<account>:stateMachine:<name>)"));

    public static string Show(string? value) => value is null ? "null" : $"'{value}'";

    public static string Show(double value) => value.ToString(CultureInfo.InvariantCulture);

    private const string Partition = "aws(?:-[a-z]+)*";
    private const string Region = "[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}";
    private const string Account = "[0-9]{12}";

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")]
    private static partial Regex LinkIdPattern();

    // Real zone ids start with Z; moto's do not, and nothing here depends on the Z.
    [GeneratedRegex("^[A-Z0-9]{1,32}$")]
    private static partial Regex HostedZoneIdPattern();

    [GeneratedRegex($"^arn:{Partition}:iam::{Account}:role/(?:[A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{{1,64}}$")]
    private static partial Regex RoleArnPattern();

    [GeneratedRegex($"^arn:{Partition}:kafka:{Region}:{Account}:cluster/[A-Za-z0-9][A-Za-z0-9-]{{0,63}}/[0-9A-Fa-f]+(?:-[0-9A-Za-z]+)*$")]
    private static partial Regex ClusterArnPattern();

    [GeneratedRegex($"^arn:{Partition}:elasticloadbalancing:{Region}:{Account}:loadbalancer/net/[A-Za-z0-9](?:[A-Za-z0-9-]{{0,30}}[A-Za-z0-9])?/[0-9a-f]{{1,32}}$")]
    private static partial Regex LoadBalancerArnPattern();

    [GeneratedRegex($"^arn:{Partition}:elasticloadbalancing:{Region}:{Account}:targetgroup/[A-Za-z0-9](?:[A-Za-z0-9-]{{0,30}}[A-Za-z0-9])?/[0-9a-f]{{1,32}}$")]
    private static partial Regex TargetGroupArnPattern();

    [GeneratedRegex("^[A-Z][A-Z0-9_]{0,63}$")]
    private static partial Regex ListenerNamePattern();

    [GeneratedRegex("^(?:PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL)$")]
    private static partial Regex SecurityProtocolPattern();

    [GeneratedRegex($"^arn:{Partition}:states:{Region}:{Account}:stateMachine:[^:\\s]{{1,80}}(?::[^:\\s]+)?$")]
    private static partial Regex StateMachineArnPattern();

    [GeneratedRegex($"^(?<endpoint>vpce-[0-9a-f]+)-[a-z0-9-]+\\.(?<service>vpce-svc-[0-9a-f]+)\\.(?<region>{Region})\\.vpce\\.amazonaws\\.com(?:\\.cn)?$")]
    private static partial Regex EndpointDnsNamePattern();

    [GeneratedRegex($"^{Account}$")]
    private static partial Regex AccountPattern();

    [GeneratedRegex($"^{Region}$")]
    private static partial Regex RegionPattern();

    [GeneratedRegex("^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")]
    private static partial Regex VpcIdPattern();

    [GeneratedRegex("^vpce-(?:[0-9a-f]{8}|[0-9a-f]{17})$")]
    private static partial Regex VpcEndpointIdPattern();

    [GeneratedRegex("^vpce-svc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")]
    private static partial Regex EndpointServiceIdPattern();

    [GeneratedRegex($"^arn:{Partition}:iam::{Account}:(?:root|role/(?:[A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{{1,64}}|user/(?:[A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{{1,64}})$")]
    private static partial Regex PrincipalPattern();

    [GeneratedRegex("^[A-Za-z0-9]{1,128}$")]
    private static partial Regex ApiNamePattern();

    [GeneratedRegex("^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$")]
    private static partial Regex Ipv4Pattern();

    [GeneratedRegex("^(?:[a-z0-9-]{1,63}\\.)*[a-z0-9-]{1,63}$")]
    private static partial Regex DnsNamePattern();
}

internal sealed record EndpointName(string DnsName, string EndpointId, string ServiceId, string Region);

/// <summary>The parts of an ARN this project compares (already validated by a pattern).</summary>
internal sealed record Arn(string Value, string Partition, string Service, string Region, string Account)
{
    public static Arn Parse(string arn)
    {
        var parts = arn.Split(':', 6);
        return new Arn(arn, parts[1], parts[2], parts[3], parts[4]);
    }
}
