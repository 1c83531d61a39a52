"""End-to-end onboarding of the link kinds of issue 3 (ec2-self-managed, msk-serverless,
msk-nlb-per-broker) through the real Onboard state machine in the local cloud.

Every test builds the provider side of its link with the kind's world builder in scenario.py and
deletes the link item the builder puts, so that register-link (with a config made from the world)
stores it. What a run wrote is read from the Onboard execution's history and from the history of
the Reconcile execution it started. Each run prints
`onboard-kind: <kind> | <scenario> | <wall seconds> s | <n> writes` to stderr, where n counts
every write call of both executions: ELBv2, Route 53 (records and zones), the table, and the
endpoint service's permissions and connections.
"""
import copy
import dataclasses
import json
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

import scenario as sc  # noqa: E402
from support import LocalCloud, MakeBeforeBreak, start_module_cloud  # noqa: E402

PER_BROKER, SERVERLESS, EC2 = "msk-nlb-per-broker", "msk-serverless", "ec2-self-managed"

cloud: LocalCloud | None = None
aws: sc.Aws | None = None


def setUpModule():
    global cloud, aws
    cloud, aws = start_module_cloud()


@dataclasses.dataclass
class Run:
    status: str
    output: dict | None
    history: list[dict]            # the Onboard execution's
    reconciles: list[list[dict]]   # the histories of the Apply executions it started
    observes: list[list[dict]]     # the events of the Observe executions it (or its Apply executions) started

    def writes(self) -> dict[str, int]:
        counted = {}
        for events in [self.history, *self.reconciles, *self.observes]:
            for event in events:
                if event["type"] == "TaskScheduled":
                    action = event["taskScheduledEventDetails"]["resource"]
                    if action in sc.WRITE_ACTIONS:
                        counted[action] = counted.get(action, 0) + 1
        return counted

    def record_changes(self) -> list[tuple[str, str, str]]:
        """(action, name, type) of every ChangeResourceRecordSets change the Apply executions scheduled."""
        found = []
        for events in self.reconciles:
            for event in events:
                details = event.get("taskScheduledEventDetails") or {}
                if event["type"] == "TaskScheduled" and details["resource"] == "changeResourceRecordSets":
                    batch = json.loads(details["parameters"])["ChangeBatch"]
                    found += [(c["Action"], c["ResourceRecordSet"]["Name"], c["ResourceRecordSet"]["Type"])
                              for c in batch["Changes"]]
        return found


class OnboardKindCase(unittest.TestCase, MakeBeforeBreak):

    # ------------------------------------------------------------------ the world

    def provider(self, kind: str, link_id: str, **options) -> sc.World:
        """The provider side of a link of `kind` (and its consumers' VPCs, endpoints and zones), not in the table."""
        world = sc.BUILDERS[kind](aws, link_id, table=cloud.table, **options)
        sc.delete_link(aws, world)
        self.addCleanup(sc.delete_link, aws, world)
        return world

    def service_id(self, load_balancer_arn: str) -> str:
        services = aws.ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"]
        return next(s["ServiceId"] for s in services if load_balancer_arn in s["NetworkLoadBalancerArns"])

    def link_config(self, world: sc.World, consumers: tuple[sc.Consumer, ...] = ()) -> dict:
        """register-link's link: the world's config (null fields left out) with only these consumers."""
        link = {k: v for k, v in copy.deepcopy(world.config).items() if v is not None}
        link["consumers"] = [self.consumer_entry(world, c) for c in consumers]
        if world.load_balancer_arn:
            link["endpointServiceId"] = self.service_id(world.load_balancer_arn)
        return link

    def consumer_entry(self, world: sc.World, consumer: sc.Consumer, brokers: tuple[int, ...] | None = None) -> dict:
        """add-consumer's consumer (and a config's): the existing zone and the endpoint(s) the world made;
        msk-nlb-per-broker: the endpoints of `brokers` (default: every one the consumer has)."""
        entry = {"name": consumer.name, "hostedZoneId": consumer.hosted_zone_id}
        if consumer.role_arn:
            entry["roleArn"] = consumer.role_arn
        if world.kind == PER_BROKER:
            entry["brokerEndpoints"] = [{"brokerId": n, "endpointDnsName": dns, "endpointHostedZoneId": zone}
                                        for n, _, dns, zone in consumer.broker_endpoints
                                        if brokers is None or n in brokers]
        else:
            entry |= {"endpointDnsName": consumer.endpoint_dns_name,
                      "endpointHostedZoneId": consumer.endpoint_hosted_zone_id}
        return entry

    def without_consumers(self, world: sc.World) -> sc.World:
        """The world as registered with no consumer yet (for convergence_problems)."""
        return dataclasses.replace(world, consumers=())

    # ------------------------------------------------------------------ running and reading back

    def onboard(self, kind: str, scenario: str, request: dict) -> Run:
        started = time.monotonic()
        mark = cloud.express_mark()
        status, output, history = cloud.start_execution_and_wait(request, state_machine="onboard", timeout=180)
        wall = time.monotonic() - started
        run = Run(status, output, history, [cloud.execution_history(arn) for arn in self.started_executions(history)],
                  [o["events"] for o in cloud.express_executions(after=mark)])
        print(f"onboard-kind: {kind} | {scenario} | {wall:.2f} s | {sum(run.writes().values())} writes", file=sys.stderr)
        for applied in run.reconciles:
            self.assertNoBreakBeforeMake(applied)
        return run

    @staticmethod
    def started_executions(history: list[dict]) -> list[str]:
        arns = []
        for event in history:
            if event["type"] == "TaskSucceeded" and event["taskSucceededEventDetails"]["resource"].startswith("startExecution"):
                arns.append(json.loads(event["taskSucceededEventDetails"]["output"])["ExecutionArn"])
        return arns

    def assertSucceeded(self, run: Run) -> None:
        failed = [e.get("executionFailedEventDetails") for e in run.history if e["type"] == "ExecutionFailed"]
        self.assertEqual("SUCCEEDED", run.status, failed or run.output)

    def assertRefused(self, run: Run, error: str, path: str) -> None:
        """Failed with `error`, naming `path`, having written nothing."""
        self.assertEqual("FAILED", run.status, run.output)
        failed = [e["executionFailedEventDetails"] for e in run.history if e["type"] == "ExecutionFailed"]
        self.assertEqual(1, len(failed), run.history[-3:])
        self.assertEqual(error, failed[0]["error"], failed[0])
        self.assertIn(path, failed[0]["cause"])
        self.assertEqual({}, run.writes())

    def raw_item(self, link_id: str) -> dict | None:
        return aws.dynamodb.get_item(TableName=cloud.table, Key={"pk": {"S": "LINK"}, "sk": {"S": link_id}},
                                     ConsistentRead=True).get("Item")

    def stored_config(self, link_id: str) -> dict:
        return json.loads(self.raw_item(link_id)["config"]["S"])

    def state(self) -> dict:
        """Everything onboarding may write: what scenario.snapshot reads (ELBv2, Route 53 here and in the consumer
        accounts, the endpoint services' principals and connections) and the table."""
        table = aws.dynamodb.scan(TableName=cloud.table, ConsistentRead=True)["Items"]
        return {"here": sc.snapshot(aws), "table": sorted(json.dumps(i, sort_keys=True) for i in table)}

    def assertAliases(self, world: sc.World, zone_id: str, want: dict[str, tuple[str, str]]) -> None:
        """The zone holds exactly these names of the link: an alias A to (DNS name, zone) and the ownership TXT."""
        got = sc.records(aws.assume(world.zone_role(zone_id)), zone_id)
        txt = sc.ownership_txt(world.link_id)
        ours = {name for (name, kind), value in got.items() if kind == "TXT" and value == txt}
        expected = {}
        for name, (dns_name, zone) in want.items():
            expected[(name, "A")] = f"ALIAS {dns_name} {zone}"
            expected[(name, "TXT")] = txt
        self.assertEqual(expected, {k: v for k, v in got.items() if k[0] in ours | set(want) and k[1] in ("A", "TXT")})


class Ec2SelfManaged(OnboardKindCase):

    def test_register_link_dry_run_writes_nothing_then_registers_and_add_consumer_reports_the_record_names(self):
        world = self.provider(EC2, "okec2-reg", consumers=("analytics",), brokers=3)
        analytics = world.consumers[0]
        link = self.link_config(world)
        before = self.state()

        run = self.onboard(EC2, "register-link dry run", {"operation": "register-link", "link": link, "dryRun": True})

        self.assertSucceeded(run)
        # Its dry-run plan came from one Observe execution (which cannot write) and no Apply execution.
        self.assertEqual((0, 1), (len(run.reconciles), len(run.observes)))
        self.assertEqual({}, run.writes())
        self.assertEqual(before, self.state())
        self.assertIsNone(self.raw_item(world.link_id))
        self.assertTrue(run.output["dryRun"])
        plan = run.output["plan"]
        self.assertEqual(["broker-1", "broker-2", "broker-3"], [g["key"] for g in plan["changes"]["createTargetGroups"]])
        self.assertEqual([1, 2, 3], [p["brokerId"] for p in plan["serverProperties"]])

        run = self.onboard(EC2, "register-link (3 instances, provider zone)", {"operation": "register-link", "link": link})

        self.assertSucceeded(run)
        item = self.raw_item(world.link_id)
        self.assertNotIn("clusterArn", item)
        self.assertEqual(({"S": EC2}, {"N": "1"}), (item["kind"], item["version"]))
        self.assertEqual(link, json.loads(item["config"]["S"]))
        result = run.output["reconcile"]["result"]
        self.assertEqual((True, True), (result["converged"], result["applied"]), result)
        self.assertEqual(1, len(run.reconciles))
        self.assertEqual([], sc.convergence_problems(aws, self.without_consumers(world)))
        brokers, _, _ = sc.ec2_brokers(aws, world)
        view = sc.link_view(aws, world)
        self.assertEqual({f"broker-{b.broker_id}": [f"{b.ip}:9093"] for b in brokers},
                         {k: g["targets"] for k, g in view.target_groups.items()})
        self.assertEqual({6001: ["broker-1"], 6002: ["broker-2"], 6003: ["broker-3"]},
                         {port: l["forwardTo"] for port, l in view.listeners.items() if l["owned"]})
        names = link["recordNames"]
        self.assertAliases(world, world.provider_zone_id,
                           {n: (world.load_balancer_dns_name.lower(), world.load_balancer_zone_id) for n in names})
        self.assertAliases(world, analytics.hosted_zone_id, {})

        request = {"operation": "add-consumer", "linkId": world.link_id, "consumer": self.consumer_entry(world, analytics)}
        run = self.onboard(EC2, "add-consumer (existing zone)", request)

        self.assertSucceeded(run)
        self.assertEqual({"hostedZoneId": analytics.hosted_zone_id, "names": names, "types": ["A", "TXT"]},
                         run.output["records"])
        self.assertAliases(world, analytics.hosted_zone_id,
                           {n: (analytics.endpoint_dns_name, analytics.endpoint_hosted_zone_id) for n in names})
        self.assertEqual([], sc.convergence_problems(aws, world))
        self.assertEqual(["analytics"], [c["name"] for c in self.stored_config(world.link_id)["consumers"]])
        self.assertEqual({"N": "2"}, self.raw_item(world.link_id)["version"])

    def test_remove_link_deletes_its_listeners_groups_and_records_and_keeps_the_load_balancer_and_zones(self):
        world = self.provider(EC2, "okec2-rml", consumers=("analytics",), bootstrap_port=5999)
        run = self.onboard(EC2, "register-link (with a consumer, bootstrap)",
                           {"operation": "register-link", "link": self.link_config(world, world.consumers)})
        self.assertSucceeded(run)
        self.assertEqual([], sc.convergence_problems(aws, world))
        view = sc.link_view(aws, world)
        self.assertEqual({"bootstrap", "broker-1", "broker-2", "broker-3"}, set(view.target_groups))
        groups = {g["arn"] for g in view.target_groups.values()}
        instances = sc.ec2_instances(aws, world)

        run = self.onboard(EC2, "remove-link", {"operation": "remove-link", "linkId": world.link_id})

        self.assertSucceeded(run)
        self.assertIsNone(self.raw_item(world.link_id))
        view = sc.link_view(aws, world)
        self.assertEqual({}, view.target_groups)
        self.assertEqual({}, view.listeners)
        self.assertFalse(groups & {g["TargetGroupArn"] for g in aws.elbv2.describe_target_groups()["TargetGroups"]})
        for zone_id in world.zone_ids:
            aws.route53.get_hosted_zone(Id=zone_id)  # the zone stays
            self.assertAliases(world, zone_id, {})
        self.assertEqual(1, len(aws.elbv2.describe_load_balancers(LoadBalancerArns=[world.load_balancer_arn])["LoadBalancers"]))
        self.assertEqual(instances, sc.ec2_instances(aws, world))  # the brokers are the operator's
        deleted = run.writes()
        self.assertEqual((4, 4), (deleted.get("deleteListener"), deleted.get("deleteTargetGroup")), deleted)


class Serverless(OnboardKindCase):

    def test_add_consumer_reports_and_writes_the_wildcard_record(self):
        world = self.provider(SERVERLESS, "oksls-add", consumers=("analytics",), provider_zone=False)
        analytics = world.consumers[0]
        run = self.onboard(SERVERLESS, "register-link (no consumer)",
                           {"operation": "register-link", "link": self.link_config(world)})
        self.assertSucceeded(run)
        self.assertEqual([], sc.convergence_problems(aws, self.without_consumers(world)))
        self.assertIn("clusterArn", self.raw_item(world.link_id))

        request = {"operation": "add-consumer", "linkId": world.link_id, "consumer": self.consumer_entry(world, analytics)}
        run = self.onboard(SERVERLESS, "add-consumer (existing zone)", request)

        self.assertSucceeded(run)
        self.assertEqual({"hostedZoneId": analytics.hosted_zone_id, "names": ["*.kafka-serverless.us-east-1.amazonaws.com"],
                          "types": ["A", "TXT"]}, run.output["records"])
        # As Route 53 lists it: the wildcard's `*` escaped as \052.
        listed = aws.route53.list_resource_record_sets(HostedZoneId=analytics.hosted_zone_id)["ResourceRecordSets"]
        self.assertEqual({("\\052.kafka-serverless.us-east-1.amazonaws.com.", "A"),
                          ("\\052.kafka-serverless.us-east-1.amazonaws.com.", "TXT")},
                         {(r["Name"], r["Type"]) for r in listed if r["Type"] in ("A", "TXT")})
        self.assertAliases(world, analytics.hosted_zone_id,
                           {sc.SERVERLESS_RECORD: (analytics.endpoint_dns_name, analytics.endpoint_hosted_zone_id)})
        self.assertEqual([], sc.convergence_problems(aws, world))


class PerBroker(OnboardKindCase):

    def test_a_consumer_gains_its_third_brokers_endpoint_in_place_and_other_changes_are_refused(self):
        world = self.provider(PER_BROKER, "okpb-grow", brokers=3, consumers=("analytics",))
        analytics = world.consumers[0]
        hosts = {b.broker_id: b.hosts[0] for b in sc.brokers(aws, world.cluster_arn)}
        run = self.onboard(PER_BROKER, "register-link (3 brokers, no consumer)",
                           {"operation": "register-link", "link": self.link_config(world)})
        self.assertSucceeded(run)
        self.assertEqual([], sc.convergence_problems(aws, self.without_consumers(world)))

        two = {"operation": "add-consumer", "linkId": world.link_id,
               "consumer": self.consumer_entry(world, analytics, brokers=(1, 2))}
        run = self.onboard(PER_BROKER, "add-consumer (endpoints for brokers 1-2 of 3)", two)

        self.assertSucceeded(run)
        findings = run.output["reconcile"]["result"].get("findings") or []
        provisioning = [f for f in findings if f["code"] == "BrokerNeedsProvisioning"]
        self.assertEqual(["broker-3"], [f["subject"] for f in provisioning], findings)
        self.assertIn("analytics", provisioning[0]["message"])
        self.assertTrue(run.output["reconcile"]["result"]["converged"], run.output["reconcile"]["result"])
        want = {hosts[n]: analytics.broker_endpoint(n) for n in (1, 2)}
        self.assertAliases(world, analytics.hosted_zone_id, want)
        first_records = sc.records(aws, analytics.hosted_zone_id)
        self.assertEqual([], [k for k in first_records if k[0] == hosts[3]])

        three = {"operation": "add-consumer", "linkId": world.link_id, "consumer": self.consumer_entry(world, analytics)}
        run = self.onboard(PER_BROKER, "add-consumer again (endpoints for brokers 1-3)", three)

        self.assertSucceeded(run)
        stored = self.stored_config(world.link_id)["consumers"]
        self.assertEqual(["analytics"], [c["name"] for c in stored])
        self.assertEqual([1, 2, 3], [e["brokerId"] for e in stored[0]["brokerEndpoints"]])
        self.assertAliases(world, analytics.hosted_zone_id, {hosts[n]: analytics.broker_endpoint(n) for n in (1, 2, 3)})
        changes = run.record_changes()
        self.assertNotIn("DELETE", [action for action, _, _ in changes])
        self.assertEqual({("UPSERT", hosts[3], "A"), ("UPSERT", hosts[3], "TXT")},
                         {(a, n.rstrip(".").lower(), t) for a, n, t in changes}, changes)
        after = sc.records(aws, analytics.hosted_zone_id)
        self.assertEqual({k: v for k, v in first_records.items() if k[0] in (hosts[1], hosts[2])},
                         {k: v for k, v in after.items() if k[0] in (hosts[1], hosts[2])})
        self.assertEqual([], sc.convergence_problems(aws, world))

        other_vpc = aws.ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        other_zone = aws.route53.create_hosted_zone(
            Name=sc.ZONE_NAME, CallerReference=f"okpb-other-{time.time_ns()}",
            HostedZoneConfig={"PrivateZone": True, "Comment": "okpb other"},
            VPC={"VPCRegion": sc.REGION, "VPCId": other_vpc})["HostedZone"]["Id"].removeprefix("/hostedzone/")
        before = self.state()
        moved = copy.deepcopy(three)
        moved["consumer"]["hostedZoneId"] = other_zone
        run = self.onboard(PER_BROKER, "refused: add-consumer again with another zone", moved)

        self.assertRefused(run, "BrokerLink.InvalidInput", "consumer.name")
        self.assertEqual(before, self.state())

        principal = copy.deepcopy(three)
        principal["consumer"]["principal"] = "210987654321"
        run = self.onboard(PER_BROKER, "refused: add-consumer with a principal", principal)

        self.assertRefused(run, "BrokerLink.InvalidInput", "consumer.principal")
        self.assertEqual(before, self.state())


if __name__ == "__main__":
    unittest.main()
