"""End-to-end scenarios of the guards and of per-link failure isolation in the local cloud.

* A plan a guard blocks still applies its additions, then the link fails with BrokerLink.PlanBlocked;
  the operator's `allowRemovals` lets the removals through.
* In an all-links sweep a broken link does not stop the others; Summarise fails the execution with
  that link's own error, or BrokerLink.LinksFailed naming each failed link. A bad table item (one
  Triage cannot read, or whose attributes disagree with its config) is its own link's failure: the
  sweep still converges the others, and nothing is called for it.
* A cluster that stays non-ACTIVE fails its link with BrokerLink.ClusterNotReady, writing nothing.
* A current zone that does not exist fails its link with Route53.NoSuchHostedZoneException, writing
  nothing; the same zone retiring reads as empty and the link converges.

One local cloud for the module, with ClusterPollAttempts=2 so a cluster that never becomes ACTIVE
fails within seconds (tests that change the broker count wait for ACTIVE themselves). Every test
builds its own world with localcloud/scenario.py and removes its link items afterwards. Each
scenario prints `scenario: <name> wall=<s> writes=<n>` to stderr.
"""
import dataclasses
import json
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

import scenario as sc  # noqa: E402
from support import LocalCloud, ScenarioCase, start_module_cloud  # noqa: E402

POLL_ATTEMPTS = 2
cloud: LocalCloud | None = None
aws: sc.Aws | None = None


def setUpModule():
    global cloud, aws
    cloud, aws = start_module_cloud({"ClusterPollAttempts": str(POLL_ATTEMPTS)})
    GuardsAndIsolation.cloud, GuardsAndIsolation.aws = cloud, aws


def last_summary() -> dict:
    """The last run's Summarise output (trigger, dryRun, converged, results, failed), each handed-over link's Apply
    result in its place: the sweep's output when it succeeds, still in its events when it fails."""
    return cloud.last_reconciliation.summary


class GuardsAndIsolation(ScenarioCase):

    # ------------------------------------------------------------------ guards

    def test_blocked_plan_applies_its_additions_then_fails_until_removals_are_allowed(self):
        # MSK removes brokers one per AZ (three subnets), 6 -> 3: half of them, more than this link's share 0.4.
        world = self.world("guarded", brokers=6, max_removal_share=0.4)
        self.converge(world)
        gone = [b for b in sc.brokers(aws, world.cluster_arn) if b.broker_id > 3]
        kept = [b for b in sc.brokers(aws, world.cluster_arn) if 1 < b.broker_id <= 3]
        sc.update_broker_count(aws, world.cluster_arn, 3)
        sc.wait_cluster_active(aws, world.cluster_arn)
        moved = cloud.replace_broker(world.cluster_arn, 1)  # an addition beside the withheld removals
        before = sc.link_view(aws, world)

        status, output, history, writes = self.execute("6->3 brokers + broker 1 moved: blocked", sc.manual(world))

        self.assertEqual("FAILED", status, output)
        failed = self.failure(history)
        self.assertEqual("BrokerLink.PlanBlocked", failed["error"])
        self.assertTrue(failed["cause"].startswith("Link guarded: RemovalShareExceeded: the plan removes "), failed["cause"])
        # The additions went ahead: broker 1's new IP is registered in its group and in bootstrap.
        self.assertEqual({"registerTargets": 2}, dict(writes))
        view = sc.link_view(aws, world)
        new_target, old_target = f'{moved["newIp"]}:9094', f'{moved["oldIp"]}:9094'
        self.assertEqual(sorted([new_target, old_target]), view.target_groups["broker-1"]["targets"])
        self.assertIn(new_target, view.target_groups["bootstrap"]["targets"])
        # The removals did not: the departed brokers keep their target groups, listeners, targets and records.
        for b in gone:
            key = sc.key_of(b.broker_id)
            self.assertEqual(before.target_groups[key], view.target_groups[key])
            self.assertEqual(before.listeners[9000 + b.broker_id], view.listeners[9000 + b.broker_id])
            self.assertIn(f"{b.ip}:9094", view.target_groups["bootstrap"]["targets"])
            for zone_id in world.zone_ids:
                for kind in ("A", "TXT"):
                    self.assertIn((b.hosts[0], kind), view.records[zone_id])
        self.assertEqual(before.records, view.records)
        summary = last_summary()
        result = summary["results"][0]
        self.assertEqual(("failed", "BrokerLink.PlanBlocked", True, False),
                         (result["status"], result["error"], result["applied"], result["converged"]))
        self.assertEqual("RemovalShareExceeded", result["blocked"]["code"])
        self.assertEqual(2, result["summary"]["writeCalls"])
        self.assertFalse(summary["converged"])

        status, output, history, writes = self.execute("blocked again: nothing more to add", sc.manual(world))

        self.assertEqual("FAILED", status, output)
        self.assertEqual("BrokerLink.PlanBlocked", self.failure(history)["error"])
        self.assertNoWrites(history)
        self.assertEqual(view, sc.link_view(aws, world))

        status, output, _, writes = self.execute("allowRemovals after the block", sc.manual(world) | {"allowRemovals": True})

        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual([], sc.convergence_problems(aws, world))
        self.assertEqual((True, None), (output["converged"], output["failed"]))
        result = output["results"][0]
        self.assertEqual(("succeeded", True, True), (result["status"], result["converged"], result["applied"]))
        self.assertIn("RemovalGuardOverridden", [f["code"] for f in result["findings"]])
        after = sc.link_view(aws, world)
        self.assertEqual({"broker-1", "broker-2", "broker-3", "bootstrap"}, set(after.target_groups))
        self.assertEqual(sorted([new_target] + [f"{b.ip}:9094" for b in kept]), after.target_groups["bootstrap"]["targets"])
        for b in gone:
            for zone_id in world.zone_ids:
                self.assertNotIn((b.hosts[0], "A"), after.records[zone_id])
        self.assertEqual({"deregisterTargets": 2, "deleteListener": 3, "deleteTargetGroup": 3,
                          "changeResourceRecordSets": 3}, dict(writes))

    # ------------------------------------------------------------------ isolation

    def test_a_broken_link_does_not_stop_the_others_in_a_sweep(self):
        broken = self.world("iso-a", cluster_name="iso-a")
        fine = self.world("iso-b", cluster_name="iso-b")
        aws.elbv2.delete_load_balancer(LoadBalancerArn=broken.load_balancer_arn)
        sweep = sc.load_event("schedule-sweep.json", fine)

        status, output, history, writes = self.execute("sweep: first link's NLB deleted, second fresh", sweep)

        self.assertEqual("FAILED", status, output)
        failed = self.failure(history)
        self.assertEqual("ElasticLoadBalancingV2.LoadBalancerNotFoundException", failed["error"])
        self.assertTrue(failed["cause"].startswith("Link iso-a: "), failed["cause"])
        self.assertEqual([], sc.convergence_problems(aws, fine))
        summary = last_summary()
        self.assertEqual(["iso-a", "iso-b"], [r["linkId"] for r in summary["results"]])
        first, second = summary["results"]
        self.assertEqual(("failed", "ElasticLoadBalancingV2.LoadBalancerNotFoundException"), (first["status"], first["error"]))
        self.assertEqual(("succeeded", True, True), (second["status"], second["converged"], second["applied"]))
        self.assertEqual(second["summary"]["writeCalls"], sum(writes.values()))

        # A third link whose stored config is bad: two failures now, named one by one; the fine link stays put.
        bad = dataclasses.replace(fine, link_id="iso-c", config=fine.config | {"linkId": "iso-c", "listenerBasePort": 70000})
        sc.put_link(aws, bad)
        self.addCleanup(sc.delete_link, aws, bad)
        before = sc.snapshot(aws)

        status, output, history, writes = self.execute("sweep: two broken links, one converged", sweep)

        self.assertEqual("FAILED", status, output)
        failed = self.failure(history)
        self.assertEqual("BrokerLink.LinksFailed", failed["error"])
        self.assertTrue(failed["cause"].startswith(
            "2 of 3 links failed: iso-a: ElasticLoadBalancingV2.LoadBalancerNotFoundException: "), failed["cause"])
        self.assertIn("; iso-c: BrokerLink.InvalidInput: linkConfig.listenerBasePort: 70000 is not a port", failed["cause"])
        self.assertNoWrites(history)
        self.assertEqual(before, sc.snapshot(aws))
        self.assertEqual(["failed", "succeeded", "failed"], [r["status"] for r in last_summary()["results"]])

    def test_a_link_failing_with_an_error_no_catch_takes_fails_only_itself_and_leaves_no_lock(self):
        # 100 TXT records of 4,000 characters: one page of the zone is over 256 KiB, so reading it ends the link's
        # Observe execution with States.DataLimitExceeded, which no Catch takes on AWS. The sweep started Observe
        # synchronously, so it sees that execution fail, and only that link.
        heavy = self.world("iso-d", cluster_name="iso-d", consumers=("analytics",))
        fine = self.world("iso-e", cluster_name="iso-e", consumers=("analytics",))
        sc.add_large_txt_records(aws, heavy.consumers[0].hosted_zone_id, sc.ZONE_NAME, 100)
        before = sc.link_view(aws, heavy)

        status, output, history, writes = self.execute("sweep: a zone page over 256 KiB in one link, the other fresh",
                                                        sc.load_event("schedule-sweep.json", fine))

        self.assertEqual("FAILED", status, output)
        failed = self.failure(history)
        # A Fail state may not raise a States.* name: the one failed link's error is in LinksFailed's cause.
        self.assertEqual("BrokerLink.LinksFailed", failed["error"])
        self.assertTrue(failed["cause"].startswith("1 of 2 links failed: iso-d: States.DataLimitExceeded: "), failed["cause"])
        results = {r["linkId"]: r for r in last_summary()["results"]}
        self.assertEqual(("failed", "States.DataLimitExceeded"), (results["iso-d"]["status"], results["iso-d"]["error"]))
        self.assertEqual(("succeeded", True, True), (results["iso-e"]["status"], results["iso-e"]["converged"], results["iso-e"]["applied"]))
        self.assertEqual([], sc.convergence_problems(aws, fine))
        self.assertEqual(results["iso-e"]["summary"]["writeCalls"], sum(writes.values()))
        sweep_name = cloud.last_reconciliation.sweep["name"]
        self.assertEqual([f"iso-e-{sweep_name}"], [a["name"] for a in cloud.last_reconciliation.applies])
        self.assertEqual(before, sc.link_view(aws, heavy))
        self.assertEqual([], sc.lock_items(aws, cloud.table))

    def test_a_bad_table_item_fails_only_its_link_and_the_sweep_converges_the_others(self):
        good = self.world("item-good", cluster_name="item-good")
        bad = self.world("item-bad", cluster_name="item-bad", consumers=("analytics",))
        self.converge(good)
        sc.delete_link(aws, bad)
        sweep = sc.load_event("schedule-sweep.json", good)
        stored = {"pk": {"S": "LINK"}, "sk": {"S": bad.link_id}, "kind": {"S": "msk-single-nlb"},
                  "clusterArn": {"S": bad.cluster_arn}, "config": {"S": json.dumps(bad.config)}}
        elsewhere = bad.cluster_arn.replace(":us-east-1:", ":eu-west-1:")
        cases = [
            # (what, the item as stored, the failed link's name in the cause, the cause after it)
            ("unknown kind", stored | {"kind": {"S": "msk-provisioned"}}, bad.link_id,
             "item.kind.S: 'msk-provisioned' is not a known link kind"),
            ("msk item without its clusterArn", {k: v for k, v in stored.items() if k != "clusterArn"}, bad.link_id,
             "item.clusterArn.S: missing (required for kind 'msk-single-nlb'"),
            ("sk that is no link id", stored | {"sk": {"S": "Item-Bad"}}, "(no link id)",
             "item.sk.S: 'Item-Bad' is not a link id"),
            ("kind that its config does not have", stored | {"kind": {"S": "msk-serverless"}}, bad.link_id,
             "item.kind.S: 'msk-serverless' is not the config's kind 'msk-single-nlb'"),
            ("clusterArn of the good link's cluster", stored | {"clusterArn": {"S": good.cluster_arn}}, bad.link_id,
             f"item.clusterArn.S: '{good.cluster_arn}' is not the config's clusterArn {bad.cluster_arn}"),
            ("config's cluster in another region", stored | {"config": {"S": json.dumps(bad.config | {"clusterArn": elsewhere})}},
             bad.link_id, "linkConfig.clusterArn: region eu-west-1 is not this deployment's region us-east-1"),
        ]
        bad_before = sc.link_view(aws, bad)
        for broker_id, (what, item, named, cause) in enumerate(cases, start=1):
            with self.subTest(item=what):
                aws.dynamodb.put_item(TableName=cloud.table, Item=item)
                moved = cloud.replace_broker(good.cluster_arn, (broker_id - 1) % 3 + 1)  # the good link has work to do
                try:
                    status, output, history, writes = self.execute(f"sweep: good link's broker replaced, bad item: {what}", sweep)
                finally:
                    aws.dynamodb.delete_item(TableName=cloud.table, Key={"pk": {"S": "LINK"}, "sk": item["sk"]})

                self.assertEqual("FAILED", status, output)
                failed = self.failure(history)
                self.assertEqual(("BrokerLink.InvalidInput", f"Link {named}: {cause}"),
                                 (failed["error"], failed["cause"][:len(f"Link {named}: {cause}")]), failed)
                # The good link converged in this same run, its new IP in place, and it made every write.
                self.assertEqual([], sc.convergence_problems(aws, good))
                self.assertIn(f'{moved["newIp"]}:9094', sc.link_view(aws, good).target_groups[sc.key_of(moved["brokerId"])]["targets"])
                summary = last_summary()
                ran = {r["linkId"]: r for r in summary["results"]}
                self.assertEqual(("succeeded", True, True), (ran[good.link_id]["status"], ran[good.link_id]["converged"],
                                                             ran[good.link_id]["applied"]))
                self.assertEqual(ran[good.link_id]["summary"]["writeCalls"], sum(writes.values()))
                result = ran[None if named == "(no link id)" else bad.link_id]
                self.assertEqual(("failed", "BrokerLink.InvalidInput"), (result["status"], result["error"]))
                self.assertEqual(2, len(summary["results"]))
                # Nothing was written or even read for the bad item's link: no AWS call of the run (sweep, Observe and
                # Apply executions) names its cluster or load balancer.
                self.assertEqual(bad_before, sc.link_view(aws, bad))
                run = cloud.last_reconciliation
                calls = [e["taskScheduledEventDetails"] for e in history + run.sweep_events + run.observe_events
                         if e["type"] == "TaskScheduled"]
                self.assertIn("aws-sdk:kafka", {c["resourceType"] for c in calls})  # the good link's
                parameters = " ".join(c.get("parameters", "") for c in calls
                                      if c["resourceType"] not in ("lambda", "aws-sdk:dynamodb"))
                self.assertNotIn(bad.cluster_arn, parameters)
                self.assertNotIn(bad.load_balancer_arn, parameters)

    def test_brokers_added_up_to_the_bootstrap_port_are_a_finding_and_every_link_still_converges(self):
        good = self.world("boot-good", cluster_name="boot-good")
        late = self.world("boot-late", cluster_name="boot-late", bootstrap_port=9004)  # free while there are 3 brokers
        self.converge(good)
        self.converge(late)
        sc.update_broker_count(aws, late.cluster_arn, 6)  # MSK adds brokers a multiple of the 3 AZs at a time
        sc.wait_cluster_active(aws, late.cluster_arn)
        added = {b.broker_id: b for b in sc.brokers(aws, late.cluster_arn)}
        moved = cloud.replace_broker(good.cluster_arn, 2)
        sweep = sc.load_event("schedule-sweep.json", good)

        status, output, history, writes = self.execute("sweep: brokers 4-6 added, broker 4's port is the bootstrap port", sweep)

        self.assertEqual("SUCCEEDED", status, output)
        results = {r["linkId"]: r for r in output["results"]}
        self.assertEqual([], sc.convergence_problems(aws, good))
        self.assertIn(f'{moved["newIp"]}:9094', sc.link_view(aws, good).target_groups["broker-2"]["targets"])
        result = results[late.link_id]
        self.assertEqual(("succeeded", True, True), (result["status"], result["converged"], result["applied"]))
        self.assertEqual([("BootstrapPortConflict", "broker-4")], [(f["code"], f["subject"]) for f in result["findings"]])
        self.assertEqual([1, 2, 3, 5, 6], [a["brokerId"] for a in result["advertisedListeners"]])
        # Brokers 5 and 6 are wired; broker 4 gets nothing, and the bootstrap listener keeps its port, without broker 4.
        view = sc.link_view(aws, late)
        self.assertEqual({"broker-1", "broker-2", "broker-3", "broker-5", "broker-6", "bootstrap"}, set(view.target_groups))
        for n in (5, 6):
            self.assertEqual([f"{added[n].ip}:9094"], view.target_groups[f"broker-{n}"]["targets"])
        self.assertEqual(sorted(f"{added[n].ip}:9094" for n in (1, 2, 3, 5, 6)), view.target_groups["bootstrap"]["targets"])
        self.assertEqual({9001: "broker-1", 9002: "broker-2", 9003: "broker-3", 9004: "bootstrap", 9005: "broker-5", 9006: "broker-6"},
                         {port: l["key"] for port, l in view.listeners.items()})
        for zone_id in late.zone_ids:
            self.assertIn((added[5].hosts[0], "A"), view.records[zone_id])
            self.assertIn((added[6].hosts[0], "A"), view.records[zone_id])
            self.assertNotIn((added[4].hosts[0], "A"), view.records[zone_id])
        self.assertEqual(results[good.link_id]["summary"]["writeCalls"] + result["summary"]["writeCalls"], sum(writes.values()))

        status, output, history, writes = self.execute("sweep again: both converged, the finding stays", sweep)

        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual({}, dict(writes))
        self.assertEqual(["BootstrapPortConflict"], [f["code"] for f in {r["linkId"]: r for r in output["results"]}[late.link_id]["findings"]])

    def test_a_deleted_current_zone_fails_its_link_and_the_same_zone_retiring_reads_as_empty(self):
        world = self.world("nozone")
        self.converge(world)
        analytics, billing = world.consumers
        ours = [r for r in aws.route53.list_resource_record_sets(HostedZoneId=billing.hosted_zone_id)["ResourceRecordSets"]
                if r["Type"] in ("A", "TXT")]
        self.assertEqual(6, len(ours))
        aws.route53.change_resource_record_sets(HostedZoneId=billing.hosted_zone_id, ChangeBatch={
            "Changes": [{"Action": "DELETE", "ResourceRecordSet": r} for r in ours]})
        aws.route53.delete_hosted_zone(Id=billing.hosted_zone_id)
        before = sc.snapshot(aws)

        status, output, history, writes = self.execute("current consumer zone deleted", sc.manual(world))

        self.assertEqual("FAILED", status, output)
        failed = self.failure(history)
        self.assertEqual("Route53.NoSuchHostedZoneException", failed["error"])
        self.assertTrue(failed["cause"].startswith("Link nozone: "), failed["cause"])
        self.assertIn(billing.hosted_zone_id, failed["cause"])
        self.assertNoWrites(history)
        self.assertEqual(before, sc.snapshot(aws))

        # The same zone retiring (its consumer removed): nothing of the link's is left there, so the run converges.
        config = world.config | {"consumers": [c for c in world.config["consumers"] if c["name"] != "billing"],
                                 "retiringZones": [{"hostedZoneId": billing.hosted_zone_id, "consumer": "billing"}]}
        retiring = dataclasses.replace(world, consumers=(analytics,), config=config)
        sc.put_link(aws, retiring)

        status, output, history, writes = self.execute("retiring consumer zone deleted", sc.manual(retiring))

        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual((True, False), (output["results"][0]["converged"], output["results"][0]["applied"]))
        self.assertEqual({}, dict(writes))
        self.assertEqual([], sc.convergence_problems(aws, retiring))

    def test_cluster_that_stays_not_active_fails_its_link_and_writes_nothing(self):
        world = self.world("notready")
        cloud.set_config(updateSeconds=600)
        self.addCleanup(cloud.set_config, updateSeconds=2.0)
        sc.update_broker_count(aws, world.cluster_arn, 6)  # one more broker per AZ (three subnets)
        self.assertEqual("UPDATING", sc.cluster_state(aws, world.cluster_arn))
        before = sc.snapshot(aws)

        status, output, history, writes = self.execute("cluster UPDATING beyond the polls", sc.manual(world))

        self.assertEqual("FAILED", status, output)
        failed = self.failure(history)
        self.assertEqual("BrokerLink.ClusterNotReady", failed["error"])
        self.assertEqual(f"Link notready: Cluster {world.cluster_arn} is UPDATING after {POLL_ATTEMPTS} polls", failed["cause"])
        self.assertNoWrites(history)
        self.assertEqual(before, sc.snapshot(aws))
        polls = [e for e in cloud.last_reconciliation.observe_events if e["type"] == "TaskStateEntered"
                 and e["stateEnteredEventDetails"]["name"] == "DescribeCluster"]
        self.assertEqual(1 + POLL_ATTEMPTS + 1, len(polls))  # the sweep's look, then the Apply's first and its polls


if __name__ == "__main__":
    unittest.main()
