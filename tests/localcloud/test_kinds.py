"""End-to-end scenarios of the three link kinds besides msk-single-nlb (issue 3), in the local cloud.

Per kind: a fresh link converges (asserted on moto's state: target groups' targets, listeners,
records and their ownership TXT in every zone, a consumer zone in another account among them),
a change of the broker set converges again, what must not be touched is not, and a converged
re-run makes no write call. Last, all four kinds as links in one table: one scheduled sweep
converges them all.

Each scenario prints `kind-scenario: <kind> | <scenario> | <wall seconds> s | <n> writes` to
stderr (ELBv2 + Route 53 write calls, from the execution history) for the issue note.
"""
import dataclasses
import ipaddress
import sys
import time
import unittest
from pathlib import Path

from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

import apply_order  # noqa: E402
import scenario as sc  # noqa: E402
from support import LocalCloud, ScenarioCase, start_module_cloud  # noqa: E402

PER_BROKER, SERVERLESS, EC2, SINGLE = "msk-nlb-per-broker", "msk-serverless", "ec2-self-managed", "msk-single-nlb"
ENDPOINT_DNS_NAME = r"^vpce-[0-9a-f]{17}-[a-z0-9]{8}\.vpce-svc-[0-9a-f]{8,17}\.us-east-1\.vpce\.amazonaws\.com$"
PARTNER = "partner"  # the consumer in another account (its zone is written through its role)

cloud: LocalCloud | None = None
aws: sc.Aws | None = None


def setUpModule():
    global cloud, aws
    cloud, aws = start_module_cloud()
    KindCase.cloud, KindCase.aws = cloud, aws


class KindCase(ScenarioCase):

    def kind_world(self, kind: str, link_id: str, **options) -> sc.World:
        world = sc.BUILDERS[kind](self.aws, link_id, table=self.cloud.table, **options)
        self.addCleanup(sc.delete_link, self.aws, world)
        return world

    def run_scenario(self, kind: str, scenario: str, execution_input: dict):
        """Runs an execution, checks that no apply pass removed before it added, prints its kind-scenario line;
        (status, output, history, writes). The history is also `last_history`."""
        started = time.monotonic()
        status, output, history = self.cloud.start_execution_and_wait(execution_input)
        wall = time.monotonic() - started
        writes = sc.wiring_writes(history)
        self.assertNoBreakBeforeMake(history)
        self.last_history = history
        print(f"kind-scenario: {kind} | {scenario} | {wall:.2f} s | {sum(writes.values())} writes", file=sys.stderr)
        return status, output, history, writes

    def converged(self, kind: str, world: sc.World, scenario: str, execution_input: dict) -> dict:
        """Runs it, expects success and convergence; returns the link's result."""
        status, output, history, writes = self.run_scenario(kind, scenario, execution_input)
        self.assertEqual("SUCCEEDED", status, self.why(output, history))
        result = self.result_of(output, world)
        self.assertEqual("succeeded", result["status"], result)
        self.assertTrue(result["converged"], result)
        self.assertEqual([], sc.convergence_problems(self.aws, world))
        if result.get("applied"):
            self.assertEqual(result["summary"]["writeCalls"], sum(writes.values()), result["summary"])
        return result

    def rerun_writes_nothing(self, kind: str, world: sc.World) -> None:
        before = sc.snapshot(self.aws)
        status, output, history, _ = self.run_scenario(kind, "converged re-run", sc.manual(world))
        self.assertEqual("SUCCEEDED", status, self.why(output, history))
        self.assertNoWrites(history)
        self.assertEqual(before, sc.snapshot(self.aws))
        result = self.result_of(output, world)
        self.assertEqual((True, False), (result["converged"], result["applied"]), result)

    def result_of(self, output: dict, world: sc.World) -> dict:
        found = [r for r in output.get("results", []) if r["linkId"] == world.link_id]
        self.assertEqual(1, len(found), output)
        return found[0]

    def why(self, output, history) -> str:
        failed = [e["executionFailedEventDetails"] for e in history if e["type"] == "ExecutionFailed"]
        return f"{failed or output}"

    def findings(self, result: dict) -> set[tuple[str, str]]:
        return {(f["code"], f["subject"]) for f in result.get("findings") or []}

    def assertPartnerZoneIsTheOtherAccounts(self, world: sc.World) -> None:
        """The partner's zone (which assertRecords read through its role) is out of the provider account's sight."""
        partner = next(c for c in world.consumers if c.name == PARTNER)
        with self.assertRaises(ClientError) as seen:
            self.aws.route53.list_resource_record_sets(HostedZoneId=partner.hosted_zone_id)
        self.assertEqual("NoSuchHostedZone", seen.exception.response["Error"]["Code"])

    def assertRecords(self, world: sc.World, zone_id: str, want: dict[str, tuple[str, str]]) -> None:
        """The zone holds exactly these names of the link (alias A to the target, TXT ownership)."""
        got = sc.link_view(self.aws, world).records[zone_id]
        ours = {k: v for k, v in got.items() if k[1] in ("A", "TXT") and k[0] in want
                or (k[1] == "TXT" and v == sc.ownership_txt(world.link_id))}
        expected = {}
        for name, (dns_name, zone) in want.items():
            expected[(name, "A")] = f"ALIAS {dns_name} {zone}"
            expected[(name, "TXT")] = sc.ownership_txt(world.link_id)
        self.assertEqual(expected, ours, world.zone_label(zone_id))


class PerBrokerScenarios(KindCase):

    def test_fresh_link_fills_each_brokers_target_group_and_aliases_each_broker_to_its_own_endpoint(self):
        world = self.kind_world(PER_BROKER, "kpb-fresh", cross_account=PARTNER)
        brokers = sc.brokers(aws, world.cluster_arn)
        listeners_before = {b.broker_id: aws.elbv2.describe_listeners(LoadBalancerArn=b.load_balancer_arn)["Listeners"]
                            for b in world.broker_nlbs}

        self.converged(PER_BROKER, world, "fresh link (3 brokers, 3 consumer zones, 1 cross-account)", sc.manual(world))

        view = sc.link_view(aws, world)
        for b in brokers:
            self.assertEqual([f"{b.ip}:9094"], view.target_groups[f"broker-{b.broker_id}"]["targets"])
        for nlb in world.broker_nlbs:  # the operator's listener is left as it was: ours are none
            self.assertEqual(listeners_before[nlb.broker_id],
                             aws.elbv2.describe_listeners(LoadBalancerArn=nlb.load_balancer_arn)["Listeners"])
        on_the_nlbs = sc.load_balancer_state(aws)
        self.assertFalse([g for g in on_the_nlbs["targetGroups"].values()
                          if g["tags"].get(sc.KEY_TAG) and g["tags"].get(sc.OWNER_TAG) == world.link_id])
        self.assertEqual(3, len(world.zone_ids))
        self.assertIsNone(world.provider_zone_id)
        for zone_id in world.zone_ids:
            consumer = world.consumer_of(zone_id)
            self.assertRecords(world, zone_id, {b.hosts[0]: consumer.broker_endpoint(b.broker_id) for b in brokers})
        self.assertPartnerZoneIsTheOtherAccounts(world)

        self.rerun_writes_nothing(PER_BROKER, world)

    def test_new_and_replaced_brokers_converge_and_an_unprovisioned_broker_is_a_finding(self):
        world = self.kind_world(PER_BROKER, "kpb-change", brokers=3, provisioned=(1, 2, 3, 4))
        self.converge(world)
        self.assertEqual([], sc.link_view(aws, world).target_groups["broker-4"]["targets"])
        sc.update_broker_count(aws, world.cluster_arn, 6)  # one more broker per AZ (three subnets)

        result = self.converged(PER_BROKER, world, "UpdateBrokerCount 3->6 (brokers 5 and 6 not provisioned)",
                                sc.update_broker_count_event(world, 6))

        brokers = {b.broker_id: b for b in sc.brokers(aws, world.cluster_arn)}
        self.assertEqual(6, len(brokers))
        view = sc.link_view(aws, world)
        self.assertEqual([f"{brokers[4].ip}:9094"], view.target_groups["broker-4"]["targets"])
        self.assertIn(("BrokerNeedsProvisioning", "broker-5"), self.findings(result))
        for zone_id in world.zone_ids:
            names = {name for name, _ in view.records[zone_id]}
            self.assertIn(brokers[4].hosts[0], names)
            self.assertNotIn(brokers[5].hosts[0], names)

        replaced = cloud.replace_broker(world.cluster_arn, 2)
        status, output, history, writes = self.run_scenario(
            PER_BROKER, "broker 2 replaced (new IP) + schedule", sc.load_event("schedule-sweep.json", world))

        self.assertEqual("SUCCEEDED", status, self.why(output, history))
        self.assertEqual([], sc.convergence_problems(aws, world))
        self.assertEqual([f'{replaced["newIp"]}:9094'], sc.link_view(aws, world).target_groups["broker-2"]["targets"])
        self.assertEqual({"registerTargets": 1, "deregisterTargets": 1}, dict(writes))
        self.assertMakeBeforeBreak(history)

    def test_target_group_without_the_link_tag_is_a_finding_and_left_alone(self):
        world = self.kind_world(PER_BROKER, "kpb-untagged", provisioned=(1, 2, 3), untagged=(3,))

        status, output, history, _ = self.run_scenario(PER_BROKER, "broker 3's target group not tagged",
                                                       sc.manual(world))

        self.assertEqual("SUCCEEDED", status, self.why(output, history))
        result = self.result_of(output, world)
        self.assertIn("TargetGroupNotTagged", {code for code, _ in self.findings(result)}, result)
        view = sc.link_view(aws, world)
        self.assertEqual([], view.target_groups["broker-3"]["targets"])
        brokers = {b.broker_id: b for b in sc.brokers(aws, world.cluster_arn)}
        for n in (1, 2):
            self.assertEqual([f"{brokers[n].ip}:9094"], view.target_groups[f"broker-{n}"]["targets"])


class ServerlessScenarios(KindCase):

    def test_fresh_link_targets_the_endpoints_interfaces_and_writes_the_wildcard_record(self):
        world = self.kind_world(SERVERLESS, "ksls-fresh", cross_account=PARTNER)
        ips = sc.serverless_ips(aws, world)
        self.assertEqual(2, len(ips))
        endpoint_subnets = [ipaddress.ip_network(s["CidrBlock"]) for s in aws.ec2.describe_subnets(
            SubnetIds=list(world.subnet_ids[:2]))["Subnets"]]
        for ip in ips:  # one interface inside each of the endpoint's subnets
            self.assertEqual(1, sum(ipaddress.ip_address(ip) in net for net in endpoint_subnets), ip)

        result = self.converged(SERVERLESS, world, "fresh link (endpoint in 2 subnets, 4 zones, 1 cross-account)",
                                sc.manual(world))

        view = sc.link_view(aws, world)
        self.assertEqual({"serverless": sorted(f"{ip}:9098" for ip in ips)},
                         {k: g["targets"] for k, g in view.target_groups.items()})
        self.assertEqual({9098: ["serverless"]},
                         {port: l["forwardTo"] for port, l in view.listeners.items() if l["owned"]})
        self.assertEqual(4, len(world.zone_ids))
        for consumer in world.consumers:  # the endpoints' DnsEntries have AWS's shape
            self.assertRegex(consumer.endpoint_dns_name, ENDPOINT_DNS_NAME)
            self.assertEqual(sc.ENDPOINT_ZONE_ID, consumer.endpoint_hosted_zone_id)
        for zone_id in world.zone_ids:
            self.assertRecords(world, zone_id, {sc.SERVERLESS_RECORD: world.alias_target(zone_id)})
        self.assertPartnerZoneIsTheOtherAccounts(world)
        self.assertEqual([], result.get("advertisedListeners") or [])

        self.rerun_writes_nothing(SERVERLESS, world)

    def test_endpoint_subnet_added_then_removed_registers_then_deregisters_its_ip(self):
        world = self.kind_world(SERVERLESS, "ksls-subnets", consumers=("analytics",))
        self.converge(world)
        before = sc.serverless_ips(aws, world)

        after = cloud.add_endpoint_subnet(world.vpc_endpoint_id, world.subnet_ids[2])
        added = sorted(set(after) - set(before))
        self.assertEqual(1, len(added))
        status, output, history, writes = self.run_scenario(SERVERLESS, "endpoint subnet added + schedule",
                                                            sc.load_event("schedule-sweep.json", world))
        self.assertEqual("SUCCEEDED", status, self.why(output, history))
        self.assertTrue(self.result_of(output, world)["converged"], output)
        self.assertEqual([], sc.convergence_problems(aws, world))
        self.assertIn(f"{added[0]}:9098", sc.link_view(aws, world).target_groups["serverless"]["targets"])
        self.assertEqual({"registerTargets": 1}, dict(writes))

        removed_ip = next(ip for ip in after if ip not in cloud.remove_endpoint_subnet(world.vpc_endpoint_id,
                                                                                       world.subnet_ids[0]))
        self.converged(SERVERLESS, world, "endpoint subnet removed + schedule", sc.load_event("schedule-sweep.json", world))
        targets = sc.link_view(aws, world).target_groups["serverless"]["targets"]
        self.assertNotIn(f"{removed_ip}:9098", targets)
        self.assertEqual(2, len(targets))


class Ec2Scenarios(KindCase):

    def test_fresh_link_wires_every_tagged_instance_and_gives_each_its_server_properties(self):
        world = self.kind_world(EC2, "kec2-fresh", cross_account=PARTNER, bootstrap_port=5999)
        brokers, _, _ = sc.ec2_brokers(aws, world)
        self.assertEqual([1, 2, 3], [b.broker_id for b in brokers])

        applied = self.converged(EC2, world, "fresh link (3 instances, 4 zones, 1 cross-account, bootstrap)", sc.manual(world))
        self.assertEqual([1, 2, 3], [p["brokerId"] for p in applied["serverProperties"]])

        view = sc.link_view(aws, world)
        for b in brokers:
            self.assertEqual([f"{b.ip}:9093"], view.target_groups[f"broker-{b.broker_id}"]["targets"])
        self.assertEqual(sorted(f"{b.ip}:9093" for b in brokers), view.target_groups["bootstrap"]["targets"])
        self.assertEqual({5999: ["bootstrap"], 6001: ["broker-1"], 6002: ["broker-2"], 6003: ["broker-3"]},
                         {port: l["forwardTo"] for port, l in view.listeners.items() if l["owned"]})
        name = world.config["recordNames"][0]
        for zone_id in world.zone_ids:
            self.assertRecords(world, zone_id, {name: world.alias_target(zone_id)})
        self.assertPartnerZoneIsTheOtherAccounts(world)

        self.rerun_writes_nothing(EC2, world)
        status, output, history, _ = self.run_scenario(EC2, "dry run for server.properties",
                                                       sc.manual(world, dry_run=True))
        self.assertEqual("SUCCEEDED", status, self.why(output, history))
        instances = {i.broker_id_tag: i for i in sc.ec2_instances(aws, world)}
        properties = {p["brokerId"]: p for p in self.result_of(output, world)["plan"]["serverProperties"]}
        self.assertEqual({1, 2, 3}, set(properties))
        for b in brokers:
            p = properties[b.broker_id]
            self.assertEqual(instances[str(b.broker_id)].instance_id, p["instanceId"])
            self.assertIn("listeners=INTERNAL://0.0.0.0:9092,PRIVATELINK://0.0.0.0:9093", p["lines"])
            self.assertIn(f"advertised.listeners=INTERNAL://{b.ip}:9092,PRIVATELINK://{name}:{6000 + b.broker_id}",
                          p["lines"])
            self.assertIn("listener.security.protocol.map=INTERNAL:SSL,PRIVATELINK:SSL", p["lines"])
            self.assertIn("inter.broker.listener.name=INTERNAL", p["lines"])

    def test_instances_added_replaced_and_terminated_converge_on_their_events(self):
        world = self.kind_world(EC2, "kec2-change", consumers=("analytics",))
        self.converge(world)

        added = cloud.run_broker_instance(world.subnet_ids[0], sc.ec2_broker_tags(world.broker_tag, 4))
        self.converged(EC2, world, "instance added (broker 4) + running event",
                       sc.ec2_event("ec2-instance-running.json", added["instanceId"]))
        view = sc.link_view(aws, world)
        self.assertEqual([f'{added["ip"]}:9093'], view.target_groups["broker-4"]["targets"])
        self.assertEqual(["broker-4"], view.listeners[6004]["forwardTo"])

        broker_2 = next(i for i in sc.ec2_instances(aws, world) if i.broker_id_tag == "2")
        replaced = cloud.replace_broker_instance(broker_2.instance_id)
        self.assertNotEqual(replaced["oldIp"], replaced["newIp"])
        self.converged(EC2, world, "instance replaced (broker 2, new IP) + terminated event",
                       sc.ec2_event("ec2-instance-terminated.json", replaced["oldInstanceId"]))
        view = sc.link_view(aws, world)
        self.assertEqual([f'{replaced["newIp"]}:9093'], view.target_groups["broker-2"]["targets"])
        self.assertMakeBeforeBreak(self.last_history)

        broker_3 = next(i for i in sc.ec2_instances(aws, world) if i.broker_id_tag == "3" and i.state == "running")
        cloud.terminate_instance(broker_3.instance_id)
        status, output, history, writes = self.run_scenario(
            EC2, "instance terminated (broker 3) + terminated event",
            sc.ec2_event("ec2-instance-terminated.json", broker_3.instance_id))
        self.assertEqual("SUCCEEDED", status, self.why(output, history))
        self.assertTrue(self.result_of(output, world)["converged"], output)
        self.assertEqual([], sc.convergence_problems(aws, world))
        view = sc.link_view(aws, world)
        self.assertNotIn("broker-3", view.target_groups)
        self.assertNotIn(6003, view.listeners)
        self.assertEqual({"broker-1", "broker-2", "broker-4"}, set(view.target_groups))
        self.assertEqual({"deleteListener": 1, "deleteTargetGroup": 1}, dict(writes))  # a deleted group needs no deregistering

    def test_a_renamed_record_is_written_in_every_zone_before_the_old_name_is_deleted(self):
        kept, dropped, added = "kec2-names.kafka.internal", "old-kec2-names.kafka.internal", "new-kec2-names.kafka.internal"
        world = self.kind_world(EC2, "kec2-names", consumers=("analytics",), record_names=(kept, dropped))
        self.converge(world)
        renamed = dataclasses.replace(world, config={**world.config, "recordNames": [kept, added]})
        sc.put_link(aws, renamed)

        result = self.converged(EC2, renamed, "record name replaced (1 of 2 names)", sc.manual(renamed))

        # Per zone: the new name's A and TXT upserted, the old name's deleted.
        self.assertEqual((2 * len(world.zone_ids), 2 * len(world.zone_ids)),
                         (result["summary"]["recordsUpserted"], result["summary"]["recordsDeleted"]), result["summary"])
        for zone_id in world.zone_ids:
            self.assertRecords(renamed, zone_id, {kept: world.alias_target(zone_id), added: world.alias_target(zone_id)})
        # Per zone the new name's batch (UPSERT) went before the old name's (DELETE).
        self.assertMakeBeforeBreak(self.last_history)
        record_writes = [w.action for p in apply_order.apply_passes(self.last_history) for w in p.writes]
        self.assertEqual(["changeResourceRecordSets UPSERT"] * 2 + ["changeResourceRecordSets DELETE"] * 2, record_writes)

    def test_an_instance_that_is_no_broker_writes_nothing_and_bad_broker_tags_are_findings(self):
        world = self.kind_world(EC2, "kec2-tags", consumers=("analytics",), provider_zone=False)
        self.converge(world)
        before = sc.snapshot(aws)
        other = cloud.run_broker_instance(world.subnet_ids[1], {"Name": "bastion"})

        status, output, history, _ = self.run_scenario(EC2, "running event of an instance that is no broker",
                                                       sc.ec2_event("ec2-instance-running.json", other["instanceId"]))

        self.assertEqual("SUCCEEDED", status, self.why(output, history))
        self.assertNoWrites(history)
        self.assertEqual(before, sc.snapshot(aws))

        broker_2 = sc.link_view(aws, world).target_groups["broker-2"]["targets"]
        duplicate = cloud.run_broker_instance(world.subnet_ids[2], sc.ec2_broker_tags(world.broker_tag, 2))
        invalid = cloud.run_broker_instance(world.subnet_ids[0], sc.ec2_broker_tags(world.broker_tag, "two"))
        status, output, history, writes = self.run_scenario(
            EC2, "duplicate broker-id tag + invalid broker-id tag", sc.ec2_event("ec2-instance-running.json",
                                                                                 invalid["instanceId"]))

        self.assertEqual("SUCCEEDED", status, self.why(output, history))
        result = self.result_of(output, world)
        self.assertIn(("DuplicateBrokerId", "broker-2"), self.findings(result), result)
        self.assertIn(("InvalidBrokerIdTag", invalid["instanceId"]), self.findings(result), result)
        self.assertEqual({}, dict(writes))  # the healthy brokers were converged already: untouched
        self.assertEqual(broker_2, sc.link_view(aws, world).target_groups["broker-2"]["targets"])
        self.assertNotIn(f'{duplicate["ip"]}:9093', str(sc.load_balancer_state(aws, world.load_balancer_arn)))
        self.assertEqual([], sc.convergence_problems(aws, world))


class AllKindsScenario(KindCase):

    def test_one_sweep_converges_a_link_of_every_kind_in_one_table(self):
        worlds = [
            self.kind_world(SINGLE, "kall-single", consumers=("analytics",), bootstrap_port=None),
            self.kind_world(PER_BROKER, "kall-perbroker", consumers=("analytics",)),
            self.kind_world(SERVERLESS, "kall-serverless", consumers=("analytics",)),
            self.kind_world(EC2, "kall-ec2", consumers=("analytics",)),
        ]
        sweep = sc.load_event("schedule-sweep.json")

        status, output, history, writes = self.run_scenario("all four", "fresh links, one scheduled sweep", sweep)

        self.assertEqual("SUCCEEDED", status, self.why(output, history))
        self.assertTrue(output["converged"], output)
        for world in worlds:
            with self.subTest(kind=world.kind):
                result = self.result_of(output, world)
                self.assertEqual(("succeeded", True), (result["status"], result["converged"]), result)
                self.assertEqual([], sc.convergence_problems(aws, world))
        self.assertEqual(sum(self.result_of(output, w)["summary"]["writeCalls"] for w in worlds), sum(writes.values()))

        before = sc.snapshot(aws)
        status, output, history, _ = self.run_scenario("all four", "converged sweep", sweep)
        self.assertEqual("SUCCEEDED", status, self.why(output, history))
        self.assertNoWrites(history)
        self.assertEqual(before, sc.snapshot(aws))


if __name__ == "__main__":
    unittest.main()
