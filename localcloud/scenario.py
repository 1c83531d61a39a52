"""The scenario world of BrokerLink, built in a running local cloud, and read-backs of it.

Shared by the demo (localcloud/demo.py) and the end-to-end tests (tests/localcloud): the
world builder creates what an operator would already have (a provider VPC, an internal NLB,
an MSK cluster, consumer VPCs with an interface endpoint and a private zone each, a provider
zone) and puts the link item into the table; the read-backs turn ELBv2, Route 53 and the
execution history into plain values that tests compare and the demo prints.
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

REGION = "us-east-1"
EVENTS = Path(__file__).resolve().parents[1] / "events"
# The cluster ARN the events/ files name; load_event swaps in the scenario's real one.
PLACEHOLDER_CLUSTER_ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/0b9f3c1e-1111-2222-3333-444455556666-2"
ZONE_NAME = f"kafka.{REGION}.amazonaws.com"
ENDPOINT_ZONE_ID = "Z7HUB22UULQXV"  # the regional hosted zone of interface endpoints in us-east-1
OWNER_TAG, KEY_TAG = "brokerlink:link", "brokerlink:key"
WRITE_ACTIONS = frozenset({
    "createTargetGroup", "registerTargets", "createListener", "deregisterTargets", "deleteListener",
    "deleteTargetGroup", "addTags", "removeTags", "modifyListener", "modifyTargetGroup",
    "changeResourceRecordSets", "putItem", "updateItem", "deleteItem", "batchWriteItem",
})
TABLE_WRITES = frozenset({"putItem", "updateItem", "deleteItem", "batchWriteItem"})


class Aws:
    """boto3 clients for one local cloud endpoint, created on first use."""

    def __init__(self, endpoint: str, region: str = REGION):
        self.endpoint, self.region = endpoint, region
        self._clients: dict = {}

    def __getattr__(self, service: str):
        if service.startswith("_"):
            raise AttributeError(service)
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service, endpoint_url=self.endpoint, region_name=self.region,
                aws_access_key_id="testing", aws_secret_access_key="testing",
                config=Config(retries={"max_attempts": 2}))
        return self._clients[service]


@dataclass(frozen=True)
class Consumer:
    name: str
    vpc_id: str
    vpc_endpoint_id: str
    hosted_zone_id: str
    endpoint_dns_name: str
    endpoint_hosted_zone_id: str = ENDPOINT_ZONE_ID


@dataclass(frozen=True)
class World:
    link_id: str
    table: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    load_balancer_arn: str
    load_balancer_dns_name: str
    load_balancer_zone_id: str
    cluster_arn: str
    cluster_name: str
    provider_zone_id: str | None
    consumers: tuple[Consumer, ...]
    config: dict = field(repr=False)

    @property
    def zone_ids(self) -> list[str]:
        """Consumer zones, then the provider zone: the order of the config and the plan."""
        ids = [c.hosted_zone_id for c in self.consumers]
        return ids + ([self.provider_zone_id] if self.provider_zone_id else [])

    def alias_target(self, zone_id: str) -> tuple[str, str]:
        """(DNS name, hosted zone id) the broker records in this zone must alias."""
        if zone_id == self.provider_zone_id:
            return self.load_balancer_dns_name, self.load_balancer_zone_id
        c = next(c for c in self.consumers if c.hosted_zone_id == zone_id)
        return c.endpoint_dns_name, c.endpoint_hosted_zone_id

    def zone_label(self, zone_id: str) -> str:
        if zone_id == self.provider_zone_id:
            return "provider"
        return next(c.name for c in self.consumers if c.hosted_zone_id == zone_id)

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
                target_port: int = 9094, cluster_name: str = "orders") -> World:
    """Creates the provider side, the consumers and the cluster, then puts the link item."""
    ec2 = aws.ec2
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_ids = tuple(
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{i + 1}.0/24",
                          AvailabilityZone=f"{aws.region}{az}")["Subnet"]["SubnetId"]
        for i, az in enumerate("abc"))
    lb = aws.elbv2.create_load_balancer(
        Name=f"{link_id[:24]}-nlb", Subnets=list(subnet_ids), Type="network", Scheme="internal")["LoadBalancers"][0]
    service_id = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[lb["LoadBalancerArn"]], AcceptanceRequired=False)["ServiceConfiguration"]["ServiceId"]
    security_group = ec2.create_security_group(
        GroupName=f"{link_id}-msk", Description="MSK brokers", VpcId=vpc_id)["GroupId"]
    cluster_arn = aws.kafka.create_cluster_v2(ClusterName=cluster_name, Provisioned={
        "BrokerNodeGroupInfo": {"ClientSubnets": list(subnet_ids), "InstanceType": "kafka.m7g.large",
                                "SecurityGroups": [security_group]},
        "KafkaVersion": "3.6.0", "NumberOfBrokerNodes": brokers,
        "EncryptionInfo": {"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}},
    })["ClusterArn"]

    made = [_consumer(aws, link_id, name, i, service_id) for i, name in enumerate(consumers)]
    provider_zone_id = _private_zone(aws, vpc_id, f"{link_id}-provider") if provider_zone else None
    config = {
        "linkId": link_id, "kind": "msk-single-nlb", "clusterArn": cluster_arn,
        "loadBalancerArn": lb["LoadBalancerArn"], "listenerBasePort": listener_base_port,
        "targetPort": target_port, "bootstrapPort": bootstrap_port,
        "providerZone": {"hostedZoneId": provider_zone_id} if provider_zone_id else None,
        "consumers": [{"name": c.name, "hostedZoneId": c.hosted_zone_id, "endpointDnsName": c.endpoint_dns_name,
                       "endpointHostedZoneId": c.endpoint_hosted_zone_id, "roleArn": None} for c in made],
    }
    world = World(link_id=link_id, table=table, vpc_id=vpc_id, subnet_ids=subnet_ids,
                  load_balancer_arn=lb["LoadBalancerArn"], load_balancer_dns_name=lb["DNSName"],
                  load_balancer_zone_id=lb["CanonicalHostedZoneId"], cluster_arn=cluster_arn,
                  cluster_name=cluster_name, provider_zone_id=provider_zone_id, consumers=tuple(made),
                  config=config)
    wait_cluster_active(aws, cluster_arn)
    put_link(aws, world)
    return world


def _consumer(aws: Aws, link_id: str, name: str, index: int, service_id: str) -> Consumer:
    vpc_id = aws.ec2.create_vpc(CidrBlock=f"10.{10 + index}.0.0/16")["Vpc"]["VpcId"]
    endpoint_id = aws.ec2.create_vpc_endpoint(
        VpcId=vpc_id, VpcEndpointType="Interface",
        ServiceName=f"com.amazonaws.vpce.{aws.region}.{service_id}")["VpcEndpoint"]["VpcEndpointId"]
    # moto's DnsEntries are not shaped like AWS's; write the regional name as AWS forms it.
    suffix = hashlib.sha256(f"{link_id}/{name}".encode()).hexdigest()[:8]
    dns_name = f"{endpoint_id}-{suffix}.{service_id}.{aws.region}.vpce.amazonaws.com"
    zone_id = _private_zone(aws, vpc_id, f"{link_id}-{name}")
    return Consumer(name=name, vpc_id=vpc_id, vpc_endpoint_id=endpoint_id, hosted_zone_id=zone_id,
                    endpoint_dns_name=dns_name)


def _private_zone(aws: Aws, vpc_id: str, reference: str) -> str:
    zone = aws.route53.create_hosted_zone(
        Name=ZONE_NAME, CallerReference=f"{reference}-{time.time_ns()}",
        HostedZoneConfig={"PrivateZone": True, "Comment": reference},
        VPC={"VPCRegion": aws.region, "VPCId": vpc_id})["HostedZone"]
    return zone["Id"].removeprefix("/hostedzone/")


def put_link(aws: Aws, world: World) -> None:
    aws.dynamodb.put_item(TableName=world.table, Item={
        "pk": {"S": "LINK"}, "sk": {"S": world.link_id}, "kind": {"S": world.config["kind"]},
        "clusterArn": {"S": world.cluster_arn}, "config": {"S": json.dumps(world.config)}})


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


# ---------------------------------------------------------------- events and inputs

def load_event(name: str, world: World | None = None) -> dict:
    """An events/ file as EventBridge would deliver it for the world's cluster.

    The placeholder cluster ARN becomes the real one (URL-encoded where the event has it so,
    and inside the cluster operation ARN),
    the envelope's account and region become the cluster's, and a manual input names the
    world's link.
    """
    text = (EVENTS / name).read_text()
    if world is None:
        return json.loads(text)
    operation = (PLACEHOLDER_CLUSTER_ARN.replace(":cluster/", ":cluster-operation/"),
                 world.cluster_arn.replace(":cluster/", ":cluster-operation/"))
    for placeholder, real in ((PLACEHOLDER_CLUSTER_ARN, world.cluster_arn), operation,
                              (_url_encoded(PLACEHOLDER_CLUSTER_ARN), _url_encoded(world.cluster_arn))):
        text = text.replace(placeholder, real)
    event = json.loads(text)
    _, _, _, region, account, _ = world.cluster_arn.split(":", 5)
    for part, fields in ((event, {"account": account, "region": region}),
                         (event.get("detail") or {}, {"awsRegion": region, "recipientAccountId": account})):
        part.update({k: v for k, v in fields.items() if k in part})
    if "linkId" in event:
        event["linkId"] = world.link_id
    return event


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
    return name.lower().rstrip(".")


def snapshot(aws: Aws) -> dict:
    """Everything in ELBv2 and Route 53, for "nothing changed" comparisons."""
    zones = [z["Id"].removeprefix("/hostedzone/") for p in aws.route53.get_paginator("list_hosted_zones").paginate()
             for z in p["HostedZones"]]
    return {"elbv2": load_balancer_state(aws), "route53": {z: records(aws, z) for z in zones}}


@dataclass(frozen=True)
class LinkView:
    """What the link owns: target groups and listeners by key, records per zone."""
    target_groups: dict[str, dict]   # key -> {name, arn, targets, draining}
    listeners: dict[int, dict]       # port -> {key, forwardTo (keys), owned}
    records: dict[str, dict]         # zone id -> {(name, type): value}


def link_view(aws: Aws, world: World) -> LinkView:
    state = load_balancer_state(aws, world.load_balancer_arn)
    keys = {arn: g["tags"].get(KEY_TAG) for arn, g in state["targetGroups"].items()
            if g["tags"].get(OWNER_TAG) == world.link_id}
    groups = {key: {"name": state["targetGroups"][arn]["name"], "arn": arn,
                    "targets": state["targetGroups"][arn]["targets"],
                    "draining": state["targetGroups"][arn]["draining"]} for arn, key in keys.items()}
    listeners = {port: {"key": l["tags"].get(KEY_TAG), "owned": l["tags"].get(OWNER_TAG) == world.link_id,
                        "forwardTo": [keys.get(arn, arn) for arn in l["forwardTo"]]}
                 for (_, port), l in state["listeners"].items()}
    return LinkView(groups, listeners, {z: records(aws, z) for z in world.zone_ids})


def ownership_txt(link_id: str) -> str:
    return f'"heritage=brokerlink,brokerlink/link={link_id}"'


def key_of(broker_id: int) -> str:
    return f"broker-{broker_id}"


def convergence_problems(aws: Aws, world: World) -> list[str]:
    """Everything that differs from what the brokers require; [] means converged."""
    found, view, cfg = brokers(aws, world.cluster_arn), link_view(aws, world), world.config
    problems = []
    want_groups = {key_of(b.broker_id): [f'{b.ip}:{cfg["targetPort"]}'] for b in found}
    want_listeners = {cfg["listenerBasePort"] + b.broker_id: key_of(b.broker_id) for b in found}
    if world.bootstrap_port is not None:
        want_groups["bootstrap"] = sorted(f'{b.ip}:{cfg["targetPort"]}' for b in found)
        want_listeners[world.bootstrap_port] = "bootstrap"
    for key in sorted(want_groups.keys() | view.target_groups.keys()):
        got = view.target_groups.get(key, {}).get("targets")
        if got != want_groups.get(key):
            problems.append(f"target group {key}: targets {got}, want {want_groups.get(key)}")
    for port in sorted(want_listeners.keys() | {p for p, l in view.listeners.items() if l["owned"]}):
        got = view.listeners.get(port)
        want = want_listeners.get(port)
        if got is None or not got["owned"] or got["key"] != want or got["forwardTo"] != [want]:
            problems.append(f"listener {port}: {got}, want owned {want} forwarding to it")
    for zone_id in world.zone_ids:
        dns_name, alias_zone = world.alias_target(zone_id)
        want = {}
        for b in found:
            for host in b.hosts:
                want[(_dns(host), "A")] = f"ALIAS {_dns(dns_name)} {alias_zone}"
                want[(_dns(host), "TXT")] = ownership_txt(world.link_id)
        got = view.records[zone_id]
        ours = {name for (name, kind), value in got.items() if kind == "TXT" and value == ownership_txt(world.link_id)}
        for rec in sorted(want.keys() | {k for k in got if k[0] in ours}):
            if got.get(rec) != want.get(rec):
                problems.append(f"{world.zone_label(zone_id)} {rec[1]} {rec[0]}: {got.get(rec)}, want {want.get(rec)}")
    return problems


# ---------------------------------------------------------------- execution history

def write_calls(history_events: list[dict]) -> Counter:
    """Every write task the execution scheduled, by API action (e.g. {'registerTargets': 3}),
    including the table writes of the link lock and of onboarding."""
    counted = Counter()
    for event in history_events:
        if event["type"] == "TaskScheduled":
            action = event["taskScheduledEventDetails"]["resource"]
            if action in WRITE_ACTIONS:
                counted[action] += 1
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
