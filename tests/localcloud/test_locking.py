"""One writer per link: the Reconcile state machine's per-link lock, in the local cloud.

Many executions for one link at once converge it once, with no duplicate target groups or
listeners and no overlapping apply phases; a crashed execution's lock is taken over after its
lease; a held lock coalesces the run into the holder's; a converged run writes nothing, the
lock included; a failing apply releases the lock. Each scenario prints
`scenario: <name> wall=<s> writes=<n>` to stderr for the issue note.
"""
import json
import sys
import time
import unittest
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

import scenario as sc  # noqa: E402
from support import LocalCloud, MakeBeforeBreak, start_module_cloud  # noqa: E402

cloud: LocalCloud | None = None
aws: sc.Aws | None = None
CONCURRENT = 6
APPLY_SERVICES = ("elasticloadbalancingv2", "route53")
# Where an Apply execution can fail once it holds the lock: (case, world, service, action, wire code, skip, error,
# wiring writes scheduled before the failure, wiring writes not scheduled). "fresh": a new link (creations and
# upserts); "shrunk": a converged 6-broker link whose cluster went down to 3 (deregistrations, record deletes, listener
# and target group deletes). The skips count the calls let through first, in an Apply execution of a link with two
# zones: ListNodes once per link observe (without the lock, under it, to verify), ListResourceRecordSets once per zone
# in each of those and once in each zone plan.
CREATE = "createTargetGroup registerTargets createListener"
RECORDS, DELETE = "changeResourceRecordSets", "deleteListener deleteTargetGroup"
FAILURE_POINTS = [
    ("createTargetGroup", "fresh", "elbv2", "CreateTargetGroup", "TooManyTargetGroups", 1,
     "ElasticLoadBalancingV2.TooManyTargetGroupsException", "createTargetGroup", RECORDS),
    ("registerTargets", "fresh", "elbv2", "RegisterTargets", "TooManyTargets", 1,
     "ElasticLoadBalancingV2.TooManyTargetsException", "createTargetGroup registerTargets", RECORDS),
    ("createListener", "fresh", "elbv2", "CreateListener", "TooManyListeners", 1,
     "ElasticLoadBalancingV2.TooManyListenersException", "createTargetGroup createListener", RECORDS),
    ("changeResourceRecordSets UPSERT", "fresh", "route53", "ChangeResourceRecordSets", "InvalidChangeBatch", 0,
     "Route53.InvalidChangeBatchException", f"{CREATE} {RECORDS}", ""),
    ("observe under the lock", "fresh", "kafka", "ListNodes", "NotFoundException", 1, "Kafka.NotFoundException",
     "", f"{CREATE} {RECORDS}"),
    ("zone plan of the upserts", "fresh", "route53", "ListResourceRecordSets", "NoSuchHostedZone", 4,
     "Route53.NoSuchHostedZoneException", CREATE, RECORDS),
    ("verify observe", "fresh", "kafka", "ListNodes", "NotFoundException", 2, "Kafka.NotFoundException",
     f"{CREATE} {RECORDS}", ""),
    ("deregisterTargets", "shrunk", "elbv2", "DeregisterTargets", "InvalidTarget", 0,
     "ElasticLoadBalancingV2.InvalidTargetException", "deregisterTargets", f"{RECORDS} {DELETE}"),
    ("changeResourceRecordSets DELETE", "shrunk", "route53", "ChangeResourceRecordSets", "InvalidChangeBatch", 0,
     "Route53.InvalidChangeBatchException", f"deregisterTargets {RECORDS}", DELETE),
    ("zone plan of the deletes", "shrunk", "route53", "ListResourceRecordSets", "NoSuchHostedZone", 4,
     "Route53.NoSuchHostedZoneException", "deregisterTargets", f"{RECORDS} {DELETE}"),
    ("deleteListener", "shrunk", "elbv2", "DeleteListener", "ListenerNotFound", 1,
     "ElasticLoadBalancingV2.ListenerNotFoundException", f"deregisterTargets {RECORDS} deleteListener", "deleteTargetGroup"),
    ("deleteTargetGroup", "shrunk", "elbv2", "DeleteTargetGroup", "ResourceInUse", 1,
     "ElasticLoadBalancingV2.ResourceInUseException", f"deregisterTargets {RECORDS} {DELETE}", ""),
]


def setUpModule():
    global cloud, aws
    cloud, aws = start_module_cloud()


def apply_interval(history: list[dict]) -> tuple[datetime, datetime] | None:
    """From the first ELBv2/Route 53 write scheduled to the end of the last one (None: no such write)."""
    by_id = {e["id"]: e for e in history}
    writes = [e for e in history if e["type"] == "TaskScheduled"
              and e["taskScheduledEventDetails"]["resource"] in sc.WRITE_ACTIONS
              and e["taskScheduledEventDetails"]["resourceType"].endswith(APPLY_SERVICES)]
    if not writes:
        return None
    write_ids = {e["id"] for e in writes}
    ends = []
    for e in history:
        if e["type"] in ("TaskSucceeded", "TaskFailed"):
            started = by_id.get(e.get("previousEventId"))
            scheduled = started and by_id.get(started.get("previousEventId"))
            if (started and started["id"] in write_ids) or (scheduled and scheduled["id"] in write_ids):
                ends.append(e["timestamp"])
    return writes[0]["timestamp"], max(ends + [writes[-1]["timestamp"]])


class LockingScenarios(unittest.TestCase, MakeBeforeBreak):

    def world(self, link_id: str, **options) -> sc.World:
        options = {"consumers": ("analytics",)} | options
        world = sc.build_world(aws, link_id, table=cloud.table, **options)
        self.addCleanup(sc.delete_link, aws, world)
        self.addCleanup(self.delete_lock, world)
        return world

    def lock(self, world: sc.World) -> dict | None:
        return aws.dynamodb.get_item(TableName=world.table, ConsistentRead=True,
                                     Key={"pk": {"S": "LOCK"}, "sk": {"S": world.link_id}}).get("Item")

    def put_lock(self, world: sc.World, owner: str, expires_at: str, dirty: bool = False) -> None:
        aws.dynamodb.put_item(TableName=world.table, Item={
            "pk": {"S": "LOCK"}, "sk": {"S": world.link_id}, "owner": {"S": owner},
            "expiresAt": {"S": expires_at}, "dirty": {"BOOL": dirty}})

    def delete_lock(self, world: sc.World) -> None:
        aws.dynamodb.delete_item(TableName=world.table, Key={"pk": {"S": "LOCK"}, "sk": {"S": world.link_id}})

    def execute(self, scenario: str, execution_input: dict):
        started = time.monotonic()
        status, output, history = cloud.start_execution_and_wait(execution_input)
        self.assertNoBreakBeforeMake(history)
        writes = sc.write_calls(history)
        print(f"scenario: {scenario} wall={time.monotonic() - started:.2f} writes={sum(writes.values())}",
              file=sys.stderr)
        return status, output, history, writes

    def owned_resources(self, world: sc.World) -> tuple[Counter, Counter]:
        """Every target group in the region and every listener of the NLB that the link owns, counted by key / port."""
        elbv2 = aws.elbv2
        groups = [g["TargetGroupArn"] for p in elbv2.get_paginator("describe_target_groups").paginate()
                  for g in p["TargetGroups"]]
        listeners = [l for p in elbv2.get_paginator("describe_listeners").paginate(
            LoadBalancerArn=world.load_balancer_arn) for l in p["Listeners"]]
        arns = groups + [l["ListenerArn"] for l in listeners]
        tags = {}
        for i in range(0, len(arns), 20):
            for d in elbv2.describe_tags(ResourceArns=arns[i:i + 20])["TagDescriptions"]:
                tags[d["ResourceArn"]] = {t["Key"]: t["Value"] for t in d["Tags"]}
        keys = Counter(tags[a][sc.KEY_TAG] for a in groups if tags.get(a, {}).get(sc.OWNER_TAG) == world.link_id)
        ports = Counter(l["Port"] for l in listeners)
        return keys, ports

    # ------------------------------------------------------------------ scenarios

    def test_simultaneous_executions_for_one_link_apply_once_and_never_overlap(self):
        world = self.world("herd")
        started = time.monotonic()
        executions = [cloud.start_execution(sc.manual(world), name=f"herd-{n}-{time.time_ns()}")
                      for n in range(CONCURRENT)]
        described = {e: cloud.wait_for_execution(e, timeout=240) for e in executions}
        wall = time.monotonic() - started
        histories = {e: cloud.execution_history(e) for e in executions}
        for history in histories.values():
            self.assertNoBreakBeforeMake(history)

        self.assertEqual(["SUCCEEDED"] * CONCURRENT, [described[e]["status"] for e in executions],
                         [described[e].get("output") for e in executions])
        # They really ran at once: the last one started before the first one ended.
        starts, stops = [described[e]["startDate"] for e in executions], [described[e]["stopDate"] for e in executions]
        self.assertLess(max(starts), min(stops), list(zip(starts, stops)))
        self.assertEqual([], sc.convergence_problems(aws, world))
        keys, ports = self.owned_resources(world)
        self.assertEqual({"broker-1": 1, "broker-2": 1, "broker-3": 1, "bootstrap": 1}, dict(keys))
        self.assertEqual({8999: 1, 9001: 1, 9002: 1, 9003: 1}, dict(ports))
        self.assertIsNone(self.lock(world))

        intervals = sorted(i for i in map(apply_interval, histories.values()) if i)
        self.assertGreaterEqual(len(intervals), 1)
        for (_, end), (start, _) in zip(intervals, intervals[1:]):
            self.assertLess(end, start, f"apply phases overlap: {intervals}")
        results = [json.loads(described[e]["output"])["results"][0] for e in executions]
        applied = [r for r in results if r.get("applied")]
        coalesced = [r for r in results if r.get("coalesced")]
        # The first writer applies; the others coalesce into it or (started late) find the link converged.
        self.assertGreaterEqual(len(applied), 1, results)
        self.assertEqual(len(intervals), len(applied), results)
        self.assertTrue(all(r["converged"] for r in results if not r.get("coalesced")), results)
        per_execution = [dict(sc.write_calls(histories[e])) for e in executions]
        if coalesced and len(applied) == 1:
            # The triggers it coalesced made the holder run once more (MarkLockClean) before releasing.
            holder = per_execution[results.index(applied[0])]
            self.assertGreaterEqual(holder.get("updateItem", 0), 1, holder)
        for r, writes in zip(results, per_execution):
            if r.get("coalesced"):
                # A refused acquire (once more if the holder let go in between), then the dirty flag: no ELBv2, no Route 53.
                self.assertLessEqual(set(writes), {"putItem", "updateItem"}, writes)
                self.assertIn(writes["putItem"], (1, 2), writes)
        print(f"scenario: {CONCURRENT} simultaneous executions wall={wall:.2f} applied={len(applied)} "
              f"coalesced={len(coalesced)} apply-phases={len(intervals)} "
              f"writes={[sum(w.values()) for w in per_execution]}", file=sys.stderr)

    def test_a_crashed_executions_expired_lock_is_taken_over(self):
        world = self.world("crashed")
        self.put_lock(world, "arn:aws:states:us-east-1:123456789012:execution:brokerlink-reconcile:crashed",
                      "2000-01-01T00:00:00.000Z")

        status, output, _, writes = self.execute("expired lock taken over", sc.manual(world))

        self.assertEqual("SUCCEEDED", status, output)
        self.assertTrue(output["results"][0]["applied"], output)
        self.assertEqual([], sc.convergence_problems(aws, world))
        self.assertIsNone(self.lock(world))
        self.assertEqual({"putItem LOCK": 1, "putItem CHANGE": 1, "deleteItem LOCK": 1}, dict(sc.table_writes(cloud.last_reconciliation.history)))

    def test_the_lock_of_an_execution_that_ended_is_taken_over_before_its_lease(self):
        world = self.world("stopped")
        ended = cloud.start_execution(sc.manual(world, dry_run=True))
        cloud.wait_for_execution(ended)
        self.put_lock(world, ended, "2999-01-01T00:00:00.000Z", dirty=True)

        status, output, _, writes = self.execute("lock of an ended execution taken over", sc.manual(world))

        self.assertEqual("SUCCEEDED", status, output)
        self.assertTrue(output["results"][0]["applied"], output)
        self.assertEqual([], sc.convergence_problems(aws, world))
        self.assertIsNone(self.lock(world))
        self.assertEqual(2, sc.table_writes(cloud.last_reconciliation.history)["putItem LOCK"], "the refused acquire, then the take-over")

    def test_a_held_lock_coalesces_the_run_into_the_holders(self):
        world = self.world("held")
        holder = "arn:aws:states:us-east-1:123456789012:execution:brokerlink-reconcile:holder"
        self.put_lock(world, holder, "2999-01-01T00:00:00.000Z")

        status, output, _, writes = self.execute("held lock coalesces", sc.manual(world))

        self.assertEqual("SUCCEEDED", status, output)
        result = output["results"][0]
        self.assertTrue(result["coalesced"], result)
        self.assertFalse(result["applied"])
        self.assertFalse(output["converged"])
        # The holder is not an execution Step Functions knows: it counts as live.
        self.assertEqual({"putItem": 1, "updateItem": 1}, dict(writes), "a failed acquire, then the dirty flag")
        self.assertEqual({}, sc.link_view(aws, world).target_groups, "no ELBv2 writes")
        lock = self.lock(world)
        self.assertEqual({"owner": holder, "dirty": True}, {"owner": lock["owner"]["S"], "dirty": lock["dirty"]["BOOL"]})

    def test_a_converged_run_writes_nothing_not_even_the_lock(self):
        world = self.world("calm")
        status, output, _, _ = self.execute("first run", sc.manual(world))
        self.assertEqual("SUCCEEDED", status, output)

        status, output, _, writes = self.execute("converged run", sc.manual(world))

        self.assertEqual("SUCCEEDED", status, output)
        self.assertFalse(output["results"][0]["applied"])
        self.assertEqual({}, dict(writes))
        self.assertIsNone(self.lock(world))

    def test_a_failing_apply_releases_the_lock(self):
        world = self.world("broken")
        cloud.inject_fault("elbv2", "CreateListener", "TooManyListeners", count=1)  # modelled and not retried
        self.addCleanup(cloud.clear_faults)

        status, output, history, writes = self.execute("failing apply", sc.manual(world))

        self.assertEqual("FAILED", status, output)
        failed = [e["executionFailedEventDetails"] for e in history if e["type"] == "ExecutionFailed"]
        self.assertIn("ElasticLoadBalancingV2.TooManyListenersException", failed[0]["error"])
        self.assertIsNone(self.lock(world))
        # The lock, taken and released; the last change, recorded as the writes began.
        self.assertEqual({"putItem LOCK": 1, "putItem CHANGE": 1, "deleteItem LOCK": 1}, dict(sc.table_writes(history)))

        status, output, _, _ = self.execute("rerun after the failure", sc.manual(world))
        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual([], sc.convergence_problems(aws, world))
        self.assertIsNone(self.lock(world))

    def apply(self, world: sc.World):
        """One Apply execution of the link (no sweep before it): (status, error, history)."""
        described = cloud.wait_for_execution(cloud.start_execution(sc.manual(world)), timeout=180)
        return described["status"], described.get("error"), cloud.execution_history(described["executionArn"])

    def test_a_failure_at_each_point_after_the_lock_is_taken_leaves_no_lock_and_the_next_run_converges(self):
        """A fault at each write task of an Apply execution, and in each observation it makes under the lock: the
        execution fails with the fault's name, its lock item is gone, and the next run converges."""
        cloud.set_config(retryWaitScale=0.01)  # DeleteTargetGroup retries ResourceInUse 5 times, from 5 s on
        self.addCleanup(cloud.set_config, retryWaitScale=1.0)
        for n, (case, start, service, action, code, skip, error, written, unwritten) in enumerate(FAILURE_POINTS):
            with self.subTest(case):
                world = self.world(f"lockfail-{n}", brokers=6 if start == "shrunk" else 3)
                if start == "shrunk":
                    self.assertEqual("SUCCEEDED", self.apply(world)[0])
                    sc.update_broker_count(aws, world.cluster_arn, 3)
                    sc.wait_cluster_active(aws, world.cluster_arn)
                self.addCleanup(cloud.clear_faults)
                cloud.inject_fault(service, action, code, count=100, skip=skip)

                status, failed, history = self.apply(world)
                cloud.clear_faults()
                self.assertNoBreakBeforeMake(history)

                self.assertEqual(("FAILED", error), (status, failed), case)
                # It failed where the fault was meant to land: after these writes, before those.
                writes = set(sc.wiring_writes(history))
                self.assertEqual((set(written.split()), set()), (writes & set(written.split() + unwritten.split()),
                                                                 writes & set(unwritten.split())), (case, writes))
                self.assertIsNone(self.lock(world), case)
                # It failed holding the lock: taken once, released once (by the failure path); the last change recorded
                # once if it got to its writes; nothing else.
                self.assertEqual({"putItem LOCK": 1, "deleteItem LOCK": 1} | ({"putItem CHANGE": 1} if written else {}),
                                 dict(sc.table_writes(history)), case)
                self.assertEqual(1, sum(e["type"] == "TaskStateEntered" and e["stateEnteredEventDetails"]["name"]
                                        == "ReleaseLockAfterFailure" for e in history), case)

                status, _, history = self.apply(world)

                self.assertEqual("SUCCEEDED", status, case)
                self.assertNoBreakBeforeMake(history)
                self.assertEqual([], sc.convergence_problems(aws, world), case)
                self.assertIsNone(self.lock(world), case)


if __name__ == "__main__":
    unittest.main()
