using System.Text.Json;
using BrokerLink.Functions.Planning;
using System.Text.Json.Serialization;

namespace BrokerLink.Functions.Onboarding;

// What the Onboard state machine hands the function. Every field is nullable: Onboarder checks and names what is missing.

/// <summary>
/// <see cref="Request"/>: the execution input as given. <see cref="Links"/>: the table's link items (a consistent Query).
/// <see cref="Zones"/>: only on the second call of an add-consumer that creates its zone, the zone as CreateHostedZone
/// returned it, or the zones ListHostedZonesByName found when it already existed.
/// <see cref="Plan"/>: only on the call after the <see cref="OnboardDecision.Preflight"/> dry run, that dry run's plan.
/// <see cref="Services"/>: once <see cref="OnboardDecision.RegionsCheck"/> asked for them, the endpoint services as
/// DescribeVpcEndpointServiceConfigurations returned them (their supported regions); every later call has them too.
/// </summary>
internal sealed record OnboardInput(
    OnboardRequest? Request = null,
    IReadOnlyList<LinkItemWire?>? Links = null,
    bool? LinksTruncated = null,
    string? StateMachineArn = null,
    IReadOnlyList<HostedZoneWire?>? Zones = null,
    PreflightPlanWire? Plan = null,
    ObservedServicesWire? Services = null,
    string? Execution = null);

internal sealed record ObservedServicesWire(IReadOnlyList<ServiceConfigurationWire?>? Configurations = null);

internal sealed record ServiceConfigurationWire(string? ServiceId = null, IReadOnlyList<SupportedRegionWire?>? SupportedRegions = null);

internal sealed record SupportedRegionWire(string? Region = null, string? ServiceState = null);

/// <summary>What onboarding reads of Reconcile's dry-run plan of the config it would store: the findings about the current brokers.</summary>
internal sealed record PreflightPlanWire(IReadOnlyList<PlannedFindingWire?>? Findings = null);

internal sealed record PlannedFindingWire(string? Code = null, string? Subject = null, string? Message = null);

/// <summary>One operation: <c>register-link</c>, <c>update-link</c>, <c>remove-link</c>, <c>add-consumer</c>, <c>remove-consumer</c>.</summary>
internal sealed record OnboardRequest(
    string? Operation = null,
    bool? DryRun = null,
    bool? AllowRemovals = null,
    JsonElement? Link = null,
    string? LinkId = null,
    ConsumerRequest? Consumer = null,
    string? ConsumerName = null);

/// <summary>
/// add-consumer's consumer: its name and principal, its interface endpoint, and its zone: an existing one
/// (<see cref="HostedZoneId"/>) or one to create through its role (<see cref="CreateZone"/>). <see cref="Region"/>: where its
/// endpoint is, when not in the stack's region (else read from the endpoint's DNS name); <see cref="PinRegion"/> keeps that
/// region on the endpoint service after its last consumer has gone. <see cref="PeerOf"/> and <see cref="Vpc"/>: a consumer
/// without an endpoint, whose VPC (of another account, any region) reaches that consumer's endpoint and gets its zone.
/// </summary>
internal sealed record ConsumerRequest(
    string? Name = null,
    string? Principal = null,
    string? EndpointDnsName = null,
    string? EndpointHostedZoneId = null,
    string? VpcEndpointId = null,
    bool? AcceptConnection = null,
    string? HostedZoneId = null,
    CreateZoneRequest? CreateZone = null,
    string? RoleArn = null,
    IReadOnlyList<BrokerEndpointWire?>? BrokerEndpoints = null,
    string? Region = null,
    bool? PinRegion = null,
    string? PeerOf = null,
    AssociateVpcRequest? Vpc = null);

/// <summary>The zone is created in the account of the consumer's role, attached to <see cref="VpcId"/> of that account.</summary>
internal sealed record CreateZoneRequest(string? Name = null, string? VpcId = null, string? VpcRegion = null, AssociateVpcRequest? AssociateVpc = null);

/// <summary>A VPC of another account, associated through CreateVPCAssociationAuthorization and AssociateVPCWithHostedZone.</summary>
internal sealed record AssociateVpcRequest(string? VpcId = null, string? VpcRegion = null, string? RoleArn = null);

internal sealed record HostedZoneWire(string? Id = null, string? Name = null, string? CallerReference = null, HostedZoneConfigWire? Config = null);

internal sealed record HostedZoneConfigWire(bool? PrivateZone = null);

// The decision: what the state machine applies, step by step in this order; a null step is skipped.
// Objects passed straight to an AWS API keep the API's PascalCase names.

/// <summary>
/// The onboarding as a value. The state machine runs, in order: <see cref="Preflight"/> (then it asks again with its
/// plan), <see cref="Allow"/>, <see cref="Accept"/> (only if the connection is pending), <see cref="CreateZone"/> (then it
/// asks again with the zone), <see cref="Associate"/>, <see cref="Store"/>, <see cref="Reconcile"/>, <see cref="Revoke"/>,
/// <see cref="Finish"/>. A dry run runs only <see cref="Preflight"/>, the dry run of <see cref="Reconcile"/> against the
/// config <see cref="Store"/> would write, and reports its plan.
/// Before all of them, <see cref="RegionsCheck"/> (then it asks again with the services); <see cref="AddRegions"/> runs before
/// <see cref="Allow"/> (a consumer in another region cannot create its endpoint before), <see cref="DropRegions"/> after
/// <see cref="Revoke"/> (once the region's records are gone), then <see cref="Disassociate"/> (a peered consumer's VPC, if
/// it is still associated) before <see cref="Finish"/>.
/// </summary>
internal sealed record OnboardDecision(
    string Operation,
    string LinkId,
    bool DryRun,
    string Summary,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] ReconcileRequest? Preflight,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] PrincipalChange? Allow,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] ConnectionAcceptance? Accept,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] ZoneCreation? CreateZone,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] VpcAssociation? Associate,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] TableWrite? Store,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] ReconcileRequest? Reconcile,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] PrincipalChange? Revoke,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] TableWrite? Finish,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] ZoneRef? RecordsZone,
    IReadOnlyList<string> Notes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] IReadOnlyList<string>? RegionsCheck = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] RegionChange? AddRegions = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] RegionChange? DropRegions = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] VpcAssociation? Disassociate = null);

/// <summary>ModifyVpcEndpointServiceConfiguration: regions to add to (AddSupportedRegions) or remove from (RemoveSupportedRegions) the service.</summary>
internal sealed record RegionChange(
    [property: JsonPropertyName("ServiceId")] string ServiceId,
    [property: JsonPropertyName("Regions")] IReadOnlyList<string> Regions);

/// <summary>ModifyVpcEndpointServicePermissions: principals to add (Allow) or remove (Revoke); never <c>*</c>.</summary>
internal sealed record PrincipalChange(
    [property: JsonPropertyName("ServiceId")] string ServiceId,
    [property: JsonPropertyName("Principals")] IReadOnlyList<string> Principals);

/// <summary>AcceptVpcEndpointConnections for the consumer's endpoint, once DescribeVpcEndpointConnections says it is pending.</summary>
internal sealed record ConnectionAcceptance(
    [property: JsonPropertyName("ServiceId")] string ServiceId,
    [property: JsonPropertyName("VpcEndpointId")] string VpcEndpointId);

/// <summary>CreateHostedZone through <see cref="RoleArn"/>; the caller reference makes a re-run find the zone instead.</summary>
internal sealed record ZoneCreation(
    [property: JsonPropertyName("Name")] string Name,
    [property: JsonPropertyName("CallerReference")] string CallerReference,
    [property: JsonPropertyName("Vpc")] VpcRef Vpc,
    [property: JsonPropertyName("Comment")] string Comment,
    string RoleArn,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? HostedZoneId);

internal sealed record VpcRef(
    [property: JsonPropertyName("VpcId")] string VpcId,
    [property: JsonPropertyName("VpcRegion")] string VpcRegion);

/// <summary>The cross-account association: authorize as the zone's owner, associate as the VPC's owner, then drop the authorization.</summary>
internal sealed record VpcAssociation(
    [property: JsonPropertyName("HostedZoneId")] string HostedZoneId,
    [property: JsonPropertyName("Vpc")] VpcRef Vpc,
    string ZoneRoleArn,
    string VpcRoleArn);

/// <summary>A conditional PutItem (<c>kind: put</c>) or DeleteItem (<c>kind: delete</c>) of one link item.</summary>
internal sealed record TableWrite(
    string Kind,
    long Version,
    [property: JsonPropertyName("Key")] IReadOnlyDictionary<string, AttributeValue> Key,
    [property: JsonPropertyName("Item"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] IReadOnlyDictionary<string, AttributeValue>? Item,
    [property: JsonPropertyName("ConditionExpression")] string ConditionExpression,
    [property: JsonPropertyName("ExpressionAttributeNames")] IReadOnlyDictionary<string, string> ExpressionAttributeNames,
    [property: JsonPropertyName("ExpressionAttributeValues"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] IReadOnlyDictionary<string, AttributeValue>? ExpressionAttributeValues);

/// <summary>The Reconcile state machine's manual input for this link (see the contract's Triage section).</summary>
internal sealed record ReconcileRequest(
    string Action,
    string LinkId,
    bool DryRun,
    bool AllowRemovals,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? LinkConfig);

/// <summary><see cref="Names"/>: the record names the link writes in every zone when its config says them (msk-serverless,
/// ec2-self-managed), else null (they are the brokers' names, known once Reconcile has listed them).</summary>
internal sealed record ZoneRef(
    string HostedZoneId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? RoleArn,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] IReadOnlyList<string>? Names = null);
