"""End-to-end onboarding: the Onboard state machine in the local cloud, from the events/onboard-*.json inputs.

One local cloud for the module; every test builds its own provider side (VPC, NLB with an endpoint
service, MSK cluster, zones) with scenario.build_world and removes the link item build_world puts,
so that onboarding registers it. Consumer accounts are reached through roles (moto's STS), as the
Onboard and Reconcile state machines reach them. Each run prints
`onboard: <operation> wall=<s> status=<status>` to stderr for the issue note.
"""
import dataclasses
import json
import sys
import time
import unittest
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

import scenario as sc  # noqa: E402
from support import LocalCloud, MakeBeforeBreak, start_module_cloud, started_histories, wait_until  # noqa: E402

EVENTS = Path(__file__).resolve().parents[2] / "events"
# The placeholders of the events/onboard-*.json files (and events/link-orders.json).
LB_PLACEHOLDER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/orders-nlb/50dc6c495c0c9188"
SERVICE_PLACEHOLDER = "vpce-svc-0123456789abcdef0"
BILLING_ACCOUNT, DNS_ACCOUNT, VPC_ACCOUNT = sc.CONSUMER_ACCOUNT, sc.DNS_ACCOUNT, sc.VPC_ACCOUNT
ACCOUNT = "123456789012"

cloud: LocalCloud | None = None
aws: sc.Aws | None = None


def setUpModule():
    global cloud, aws
    cloud, aws = start_module_cloud()


def in_account(account: str, service: str):
    """A client acting in another account, through the role BrokerLink would assume there."""
    credentials = aws.sts.assume_role(RoleArn=sc.consumer_role(account), RoleSessionName="test")["Credentials"]
    return boto3.client(service, endpoint_url=cloud.endpoint, region_name=sc.REGION,
                        aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


def owned_records(route53, zone_id: str) -> dict:
    return {k: v for k, v in sc.records(type("R", (), {"route53": route53})(), zone_id).items() if k[1] in ("A", "TXT")}


class Onboarding(unittest.TestCase, MakeBeforeBreak):

    # ------------------------------------------------------------------ the world

    def provider(self, link_id: str, **options) -> sc.World:
        """The provider side of a link, not yet in the table."""
        options.setdefault("consumers", ())
        world = sc.build_world(aws, link_id, table=cloud.table, **options)
        sc.delete_link(aws, world)
        self.addCleanup(sc.delete_link, aws, world)
        return world

    def service_id(self, world: sc.World) -> str:
        services = aws.ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"]
        return next(s["ServiceId"] for s in services if world.load_balancer_arn in s["NetworkLoadBalancerArns"])

    def event(self, name: str, world: sc.World, **replace) -> dict:
        """An events/ file for this world: its cluster, load balancer, endpoint service, zones and link id."""
        text = (EVENTS / name).read_text()
        # The test's own values first: they may contain the placeholders below (an endpoint's DNS name names its service).
        pairs = dict(replace)
        pairs.update({sc.PLACEHOLDER_CLUSTER_ARN: world.cluster_arn, LB_PLACEHOLDER: world.load_balancer_arn,
                      SERVICE_PLACEHOLDER: self.service_id(world)})
        if world.provider_zone_id:
            pairs["Z0PROVIDER"] = world.provider_zone_id
        for consumer in world.consumers:
            pairs[f"Z0{consumer.name.upper()}"] = consumer.hosted_zone_id
        for placeholder, real in pairs.items():
            text = text.replace(placeholder, real)
        request = json.loads(text)
        if request.get("linkId") == "orders":
            request["linkId"] = world.link_id
        if "link" in request:
            request["link"]["linkId"] = world.link_id
            if not world.provider_zone_id:
                request["link"].pop("providerZone", None)
        return request

    def link_config(self, world: sc.World, consumers: list[dict] | None = None) -> dict:
        """register-link's link for the world, with the given consumers."""
        link = self.event("onboard-register-link.json", world)["link"]
        link["bootstrapPort"] = world.bootstrap_port
        link["consumers"] = consumers or []
        return link

    def consumer_entry(self, world: sc.World, index: int, principal: str | None = None) -> dict:
        c = world.consumers[index]
        entry = {"name": c.name, "hostedZoneId": c.hosted_zone_id, "endpointDnsName": c.endpoint_dns_name,
                 "endpointHostedZoneId": c.endpoint_hosted_zone_id}
        return entry | ({"principal": principal} if principal else {})

    def register(self, world: sc.World, consumers: list[dict] | None = None) -> dict:
        status, output, history = self.onboard(None, {"operation": "register-link", "link": self.link_config(world, consumers)})
        self.assertSucceeded(status, output, history)
        return output

    # ------------------------------------------------------------------ running and reading back

    def onboard(self, label: str | None, request: dict):
        started = time.monotonic()
        status, output, history = cloud.start_execution_and_wait(request, state_machine="onboard", timeout=180)
        for applied in started_histories(cloud, history):
            self.assertNoBreakBeforeMake(applied)
        if label:
            print(f"onboard: {label} wall={time.monotonic() - started:.2f} status={status}", file=sys.stderr)
        return status, output, history

    def assertSucceeded(self, status: str, output: dict | None, history: list[dict]) -> None:
        failed = [e.get("executionFailedEventDetails") for e in history if e["type"] == "ExecutionFailed"]
        self.assertEqual("SUCCEEDED", status, failed or output)

    def failure(self, history: list[dict]) -> dict:
        failed = [e["executionFailedEventDetails"] for e in history if e["type"] == "ExecutionFailed"]
        self.assertEqual(1, len(failed), history[-3:])
        return failed[0]

    def item(self, world: sc.World) -> dict | None:
        found = aws.dynamodb.get_item(TableName=cloud.table, Key={"pk": {"S": "LINK"}, "sk": {"S": world.link_id}},
                                      ConsistentRead=True).get("Item")
        if found is None:
            return None
        return {"version": int(found["version"]["N"]) if "version" in found else None, "config": json.loads(found["config"]["S"])}

    def principals(self, world: sc.World) -> list[str]:
        answer = aws.ec2.describe_vpc_endpoint_service_permissions(ServiceId=self.service_id(world))
        return sorted(p["Principal"] for p in answer["AllowedPrincipals"])

    def state(self) -> dict:
        """Everything onboarding may write: what scenario.snapshot reads (ELBv2, Route 53 here and in every consumer
        account, the endpoint services' principals and connections) and the table."""
        table = aws.dynamodb.scan(TableName=cloud.table, ConsistentRead=True)["Items"]
        return {"here": sc.snapshot(aws), "table": sorted(json.dumps(i, sort_keys=True) for i in table)}

    def endpoint(self, account: str, world: sc.World, cidr: str) -> tuple[str, str, str]:
        """An interface endpoint to the world's service from a VPC of `account`: (VPC id, endpoint id, its DNS name)."""
        there = aws.assume(sc.consumer_role(account))
        vpc_id = there.ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        # Its own regional DNS name (DnsEntries[0]): Route 53 aliases only to a name the endpoint has.
        endpoint_id, dns_name, _ = sc.interface_endpoint(there, vpc_id, self.service_id(world))
        return vpc_id, endpoint_id, dns_name

    def endpoint_state(self, account: str, endpoint_id: str) -> str:
        return in_account(account, "ec2").describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]["State"]

    def hosts(self, world: sc.World) -> list[str]:
        return [b.hosts[0] for b in sc.brokers(aws, world.cluster_arn)]

    def records_for(self, world: sc.World, dns_name: str, zone: str = sc.ENDPOINT_ZONE_ID) -> dict:
        expected = {(h, "A"): f"ALIAS {dns_name} {zone}" for h in self.hosts(world)}
        expected.update({(h, "TXT"): sc.ownership_txt(world.link_id) for h in self.hosts(world)})
        return expected

    # ------------------------------------------------------------------ register-link

    def test_register_link_plans_then_wires_the_link_and_a_rerun_changes_nothing(self):
        world = self.provider("onb-register")
        request = self.event("onboard-register-link.json", world)
        before = self.state()

        status, output, history = self.onboard("register-link dry run", self.event("onboard-register-link-dry-run.json", world))

        self.assertSucceeded(status, output, history)
        self.assertEqual({}, dict(sc.write_calls(history)))
        self.assertEqual(before, self.state())
        plan = output["plan"]
        self.assertEqual(["bootstrap", "broker-1", "broker-2", "broker-3"], [g["key"] for g in plan["changes"]["createTargetGroups"]])
        self.assertEqual(3 * 2, sum(len(b["changes"]) for b in plan["changes"]["upsertRecords"]))

        status, output, history = self.onboard("register-link", request)

        self.assertSucceeded(status, output, history)
        self.assertEqual([], sc.convergence_problems(aws, world))
        stored = self.item(world)
        self.assertEqual(1, stored["version"])
        self.assertEqual({**request["link"], "bootstrapPort": 8999}, stored["config"])
        self.assertEqual((True, True), (output["reconcile"]["result"]["converged"], output["reconcile"]["result"]["applied"]))

        before = self.state()
        status, output, history = self.onboard("register-link again", request)

        self.assertSucceeded(status, output, history)
        self.assertEqual(before, self.state())
        self.assertFalse(output["reconcile"]["result"]["applied"])
        self.assertIn("already stored with this config", " ".join(output["notes"]))

    # ------------------------------------------------------------------ update-link

    def test_update_link_drops_the_provider_zone_records_and_the_bootstrap_listener(self):
        world = self.provider("onb-update")
        self.register(world)
        provider_zone = world.provider_zone_id
        before = self.state()

        status, output, history = self.onboard("update-link dry run", self.event("onboard-update-link-dry-run.json", world))

        self.assertSucceeded(status, output, history)
        self.assertEqual(before, self.state())
        changes = output["plan"]["changes"]
        self.assertEqual({provider_zone: 6}, {b["hostedZoneId"]: len(b["changes"]) for b in changes["deleteRecords"]})
        self.assertEqual(["bootstrap"], [d["key"] for d in changes["deleteListeners"]])

        status, output, history = self.onboard("update-link", self.event("onboard-update-link.json", world))

        self.assertSucceeded(status, output, history)
        self.assertEqual({}, owned_records(aws.route53, provider_zone))
        aws.route53.get_hosted_zone(Id=provider_zone)  # the zone itself stays
        view = sc.link_view(aws, world)
        self.assertEqual({"broker-1", "broker-2", "broker-3"}, set(view.target_groups))
        self.assertEqual({9001, 9002, 9003}, set(view.listeners))
        stored = self.item(world)
        self.assertEqual(3, stored["version"])  # the new config with the zone retiring, then without it
        self.assertNotIn("providerZone", stored["config"])
        self.assertNotIn("retiringZones", stored["config"])
        self.assertEqual(1, len(aws.elbv2.describe_load_balancers(LoadBalancerArns=[world.load_balancer_arn])["LoadBalancers"]))

    def test_update_link_target_port_moves_every_target_to_the_new_port(self):
        # ELBv2 keys a target by Id and Port: registering IP:9096 leaves IP:9094 registered beside it, so a port
        # change converges only if the old-port targets are deregistered too (DescribeTargetHealth shows them).
        world = self.provider("onb-port", consumers=("analytics",))
        self.register(world, [self.consumer_entry(world, 0)])
        brokers = sc.brokers(aws, world.cluster_arn)
        old = sorted(f"{b.ip}:9094" for b in brokers)
        before = sc.link_view(aws, world)
        self.assertEqual(old, before.target_groups["bootstrap"]["targets"])
        link = self.link_config(world)
        link.pop("consumers")
        link["targetPort"] = 9096

        status, output, history = self.onboard("update-link (targetPort 9094 -> 9096)", {"operation": "update-link", "link": link})

        self.assertSucceeded(status, output, history)
        # Each group got its new-port target before its old-port one was deregistered.
        self.assertMakeBeforeBreak([e for applied in started_histories(cloud, history) for e in applied])
        self.assertEqual((True, True), (output["reconcile"]["result"]["converged"], output["reconcile"]["result"]["applied"]))
        self.assertEqual(9096, self.item(world)["config"]["targetPort"])
        moved = dataclasses.replace(world, config={**world.config, "targetPort": 9096})
        self.assertEqual([], sc.convergence_problems(aws, moved))
        after = sc.link_view(aws, world)
        self.assertEqual(set(before.target_groups), set(after.target_groups))
        self.assertEqual({k: g["arn"] for k, g in before.target_groups.items()}, {k: g["arn"] for k, g in after.target_groups.items()})
        for b in brokers:
            group = after.target_groups[f"broker-{b.broker_id}"]
            self.assertEqual(([f"{b.ip}:9096"], [f"{b.ip}:9094"]), (group["targets"], group["draining"]))
        self.assertEqual((sorted(f"{b.ip}:9096" for b in brokers), old),
                         (after.target_groups["bootstrap"]["targets"], after.target_groups["bootstrap"]["draining"]))
        self.assertEqual(before.listeners, after.listeners)
        # Straight from DescribeTargetHealth: no target on the old port but draining ones, in any of the link's groups.
        for group in after.target_groups.values():
            health = aws.elbv2.describe_target_health(TargetGroupArn=group["arn"])["TargetHealthDescriptions"]
            self.assertEqual({"draining"}, {h["TargetHealth"]["State"] for h in health if h["Target"]["Port"] == 9094})
            self.assertTrue(all(h["TargetHealth"]["State"] == "healthy" for h in health if h["Target"]["Port"] == 9096))

    # ------------------------------------------------------------------ add-consumer

    def test_add_consumer_in_another_account_from_its_principal_to_its_own_zone_and_records(self):
        world = self.provider("onb-add")
        self.register(world)
        service = self.service_id(world)
        aws.ec2.modify_vpc_endpoint_service_configuration(ServiceId=service, AcceptanceRequired=True)
        with self.assertRaises(ClientError) as refused:
            self.endpoint(BILLING_ACCOUNT, world, "10.60.0.0/16")
        self.assertEqual("InvalidServiceName", refused.exception.response["Error"]["Code"])

        status, output, history = self.onboard("add-consumer (allow only)", self.event("onboard-add-consumer-allow.json", world))

        self.assertSucceeded(status, output, history)
        self.assertEqual([f"arn:aws:iam::{BILLING_ACCOUNT}:root"], self.principals(world))
        self.assertEqual(1, self.item(world)["version"])

        vpc_id, endpoint_id, dns_name = self.endpoint(BILLING_ACCOUNT, world, "10.61.0.0/16")
        self.assertEqual("pendingAcceptance", self.endpoint_state(BILLING_ACCOUNT, endpoint_id))
        # The consumer's stack lets BrokerLink create one private zone for this VPC (consumer-account.yaml, VpcId).
        sc.deploy_consumer_role(aws, BILLING_ACCOUNT, VpcId=vpc_id)
        replace = {"vpc-0b1b2c3d4e5f60718": vpc_id,
                   "vpce-0b1b2c3d4e5f60718-bbbbbbbb.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com": dns_name}
        before = self.state()

        status, output, history = self.onboard("add-consumer dry run (zone to create)",
                                                self.event("onboard-add-consumer-create-zone.json", world, **replace) | {"dryRun": True})

        self.assertSucceeded(status, output, history)
        self.assertEqual(before, self.state())
        self.assertEqual("pendingAcceptance", self.endpoint_state(BILLING_ACCOUNT, endpoint_id))
        self.assertEqual((None, "pendingAcceptance"), (output["plan"], output["connection"]["state"]))
        self.assertEqual(f"brokerlink-{world.link_id}-billing", output["decision"]["createZone"]["CallerReference"])

        request = self.event("onboard-add-consumer-create-zone.json", world, **replace)
        status, output, history = self.onboard("add-consumer (accept, create zone)", request)

        self.assertSucceeded(status, output, history)
        self.assertEqual("available", self.endpoint_state(BILLING_ACCOUNT, endpoint_id))
        route53 = in_account(BILLING_ACCOUNT, "route53")
        zones = route53.list_hosted_zones_by_name(DNSName=sc.ZONE_NAME)["HostedZones"]
        zone_id = next(z["Id"].split("/")[-1] for z in zones if z["CallerReference"] == f"brokerlink-{world.link_id}-billing")
        self.assertEqual([vpc_id], [v["VPCId"] for v in route53.get_hosted_zone(Id=zone_id)["VPCs"]])
        self.assertEqual(self.records_for(world, dns_name), owned_records(route53, zone_id))
        self.assertEqual({"hostedZoneId": zone_id, "names": self.hosts(world), "types": ["A", "TXT"]}, output["records"])
        stored = self.item(world)
        self.assertEqual(2, stored["version"])
        self.assertEqual({"name": "billing", "hostedZoneId": zone_id, "endpointDnsName": dns_name, "endpointHostedZoneId": sc.ENDPOINT_ZONE_ID,
                          "roleArn": sc.consumer_role(BILLING_ACCOUNT), "principal": f"arn:aws:iam::{BILLING_ACCOUNT}:root"},
                         stored["config"]["consumers"][0])

        # Running it again finds the zone by its caller reference and changes nothing.
        before = self.state()
        status, output, history = self.onboard("add-consumer again", request)

        self.assertSucceeded(status, output, history)
        self.assertEqual(before, self.state())
        self.assertFalse(output["reconcile"]["result"]["applied"])

    def test_add_consumer_creates_its_zone_in_one_account_and_associates_a_vpc_of_another(self):
        world = self.provider("onb-assoc")
        self.register(world)
        allow = self.event("onboard-add-consumer-allow.json", world)
        allow["consumer"] = {"name": "payments", "principal": VPC_ACCOUNT}
        self.assertEqual("SUCCEEDED", self.onboard(None, allow)[0])
        vpc_id, _, dns_name = self.endpoint(VPC_ACCOUNT, world, "10.70.0.0/16")
        seed_vpc = in_account(DNS_ACCOUNT, "ec2").create_vpc(CidrBlock="10.71.0.0/16")["Vpc"]["VpcId"]
        # The zone's account may create a zone for its VPC and authorize the other's; the VPC's may associate it.
        sc.deploy_consumer_role(aws, DNS_ACCOUNT, VpcId=seed_vpc, ForeignVpcId=vpc_id)
        sc.deploy_consumer_role(aws, VPC_ACCOUNT, VpcId=vpc_id)
        request = self.event("onboard-add-consumer-cross-account-zone.json", world, **{
            "vpc-0c1c2c3d4e5f60718": vpc_id, "vpc-0d1d2d3d4e5f60718": seed_vpc,
            "vpce-0c1c2c3d4e5f60718-cccccccc.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com": dns_name})

        status, output, history = self.onboard("add-consumer (zone in one account, VPC of another)", request)

        self.assertSucceeded(status, output, history)
        route53 = in_account(DNS_ACCOUNT, "route53")
        zone_id = output["records"]["hostedZoneId"]
        self.assertEqual(sorted([seed_vpc, vpc_id]), sorted(v["VPCId"] for v in route53.get_hosted_zone(Id=zone_id)["VPCs"]))
        self.assertEqual([], route53.list_vpc_association_authorizations(HostedZoneId=zone_id)["VPCs"])
        self.assertEqual(self.records_for(world, dns_name), owned_records(route53, zone_id))
        with self.assertRaises(ClientError):  # the zone is the DNS account's, not the VPC owner's
            in_account(VPC_ACCOUNT, "route53").get_hosted_zone(Id=zone_id)

        before = self.state()
        status, output, history = self.onboard("add-consumer (cross-account) again", request)

        self.assertSucceeded(status, output, history)
        self.assertEqual(before, self.state())

    def test_add_consumer_with_its_existing_zone_plans_then_writes_its_records(self):
        world = self.provider("onb-existing", consumers=("analytics",))
        self.register(world)
        request = self.event("onboard-add-consumer.json", world)
        request["consumer"] = self.consumer_entry(world, 0, principal=ACCOUNT)
        dry_run = self.event("onboard-add-consumer-dry-run.json", world)
        dry_run["consumer"] = request["consumer"]
        before = self.state()

        status, output, history = self.onboard("add-consumer dry run (existing zone)", dry_run)

        self.assertSucceeded(status, output, history)
        self.assertEqual(before, self.state())
        zone_id = world.consumers[0].hosted_zone_id
        self.assertEqual({zone_id: 6}, {b["hostedZoneId"]: len(b["changes"]) for b in output["plan"]["changes"]["upsertRecords"]})

        status, output, history = self.onboard("add-consumer (existing zone)", request)

        self.assertSucceeded(status, output, history)
        self.assertEqual([], sc.convergence_problems(aws, world))
        self.assertEqual([f"arn:aws:iam::{ACCOUNT}:root"], self.principals(world))
        self.assertEqual(2, self.item(world)["version"])

    # ------------------------------------------------------------------ remove-consumer

    def test_remove_consumer_deletes_only_its_records_and_revokes_only_its_principal(self):
        world = self.provider("onb-rmc", consumers=("analytics", "billing"))
        self.register(world, [self.consumer_entry(world, 0, f"arn:aws:iam::{VPC_ACCOUNT}:root"),
                              self.consumer_entry(world, 1, f"arn:aws:iam::{BILLING_ACCOUNT}:root")])
        self.assertEqual([], sc.convergence_problems(aws, world))
        analytics, billing = (c.hosted_zone_id for c in world.consumers)
        request = self.event("onboard-remove-consumer.json", world)
        request["consumerName"] = "billing"
        dry_run = self.event("onboard-remove-consumer-dry-run.json", world)
        dry_run["consumerName"] = "billing"
        before = self.state()

        status, output, history = self.onboard("remove-consumer dry run", dry_run)

        self.assertSucceeded(status, output, history)
        self.assertEqual({}, dict(sc.write_calls(history)))
        self.assertEqual(before, self.state())
        self.assertEqual({billing: 6}, {b["hostedZoneId"]: len(b["changes"]) for b in output["plan"]["changes"]["deleteRecords"]})
        self.assertEqual([], output["plan"]["changes"]["deleteTargetGroups"])

        status, output, history = self.onboard("remove-consumer", request)

        self.assertSucceeded(status, output, history)
        self.assertEqual({}, owned_records(aws.route53, billing))
        aws.route53.get_hosted_zone(Id=billing)
        self.assertEqual(6, len(owned_records(aws.route53, analytics)))
        self.assertEqual(6, len(owned_records(aws.route53, world.provider_zone_id)))
        self.assertEqual([f"arn:aws:iam::{VPC_ACCOUNT}:root"], self.principals(world))
        stored = self.item(world)
        self.assertEqual(3, stored["version"])
        self.assertEqual(["analytics"], [c["name"] for c in stored["config"]["consumers"]])
        self.assertNotIn("retiringZones", stored["config"])

    def test_remove_consumer_whose_zone_is_already_deleted_finishes_without_writing_records(self):
        world = self.provider("onb-gonezone", consumers=("analytics",), cross_account="partner")
        analytics, partner = world.consumers
        principal = f"arn:aws:iam::{sc.CONSUMER_ACCOUNT}:root"
        self.register(world, [self.consumer_entry(world, 0),
                              self.consumer_entry(world, 1, principal) | {"roleArn": partner.role_arn}])
        route53 = in_account(sc.CONSUMER_ACCOUNT, "route53")
        self.assertEqual(6, len(owned_records(route53, partner.hosted_zone_id)))
        # Out of band, in the consumer's account: its records, then its zone, are deleted.
        ours = [r for r in route53.list_resource_record_sets(HostedZoneId=partner.hosted_zone_id)["ResourceRecordSets"]
                if r["Type"] in ("A", "TXT")]
        route53.change_resource_record_sets(HostedZoneId=partner.hosted_zone_id, ChangeBatch={
            "Changes": [{"Action": "DELETE", "ResourceRecordSet": r} for r in ours]})
        route53.delete_hosted_zone(Id=partner.hosted_zone_id)
        with self.assertRaises(ClientError) as gone:
            route53.get_hosted_zone(Id=partner.hosted_zone_id)
        self.assertEqual("NoSuchHostedZone", gone.exception.response["Error"]["Code"])
        request = self.event("onboard-remove-consumer.json", world)
        request["consumerName"] = "partner"

        mark = cloud.express_mark()
        status, output, history = self.onboard("remove-consumer (zone already deleted)", request)

        self.assertSucceeded(status, output, history)
        reconciles = [cloud.execution_history(arn) for arn in self.started_executions(history)]
        self.assertEqual(1, len(reconciles))
        self.assertEqual({}, dict(sc.wiring_writes(reconciles[0])))  # no record change, in any zone
        observed = [e for o in cloud.express_executions(after=mark) for e in o["events"]]  # the Apply's Observe runs
        self.assertIn("RetiringZoneGone", {e["stateEnteredEventDetails"]["name"] for e in observed
                                           if e["type"].endswith("StateEntered")})
        stored = self.item(world)
        self.assertEqual(3, stored["version"])  # stored with the zone retiring, then without it
        self.assertEqual(["analytics"], [c["name"] for c in stored["config"]["consumers"]])
        self.assertNotIn("retiringZones", stored["config"])
        self.assertEqual([], self.principals(world))
        self.assertEqual(6, len(owned_records(aws.route53, analytics.hosted_zone_id)))
        self.assertEqual([], sc.convergence_problems(aws, dataclasses.replace(world, consumers=(analytics,))))

    @staticmethod
    def started_executions(history: list[dict]) -> list[str]:
        """The Apply executions an onboarding started, from its history."""
        return [json.loads(e["taskSucceededEventDetails"]["output"])["ExecutionArn"] for e in history
                if e["type"] == "TaskSucceeded" and e["taskSucceededEventDetails"]["resource"].startswith("startExecution")]

    # ------------------------------------------------------------------ remove-link

    def test_remove_link_deletes_what_it_owns_and_leaves_the_load_balancer_zones_and_others(self):
        world = self.provider("onb-rml", consumers=("analytics",))
        self.register(world, [self.consumer_entry(world, 0, f"arn:aws:iam::{BILLING_ACCOUNT}:root")])
        foreign = aws.elbv2.create_target_group(Name="someone-elses", Protocol="TCP", Port=9094, VpcId=world.vpc_id,
                                                TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        aws.elbv2.create_listener(LoadBalancerArn=world.load_balancer_arn, Protocol="TCP", Port=7000,
                                  DefaultActions=[{"Type": "forward", "TargetGroupArn": foreign}])
        sc.add_foreign_record(aws, world.consumers[0].hosted_zone_id, f"other.{sc.ZONE_NAME}")
        before = self.state()

        status, output, history = self.onboard("remove-link dry run", self.event("onboard-remove-link-dry-run.json", world))

        self.assertSucceeded(status, output, history)
        self.assertEqual({}, dict(sc.write_calls(history)))
        self.assertEqual(before, self.state())
        summary = output["plan"]["summary"]
        self.assertEqual((4, 4, 12), (summary["listenersDeleted"], summary["targetGroupsDeleted"], summary["recordsDeleted"]))

        change = {"pk": {"S": "CHANGE"}, "sk": {"S": world.link_id}}
        self.assertIn("Item", aws.dynamodb.get_item(TableName=cloud.table, Key=change), "registering wrote the link's last change")
        status, output, history = self.onboard("remove-link", self.event("onboard-remove-link.json", world))

        self.assertSucceeded(status, output, history)
        self.assertIsNone(self.item(world))
        self.assertNotIn("Item", aws.dynamodb.get_item(TableName=cloud.table, Key=change), "the last change went with the link")
        view = sc.link_view(aws, world)
        self.assertEqual({}, view.target_groups)
        self.assertEqual({7000}, set(view.listeners))
        self.assertEqual({}, {k: v for z in world.zone_ids for k, v in owned_records(aws.route53, z).items()
                              if not k[0].startswith("other.")})
        self.assertIn((f"other.{sc.ZONE_NAME}", "A"), sc.records(aws, world.consumers[0].hosted_zone_id))
        for zone_id in world.zone_ids:
            aws.route53.get_hosted_zone(Id=zone_id)
        self.assertEqual(1, len(aws.elbv2.describe_load_balancers(LoadBalancerArns=[world.load_balancer_arn])["LoadBalancers"]))
        self.assertEqual([], self.principals(world))

    def test_remove_link_of_a_deleted_cluster_still_removes_what_the_link_owns(self):
        world = self.provider("onb-gone", provider_zone=True)
        self.register(world)
        aws.kafka.delete_cluster(ClusterArn=world.cluster_arn)

        status, output, history = self.onboard("remove-link (cluster already deleted)", self.event("onboard-remove-link.json", world))

        self.assertSucceeded(status, output, history)
        self.assertIsNone(self.item(world))
        self.assertEqual({}, sc.link_view(aws, world).target_groups)
        self.assertEqual({}, owned_records(aws.route53, world.provider_zone_id))

    # ------------------------------------------------------------------ refused before any write

    # The field each onboard-invalid-*.json input gets wrong: its error's cause names it first.
    INVALID_FIELDS = {
        "onboard-invalid-account-id.json": "consumer.principal",
        "onboard-invalid-cluster-arn.json": "link.clusterArn",
        "onboard-invalid-cluster-region.json": "link.clusterArn",
        "onboard-invalid-duplicate-consumer.json": "consumer.name",
        "onboard-invalid-operation.json": "operation",
        "onboard-invalid-principal-star.json": "consumer.principal",
        "onboard-invalid-region.json": "consumer.endpointDnsName",
        "onboard-invalid-unknown-link.json": "linkId",
        "onboard-invalid-zone-id.json": "consumer.hostedZoneId",
    }

    def test_bad_inputs_fail_with_a_named_error_before_any_write(self):
        world = self.provider("onb-bad", consumers=("analytics",))
        self.register(world, [self.consumer_entry(world, 0)])
        files = sorted(p.name for p in EVENTS.glob("onboard-invalid-*.json"))
        self.assertGreaterEqual(len(files), 9)
        self.assertEqual(sorted(self.INVALID_FIELDS), files)
        before = self.state()
        for name in files:
            with self.subTest(input=name):
                request = self.event(name, world)
                expected = "BrokerLink.UnknownLink" if "unknown-link" in name else "BrokerLink.InvalidInput"

                status, output, history = self.onboard(f"refused {name}", request)

                self.assertEqual("FAILED", status, output)
                failed = self.failure(history)
                self.assertEqual(expected, failed["error"], failed)
                self.assertTrue(failed["cause"].startswith(self.INVALID_FIELDS[name] + ": "), failed)
                self.assertEqual({}, dict(sc.write_calls(history)))
                self.assertEqual(before, self.state())

    def test_a_bootstrap_port_on_a_current_brokers_listener_port_is_refused_before_any_write(self):
        world = self.provider("onb-boot")
        colliding = self.link_config(world) | {"bootstrapPort": 9002}  # broker 2 listens on 9000 + 2
        before = self.state()

        for label, request in (("register-link", {"operation": "register-link", "link": colliding}),
                               ("register-link dry run", {"operation": "register-link", "link": colliding, "dryRun": True})):
            with self.subTest(request=label):
                mark = cloud.express_mark()
                status, output, history = self.onboard(f"refused: {label}, bootstrap port of broker 2", request)

                self.assertEqual("FAILED", status, output)
                failed = self.failure(history)
                self.assertEqual("BrokerLink.InvalidInput", failed["error"], failed)
                self.assertTrue(failed["cause"].startswith("link.bootstrapPort: 9002 is also broker 2's listener port (9000 + 2)"), failed)
                self.assertEqual({}, dict(sc.write_calls(history)))
                # The dry run (one Observe execution) that found the brokers wrote nothing either.
                self.assertEqual([], self.started_executions(history))
                planned = cloud.express_executions(after=mark)
                self.assertEqual(1, len(planned))
                self.assertEqual({}, dict(sc.write_calls(planned[0]["events"])))
                self.assertEqual(before, self.state())

        # Registered with a port of no broker, then updated so that broker 2's port would become it.
        self.register(world)
        before = self.state()
        update = self.event("onboard-update-link.json", world)
        update["link"] = {k: v for k, v in self.link_config(world).items() if k != "consumers"} | {"listenerBasePort": 8997}

        status, output, history = self.onboard("refused: update-link moving broker 2 onto the bootstrap port", update)

        self.assertEqual("FAILED", status, output)
        failed = self.failure(history)
        self.assertEqual("BrokerLink.InvalidInput", failed["error"], failed)
        self.assertTrue(failed["cause"].startswith("link.bootstrapPort: 8999 is also broker 2's listener port (8997 + 2)"), failed)
        self.assertEqual({}, dict(sc.write_calls(history)))
        self.assertEqual(before, self.state())
        self.assertEqual(1, self.item(world)["version"])
        self.assertEqual([], sc.convergence_problems(aws, world))

    def test_accepting_a_connection_that_does_not_exist_fails_before_any_write(self):
        world = self.provider("onb-noconn", consumers=("analytics",))
        self.register(world)
        request = self.event("onboard-add-consumer.json", world)
        # An endpoint of the link's service that does not exist.
        missing = "vpce-0123456789abcdef0-zzzz." + world.consumers[0].endpoint_dns_name.split(".", 1)[1]
        request["consumer"] = self.consumer_entry(world, 0, principal=BILLING_ACCOUNT) | {"endpointDnsName": missing, "acceptConnection": True}
        before = self.state()

        status, output, history = self.onboard("refused: no such connection", request)

        self.assertEqual("FAILED", status, output)
        failed = self.failure(history)
        self.assertEqual("BrokerLink.InvalidInput", failed["error"])
        self.assertIn("consumer.vpcEndpointId", failed["cause"])
        self.assertEqual(before, self.state())

    # ------------------------------------------------------------------ failures, re-runs, concurrency

    def test_a_registration_whose_reconcile_fails_is_finished_by_running_it_again(self):
        world = self.provider("onb-retry")
        request = self.event("onboard-register-link.json", world)
        cloud.inject_fault("elasticloadbalancingv2", "CreateTargetGroup", "TooManyTargetGroups", count=1)
        self.addCleanup(cloud.clear_faults)

        status, output, history = self.onboard("register-link (reconcile fails)", request)

        self.assertEqual("FAILED", status, output)
        self.assertEqual("BrokerLink.ReconcileFailed", self.failure(history)["error"])
        self.assertEqual(1, self.item(world)["version"])  # stored: the sweep, or a re-run, finishes it

        status, output, history = self.onboard("register-link (re-run)", request)

        self.assertSucceeded(status, output, history)
        self.assertEqual([], sc.convergence_problems(aws, world))
        self.assertEqual(1, self.item(world)["version"])

    def test_a_consumer_removal_that_fails_half_way_keeps_its_zone_retiring_until_a_re_run_finishes_it(self):
        world = self.provider("onb-halfway", consumers=("analytics", "billing"))
        self.register(world, [self.consumer_entry(world, 0), self.consumer_entry(world, 1, f"arn:aws:iam::{BILLING_ACCOUNT}:root")])
        billing = world.consumers[1].hosted_zone_id
        request = self.event("onboard-remove-consumer.json", world)
        request["consumerName"] = "billing"
        cloud.inject_fault("route53", "ChangeResourceRecordSets", "InvalidChangeBatch", count=1)
        self.addCleanup(cloud.clear_faults)

        status, output, history = self.onboard("remove-consumer (reconcile fails)", request)

        self.assertEqual("FAILED", status, output)
        self.assertEqual("BrokerLink.ReconcileFailed", self.failure(history)["error"])
        stored = self.item(world)
        self.assertEqual([{"hostedZoneId": billing, "consumer": "billing", "principal": f"arn:aws:iam::{BILLING_ACCOUNT}:root"}],
                         stored["config"]["retiringZones"])
        self.assertEqual([f"arn:aws:iam::{BILLING_ACCOUNT}:root"], self.principals(world))  # not revoked yet

        status, output, history = self.onboard("remove-consumer (re-run)", request)

        self.assertSucceeded(status, output, history)
        self.assertEqual({}, owned_records(aws.route53, billing))
        self.assertEqual([], self.principals(world))
        self.assertNotIn("retiringZones", self.item(world)["config"])

    def test_two_onboardings_of_one_link_cannot_overwrite_each_other(self):
        world = self.provider("onb-race", consumers=("analytics", "billing"))
        self.register(world)
        first = self.event("onboard-add-consumer.json", world)
        first["consumer"] = self.consumer_entry(world, 0, principal=BILLING_ACCOUNT)
        second = self.event("onboard-add-consumer.json", world)
        second["consumer"] = self.consumer_entry(world, 1)
        # The first onboarding reads the link, then waits in its AllowPrincipals call while the second one runs.
        cloud.inject_fault("ec2", "ModifyVpcEndpointServicePermissions", count=1, delay_seconds=4)
        self.addCleanup(cloud.clear_faults)
        sfn = cloud.client("stepfunctions")
        slow = sfn.start_execution(stateMachineArn=cloud.state_machines["onboard"], input=json.dumps(first))["executionArn"]
        wait_until(lambda: any(e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resource"]
                               == "modifyVpcEndpointServicePermissions" for e in cloud.execution_history(slow)),
                   "the first onboarding read the link and waits in its AllowPrincipals call")

        status, output, history = self.onboard("add-consumer (concurrent, wins)", second)
        self.assertSucceeded(status, output, history)
        described = cloud.wait_for_execution(slow)

        self.assertEqual("FAILED", described["status"])
        self.assertEqual("BrokerLink.Conflict", described["error"])
        self.assertEqual(["billing"], [c["name"] for c in self.item(world)["config"]["consumers"]])

        status, output, history = self.onboard("add-consumer (re-run after the conflict)", first)

        self.assertSucceeded(status, output, history)
        self.assertEqual(["billing", "analytics"], [c["name"] for c in self.item(world)["config"]["consumers"]])
        self.assertEqual([], sc.convergence_problems(aws, world))


class ConsumerAccountTemplate(unittest.TestCase):
    """consumer-account.yaml: what a consumer account deploys for BrokerLink's Route 53 work."""

    ROOT = Path(__file__).resolve().parents[2]

    def template(self, name="consumer-account.yaml"):
        from cfnlint.decode import decode

        template, matches = decode(str(self.ROOT / name))
        self.assertEqual([], matches)
        return json.loads(json.dumps(template))

    def statements(self):
        role = self.template()["Resources"]["DnsRole"]["Properties"]
        for policy in role["Policies"]:
            document = policy["PolicyDocument"] if "PolicyDocument" in policy else policy["Fn::If"][1]["PolicyDocument"]
            yield from document["Statement"]

    def test_cfn_lint_is_clean(self):
        import subprocess

        result = subprocess.run([sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())",
                                 "consumer-account.yaml"], cwd=self.ROOT, capture_output=True, text=True, timeout=300)
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)

    def test_the_role_trusts_only_the_two_brokerlink_roles_by_their_arn(self):
        trust = self.template()["Resources"]["DnsRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        self.assertEqual(1, len(trust))
        given = [{"Ref": "ReconcileRoleArn"}, {"Ref": "OnboardRoleArn"}]
        self.assertEqual({"AWS": given}, trust[0]["Principal"])
        self.assertEqual("sts:AssumeRole", trust[0]["Action"])
        self.assertEqual({"ArnEquals": {"aws:PrincipalArn": given}}, trust[0]["Condition"])

    def test_the_role_name_matches_the_prefix_the_provider_may_assume(self):
        provider = self.template("template.yaml")["Parameters"]["ConsumerRoleNamePrefix"]["Default"]
        self.assertTrue(self.template()["Parameters"]["RoleName"]["Default"].startswith(provider))

    def test_records_are_limited_to_alias_and_txt_and_every_write_on_any_zone_is_conditioned(self):
        writes = [s for s in self.statements() if any(not a.split(":")[1].startswith(("List", "Get", "Describe"))
                                                       for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]
        self.assertTrue(writes)
        for statement in writes:
            with self.subTest(statement=statement["Sid"]):
                self.assertIn("Condition", statement)
        records = next(s for s in writes if s["Action"] == "route53:ChangeResourceRecordSets")
        self.assertEqual(["A", "TXT"], records["Condition"]["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsRecordTypes"])
        create = next(s for s in writes if s["Action"] == "route53:CreateHostedZone")
        self.assertEqual({"route53:VPCs": "false"}, create["Condition"]["Null"])


if __name__ == "__main__":
    unittest.main()
