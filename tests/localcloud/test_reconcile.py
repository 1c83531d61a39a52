"""End-to-end scenarios of the Reconcile state machine in the local cloud.

One local cloud for the module; every test builds its own VPC, NLB, cluster, zones and link
(and removes its link item afterwards, so a scheduled sweep sees only the test's own link).
Each scenario prints `scenario: <name> wall=<s> writes=<n>` to stderr for the issue note.
"""
import dataclasses
import json
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

import apply_order  # noqa: E402
import scenario as sc  # noqa: E402
from support import LocalCloud, ScenarioCase, start_module_cloud  # noqa: E402

cloud: LocalCloud | None = None
aws: sc.Aws | None = None


def setUpModule():
    global cloud, aws
    cloud, aws = start_module_cloud()
    ReconcileScenarios.cloud, ReconcileScenarios.aws = cloud, aws


class ReconcileScenarios(ScenarioCase):

    # ------------------------------------------------------------------ scenarios

    def test_fresh_link_is_wired_to_every_broker_in_every_zone(self):
        world = self.world("fresh", bootstrap_port=8999)
        brokers = sc.brokers(aws, world.cluster_arn)

        status, output, _, writes = self.execute("fresh link", sc.manual(world))

        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual([], sc.convergence_problems(aws, world))
        view = sc.link_view(aws, world)
        self.assertEqual({"broker-1", "broker-2", "broker-3", "bootstrap"}, set(view.target_groups))
        for b in brokers:
            self.assertEqual([f"{b.ip}:9094"], view.target_groups[f"broker-{b.broker_id}"]["targets"])
        self.assertEqual(sorted(f"{b.ip}:9094" for b in brokers), view.target_groups["bootstrap"]["targets"])
        self.assertEqual({8999: ["bootstrap"], 9001: ["broker-1"], 9002: ["broker-2"], 9003: ["broker-3"]},
                         {port: l["forwardTo"] for port, l in view.listeners.items()})
        for zone_id in world.zone_ids:
            dns_name, alias_zone = world.alias_target(zone_id)
            ours = {k: v for k, v in view.records[zone_id].items() if k[1] in ("A", "TXT")}
            self.assertEqual(6, len(ours), ours)
            for b in brokers:
                self.assertEqual(f"ALIAS {dns_name} {alias_zone}", ours[(b.hosts[0], "A")])
                self.assertEqual(sc.ownership_txt("fresh"), ours[(b.hosts[0], "TXT")])
        result = output["results"][0]
        self.assertEqual(["CLIENT_SECURE://%s:%d" % (b.hosts[0], 9000 + b.broker_id) for b in brokers],
                         [a["entry"] for a in result["advertisedListeners"]])
        self.assertEqual(result["summary"]["writeCalls"], sum(writes.values()))

    def test_update_broker_count_event_wires_the_new_brokers(self):
        world = self.world("grow")
        self.converge(world)
        # MSK adds brokers one per AZ (three subnets): 3 -> 6.
        sc.update_broker_count(aws, world.cluster_arn, 6)
        self.assertEqual("UPDATING", sc.cluster_state(aws, world.cluster_arn))
        event = sc.update_broker_count_event(world, 6)

        status, output, _, _ = self.execute("UpdateBrokerCount 3->6 + CloudTrail event", event)

        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual(6, len(sc.brokers(aws, world.cluster_arn)))
        self.assertEqual([], sc.convergence_problems(aws, world))
        view = sc.link_view(aws, world)
        self.assertEqual({f"broker-{n}" for n in range(1, 7)} | {"bootstrap"}, set(view.target_groups))
        self.assertEqual({8999, 9001, 9002, 9003, 9004, 9005, 9006}, set(view.listeners))

    def test_brokers_removed_by_update_broker_count_lose_their_wiring(self):
        # MSK removes brokers one per AZ (three subnets): 6 -> 3.
        world = self.world("shrink", brokers=6)
        self.converge(world)
        sc.update_broker_count(aws, world.cluster_arn, 3)
        event = sc.update_broker_count_event(world, 3)

        status, output, _, writes = self.execute("UpdateBrokerCount 6->3 + CloudTrail event", event)

        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual([], sc.convergence_problems(aws, world))
        view = sc.link_view(aws, world)
        self.assertEqual({"broker-1", "broker-2", "broker-3", "bootstrap"}, set(view.target_groups))
        self.assertEqual({8999, 9001, 9002, 9003}, set(view.listeners))
        self.assertEqual({"deleteListener": 3, "deleteTargetGroup": 3, "deregisterTargets": 1,
                          "changeResourceRecordSets": 3}, dict(writes))

    def test_removal_guard_withholds_a_large_removal_until_the_operator_allows_it(self):
        # MSK removes brokers one per AZ (three subnets), 6 -> 3: half of them, more than this link's share 0.4.
        world = self.world("guard", brokers=6, max_removal_share=0.4)
        self.converge(world)
        sc.update_broker_count(aws, world.cluster_arn, 3)
        event = sc.update_broker_count_event(world, 3)
        before = sc.link_view(aws, world)

        status, output, history, writes = self.execute("UpdateBrokerCount 6->3, blocked by the guard", event)

        self.assertNoWrites(history)
        self.assertEqual(before, sc.link_view(aws, world))
        if status == "FAILED":  # the contract allows a named error or a result that says blocked
            failed = self.failure(history)
            self.assertIn("RemovalShareExceeded", f'{failed.get("error")} {failed.get("cause")}', failed)
        else:
            result = output["results"][0]
            self.assertEqual("RemovalShareExceeded", (result.get("blocked") or {}).get("code"), result)
            self.assertFalse(result.get("converged"), result)

        allowed = sc.manual(world) | {"allowRemovals": True}
        status, output, _, _ = self.execute("allowRemovals after the guard", allowed)

        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual([], sc.convergence_problems(aws, world))
        self.assertIn("RemovalGuardOverridden", [f["code"] for f in output["results"][0]["findings"]])

    def test_replaced_broker_is_swapped_by_the_scheduled_sweep(self):
        world = self.world("replace")
        self.converge(world)
        replaced = cloud.replace_broker(world.cluster_arn, 2)
        self.assertNotEqual(replaced["oldIp"], replaced["newIp"])
        sweep = sc.load_event("schedule-sweep.json", world)

        status, output, history, writes = self.execute("broker replaced + schedule", sweep)

        self.assertEqual("SUCCEEDED", status, output)
        self.assertMakeBeforeBreak(history)
        self.assertEqual([], sc.convergence_problems(aws, world))
        view = sc.link_view(aws, world)
        self.assertEqual([f'{replaced["newIp"]}:9094'], view.target_groups["broker-2"]["targets"])
        on_the_nlb = sc.load_balancer_state(aws, world.load_balancer_arn)["targetGroups"].values()
        self.assertNotIn(f'{replaced["oldIp"]}:9094', [t for g in on_the_nlb for t in g["targets"]])
        self.assertEqual({"registerTargets": 2, "deregisterTargets": 2}, dict(writes))

    def test_brokers_removed_and_one_replaced_in_one_run_add_before_anything_is_removed(self):
        # 6 -> 3 brokers and broker 1 moved: 6 of 12 targets and 3 of 6 names go, exactly the default share 0.5.
        world = self.world("swap", brokers=6)
        self.converge(world)
        sc.update_broker_count(aws, world.cluster_arn, 3)
        sc.wait_cluster_active(aws, world.cluster_arn)
        moved = cloud.replace_broker(world.cluster_arn, 1)

        status, output, history, writes = self.execute("6->3 brokers + broker 1 moved", sc.manual(world))

        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual([], sc.convergence_problems(aws, world))
        self.assertEqual({"registerTargets": 2, "deregisterTargets": 2, "deleteListener": 3, "deleteTargetGroup": 3,
                          "changeResourceRecordSets": 3}, dict(writes))
        # Broker 1's new IP (in its group and in bootstrap) is in before any target, listener, group or record goes.
        self.assertMakeBeforeBreak(history)
        passes = [p for p in apply_order.apply_passes(history) if p.writes]
        self.assertEqual(1, len(passes), passes)
        self.assertEqual(["registerTargets"] * 2, [w.action for w in passes[0].writes[:2]])
        view = sc.link_view(aws, world)
        self.assertEqual([f'{moved["newIp"]}:9094'], view.target_groups["broker-1"]["targets"])

    def test_a_changed_target_port_registers_the_new_port_before_the_old_port_is_deregistered(self):
        # ELBv2 keys targets by Id and Port: IP:9096 joins IP:9094, which must be deregistered to converge.
        world = self.world("port", consumers=("analytics",))
        self.converge(world)
        moved = dataclasses.replace(world, config={**world.config, "targetPort": 9096})
        sc.put_link(aws, moved)

        status, output, history, writes = self.execute("targetPort 9094 -> 9096", sc.manual(moved))

        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual([], sc.convergence_problems(aws, moved))
        self.assertEqual({"registerTargets": 4, "deregisterTargets": 4}, dict(writes))
        self.assertMakeBeforeBreak(history)
        for key, group in sc.link_view(aws, moved).target_groups.items():
            self.assertTrue(group["draining"] and all(t.endswith(":9094") for t in group["draining"]), (key, group))
            self.assertTrue(group["targets"] and all(t.endswith(":9096") for t in group["targets"]), (key, group))

    def test_converged_link_reruns_without_writes(self):
        world = self.world("steady", bootstrap_port=None)
        self.converge(world)
        self.assertNotIn(8999, sc.link_view(aws, world).listeners)
        before = sc.snapshot(aws)

        status, output, history, writes = self.execute("converged re-run", sc.manual(world))

        self.assertEqual("SUCCEEDED", status, output)
        self.assertNoWrites(history)
        self.assertEqual(before, sc.snapshot(aws))
        result = output["results"][0]
        self.assertEqual((True, False), (result["converged"], result["applied"]))

    def test_events_that_do_not_concern_the_link_are_ignored(self):
        world = self.world("ignore")
        for name in ("cloudtrail-update-broker-count-failed.json", "cloudtrail-other-cluster.json"):
            with self.subTest(event=name):
                before = sc.snapshot(aws)

                status, output, history, writes = self.execute(f"ignored {name}", sc.load_event(name, world))

                self.assertEqual("SUCCEEDED", status, output)
                self.assertEqual([], output["links"])
                self.assertTrue(output["ignored"])
                self.assertNoWrites(history)
                self.assertEqual(before, sc.snapshot(aws))

    def test_dry_run_returns_the_plan_and_writes_nothing(self):
        world = self.world("dry")
        before = sc.snapshot(aws)

        status, output, history, writes = self.execute("dry run", sc.load_event("manual-reconcile-dry-run.json", world))

        self.assertEqual("SUCCEEDED", status, output)
        self.assertNoWrites(history)
        self.assertEqual(before, sc.snapshot(aws))
        plan = output["results"][0]["plan"]
        self.assertTrue(plan["hasChanges"])
        self.assertEqual(["bootstrap", "broker-1", "broker-2", "broker-3"],
                         [c["key"] for c in plan["changes"]["createTargetGroups"]])
        self.assertEqual(3 * 6, sum(len(b["changes"]) for b in plan["changes"]["upsertRecords"]))

    def test_bad_inputs_fail_with_a_named_error_and_change_nothing(self):
        self.world("bad")
        cases = [(p.name, sc.load_event(p.name), "BrokerLink.InvalidInput")
                 for p in sorted(sc.EVENTS.glob("invalid-*.json"))]
        cases.append(("unknown link", {"action": "reconcile", "linkId": "no-such-link"}, "BrokerLink.UnknownLink"))
        self.assertGreater(len(cases), 1)
        for name, execution_input, error in cases:
            with self.subTest(input=name):
                before = sc.snapshot(aws)

                status, output, history, writes = self.execute(f"bad input {name}", execution_input)

                self.assertEqual("FAILED", status, output)
                self.assertEqual(error, self.failure(history).get("error"))
                self.assertNoWrites(history)
                self.assertEqual(before, sc.snapshot(aws))

    def test_record_that_is_not_ours_is_reported_and_left_alone(self):
        world = self.world("foreign")
        host = sc.brokers(aws, world.cluster_arn)[0].hosts[0]
        zone_id = world.consumers[0].hosted_zone_id
        sc.add_foreign_record(aws, zone_id, host)

        status, output, _, _ = self.execute("foreign record", sc.manual(world))

        self.assertEqual("SUCCEEDED", status, output)
        findings = output["results"][0]["findings"]
        self.assertIn(("RecordConflict", host), [(f["code"], f["subject"].rstrip(".")) for f in findings], findings)
        records = sc.records(aws, zone_id)
        self.assertEqual("192.0.2.10", records[(host, "A")])
        self.assertNotIn((host, "TXT"), records)
        self.assertEqual([], [p for p in sc.convergence_problems(aws, world) if host not in p])

    def test_records_owned_by_someone_else_another_link_or_a_cname_are_conflicts_left_untouched(self):
        world = self.world("owners")
        hosts = {b.broker_id: b.hosts[0] for b in sc.brokers(aws, world.cluster_arn)}
        analytics, billing = (c.hosted_zone_id for c in world.consumers)
        # broker 1 in analytics: an A record with another owner's TXT (external-dns); broker 2 in analytics: an A
        # record with the TXT of another BrokerLink link; broker 3 in billing: a CNAME.
        foreign = {
            (analytics, hosts[1]): [("A", "192.0.2.11"), ("TXT", '"heritage=external-dns,external-dns/owner=k8s"')],
            (analytics, hosts[2]): [("A", "192.0.2.12"), ("TXT", sc.ownership_txt("another-link"))],
            (billing, hosts[3]): [("CNAME", "elsewhere.example.com")],
        }
        for (zone_id, name), records in foreign.items():
            put_records(zone_id, name, records)
        before = {key: self.records_at(*key) for key in foreign}

        for run in ("sweep", "second sweep"):
            with self.subTest(run=run):
                status, output, history, writes = self.execute(
                    f"records of other owners ({run})", sc.load_event("schedule-sweep.json", world))

                self.assertEqual("SUCCEEDED", status, output)
                result = output["results"][0]
                conflicts = {(f["subject"].rstrip("."), zone) for f in result["findings"] if f["code"] == "RecordConflict"
                             for zone in (analytics, billing) if zone in f["message"]}
                self.assertEqual({(name, zone_id) for zone_id, name in foreign}, conflicts, result["findings"])
                self.assertEqual(before, {key: self.records_at(*key) for key in foreign})
                self.assertEqual([], [c for c in record_changes(history) if c[:2] in foreign])
                # Everything else converges: broker 3 in analytics, brokers 1 and 2 in billing, every broker in the
                # provider zone, all target groups and listeners.
                labels = {(world.zone_label(zone_id), name) for zone_id, name in foreign}
                self.assertEqual([], [p for p in sc.convergence_problems(aws, world)
                                      if not any(p.startswith(f"{label} ") and name in p for label, name in labels)])
        self.assertEqual({}, dict(writes), "the second sweep has nothing left to write")

    def records_at(self, zone_id: str, name: str) -> dict:
        return {k: v for k, v in sc.records(aws, zone_id).items() if k[0] == name}


def put_records(zone_id: str, name: str, records: list[tuple[str, str]]) -> None:
    """Records somebody else made at `name` (one value each, TTL 300), in one batch."""
    aws.route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {"Name": name, "Type": kind, "TTL": 300,
                                                   "ResourceRecords": [{"Value": value}]}}
        for kind, value in records]})


def record_changes(history: list[dict]) -> list[tuple[str, str, str, str]]:
    """(zone id, name, type, action) of every record change the runs' ChangeResourceRecordSets tasks carried."""
    found = []
    for e in history:
        details = e.get("taskScheduledEventDetails") or {}
        if e["type"] == "TaskScheduled" and details["resource"] == "changeResourceRecordSets":
            parameters = json.loads(details["parameters"])
            for change in parameters["ChangeBatch"]["Changes"]:
                record = change["ResourceRecordSet"]
                found.append((parameters["HostedZoneId"], record["Name"].lower().rstrip("."), record["Type"],
                              change["Action"]))
    return found


if __name__ == "__main__":
    unittest.main()
