"""The scenario world of BrokerLink, built in a running local cloud, and read-backs of it.

Shared by the demo (localcloud/demo.py) and the end-to-end tests (tests/localcloud): a world
builder creates what an operator would already have for one link kind and puts the link item
into the table; the read-backs turn ELBv2, Route 53, EC2 and the execution history into plain
values that tests compare and the demo prints. One builder per kind:

* `build_world`: msk-single-nlb (a provider VPC, an internal NLB, an MSK cluster, consumer VPCs
  with an interface endpoint and a private zone each, a provider zone);
* `build_per_broker_world`: msk-nlb-per-broker (an NLB, a target group tagged for the link and a
  listener on the broker port per provisioned broker; per consumer an endpoint per broker);
* `build_serverless_world`: msk-serverless (a serverless cluster, its interface endpoint in the
  provider VPC, an NLB);
* `build_ec2_world`: ec2-self-managed (an NLB and tagged broker instances).

Any of them can add a consumer in another account (`cross_account=<name>`), reached through a
role as the real thing is.
"""
from __future__ import annotations

import hashlib
import json
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

import launcher
from client import endpoint_ips, run_instance

REGION = "us-east-1"
CONSUMER_ACCOUNT = "210987654321"


def consumer_role(account: str) -> str:
    """The role consumer-account.yaml deploys in `account` (with its default RoleName)."""
    return f"arn:aws:iam::{account}:role/brokerlink-dns"


CONSUMER_ROLE = consumer_role(CONSUMER_ACCOUNT)
# Every account the scenarios and tests use as a consumer's (snapshot() reads them all).
DNS_ACCOUNT, VPC_ACCOUNT = "333344445555", "444455556666"
CONSUMER_ACCOUNTS = (CONSUMER_ACCOUNT, DNS_ACCOUNT, VPC_ACCOUNT)
EVENTS = Path(__file__).resolve().parents[1] / "events"
# The cluster ARN the events/ files name; load_event swaps in the scenario's real one.
PLACEHOLDER_CLUSTER_ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/0b9f3c1e-1111-2222-3333-444455556666-2"
ZONE_NAME = f"kafka.{REGION}.amazonaws.com"
SERVERLESS_ZONE_NAME = f"kafka-serverless.{REGION}.amazonaws.com"
SERVERLESS_RECORD = f"*.{SERVERLESS_ZONE_NAME}"
EC2_ZONE_NAME = "kafka.internal"
# Instance states in which an ec2-self-managed broker counts (it keeps its private IP).
LIVE_INSTANCE_STATES = ("pending", "running", "stopping", "stopped")
ENDPOINT_ZONE_ID = "Z7HUB22UULQXV"  # the regional hosted zone of interface endpoints in us-east-1
OWNER_TAG, KEY_TAG = "brokerlink:link", "brokerlink:key"
# Every write the state machines can make, by the `resource` of its TaskScheduled event: ELBv2, Route 53 records,
# the table (the link lock, onboarding's link items), and onboarding's endpoint-service permissions, endpoint
# connections, zones and VPC associations. test_template.py derives the writes from src/StateMachine/*.asl.json
# (every task that is not a read, a pure function or an execution start) and fails on one missing here.
TABLE_WRITES = frozenset({"putItem", "updateItem", "deleteItem"})
WRITE_ACTIONS = TABLE_WRITES | frozenset({
    "createTargetGroup", "registerTargets", "createListener", "deregisterTargets", "deleteListener",
    "deleteTargetGroup", "changeResourceRecordSets",
    "modifyVpcEndpointServicePermissions", "acceptVpcEndpointConnections", "modifyVpcEndpointServiceConfiguration",
    "createHostedZone", "createVPCAssociationAuthorization", "associateVPCWithHostedZone",
    "deleteVPCAssociationAuthorization", "disassociateVPCFromHostedZone",
})


class Aws:
    """boto3 clients for one local cloud endpoint, created on first use; `credentials` (as STS
    returns them) act in the assumed role's account."""

    def __init__(self, endpoint: str, region: str = REGION, credentials: dict | None = None):
        self.endpoint, self.region = endpoint, region
        self._keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        if credentials:
            self._keys = {"aws_access_key_id": credentials["AccessKeyId"],
                          "aws_secret_access_key": credentials["SecretAccessKey"],
                          "aws_session_token": credentials["SessionToken"]}
        self._clients: dict = {}
        self._assumed: dict = {}

    def __getattr__(self, service: str):
        if service.startswith("_"):
            raise AttributeError(service)
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service, endpoint_url=self.endpoint, region_name=self.region,
                config=Config(retries={"max_attempts": 2}), **self._keys)
        return self._clients[service]

    def assume(self, role_arn: str | None) -> "Aws":
        """This endpoint as `role_arn` (moto's STS does not check trust); itself for None."""
        if not role_arn:
            return self
        if role_arn not in self._assumed:
            credentials = self.sts.assume_role(RoleArn=role_arn, RoleSessionName="brokerlink-scenario")["Credentials"]
            self._assumed[role_arn] = Aws(self.endpoint, self.region, credentials)
        return self._assumed[role_arn]


@dataclass(frozen=True)
class Consumer:
    name: str
    vpc_id: str
    vpc_endpoint_id: str
    hosted_zone_id: str
    endpoint_dns_name: str
    endpoint_hosted_zone_id: str = ENDPOINT_ZONE_ID
    role_arn: str | None = None
    # msk-nlb-per-broker: broker id -> (endpoint id, DNS name, hosted zone id) of its own endpoint.
    broker_endpoints: tuple[tuple[int, str, str, str], ...] = ()

    def broker_endpoint(self, broker_id: int) -> tuple[str, str] | None:
        return next(((dns, zone) for n, _, dns, zone in self.broker_endpoints if n == broker_id), None)


@dataclass(frozen=True)
class BrokerNlb:
    """msk-nlb-per-broker: one broker's own NLB, target group, listener and endpoint service."""
    broker_id: int
    load_balancer_arn: str
    target_group_arn: str
    listener_arn: str
    service_id: str


@dataclass(frozen=True)
class World:
    link_id: str
    table: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    load_balancer_arn: str | None      # None: msk-nlb-per-broker (see broker_nlbs)
    load_balancer_dns_name: str | None
    load_balancer_zone_id: str | None
    cluster_arn: str | None            # None: ec2-self-managed
    cluster_name: str | None
    provider_zone_id: str | None
    consumers: tuple[Consumer, ...]
    config: dict = field(repr=False)
    kind: str = "msk-single-nlb"
    broker_nlbs: tuple[BrokerNlb, ...] = ()          # msk-nlb-per-broker
    vpc_endpoint_id: str | None = None               # msk-serverless: the cluster's endpoint
    broker_tag: tuple[str, str] | None = None        # ec2-self-managed: (key, value)
    broker_id_tag_key: str = "kafka-broker-id"       # ec2-self-managed

    @property
    def zone_ids(self) -> list[str]:
        """Consumer zones, then the provider zone: the order of the config and the plan."""
        ids = [c.hosted_zone_id for c in self.consumers]
        return ids + ([self.provider_zone_id] if self.provider_zone_id else [])

    def alias_target(self, zone_id: str, broker_id: int | None = None) -> tuple[str, str] | None:
        """(DNS name, hosted zone id) the records in this zone must alias (msk-nlb-per-broker: broker
        `broker_id`'s endpoint, None when the consumer has none for it)."""
        if zone_id == self.provider_zone_id:
            return self.load_balancer_dns_name, self.load_balancer_zone_id
        c = self.consumer_of(zone_id)
        if self.kind == "msk-nlb-per-broker":
            return c.broker_endpoint(broker_id)
        return c.endpoint_dns_name, c.endpoint_hosted_zone_id

    def consumer_of(self, zone_id: str) -> Consumer | None:
        return next((c for c in self.consumers if c.hosted_zone_id == zone_id), None)

    def zone_role(self, zone_id: str) -> str | None:
        c = self.consumer_of(zone_id)
        return c.role_arn if c else None

    def broker_nlb(self, broker_id: int) -> BrokerNlb | None:
        return next((b for b in self.broker_nlbs if b.broker_id == broker_id), None)

    def zone_label(self, zone_id: str) -> str:
        if zone_id == self.provider_zone_id:
            return "provider"
        return self.consumer_of(zone_id).name

    @property
    def bootstrap_port(self) -> int | None:
        return self.config.get("bootstrapPort")


@dataclass(frozen=True)
class Broker:
    broker_id: int
    ip: str
    hosts: tuple[str, ...]


# ---------------------------------------------------------------- building the world

def build_world(aws: Aws, link_id: str, *, table: str, brokers: int = 3,
                consumers: tuple[str, ...] = ("analytics", "billing"), provider_zone: bool = True,
                bootstrap_port: int | None = 8999, listener_base_port: int = 9000,
                target_port: int = 9094, cluster_name: str = "orders", cross_account: str | None = None,
                max_removal_share: float | None = None) -> World:
    """msk-single-nlb: creates the provider side, the consumers and the cluster, then puts the link item.
    `brokers` must be a multiple of 3: MSK spreads them evenly over the three subnets' AZs.
    `max_removal_share`: the link's guards.maxRemovalShare (default: the config's default, 0.5)."""
    vpc_id, subnet_ids = _provider_vpc(aws)
    lb, service_id = _nlb(aws, f"{link_id[:24]}-nlb", subnet_ids)
    cluster_arn = _provisioned_cluster(aws, cluster_name, subnet_ids, vpc_id, link_id, brokers)
    made = _consumers(aws, link_id, consumers, cross_account, [service_id], ZONE_NAME)
    provider_zone_id = _private_zone(aws, vpc_id, f"{link_id}-provider", ZONE_NAME) if provider_zone else None
    config = {
        "linkId": link_id, "kind": "msk-single-nlb", "clusterArn": cluster_arn,
        "loadBalancerArn": lb["LoadBalancerArn"], "listenerBasePort": listener_base_port,
        "targetPort": target_port, "bootstrapPort": bootstrap_port,
        "providerZone": {"hostedZoneId": provider_zone_id} if provider_zone_id else None,
        "consumers": [_consumer_config(c) for c in made],
    }
    if max_removal_share is not None:
        config["guards"] = {"maxRemovalShare": max_removal_share}
    world = World(link_id=link_id, table=table, vpc_id=vpc_id, subnet_ids=subnet_ids,
                  load_balancer_arn=lb["LoadBalancerArn"], load_balancer_dns_name=lb["DNSName"],
                  load_balancer_zone_id=lb["CanonicalHostedZoneId"], cluster_arn=cluster_arn,
                  cluster_name=cluster_name, provider_zone_id=provider_zone_id, consumers=tuple(made),
                  config=config)
    wait_cluster_active(aws, cluster_arn)
    put_link(aws, world)
    return world


def build_per_broker_world(aws: Aws, link_id: str, *, table: str, brokers: int = 3,
                           provisioned: tuple[int, ...] | None = None, untagged: tuple[int, ...] = (),
                           consumers: tuple[str, ...] = ("analytics", "billing"), target_port: int = 9094,
                           cluster_name: str = "payments", cross_account: str | None = None) -> World:
    """msk-nlb-per-broker: per provisioned broker id (default: every broker) an NLB, a target group
    tagged `brokerlink:link` (not for the ids in `untagged`), a listener on the broker port and an
    endpoint service; per consumer one interface endpoint per provisioned broker."""
    provisioned = tuple(range(1, brokers + 1)) if provisioned is None else provisioned
    vpc_id, subnet_ids = _provider_vpc(aws)
    cluster_arn = _provisioned_cluster(aws, cluster_name, subnet_ids, vpc_id, link_id, brokers)
    nlbs = []
    for broker_id in provisioned:
        name = f"{link_id[:20]}-b{broker_id}"
        lb, service_id = _nlb(aws, name, subnet_ids)
        tags = [] if broker_id in untagged else [{"Key": OWNER_TAG, "Value": link_id}]
        group = aws.elbv2.create_target_group(
            Name=name, Protocol="TCP", Port=target_port, VpcId=vpc_id, TargetType="ip",
            **({"Tags": tags} if tags else {}))["TargetGroups"][0]
        listener = aws.elbv2.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP", Port=target_port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}])["Listeners"][0]
        nlbs.append(BrokerNlb(broker_id, lb["LoadBalancerArn"], group["TargetGroupArn"], listener["ListenerArn"],
                              service_id))
    made = _consumers(aws, link_id, consumers, cross_account, [b.service_id for b in nlbs], ZONE_NAME,
                      broker_ids=provisioned)
    config = {
        "linkId": link_id, "kind": "msk-nlb-per-broker", "clusterArn": cluster_arn, "targetPort": target_port,
        "brokers": [{"brokerId": b.broker_id, "targetGroupArn": b.target_group_arn} for b in nlbs],
        "consumers": [_consumer_config(c, per_broker=True) for c in made],
    }
    world = World(link_id=link_id, table=table, vpc_id=vpc_id, subnet_ids=subnet_ids, load_balancer_arn=None,
                  load_balancer_dns_name=None, load_balancer_zone_id=None, cluster_arn=cluster_arn,
                  cluster_name=cluster_name, provider_zone_id=None, consumers=tuple(made), config=config,
                  kind="msk-nlb-per-broker", broker_nlbs=tuple(nlbs))
    wait_cluster_active(aws, cluster_arn)
    put_link(aws, world)
    return world


def build_serverless_world(aws: Aws, link_id: str, *, table: str, endpoint_subnets: int = 2,
                           consumers: tuple[str, ...] = ("analytics", "billing"), provider_zone: bool = True,
                           target_port: int = 9098, listener_port: int | None = None,
                           cluster_name: str = "events", cross_account: str | None = None) -> World:
    """msk-serverless: a serverless cluster over three subnets, its interface endpoint in the provider
    VPC in the first `endpoint_subnets` of them (add the others with LocalCloud.add_endpoint_subnet),
    an NLB and its endpoint service, the consumers."""
    vpc_id, subnet_ids = _provider_vpc(aws)
    security_group = aws.ec2.create_security_group(
        GroupName=f"{link_id}-msk-serverless", Description="MSK Serverless clients", VpcId=vpc_id)["GroupId"]
    cluster_arn = aws.kafka.create_cluster_v2(ClusterName=cluster_name, Serverless={
        "VpcConfigs": [{"SubnetIds": list(subnet_ids), "SecurityGroupIds": [security_group]}],
        "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}}})["ClusterArn"]
    # MSK's own endpoint service, in MSK's account: the endpoint is the cluster's way into the VPC.
    msk_service = "vpce-svc-" + hashlib.sha256(cluster_arn.encode()).hexdigest()[:17]
    endpoint_id = aws.ec2.create_vpc_endpoint(
        VpcId=vpc_id, VpcEndpointType="Interface", ServiceName=f"com.amazonaws.vpce.{aws.region}.{msk_service}",
        SubnetIds=list(subnet_ids[:endpoint_subnets]), SecurityGroupIds=[security_group],
        TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": [{"Key": "Name", "Value": f"msk {cluster_name}"}]}],
    )["VpcEndpoint"]["VpcEndpointId"]
    lb, service_id = _nlb(aws, f"{link_id[:24]}-nlb", subnet_ids)
    made = _consumers(aws, link_id, consumers, cross_account, [service_id], SERVERLESS_ZONE_NAME)
    provider_zone_id = (_private_zone(aws, vpc_id, f"{link_id}-provider", SERVERLESS_ZONE_NAME)
                        if provider_zone else None)
    config = {
        "linkId": link_id, "kind": "msk-serverless", "clusterArn": cluster_arn,
        "loadBalancerArn": lb["LoadBalancerArn"], "vpcEndpointId": endpoint_id, "targetPort": target_port,
        "providerZone": {"hostedZoneId": provider_zone_id} if provider_zone_id else None,
        "consumers": [_consumer_config(c) for c in made],
    }
    if listener_port is not None:
        config["listenerPort"] = listener_port
    world = World(link_id=link_id, table=table, vpc_id=vpc_id, subnet_ids=subnet_ids,
                  load_balancer_arn=lb["LoadBalancerArn"], load_balancer_dns_name=lb["DNSName"],
                  load_balancer_zone_id=lb["CanonicalHostedZoneId"], cluster_arn=cluster_arn,
                  cluster_name=cluster_name, provider_zone_id=provider_zone_id, consumers=tuple(made),
                  config=config, kind="msk-serverless", vpc_endpoint_id=endpoint_id)
    wait_cluster_active(aws, cluster_arn)
    put_link(aws, world)
    return world


def build_ec2_world(aws: Aws, link_id: str, *, table: str, brokers: int = 3,
                    consumers: tuple[str, ...] = ("analytics", "billing"), provider_zone: bool = True,
                    bootstrap_port: int | None = None, listener_base_port: int = 6000, target_port: int = 9093,
                    record_names: tuple[str, ...] | None = None, cross_account: str | None = None) -> World:
    """ec2-self-managed: a VPC, an NLB and its endpoint service, `brokers` instances tagged
    `kafka-cluster=<link id>` and `kafka-broker-id=1..N` (round-robin over three subnets), the
    consumers with zones `kafka.internal`."""
    vpc_id, subnet_ids = _provider_vpc(aws)
    lb, service_id = _nlb(aws, f"{link_id[:24]}-nlb", subnet_ids)
    broker_tag = ("kafka-cluster", link_id)
    for broker_id in range(1, brokers + 1):
        run_instance(aws.ec2, subnet_ids[(broker_id - 1) % len(subnet_ids)],
                     ec2_broker_tags(broker_tag, broker_id))
    made = _consumers(aws, link_id, consumers, cross_account, [service_id], EC2_ZONE_NAME)
    provider_zone_id = _private_zone(aws, vpc_id, f"{link_id}-provider", EC2_ZONE_NAME) if provider_zone else None
    config = {
        "linkId": link_id, "kind": "ec2-self-managed", "loadBalancerArn": lb["LoadBalancerArn"],
        "brokerTag": {"key": broker_tag[0], "value": broker_tag[1]}, "brokerIdTagKey": "kafka-broker-id",
        "listenerBasePort": listener_base_port, "targetPort": target_port, "bootstrapPort": bootstrap_port,
        "recordNames": list(record_names or (f"{link_id}.{EC2_ZONE_NAME}",)),
        "serverProperties": {"listenerName": "PRIVATELINK", "securityProtocol": "SSL",
                             "internalListenerName": "INTERNAL", "internalPort": 9092,
                             "internalSecurityProtocol": "SSL"},
        "providerZone": {"hostedZoneId": provider_zone_id} if provider_zone_id else None,
        "consumers": [_consumer_config(c) for c in made],
    }
    world = World(link_id=link_id, table=table, vpc_id=vpc_id, subnet_ids=subnet_ids,
                  load_balancer_arn=lb["LoadBalancerArn"], load_balancer_dns_name=lb["DNSName"],
                  load_balancer_zone_id=lb["CanonicalHostedZoneId"], cluster_arn=None, cluster_name=None,
                  provider_zone_id=provider_zone_id, consumers=tuple(made), config=config,
                  kind="ec2-self-managed", broker_tag=broker_tag)
    put_link(aws, world)
    return world


BUILDERS = {"msk-single-nlb": build_world, "msk-nlb-per-broker": build_per_broker_world,
            "msk-serverless": build_serverless_world, "ec2-self-managed": build_ec2_world}


def ec2_broker_tags(broker_tag: tuple[str, str], broker_id: int | str | None,
                    id_tag_key: str = "kafka-broker-id") -> dict[str, str]:
    """The tags of a broker instance; `broker_id` None leaves the id tag out, a string is written as is."""
    tags = {broker_tag[0]: broker_tag[1], "Name": f"{broker_tag[1]}-broker-{broker_id}"}
    if broker_id is not None:
        tags[id_tag_key] = str(broker_id)
    return tags


def _provider_vpc(aws: Aws) -> tuple[str, tuple[str, ...]]:
    vpc_id = aws.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_ids = tuple(
        aws.ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{i + 1}.0/24",
                              AvailabilityZone=f"{aws.region}{az}")["Subnet"]["SubnetId"]
        for i, az in enumerate("abc"))
    return vpc_id, subnet_ids


def _nlb(aws: Aws, name: str, subnet_ids) -> tuple[dict, str]:
    """An internal NLB and its endpoint service (no acceptance): (load balancer, service id)."""
    lb = aws.elbv2.create_load_balancer(
        Name=name, Subnets=list(subnet_ids), Type="network", Scheme="internal")["LoadBalancers"][0]
    service_id = aws.ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[lb["LoadBalancerArn"]], AcceptanceRequired=False)["ServiceConfiguration"]["ServiceId"]
    return lb, service_id


def _provisioned_cluster(aws: Aws, cluster_name: str, subnet_ids, vpc_id: str, link_id: str, brokers: int) -> str:
    security_group = aws.ec2.create_security_group(
        GroupName=f"{link_id}-msk", Description="MSK brokers", VpcId=vpc_id)["GroupId"]
    return aws.kafka.create_cluster_v2(ClusterName=cluster_name, Provisioned={
        "BrokerNodeGroupInfo": {"ClientSubnets": list(subnet_ids), "InstanceType": "kafka.m7g.large",
                                "SecurityGroups": [security_group]},
        "KafkaVersion": "3.6.0", "NumberOfBrokerNodes": brokers,
        "EncryptionInfo": {"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}},
    })["ClusterArn"]


def _consumers(aws: Aws, link_id: str, names, cross_account: str | None, service_ids: list[str], zone_name: str,
               broker_ids: tuple[int, ...] = ()) -> list[Consumer]:
    made = [_consumer(aws, link_id, name, i, service_ids, zone_name, broker_ids) for i, name in enumerate(names)]
    if cross_account:
        deploy_consumer_role(aws, CONSUMER_ACCOUNT)
        made.append(_consumer(aws, link_id, cross_account, len(made), service_ids, zone_name, broker_ids,
                              role_arn=CONSUMER_ROLE))
    return made


CONSUMER_TEMPLATE = Path(__file__).resolve().parents[1] / "consumer-account.yaml"


def provider_roles(aws: Aws) -> dict[str, str]:
    """The provider stack's ReconcileRoleArn and OnboardRoleArn outputs: the roles of its Apply and Onboard machines."""
    machines = {m["name"]: m["stateMachineArn"]
                for page in aws.stepfunctions.get_paginator("list_state_machines").paginate() for m in page["stateMachines"]}
    return {output: aws.stepfunctions.describe_state_machine(stateMachineArn=machines[f"brokerlink-{key}"])["roleArn"]
            for output, key in (("ReconcileRoleArn", "apply"), ("OnboardRoleArn", "onboard"))}


def deploy_consumer_role(aws: Aws, account: str, region: str = REGION, **parameters: str) -> str:
    """What a consumer does before add-consumer: consumer-account.yaml deployed in `account` and `region` (or updated,
    with these parameters: HostedZoneId, VpcId, ForeignVpcId, ...), trusting this local cloud's two BrokerLink roles.
    Its RoleArn output. The local cloud checks the role's trust and policies on every call a state machine makes."""
    stack = launcher.Stack(launcher.load_template(CONSUMER_TEMPLATE), {**provider_roles(aws), **parameters},
                           account=account, stack_name="brokerlink-consumer", local_params={}, region=region)
    # The account's administrator deploys it: the test harness may act in any account (moto's STS trusts anyone).
    launcher.deploy_roles(stack, aws.assume(f"arn:aws:iam::{account}:role/admin").iam)
    return stack.role_arn("DnsRole")


def _consumer(aws: Aws, link_id: str, name: str, index: int, service_ids: list[str], zone_name: str,
              broker_ids: tuple[int, ...] = (), role_arn: str | None = None) -> Consumer:
    """A consumer VPC with an interface endpoint per service (per broker: one per broker's service) and a
    private zone; with `role_arn`, in that role's account, after the provider allowed the account."""
    if role_arn:
        for service_id in service_ids:
            allow_account(aws, service_id, role_arn.split(":")[4])
    there = aws.assume(role_arn)
    vpc_id = there.ec2.create_vpc(CidrBlock=f"10.{10 + index}.0.0/16")["Vpc"]["VpcId"]
    endpoints = [interface_endpoint(there, vpc_id, service_id) for service_id in service_ids]
    zone_id = _private_zone(there, vpc_id, f"{link_id}-{name}", zone_name)
    endpoint_id, dns_name, endpoint_zone = endpoints[0]
    per_broker = tuple((broker_id, *endpoint) for broker_id, endpoint in zip(broker_ids, endpoints))
    return Consumer(name=name, vpc_id=vpc_id, vpc_endpoint_id=endpoint_id, hosted_zone_id=zone_id,
                    endpoint_dns_name=dns_name, endpoint_hosted_zone_id=endpoint_zone, role_arn=role_arn,
                    broker_endpoints=per_broker)


ALLOW_ALL = ({"Effect": "Allow", "Action": "*", "Resource": "*"},)


def create_role(aws: Aws, role_arn: str, trusted: str, statements=ALLOW_ALL, condition: dict | None = None) -> str:
    """A role (replacing one of that name) that `trusted` may assume: a role ARN, an account, or a service
    (`states.amazonaws.com`, for a test's own state machine), under `condition`; one inline policy of `statements`."""
    account, name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[1]
    iam = aws.assume(f"arn:aws:iam::{account}:role/admin").iam
    launcher.delete_role(iam, name)
    principal = {"Service": trusted} if trusted.endswith(".amazonaws.com") else {"AWS": trusted}
    trust = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **({"Condition": condition} if condition else {})}
    iam.create_role(RoleName=name, Path=role_arn.split(":role", 1)[1].rsplit("/", 1)[0] + "/",
                    AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]}))
    iam.put_role_policy(RoleName=name, PolicyName="test", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}))
    return role_arn


def endpoint_service_of(aws: Aws, load_balancer_arn: str) -> str:
    """The id of the endpoint service on a load balancer."""
    services = aws.ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"]
    return next(s["ServiceId"] for s in services if load_balancer_arn in s["NetworkLoadBalancerArns"])


def allow_account(aws: Aws, service_id: str, account: str) -> None:
    """Allows an account's root on the endpoint service (so it may create endpoints to it)."""
    aws.ec2.modify_vpc_endpoint_service_permissions(ServiceId=service_id,
                                                    AddAllowedPrincipals=[f"arn:aws:iam::{account}:root"])


def interface_endpoint(aws: Aws, vpc_id: str, service_id: str) -> tuple[str, str, str]:
    """An interface endpoint to the service from the VPC (in `aws`'s account): (endpoint id, its regional DNS name,
    that name's hosted zone id), the DnsEntries[0] a Route 53 alias to it names (Route 53 refuses any other)."""
    endpoint = aws.ec2.create_vpc_endpoint(
        VpcId=vpc_id, VpcEndpointType="Interface",
        ServiceName=f"com.amazonaws.vpce.{aws.region}.{service_id}")["VpcEndpoint"]
    regional = endpoint["DnsEntries"][0]
    return endpoint["VpcEndpointId"], regional["DnsName"], regional["HostedZoneId"]


def _consumer_config(c: Consumer, per_broker: bool = False) -> dict:
    if per_broker:
        return {"name": c.name, "hostedZoneId": c.hosted_zone_id, "roleArn": c.role_arn,
                "brokerEndpoints": [{"brokerId": n, "endpointDnsName": dns, "endpointHostedZoneId": zone}
                                    for n, _, dns, zone in c.broker_endpoints]}
    return {"name": c.name, "hostedZoneId": c.hosted_zone_id, "endpointDnsName": c.endpoint_dns_name,
            "endpointHostedZoneId": c.endpoint_hosted_zone_id, "roleArn": c.role_arn}


def _private_zone(aws: Aws, vpc_id: str, reference: str, zone_name: str = ZONE_NAME) -> str:
    zone = aws.route53.create_hosted_zone(
        Name=zone_name, CallerReference=f"{reference}-{time.time_ns()}",
        HostedZoneConfig={"PrivateZone": True, "Comment": reference},
        VPC={"VPCRegion": aws.region, "VPCId": vpc_id})["HostedZone"]
    return zone["Id"].removeprefix("/hostedzone/")


def put_link(aws: Aws, world: World) -> None:
    item = {"pk": {"S": "LINK"}, "sk": {"S": world.link_id}, "kind": {"S": world.config["kind"]},
            "config": {"S": json.dumps(world.config)}}
    if world.config.get("clusterArn"):
        item["clusterArn"] = {"S": world.config["clusterArn"]}
    aws.dynamodb.put_item(TableName=world.table, Item=item)


def delete_link(aws: Aws, world: World) -> None:
    aws.dynamodb.delete_item(TableName=world.table, Key={"pk": {"S": "LINK"}, "sk": {"S": world.link_id}})


def cluster_state(aws: Aws, cluster_arn: str) -> str:
    return aws.kafka.describe_cluster_v2(ClusterArn=cluster_arn)["ClusterInfo"]["State"]


def wait_cluster_active(aws: Aws, cluster_arn: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (state := cluster_state(aws, cluster_arn)) != "ACTIVE":
        if time.monotonic() > deadline:
            raise TimeoutError(f"cluster {cluster_arn} still {state} after {timeout} s")
        time.sleep(0.2)


def update_broker_count(aws: Aws, cluster_arn: str, count: int) -> None:
    version = aws.kafka.describe_cluster_v2(ClusterArn=cluster_arn)["ClusterInfo"]["CurrentVersion"]
    aws.kafka.update_broker_count(ClusterArn=cluster_arn, CurrentVersion=version, TargetNumberOfBrokerNodes=count)


def add_foreign_record(aws: Aws, zone_id: str, name: str, ip: str = "192.0.2.10") -> None:
    """A record somebody else made: no ownership TXT beside it."""
    aws.route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "CREATE",
        "ResourceRecordSet": {"Name": name, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": ip}]}}]})


def add_foreign_records(aws: Aws, zone_id: str, zone_name: str, count: int) -> None:
    """`count` A records somebody else made (`app-<i>.<zone>`), no ownership TXT beside them."""
    _create_records(aws, zone_id, [{"Name": f"app-{i}.{zone_name}", "Type": "A", "TTL": 60,
                                    "ResourceRecords": [{"Value": f"192.0.2.{i % 250 + 1}"}]} for i in range(count)],
                    per_request=1000)


def add_large_txt_records(aws: Aws, zone_id: str, zone_name: str, count: int) -> None:
    """TXT records as large as Route 53 takes (a value of 4,000 characters: strings of 255 at most, 15 of them) at
    names of no link's: 100 of them are one ListResourceRecordSets page too big for a state (256 KiB)."""
    value = " ".join(f'"{"t" * 253}"' for _ in range(15))
    # A request carries at most 32,000 characters of values (Route 53 quotas, "ChangeResourceRecordSets"): 8 of these.
    _create_records(aws, zone_id, [{"Name": f"dkim-{i}.{zone_name}", "Type": "TXT", "TTL": 60,
                                    "ResourceRecords": [{"Value": value}]} for i in range(count)],
                    per_request=8)


def _create_records(aws: Aws, zone_id: str, record_sets: list[dict], per_request: int) -> None:
    for first in range(0, len(record_sets), per_request):
        aws.route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": r} for r in record_sets[first:first + per_request]]})


def lock_items(aws: Aws, table: str) -> list[dict]:
    """The links' lock items left in the table (pk LOCK): none once every run has ended."""
    return aws.dynamodb.query(TableName=table, KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": {"S": "LOCK"}})["Items"]


# ---------------------------------------------------------------- events and inputs

def load_event(name: str, world: World | None = None) -> dict:
    """An events/ file as EventBridge would deliver it for the world's cluster.

    The placeholder cluster ARN becomes the real one (URL-encoded where the event has it so,
    and inside the cluster operation ARN),
    the envelope's account and region become the cluster's, and a manual input names the
    world's link. (A world without a cluster, ec2-self-managed, keeps the file's account and region.)
    """
    text = (EVENTS / name).read_text()
    if world is None:
        return json.loads(text)
    if world.cluster_arn:
        operation = (PLACEHOLDER_CLUSTER_ARN.replace(":cluster/", ":cluster-operation/"),
                     world.cluster_arn.replace(":cluster/", ":cluster-operation/"))
        for placeholder, real in ((PLACEHOLDER_CLUSTER_ARN, world.cluster_arn), operation,
                                  (_url_encoded(PLACEHOLDER_CLUSTER_ARN), _url_encoded(world.cluster_arn))):
            text = text.replace(placeholder, real)
    event = json.loads(text)
    if world.cluster_arn:
        _, _, _, region, account, _ = world.cluster_arn.split(":", 5)
        for part, fields in ((event, {"account": account, "region": region}),
                             (event.get("detail") or {}, {"awsRegion": region, "recipientAccountId": account})):
            part.update({k: v for k, v in fields.items() if k in part})
    if "linkId" in event:
        event["linkId"] = world.link_id
    return event


def ec2_event(name: str, instance_id: str) -> dict:
    """An events/ec2-instance-*.json state-change event for `instance_id` instead of the file's instance."""
    event = load_event(name)
    placeholder = event["detail"]["instance-id"]
    return json.loads(json.dumps(event).replace(placeholder, instance_id))


def update_broker_count_event(world: World, count: int) -> dict:
    """The CloudTrail event of a successful UpdateBrokerCount to `count` on the world's cluster."""
    event = load_event("cloudtrail-update-broker-count.json", world)
    event["detail"]["requestParameters"]["targetNumberOfBrokerNodes"] = count
    return event


def _url_encoded(arn: str) -> str:
    return urllib.parse.quote(arn, safe="")


def manual(world: World, *, dry_run: bool = False) -> dict:
    return {"action": "reconcile", "linkId": world.link_id} | ({"dryRun": True} if dry_run else {})


# ---------------------------------------------------------------- reading the state back

def brokers(aws: Aws, cluster_arn: str) -> list[Broker]:
    found = []
    for page in aws.kafka.get_paginator("list_nodes").paginate(ClusterArn=cluster_arn):
        for node in page["NodeInfoList"]:
            info = node["BrokerNodeInfo"]
            found.append(Broker(int(info["BrokerId"]), info["ClientVpcIpAddress"], tuple(info.get("Endpoints", []))))
    return sorted(found, key=lambda b: b.broker_id)


def _tags(aws: Aws, arns: list[str]) -> dict[str, dict[str, str]]:
    tags = {}
    for i in range(0, len(arns), 20):
        for d in aws.elbv2.describe_tags(ResourceArns=arns[i:i + 20])["TagDescriptions"]:
            tags[d["ResourceArn"]] = {t["Key"]: t["Value"] for t in d.get("Tags", [])}
    return tags


def load_balancer_state(aws: Aws, load_balancer_arn: str | None = None) -> dict:
    """Target groups (by ARN: name, port, tags, sorted targets) and listeners (by port).

    With a load balancer ARN: what DescribeTargetGroups lists for it; without: every target
    group in the region and the listeners of every load balancer (for "nothing changed").
    """
    elbv2 = aws.elbv2
    by_lb = {"LoadBalancerArn": load_balancer_arn} if load_balancer_arn else {}
    groups = [g for p in elbv2.get_paginator("describe_target_groups").paginate(**by_lb) for g in p["TargetGroups"]]
    lb_arns = [load_balancer_arn] if load_balancer_arn else [
        lb["LoadBalancerArn"] for p in elbv2.get_paginator("describe_load_balancers").paginate()
        for lb in p["LoadBalancers"]]
    listeners = [l for arn in lb_arns for p in elbv2.get_paginator("describe_listeners").paginate(LoadBalancerArn=arn)
                 for l in p["Listeners"]]
    tags = _tags(aws, [g["TargetGroupArn"] for g in groups] + [l["ListenerArn"] for l in listeners])
    return {
        "targetGroups": {g["TargetGroupArn"]: {
            "name": g["TargetGroupName"], "port": g["Port"], "tags": tags.get(g["TargetGroupArn"], {}),
            **_targets(aws, g["TargetGroupArn"])} for g in groups},
        "listeners": {(l["LoadBalancerArn"], l["Port"]): {
            "arn": l["ListenerArn"], "protocol": l.get("Protocol"), "tags": tags.get(l["ListenerArn"], {}),
            "forwardTo": sorted(a.get("TargetGroupArn", "") for a in l.get("DefaultActions", []))}
            for l in listeners},
    }


def _targets(aws: Aws, target_group_arn: str) -> dict[str, list[str]]:
    """Registered targets and, apart, those draining (deregistered, still within the delay)."""
    found = {"targets": [], "draining": []}
    for d in aws.elbv2.describe_target_health(TargetGroupArn=target_group_arn)["TargetHealthDescriptions"]:
        draining = d.get("TargetHealth", {}).get("State") == "draining"
        found["draining" if draining else "targets"].append(f'{d["Target"]["Id"]}:{d["Target"]["Port"]}')
    return {k: sorted(v) for k, v in found.items()}


def records(aws: Aws, zone_id: str) -> dict[tuple[str, str], str]:
    """{(name, type): value} of one zone, every page; alias values read `ALIAS <dns> <zone>`."""
    found = {}
    for page in aws.route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
        for r in page["ResourceRecordSets"]:
            if "AliasTarget" in r:
                a = r["AliasTarget"]
                value = f'ALIAS {_dns(a["DNSName"])} {a["HostedZoneId"]}'
            else:
                value = " ".join(sorted(v["Value"] for v in r.get("ResourceRecords", [])))
            found[(_dns(r["Name"]), r["Type"])] = value
    return found


def _dns(name: str) -> str:
    return name.lower().rstrip(".").replace("\\052", "*")  # Route 53 lists `*` as \052


def snapshot(aws: Aws, accounts: tuple[str, ...] = CONSUMER_ACCOUNTS) -> dict:
    """Everything the state machines can write but the table, for "nothing changed" comparisons (every action of
    WRITE_ACTIONS shows here): ELBv2; the hosted zones of this account and of each consumer account (caller reference,
    VPCs, VPC association authorizations, records); the endpoint services' allowed principals and connections."""
    return {"elbv2": load_balancer_state(aws), "route53": _zones(aws), "endpointServices": _endpoint_services(aws),
            "accounts": {account: _zones(aws.assume(f"arn:aws:iam::{account}:role/admin")) for account in accounts}}


def _zones(aws: Aws) -> dict:
    found = {}
    for page in aws.route53.get_paginator("list_hosted_zones").paginate():
        for z in page["HostedZones"]:
            zone_id = z["Id"].removeprefix("/hostedzone/")
            vpcs = aws.route53.get_hosted_zone(Id=zone_id).get("VPCs", [])
            authorized = aws.route53.list_vpc_association_authorizations(HostedZoneId=zone_id)["VPCs"]
            found[zone_id] = {"callerReference": z["CallerReference"], "records": records(aws, zone_id),
                              "vpcs": sorted(v["VPCId"] for v in vpcs), "authorized": sorted(v["VPCId"] for v in authorized)}
    return found


def _endpoint_services(aws: Aws) -> dict:
    services = aws.ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"]
    connections = aws.ec2.describe_vpc_endpoint_connections()["VpcEndpointConnections"]
    return {s["ServiceId"]: {
        "principals": sorted(p["Principal"] for p in aws.ec2.describe_vpc_endpoint_service_permissions(
            ServiceId=s["ServiceId"])["AllowedPrincipals"]),
        "regions": sorted(r["Region"] for r in s.get("SupportedRegions", [])),
        "connections": sorted((c["VpcEndpointId"], c["VpcEndpointState"]) for c in connections
                              if c["ServiceId"] == s["ServiceId"])} for s in services}


@dataclass(frozen=True)
class LinkView:
    """What the link owns: target groups and listeners by key, records per zone."""
    target_groups: dict[str, dict]   # key -> {name, arn, targets, draining}
    listeners: dict[int, dict]       # port -> {key, forwardTo (keys), owned}
    records: dict[str, dict]         # zone id -> {(name, type): value}


def link_view(aws: Aws, world: World) -> LinkView:
    """msk-nlb-per-broker: the configured target groups by `broker-N` and no listeners (they are the
    operator's); the other kinds: what the link owns on its NLB, by `brokerlink:key`."""
    zones = {z: records(aws.assume(world.zone_role(z)), z) for z in world.zone_ids}
    if world.kind == "msk-nlb-per-broker":
        groups = {}
        for b in world.broker_nlbs:
            name = aws.elbv2.describe_target_groups(TargetGroupArns=[b.target_group_arn])["TargetGroups"][0]
            groups[key_of(b.broker_id)] = {"name": name["TargetGroupName"], "arn": b.target_group_arn,
                                           **_targets(aws, b.target_group_arn)}
        return LinkView(groups, {}, zones)
    state = load_balancer_state(aws, world.load_balancer_arn)
    keys = {arn: g["tags"].get(KEY_TAG) for arn, g in state["targetGroups"].items()
            if g["tags"].get(OWNER_TAG) == world.link_id}
    groups = {key: {"name": state["targetGroups"][arn]["name"], "arn": arn,
                    "targets": state["targetGroups"][arn]["targets"],
                    "draining": state["targetGroups"][arn]["draining"]} for arn, key in keys.items()}
    listeners = {port: {"key": l["tags"].get(KEY_TAG), "owned": l["tags"].get(OWNER_TAG) == world.link_id,
                        "forwardTo": [keys.get(arn, arn) for arn in l["forwardTo"]]}
                 for (_, port), l in state["listeners"].items()}
    return LinkView(groups, listeners, zones)


def ownership_txt(link_id: str) -> str:
    return f'"heritage=brokerlink,brokerlink/link={link_id}"'


def key_of(broker_id: int) -> str:
    return f"broker-{broker_id}"


@dataclass(frozen=True)
class Instance:
    """An EC2 instance carrying the link's broker tag."""
    instance_id: str
    ip: str | None
    state: str
    broker_id_tag: str | None


def ec2_instances(aws: Aws, world: World) -> list[Instance]:
    """Every instance with the world's broker tag, terminated ones included (DescribeInstances, all pages)."""
    key, value = world.broker_tag
    found = []
    for page in aws.ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": f"tag:{key}", "Values": [value]}]):
        for reservation in page["Reservations"]:
            for i in reservation["Instances"]:
                tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
                found.append(Instance(i["InstanceId"], i.get("PrivateIpAddress"), i["State"]["Name"],
                                      tags.get(world.broker_id_tag_key)))
    return sorted(found, key=lambda i: i.instance_id)


def ec2_brokers(aws: Aws, world: World) -> tuple[list[Broker], set[int], list[str]]:
    """(brokers, ids claimed by more than one live instance, live instances whose id tag is invalid),
    as the contract reads instances: live states only, id an integer 0-65535."""
    by_id, invalid = {}, []
    for i in ec2_instances(aws, world):
        if i.state not in LIVE_INSTANCE_STATES:
            continue
        tag = i.broker_id_tag
        if tag is None or not tag.isdigit() or not 0 <= int(tag) <= 65535:
            invalid.append(i.instance_id)
            continue
        by_id.setdefault(int(tag), []).append(i)
    found = [Broker(n, claims[0].ip, tuple(world.config["recordNames"]))
             for n, claims in sorted(by_id.items()) if len(claims) == 1]
    return found, {n for n, claims in by_id.items() if len(claims) > 1}, sorted(invalid)


def serverless_ips(aws: Aws, world: World) -> list[str]:
    """The private IPs of the serverless cluster's endpoint's network interfaces."""
    return endpoint_ips(aws.ec2, world.vpc_endpoint_id)


@dataclass(frozen=True)
class Desired:
    """What the link should hold now, from the brokers as AWS reports them."""
    groups: dict[str, list[str]]                 # key -> sorted "ip:port"
    listeners: dict[int, str]                    # port -> key
    records: dict[str, dict[tuple[str, str], str]]  # zone id -> {(name, type): value}
    held: frozenset[str] = frozenset()           # keys whose group and listener are left as they are


def desired(aws: Aws, world: World) -> Desired:
    cfg, txt = world.config, ownership_txt(world.link_id)

    def alias(zone_id, name, broker_id=None):
        target = world.alias_target(zone_id, broker_id)
        return {} if target is None else {(_dns(name), "A"): f"ALIAS {_dns(target[0])} {target[1]}",
                                          (_dns(name), "TXT"): txt}

    zones = {z: {} for z in world.zone_ids}
    groups, listeners, held = {}, {}, set()
    if world.kind == "msk-serverless":
        port = cfg.get("targetPort") or 9098
        groups["serverless"] = sorted(f"{ip}:{port}" for ip in serverless_ips(aws, world))
        listeners[cfg.get("listenerPort") or port] = "serverless"
        for z in zones:
            zones[z] |= alias(z, SERVERLESS_RECORD)
        return Desired(groups, listeners, zones)
    if world.kind == "msk-nlb-per-broker":
        found = {b.broker_id: b for b in brokers(aws, world.cluster_arn)}
        for nlb in world.broker_nlbs:
            b = found.get(nlb.broker_id)
            groups[key_of(nlb.broker_id)] = [f'{b.ip}:{cfg["targetPort"]}'] if b else []
            for z in zones:
                for host in (b.hosts if b else ()):
                    zones[z] |= alias(z, host, nlb.broker_id)
        return Desired(groups, listeners, zones)
    if world.kind == "ec2-self-managed":
        found, duplicates, _ = ec2_brokers(aws, world)
        held = {key_of(n) for n in duplicates} | ({"bootstrap"} if duplicates else set())
        for z in zones:
            for name in cfg["recordNames"]:
                zones[z] |= alias(z, name)
    else:
        found = brokers(aws, world.cluster_arn)
        for z in zones:
            for b in found:
                for host in b.hosts:
                    zones[z] |= alias(z, host)
    groups = {key_of(b.broker_id): [f'{b.ip}:{cfg["targetPort"]}'] for b in found}
    listeners = {cfg["listenerBasePort"] + b.broker_id: key_of(b.broker_id) for b in found}
    if world.bootstrap_port is not None:
        groups["bootstrap"] = sorted(f'{b.ip}:{cfg["targetPort"]}' for b in found)
        listeners[world.bootstrap_port] = "bootstrap"
    return Desired(groups, listeners, zones, frozenset(held))


def convergence_problems(aws: Aws, world: World) -> list[str]:
    """Everything that differs from what the brokers require; [] means converged. (ec2-self-managed:
    a broker id two instances claim is held, so its group and listener are not compared.)"""
    want, view = desired(aws, world), link_view(aws, world)
    problems = []
    for key in sorted((want.groups.keys() | view.target_groups.keys()) - want.held):
        got = view.target_groups.get(key, {}).get("targets")
        if got != want.groups.get(key):
            problems.append(f"target group {key}: targets {got}, want {want.groups.get(key)}")
    for port in sorted(want.listeners.keys() | {p for p, l in view.listeners.items() if l["owned"]}):
        got, key = view.listeners.get(port), want.listeners.get(port)
        if (got or {}).get("key") in want.held:
            continue
        if got is None or not got["owned"] or got["key"] != key or got["forwardTo"] != [key]:
            problems.append(f"listener {port}: {got}, want owned {key} forwarding to it")
    txt = ownership_txt(world.link_id)
    for zone_id in world.zone_ids:
        got = view.records[zone_id]
        ours = {name for (name, kind), value in got.items() if kind == "TXT" and value == txt}
        for rec in sorted(want.records[zone_id].keys() | {k for k in got if k[0] in ours}):
            if got.get(rec) != want.records[zone_id].get(rec):
                problems.append(f"{world.zone_label(zone_id)} {rec[1]} {rec[0]}: {got.get(rec)}, "
                                f"want {want.records[zone_id].get(rec)}")
    return problems


# ---------------------------------------------------------------- execution history

def _write_tasks(history_events: list[dict]):
    """(action, TaskScheduled details) of every write task the execution scheduled."""
    for event in history_events:
        if event["type"] == "TaskScheduled" and (details := event["taskScheduledEventDetails"])["resource"] in WRITE_ACTIONS:
            yield details["resource"], details


def write_calls(history_events: list[dict]) -> Counter:
    """Every write task the execution scheduled, by API action (e.g. {'registerTargets': 3}),
    including the table writes of the link lock and of onboarding."""
    return Counter(action for action, _ in _write_tasks(history_events))


def table_writes(history_events: list[dict]) -> Counter:
    """The table writes the execution scheduled, by action and the item's partition key (e.g. {'putItem LOCK': 1,
    'putItem CHANGE': 1}: the link's lock, and its last change as Apply records it)."""
    counted = Counter()
    for action, details in _write_tasks(history_events):
        if action in TABLE_WRITES:
            parameters = json.loads(details["parameters"])
            counted[f"{action} {(parameters.get('Key') or parameters.get('Item'))['pk']['S']}"] += 1
    return counted


def wiring_writes(history_events: list[dict]) -> Counter:
    """The ELBv2 and Route 53 writes only: what the plan's summary.writeCalls counts (a run that
    applies also takes and releases the link's lock item in the table)."""
    return Counter({action: n for action, n in write_calls(history_events).items() if action not in TABLE_WRITES})


# ---------------------------------------------------------------- what changed, for people

def changes(before: LinkView, after: LinkView, world: World) -> list[tuple[str, str, str]]:
    """(what, +/-/~, detail) rows between two link views, in a stable order.

    Records are one row per name and zone: the alias A record and its ownership TXT together.
    """
    rows = []
    for key in sorted(before.target_groups.keys() | after.target_groups.keys()):
        old, new = before.target_groups.get(key), after.target_groups.get(key)
        if old is None or new is None:
            g = new or old
            rows.append(("target group", "+" if new else "-", f'{key} {g["name"]} [{", ".join(g["targets"])}]'))
            continue
        rows += [("target", "+", f"{key} {t}") for t in new["targets"] if t not in old["targets"]]
        rows += [("target", "-", f"{key} {t}" + (" (draining)" if t in new["draining"] else ""))
                 for t in old["targets"] if t not in new["targets"]]
    for port in sorted(before.listeners.keys() | after.listeners.keys()):
        old, new = before.listeners.get(port), after.listeners.get(port)
        if old != new:
            sign = "+" if old is None else "-" if new is None else "~"
            rows.append(("listener", sign, f'{port} -> {", ".join((new or old)["forwardTo"])}'))
    for zone_id in world.zone_ids:
        old, new = before.records[zone_id], after.records[zone_id]
        changed = sorted({rec for rec in old.keys() | new.keys() if old.get(rec) != new.get(rec)})
        for name in sorted({name for name, _ in changed}):
            kinds = [kind for n, kind in changed if n == name]
            was, now = any((name, k) in old for k in kinds), any((name, k) in new for k in kinds)
            sign = "+" if not was else "-" if not now else "~"
            alias = new.get((name, "A"), "").split()
            target = f" -> {alias[1].split('.')[0]}" if "A" in kinds and alias[:1] == ["ALIAS"] else ""
            rows.append((f"record {world.zone_label(zone_id)}", sign, f'{name} {"+".join(kinds)}{target}'))
    return rows
