"""`{"action": "status"}` on the Sweep state machine, end to end in the local cloud.

A wired link then drifts three ways at once: a consumer record taken over by someone else (a
conflict), a target failing its health checks, and three brokers MSK added that are not wired yet.
The status must report each as it is, and write nothing: no Apply execution, no write task in the
sweep or its Observe executions, and ELBv2, Route 53 and the endpoint services exactly as before.
"""
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

import scenario as sc  # noqa: E402
from support import LocalCloud, ScenarioCase, start_module_cloud  # noqa: E402

cloud: LocalCloud | None = None
aws: sc.Aws | None = None


def setUpModule():
    global cloud, aws
    cloud, aws = start_module_cloud()
    StatusScenarios.cloud, StatusScenarios.aws = cloud, aws


class StatusScenarios(ScenarioCase):

    def status(self, execution_input: dict):
        """Runs the status; asserts it wrote nothing anywhere and returns the sweep's output."""
        before = sc.snapshot(aws)
        started = time.monotonic()
        run = cloud.reconcile(execution_input)
        wall = time.monotonic() - started
        self.assertEqual("SUCCEEDED", run.status, run.sweep)
        self.assertEqual([], run.applies, "a status run starts no Apply execution")
        events = [e for e in run.sweep_events if e.get("type") == "TaskScheduled"] + run.observe_events
        self.assertEqual({}, dict(sc.write_calls(events)))
        self.assertEqual(before, sc.snapshot(aws))
        print(f"scenario: status {execution_input} wall={wall:.2f} output={len(run.sweep['output'])} bytes", file=sys.stderr)
        return run.output

    def test_status_reports_a_conflict_an_unhealthy_target_and_pending_brokers_and_writes_nothing(self):
        world = self.world("status")
        self.converge(world)
        analytics, billing = world.consumers
        # A conflict: someone else's TXT record at broker 2's name in billing's zone.
        name2 = next(b.hosts[0] for b in sc.brokers(aws, world.cluster_arn) if b.broker_id == 2)
        aws.route53.change_resource_record_sets(HostedZoneId=billing.hosted_zone_id, ChangeBatch={"Changes": [{
            "Action": "UPSERT", "ResourceRecordSet": {
                "Name": name2, "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": '"owner=someone-else"'}]}}]})
        # An unhealthy target: broker 1's, in its own target group.
        view = sc.link_view(aws, world)
        group1 = view.target_groups["broker-1"]["arn"]
        ip1 = next(b.ip for b in sc.brokers(aws, world.cluster_arn) if b.broker_id == 1)
        cloud.post("elbv2/target-health", {"targetGroupArn": group1, "id": ip1, "port": 9094, "state": "unhealthy",
                                           "reason": "Target.FailedHealthChecks", "description": "Health checks failed"})
        # Pending brokers: MSK added 4-6 (one per AZ); nothing has wired them yet.
        sc.update_broker_count(aws, world.cluster_arn, 6)
        sc.wait_cluster_active(aws, world.cluster_arn)
        brokers = {b.broker_id: b for b in sc.brokers(aws, world.cluster_arn)}

        output = self.status({"action": "status", "linkId": world.link_id})

        [link] = output["links"]
        overview, detail = link["overview"], link["detail"]
        self.assertEqual(("status", "msk-single-nlb", "ACTIVE", False, None),
                         (overview["linkId"], overview["kind"], overview["clusterState"], overview["converged"], overview["blocked"]))
        self.assertGreater(overview["pendingWriteCalls"], 0)
        self.assertEqual({"RecordConflict": 1}, overview["findings"])
        self.assertEqual(6, overview["brokers"])
        # broker 1's target; brokers 4-6 not registered in the bootstrap group, nor in their own groups (not created yet)
        self.assertEqual(1 + 3 + 3, overview["unhealthyTargets"])
        self.assertTrue(overview["lastChange"]["execution"].startswith(f"{world.link_id}-"), overview["lastChange"])
        self.assertGreater(overview["lastChange"]["writeCalls"], 0)

        self.assertEqual({n: (brokers[n].hosts[0], brokers[n].ip, 9000 + n, "wired" if n <= 3 else "pending") for n in range(1, 7)},
                         {b["brokerId"]: (b["name"], b["ip"], b["listenerPort"], b["state"]) for b in detail["brokers"]})
        groups = {g["key"]: g for g in detail["targetGroups"]}
        self.assertEqual({f"broker-{n}": "present" if n <= 3 else "missing" for n in range(1, 7)} | {"bootstrap": "present"},
                         {k: g["state"] for k, g in groups.items()})
        self.assertEqual((group1, 9001, [{"id": ip1, "port": 9094, "health": "unhealthy", "reason": "Target.FailedHealthChecks"}]),
                         (groups["broker-1"]["arn"], groups["broker-1"]["listenerPort"], groups["broker-1"]["targets"]))
        self.assertEqual(8999, groups["bootstrap"]["listenerPort"])
        self.assertEqual({brokers[n].ip: "healthy" if n <= 3 else "not registered" for n in range(1, 7)},
                         {t["id"]: t["health"] for t in groups["bootstrap"]["targets"]})

        zones = {z["owner"]: z for z in detail["zones"]}
        self.assertEqual({"analytics", "billing", "provider"}, set(zones))
        self.assertEqual((3, 6), (zones["analytics"]["owned"], zones["analytics"]["wanted"]))
        self.assertEqual([{"dnsName": analytics.endpoint_dns_name.lower().rstrip("."), "records": 3,
                           "names": sorted(brokers[n].hosts[0] for n in (1, 2, 3))}], zones["analytics"]["pointsTo"])
        self.assertEqual(2, zones["billing"]["owned"])
        self.assertEqual([sorted(brokers[n].hosts[0] for n in (1, 3))], [p["names"] for p in zones["billing"]["pointsTo"]])
        [conflict] = detail["findings"]
        self.assertEqual(("RecordConflict", name2), (conflict["code"], conflict["subject"]))

        text = output["text"]
        self.assertTrue(text.startswith("LINK    KIND            CLUSTER  BROKERS  UNHEALTHY  CONVERGED"), text)
        self.assertRegex(text, r"\nstatus  msk-single-nlb  ACTIVE   6        7          no, \d+ writes pending  RecordConflict x1 ")
        self.assertIn(f"{ip1}:9094", text)
        self.assertIn("unhealthy (Target.FailedHealthChecks)", text)

    def test_status_of_all_links_has_a_row_each_and_a_bad_item_is_a_row_not_a_failure(self):
        first, second = self.world("status-a"), self.world("status-b")
        self.converge(first)
        aws.dynamodb.put_item(TableName=cloud.table, Item={"pk": {"S": "LINK"}, "sk": {"S": "status-bad"}, "kind": {"S": "msk-unknown"}})
        self.addCleanup(aws.dynamodb.delete_item, TableName=cloud.table, Key={"pk": {"S": "LINK"}, "sk": {"S": "status-bad"}})

        output = self.status({"action": "status", "all": True})

        rows = {link["linkId"]: link for link in output["links"]}
        self.assertTrue({"status-a", "status-b", "status-bad"} <= set(rows), rows.keys())
        self.assertTrue(rows["status-a"]["overview"]["converged"])
        self.assertFalse(rows["status-b"]["overview"]["converged"])
        self.assertIsNone(rows["status-b"]["overview"]["lastChange"])
        self.assertEqual(("failed", "BrokerLink.InvalidInput"), (rows["status-bad"]["status"], rows["status-bad"]["error"]))
        lines = output["text"].splitlines()
        self.assertTrue(any(line.startswith("status-bad") and "FAILED BrokerLink.InvalidInput" in line for line in lines), lines)
        self.assertTrue(any(line.startswith("status-b ") and "no, " in line and "none recorded" in line for line in lines), lines)
        del second

    def test_status_is_refused_by_apply_and_with_options_of_a_reconcile_before_anything_runs(self):
        world = self.world("status-refused")
        for state_machine, execution_input, message in [
            ("apply", {"action": "status", "linkId": world.link_id},
             "event.action: 'status' is not answered by this state machine (it answers reconcile): start the Sweep state machine with it"),
            ("sweep", {"action": "status", "linkId": world.link_id, "dryRun": True},
             "event.dryRun: not allowed with action 'status'"),
        ]:
            with self.subTest(state_machine):
                before = sc.snapshot(aws)
                if state_machine == "apply":
                    status, _, history = cloud.start_execution_and_wait(execution_input, "apply")
                    failed = self.failure(history)
                    self.assertNoWrites(history)
                else:
                    run = cloud.reconcile(execution_input)
                    status, failed = run.status, run.sweep
                    self.assertEqual([], run.applies)
                self.assertEqual("FAILED", status)
                self.assertEqual("BrokerLink.InvalidInput", failed["error"])
                self.assertIn(message, failed["cause"])
                self.assertEqual(before, sc.snapshot(aws))


if __name__ == "__main__":
    unittest.main()
