"""Faults as real executions in the local cloud: each run either retries to success or fails with a
named error, and the next run converges with no duplicate target groups or listeners.

Faults come from the moto extension's fault schedule (localcloud/motoext/faults.py): the next N
calls of an API fail with an AWS error code, optionally only in one account, after letting some
calls through, or after a delay. `retryWaitScale` shrinks the waits of the state machine's Retry
policies (the number of attempts stays the ASL's), so exhausting a Route 53 Retry of 8 attempts
takes a second instead of minutes.

One local cloud for the module; every scenario builds its own world and removes its link item
afterwards. Each scenario prints
`fault: <name> wall=<s> writes=<n> faults=<n> result=<status error, ...>` to stderr (writes: the
ELBv2 and Route 53 write tasks scheduled, retries included, the lock item's not; faults: injected
calls that failed).
"""
import dataclasses
import json
import sys
import time
import types
import unittest
import uuid
from collections import Counter
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

import scenario as sc  # noqa: E402
from support import LocalCloud, MakeBeforeBreak, start_module_cloud, wait_until  # noqa: E402

RETRY_WAIT_SCALE = 0.01
CONSUMER_ACCOUNT = "210987654321"
# MaxAttempts of the ASL's Retry policies: ELBv2 6, Route 53 8, so 7 and 9 calls in all.
ELBV2_CALLS, ROUTE53_CALLS, ROUTE53_CATCH_ALL_CALLS = 7, 9, 7
# The names Step Functions gives the unmodelled code Throttling (and every other unmodelled error of the service).
ELBV2_CATCH_ALL = "ElasticLoadBalancingV2.ElasticLoadBalancingV2Exception"
ROUTE53_CATCH_ALL = "Route53.Route53Exception"
REMOVALS = ("deregisterTargets", "deleteListener", "deleteTargetGroup")

cloud: LocalCloud | None = None
aws: sc.Aws | None = None
sfn = None


def setUpModule():
    global cloud, aws, sfn
    cloud, aws = start_module_cloud()
    sfn = cloud.client("stepfunctions")
    cloud.set_config(retryWaitScale=RETRY_WAIT_SCALE)


@dataclasses.dataclass
class Run:
    status: str
    output: dict | None
    history: list  # the Apply execution's
    writes: Counter
    wall: float
    observed: list = dataclasses.field(default_factory=list)  # the events of the Observe executions it started

    @property
    def failure(self) -> dict:
        failed = [e["executionFailedEventDetails"] for e in self.history if e["type"] == "ExecutionFailed"]
        return failed[0] if failed else {}

    def task_failures(self, resource: str) -> list[str]:
        """Errors of the failed attempts of one aws-sdk action (e.g. registerTargets), retries included, in the Apply
        execution and the Observe executions it started."""
        return [e["taskFailedEventDetails"]["error"] for e in self.history + self.observed
                if e["type"] == "TaskFailed" and e["taskFailedEventDetails"].get("resource") == resource]


class Faults(unittest.TestCase, MakeBeforeBreak):

    def setUp(self):
        self.other_account: dict[str, bool] = {}
        self.runs: list[Run] = []
        self.injected: list[tuple[str, str, int]] = []
        self.taken = 0
        self.addCleanup(cloud.clear_faults)

    def tearDown(self):
        if self.runs:
            result = ", ".join(f"{r.status} {r.failure.get('error', '')}".rstrip() for r in self.runs)
            print(f"fault: {self._testMethodName.removeprefix('test_')} wall={sum(r.wall for r in self.runs):.2f} "
                  f"writes={sum(sum(r.writes.values()) for r in self.runs)} faults={self.faults_taken()} result={result}",
                  file=sys.stderr)

    # ------------------------------------------------------------------ helpers

    def world(self, link_id: str, **options) -> sc.World:
        options = {"consumers": ("analytics",)} | options
        world = sc.build_world(aws, link_id, table=cloud.table, **options)
        self.addCleanup(sc.delete_link, aws, world)
        return world

    def inject(self, service, action, code=None, count=1, **options):
        cloud.inject_fault(service, action, code, count=count, **options)
        if code:
            self.injected.append((service, action, count))

    def clear_faults(self) -> None:
        self.taken = self.faults_taken()
        self.injected = []
        cloud.clear_faults()

    def faults_taken(self) -> int:
        """Injected failures that calls ran into: what was injected less what is left (plus those of cleared faults)."""
        left = Counter()
        for f in cloud.post("faults", method="GET")["faults"]:
            if f.get("code"):
                left[(f["service"], f["action"])] += f["count"]
        injected = Counter()
        for service, action, count in self.injected:
            injected[({"elasticloadbalancingv2": "elbv2"}.get(service, service), action)] += count
        return self.taken + sum(injected.values()) - sum(left.values())

    def start(self, execution_input: dict) -> str:
        self.observe_mark = cloud.express_mark()
        return sfn.start_execution(stateMachineArn=cloud.state_machines["apply"],
                                   input=json.dumps(execution_input))["executionArn"]

    def history(self, execution_arn: str) -> list[dict]:
        events, token = [], None
        while True:
            page = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                             **({"nextToken": token} if token else {}))
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events

    def wait_for_task(self, execution_arn: str, resource: str, timeout: float = 30) -> None:
        """Until the execution has scheduled a task of this aws-sdk action."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resource"] == resource
                   for e in self.history(execution_arn)):
                return
            time.sleep(0.05)
        self.fail(f"no {resource} task within {timeout} s")

    def finish(self, execution_arn: str, started: float, timeout: float = 120) -> Run:
        deadline = time.monotonic() + timeout
        while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
            self.assertLess(time.monotonic(), deadline, f"still running after {timeout} s")
            time.sleep(0.1)
        history = self.history(execution_arn)
        output = described.get("output")
        observed = [e for o in cloud.express_executions(after=self.observe_mark) for e in o["events"]]
        run = Run(described["status"], json.loads(output) if output else None, history, sc.wiring_writes(history),
                  time.monotonic() - started, observed)
        self.assertNoBreakBeforeMake(history)
        self.runs.append(run)
        return run

    def execute(self, world: sc.World) -> Run:
        started = time.monotonic()
        return self.finish(self.start(sc.manual(world)), started)

    def assert_failed(self, run: Run, error: str, world: sc.World) -> None:
        self.assertEqual("FAILED", run.status, run.output)
        self.assertEqual(error, run.failure.get("error"), run.failure)
        self.assertTrue(run.failure.get("cause", "").startswith(f"Link {world.link_id}: "), run.failure)

    def assert_converged_without_duplicates(self, run: Run, world: sc.World) -> None:
        """Converged (zones of this account; a test checks another account's zone itself), and the link owns one
        target group per key in the whole region (a group left without a listener is not on the NLB's list) and
        one listener per key."""
        self.assertEqual("SUCCEEDED", run.status, (run.output, run.failure))
        self.assertTrue(run.output["converged"], run.output)
        own_zones = tuple(c for c in world.consumers if not self.other_account.get(c.hosted_zone_id))
        self.assertEqual([], sc.convergence_problems(aws, dataclasses.replace(world, consumers=own_zones)))
        keys = self.owned_group_keys(world)
        wanted = len(sc.brokers(aws, world.cluster_arn)) + (world.bootstrap_port is not None)
        self.assertEqual(wanted, len(keys), keys)
        self.assertEqual(len(keys), len(set(keys)), f"duplicate target groups: {keys}")
        listeners = sc.load_balancer_state(aws, world.load_balancer_arn)["listeners"]
        self.assertEqual(wanted, len(listeners), list(listeners))

    def owned_group_keys(self, world: sc.World) -> list[str]:
        groups = sc.load_balancer_state(aws)["targetGroups"].values()
        return sorted(g["tags"].get(sc.KEY_TAG) for g in groups if g["tags"].get(sc.OWNER_TAG) == world.link_id)

    def assert_only_additions(self, run: Run) -> None:
        self.assertEqual({}, {k: v for k, v in run.writes.items() if k in REMOVALS})

    # ------------------------------------------------------------------ (a) throttling

    def test_throttling_a_few_times_is_retried_to_convergence(self):
        world = self.world("thr-few")
        self.inject("elasticloadbalancingv2", "CreateTargetGroup", "Throttling", count=2)
        self.inject("elasticloadbalancingv2", "RegisterTargets", "Throttling", count=2)
        self.inject("route53", "ChangeResourceRecordSets", "Throttling", count=1)
        self.inject("route53", "ChangeResourceRecordSets", "PriorRequestNotComplete", count=2)

        run = self.execute(world)

        self.assert_converged_without_duplicates(run, world)
        # ELBv2 and Route 53 throttle with the unmodelled code Throttling: Step Functions names it after the
        # client's catch-all exception, and that is what the Retry must name.
        self.assertEqual([ELBV2_CATCH_ALL] * 2, run.task_failures("createTargetGroup"))
        self.assertEqual([ELBV2_CATCH_ALL] * 2, run.task_failures("registerTargets"))
        self.assertEqual(sorted([ROUTE53_CATCH_ALL] + ["Route53.PriorRequestNotCompleteException"] * 2),
                         sorted(run.task_failures("changeResourceRecordSets")))
        # 3 brokers + bootstrap, 2 zones: every write once, plus the 7 retried attempts.
        self.assertEqual({"createTargetGroup": 4 + 2, "registerTargets": 4 + 2, "createListener": 4,
                          "changeResourceRecordSets": 2 + 3}, dict(run.writes))

    def test_ec2_request_limit_is_retried_to_convergence_under_ec2s_catch_all_name(self):
        # EC2 models no errors: its RequestLimitExceeded (HTTP 503) reaches Step Functions as Ec2.Ec2Exception.
        world = sc.build_ec2_world(aws, "thr-ec2", table=cloud.table)
        self.addCleanup(sc.delete_link, aws, world)
        self.inject("ec2", "DescribeInstances", "RequestLimitExceeded", status=503, count=2,
                    message="Request limit exceeded.")

        run = self.execute(world)

        self.assertEqual("SUCCEEDED", run.status, (run.output, run.failure))
        self.assertTrue(run.output["converged"], run.output)
        self.assertEqual([], sc.convergence_problems(aws, world))
        failures = [e["taskFailedEventDetails"] for e in run.observed
                    if e["type"] == "TaskFailed" and e["taskFailedEventDetails"].get("resource") == "describeInstances"]
        self.assertEqual(["Ec2.Ec2Exception"] * 2, [f["error"] for f in failures])
        self.assertIn("Request limit exceeded. (Service: Ec2, Status Code: 503", failures[0]["cause"])

    def test_create_target_group_throttled_beyond_its_retries_fails_named_then_converges(self):
        world = self.world("thr-ctg")
        # The first group is created; every later CreateTargetGroup is throttled, retries included.
        self.inject("elasticloadbalancingv2", "CreateTargetGroup", "Throttling", count=100, skip=1)

        failed = self.execute(world)

        self.assert_failed(failed, ELBV2_CATCH_ALL, world)
        self.assertIn("Throttling", failed.failure["cause"])
        self.assertGreaterEqual(len(failed.task_failures("createTargetGroup")), ELBV2_CALLS)
        self.assertEqual(0, failed.writes["changeResourceRecordSets"])
        self.assert_only_additions(failed)
        self.clear_faults()

        recovered = self.execute(world)

        self.assert_converged_without_duplicates(recovered, world)
        self.assert_only_additions(recovered)
        self.assertGreaterEqual(recovered.writes["createTargetGroup"], 2)

    def test_register_targets_throttled_beyond_its_retries_fails_named_then_converges(self):
        world = self.world("thr-reg")
        self.inject("elasticloadbalancingv2", "RegisterTargets", "Throttling", count=100)

        failed = self.execute(world)

        self.assert_failed(failed, ELBV2_CATCH_ALL, world)
        self.assertGreaterEqual(len(failed.task_failures("registerTargets")), ELBV2_CALLS)
        self.assertEqual(0, failed.writes["createListener"] + failed.writes["changeResourceRecordSets"])
        # Groups without targets and without listeners are left. Not attached to the NLB, they are not on its list
        # (DescribeTargetGroups by load balancer), so the next run creates them again: by the same name and settings,
        # which CreateTargetGroup answers with the existing group.
        left = self.owned_group_keys(world)
        self.assertEqual(4, len(left), left)
        self.assertEqual({}, sc.link_view(aws, world).target_groups)
        self.clear_faults()

        recovered = self.execute(world)

        self.assert_converged_without_duplicates(recovered, world)
        self.assert_only_additions(recovered)
        self.assertEqual({"createTargetGroup": 4, "registerTargets": 4, "createListener": 4, "changeResourceRecordSets": 2},
                         dict(recovered.writes))

    def test_route53_prior_request_not_complete_beyond_its_retries_fails_named_then_converges(self):
        world = self.world("thr-dns")
        self.inject("route53", "ChangeResourceRecordSets", "PriorRequestNotComplete", count=100)

        failed = self.execute(world)

        self.assert_failed(failed, "Route53.PriorRequestNotCompleteException", world)
        self.assertEqual(["Route53.PriorRequestNotCompleteException"] * ROUTE53_CALLS,
                         failed.task_failures("changeResourceRecordSets"))
        self.assertEqual({"createTargetGroup": 4, "registerTargets": 4, "createListener": 4,
                          "changeResourceRecordSets": ROUTE53_CALLS}, dict(failed.writes))
        self.clear_faults()

        recovered = self.execute(world)

        self.assert_converged_without_duplicates(recovered, world)
        self.assertEqual({"changeResourceRecordSets": 2}, dict(recovered.writes))

    # ------------------------------------------------------------------ (b) a failed cross-account role

    def cross_account_world(self, link_id: str) -> tuple[sc.World, str, object]:
        """A link whose second consumer's zone is in another account, reached through a role of its own name that
        the consumer deployed from consumer-account.yaml (the local cloud assumes it anew for every call)."""
        world = self.world(link_id, provider_zone=False, bootstrap_port=None)
        role = sc.deploy_consumer_role(aws, CONSUMER_ACCOUNT, RoleName=f"brokerlink-{link_id}")
        keys = aws.sts.assume_role(RoleArn=role, RoleSessionName="setup")["Credentials"]
        consumer_account = {service: boto3.client(
            service, endpoint_url=cloud.endpoint, region_name=sc.REGION, aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"], aws_session_token=keys["SessionToken"])
            for service in ("route53", "ec2")}
        vpc_id = consumer_account["ec2"].create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
        zone_id = consumer_account["route53"].create_hosted_zone(
            Name=sc.ZONE_NAME, CallerReference=f"{link_id}-{uuid.uuid4()}", VPC={"VPCRegion": sc.REGION, "VPCId": vpc_id},
            HostedZoneConfig={"PrivateZone": True})["HostedZone"]["Id"].split("/")[-1]
        # Its interface endpoint to the link's service: Route 53 aliases only to an endpoint that exists.
        service_id = sc.endpoint_service_of(aws, world.load_balancer_arn)
        sc.allow_account(aws, service_id, CONSUMER_ACCOUNT)
        endpoint_id, dns_name, _ = sc.interface_endpoint(aws.assume(role), vpc_id, service_id)
        config = dict(world.config)
        config["consumers"] = [*config["consumers"], {
            "name": "payments", "hostedZoneId": zone_id, "endpointDnsName": dns_name,
            "endpointHostedZoneId": sc.ENDPOINT_ZONE_ID, "roleArn": role}]
        consumer = sc.Consumer("payments", vpc_id, endpoint_id, zone_id, dns_name)
        world = dataclasses.replace(world, consumers=(*world.consumers, consumer), config=config)
        sc.put_link(aws, world)
        self.other_account[zone_id] = True
        return world, zone_id, consumer_account["route53"]

    def assert_consumer_zone_wired(self, world: sc.World, route53, zone_id: str) -> None:
        hosts = [b.hosts[0] for b in sc.brokers(aws, world.cluster_arn)]
        want = {(h, "A"): f"ALIAS {world.consumer_of(zone_id).endpoint_dns_name} {sc.ENDPOINT_ZONE_ID}" for h in hosts}
        want.update({(h, "TXT"): sc.ownership_txt(world.link_id) for h in hosts})
        self.assertEqual(want, self.consumer_records(route53, zone_id))

    def consumer_records(self, route53, zone_id: str) -> dict:
        in_consumer_account = types.SimpleNamespace(route53=route53)
        return {k: v for k, v in sc.records(in_consumer_account, zone_id).items() if k[1] in ("A", "TXT")}

    def test_role_that_cannot_be_assumed_fails_named_before_any_write_then_converges(self):
        world, zone_id, route53 = self.cross_account_world("xa-assume")
        # Every attempt is refused, the Retry of Route 53's catch-all included (it cannot tell access denied from
        # throttling).
        self.inject("sts", "AssumeRole", "AccessDenied", status=403, count=100,
                    message=f"User is not authorized to perform: sts:AssumeRole on resource: {world.config['consumers'][1]['roleArn']}")
        before = sc.snapshot(aws)

        failed = self.execute(world)

        self.assert_failed(failed, ROUTE53_CATCH_ALL, world)
        self.assertIn("sts:AssumeRole", failed.failure["cause"])
        self.assertEqual({}, dict(failed.writes))
        self.assertEqual(before, sc.snapshot(aws))
        self.assertEqual({}, self.consumer_records(route53, zone_id))
        self.clear_faults()

        recovered = self.execute(world)  # the role is fixed

        self.assert_converged_without_duplicates(recovered, world)
        self.assert_consumer_zone_wired(world, route53, zone_id)

    def test_role_that_may_not_write_the_zone_fails_named_after_safe_additions_then_converges(self):
        world, zone_id, route53 = self.cross_account_world("xa-write")
        self.inject("route53", "ChangeResourceRecordSets", "AccessDenied", status=403, account=CONSUMER_ACCOUNT, count=100,
                    message="User is not authorized to perform: route53:ChangeResourceRecordSets")
        own_zone = world.consumers[0].hosted_zone_id

        failed = self.execute(world)

        self.assert_failed(failed, ROUTE53_CATCH_ALL, world)
        self.assertIn("route53:ChangeResourceRecordSets", failed.failure["cause"])
        self.assert_only_additions(failed)
        self.assertEqual({}, self.consumer_records(route53, zone_id))
        # The own zone's batch is all-or-nothing, whichever order the batches ran in.
        own = {k for k in sc.records(aws, own_zone) if k[1] in ("A", "TXT")}
        self.assertIn(len(own), (0, 6), own)
        self.clear_faults()

        recovered = self.execute(world)

        self.assert_converged_without_duplicates(recovered, world)
        self.assert_only_additions(recovered)
        self.assert_consumer_zone_wired(world, route53, zone_id)

    # ------------------------------------------------------------------ (c) a target group deleted by hand

    def delete_by_hand(self, world: sc.World, key: str) -> None:
        view = sc.link_view(aws, world)
        group = view.target_groups[key]
        for (_, port), listener in sc.load_balancer_state(aws, world.load_balancer_arn)["listeners"].items():
            if group["arn"] in listener["forwardTo"]:
                aws.elbv2.delete_listener(ListenerArn=listener["arn"])
        aws.elbv2.delete_target_group(TargetGroupArn=group["arn"])

    def test_target_group_deleted_by_hand_between_runs_is_recreated(self):
        world = self.world("tg-gone", provider_zone=False)
        self.assertEqual("SUCCEEDED", self.execute(world).status)
        self.delete_by_hand(world, "broker-2")
        self.assertNotIn("broker-2", sc.link_view(aws, world).target_groups)

        run = self.execute(world)

        self.assert_converged_without_duplicates(run, world)
        self.assertEqual({"createTargetGroup": 1, "registerTargets": 1, "createListener": 1}, dict(run.writes))

    def test_target_group_deleted_by_hand_mid_run_fails_named_then_is_recreated(self):
        world = self.world("tg-midrun", provider_zone=False)
        self.assertEqual("SUCCEEDED", self.execute(world).status)
        moved = cloud.replace_broker(world.cluster_arn, 1)
        # Hold the run's RegisterTargets calls: the plan is made, and broker-1's group goes while they wait.
        self.inject("elasticloadbalancingv2", "RegisterTargets", count=2, delay_seconds=2.0)
        started = time.monotonic()
        execution_arn = self.start(sc.manual(world))
        self.wait_for_task(execution_arn, "registerTargets")
        self.delete_by_hand(world, "broker-1")

        failed = self.finish(execution_arn, started)

        self.assert_failed(failed, "ElasticLoadBalancingV2.TargetGroupNotFoundException", world)
        self.assertEqual(0, failed.writes["deregisterTargets"])
        # The old IP stays in bootstrap: nothing was removed before the failure.
        self.assertIn(f'{moved["oldIp"]}:9094', sc.link_view(aws, world).target_groups["bootstrap"]["targets"])

        recovered = self.execute(world)

        self.assert_converged_without_duplicates(recovered, world)
        self.assertEqual([f'{moved["newIp"]}:9094'], sc.link_view(aws, world).target_groups["broker-1"]["targets"])
        self.assertEqual(1, recovered.writes["createTargetGroup"])
        self.assertMakeBeforeBreak(recovered.history)  # broker 1's new group before the old IP leaves bootstrap

    # ------------------------------------------------------------------ (d) a run killed between register and DNS upsert

    def test_run_that_dies_between_register_and_dns_upsert_converges_without_duplicates(self):
        world = self.world("killed")
        # Route 53 answers InternalFailure to every attempt at the first batch: unmodelled, so the catch-all,
        # retried until its attempts run out.
        self.inject("route53", "ChangeResourceRecordSets", "InternalFailure", status=500, count=100)

        failed = self.execute(world)

        self.assert_failed(failed, ROUTE53_CATCH_ALL, world)
        self.assertEqual({"createTargetGroup": 4, "registerTargets": 4, "createListener": 4,
                          "changeResourceRecordSets": ROUTE53_CATCH_ALL_CALLS}, dict(failed.writes))
        self.clear_faults()
        self.assertEqual(4, len(sc.link_view(aws, world).target_groups))
        self.assertTrue(all(not {k for k in records if k[1] == "A"} for records in sc.link_view(aws, world).records.values()))

        recovered = self.execute(world)

        self.assert_converged_without_duplicates(recovered, world)
        self.assertEqual({"changeResourceRecordSets": 2}, dict(recovered.writes))

    def test_run_stopped_during_dns_upsert_converges_without_duplicates(self):
        world = self.world("stopped")
        # Hold the first upsert; StopExecution arrives while it waits (a kill, not an error the run could catch).
        self.inject("route53", "ChangeResourceRecordSets", count=1, delay_seconds=2.0)
        started = time.monotonic()
        execution_arn = self.start(sc.manual(world))
        self.wait_for_task(execution_arn, "changeResourceRecordSets")
        sfn.stop_execution(executionArn=execution_arn, error="Operator.Kill", cause="test")

        stopped = self.finish(execution_arn, started)

        # AWS ends a stopped execution ABORTED; moto 5.2.1's interpreter ends it FAILED (States.Runtime). Either way
        # it is over: what matters is what it left behind.
        self.assertIn(stopped.status, ("ABORTED", "FAILED"))
        self.assertEqual(1, stopped.writes["changeResourceRecordSets"])  # the second zone's batch never started
        self.assertEqual(4, len(sc.link_view(aws, world).target_groups))
        # The held call lands, as an in-flight AWS call would: one zone gets its whole batch.
        wait_until(lambda: any(v == sc.ownership_txt(world.link_id) for z in world.zone_ids
                               for (_, kind), v in sc.records(aws, z).items() if kind == "TXT"),
                   "the held upsert batch lands", timeout=10)

        recovered = self.execute(world)

        self.assert_converged_without_duplicates(recovered, world)
        self.assertEqual({"changeResourceRecordSets": 1}, dict(recovered.writes))  # the held batch had landed


if __name__ == "__main__":
    unittest.main()
