using System.Text.Json;

namespace BrokerLink.Functions.Planning;

// The Plan input: observations exactly as the Step Functions aws-sdk integrations return them.
// Every field is nullable: the readers check and name what is missing.

internal sealed record PlanInput(
    string? Pass = null,
    JsonElement? LinkConfig = null,
    string? ClusterState = null,
    LoadBalancerWire? LoadBalancer = null,
    PageChain<NodesPage>? Nodes = null,
    ListenersPage? Listeners = null,
    TargetGroupsPage? TargetGroups = null,
    IReadOnlyList<TagsPage?>? Tags = null,
    IReadOnlyList<TargetHealthWire?>? TargetHealth = null,
    IReadOnlyList<ZoneWire?>? Zones = null,
    bool? AllowRemovals = null,
    string? LinkId = null,
    PageChain<InstancesPage>? Instances = null,
    VpcEndpointsPage? VpcEndpoints = null,
    NetworkInterfacesPage? NetworkInterfaces = null,
    LinkItemWire? Item = null,
    string? StateMachineArn = null,
    string? ZoneRoleArn = null,
    ZoneWork? Zone = null,
    IReadOnlyList<string>? Names = null,
    RecordsPage? Page = null,
    IReadOnlyList<RecordSetWire?>? Kept = null,
    LinkPlan? Link = null,
    IReadOnlyList<ZonePlanWire?>? ZonePlans = null,
    InstancesPage? InstancesPage = null,
    IReadOnlyList<InstanceWire?>? KeptInstances = null,
    IReadOnlyList<string?>? InstanceTags = null,
    bool? Status = null,
    LastChangeItemWire? LastChange = null,
    string? Execution = null);

/// <summary>Pages consed newest-first by the state machine: <c>{"page": newest, "rest": older-chain}</c>.</summary>
internal sealed record PageChain<TPage>(TPage? Page = null, PageChain<TPage>? Rest = null) where TPage : class;

internal sealed record LoadBalancerWire(string? LoadBalancerArn = null, string? DnsName = null, string? CanonicalHostedZoneId = null, string? VpcId = null);

internal sealed record NodesPage(IReadOnlyList<NodeInfoWire?>? NodeInfoList = null, string? NextToken = null);

internal sealed record NodeInfoWire(BrokerNodeInfoWire? BrokerNodeInfo = null);

internal sealed record BrokerNodeInfoWire(
    double? BrokerId = null,
    string? ClientVpcIpAddress = null,
    IReadOnlyList<string?>? Endpoints = null,
    string? AttachedEniId = null);

internal sealed record ListenersPage(IReadOnlyList<ListenerWire?>? Listeners = null, string? NextMarker = null);

internal sealed record ListenerWire(string? ListenerArn = null, int? Port = null, string? Protocol = null, IReadOnlyList<ActionWire?>? DefaultActions = null);

internal sealed record ActionWire(string? Type = null, string? TargetGroupArn = null, ForwardConfigWire? ForwardConfig = null);

internal sealed record ForwardConfigWire(IReadOnlyList<TargetGroupTupleWire?>? TargetGroups = null);

internal sealed record TargetGroupTupleWire(string? TargetGroupArn = null);

internal sealed record TargetGroupsPage(IReadOnlyList<TargetGroupWire?>? TargetGroups = null, string? NextMarker = null);

internal sealed record TargetGroupWire(string? TargetGroupArn = null, string? TargetGroupName = null, int? Port = null, string? Protocol = null, string? VpcId = null);

internal sealed record TagsPage(IReadOnlyList<TagDescriptionWire?>? TagDescriptions = null);

internal sealed record TagDescriptionWire(string? ResourceArn = null, IReadOnlyList<TagWire?>? Tags = null);

internal sealed record TagWire(string? Key = null, string? Value = null);

internal sealed record TargetHealthWire(string? TargetGroupArn = null, IReadOnlyList<TargetHealthDescriptionWire?>? TargetHealthDescriptions = null);

internal sealed record TargetHealthDescriptionWire(TargetWire? Target = null, TargetHealthStateWire? TargetHealth = null);

internal sealed record TargetWire(string? Id = null, int? Port = null);

internal sealed record TargetHealthStateWire(string? State = null, string? Reason = null);

internal sealed record ZoneWire(string? HostedZoneId = null, PageChain<RecordsPage>? Records = null);

internal sealed record RecordsPage(
    IReadOnlyList<RecordSetWire?>? ResourceRecordSets = null,
    bool? IsTruncated = null,
    string? NextRecordName = null,
    string? NextRecordType = null,
    string? NextRecordIdentifier = null);

internal sealed record RecordSetWire(
    string? Name = null,
    string? Type = null,
    string? SetIdentifier = null,
    long? Ttl = null,
    IReadOnlyList<ResourceRecordWire?>? ResourceRecords = null,
    AliasTargetWire? AliasTarget = null);

internal sealed record ResourceRecordWire(string? Value = null);

internal sealed record AliasTargetWire(string? HostedZoneId = null, string? DnsName = null, bool? EvaluateTargetHealth = null);

internal sealed record InstancesPage(IReadOnlyList<ReservationWire?>? Reservations = null, string? NextToken = null);

internal sealed record ReservationWire(IReadOnlyList<InstanceWire?>? Instances = null);

internal sealed record InstanceWire(string? InstanceId = null, string? PrivateIpAddress = null, InstanceStateWire? State = null, IReadOnlyList<TagWire?>? Tags = null);

internal sealed record InstanceStateWire(string? Name = null);

internal sealed record VpcEndpointsPage(IReadOnlyList<VpcEndpointWire?>? VpcEndpoints = null);

internal sealed record VpcEndpointWire(string? VpcEndpointId = null, string? VpcId = null, string? State = null, IReadOnlyList<string?>? NetworkInterfaceIds = null);

internal sealed record NetworkInterfacesPage(IReadOnlyList<NetworkInterfaceWire?>? NetworkInterfaces = null);

internal sealed record NetworkInterfaceWire(string? NetworkInterfaceId = null, string? PrivateIpAddress = null, string? Status = null);
