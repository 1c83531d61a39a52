"""Test-side access to the local cloud: puts localcloud/ on sys.path and re-exports its client,
plus `ScenarioCase`, the helpers every end-to-end scenario test uses."""

import json
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

import apply_order  # noqa: E402
import scenario as sc  # noqa: E402
from client import READY_KEYS, LocalCloud, LocalCloudError  # noqa: E402,F401


def start_module_cloud(params: dict | None = None) -> tuple[LocalCloud, sc.Aws]:
    """Starts a test module's local cloud (call it in setUpModule); it stops when the module is done."""
    cloud = LocalCloud(params=params).start()
    unittest.addModuleCleanup(cloud.stop)
    aws = sc.Aws(cloud.endpoint)
    for account in sc.CONSUMER_ACCOUNTS:  # each consumer account has deployed consumer-account.yaml (defaults)
        sc.deploy_consumer_role(aws, account)
    return cloud, aws


def wait_until(predicate, what: str, timeout: float = 30.0, interval: float = 0.05):
    """Polls until `predicate()` is truthy and returns its value; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(interval)
    return value


def started_histories(cloud: LocalCloud, history: list[dict]) -> list[list[dict]]:
    """The histories of the executions an execution started with a startExecution task (Onboard: its Apply runs)."""
    arns = [json.loads(e["taskSucceededEventDetails"]["output"])["ExecutionArn"] for e in history
            if e["type"] == "TaskSucceeded" and e["taskSucceededEventDetails"]["resource"].startswith("startExecution")]
    return [cloud.execution_history(arn) for arn in arns]


class MakeBeforeBreak:
    """Asserts on an execution history (one run or several Apply executions) that every apply pass scheduled its
    creations, registrations and upserts before any removal (localcloud/apply_order.py)."""

    def assertNoBreakBeforeMake(self, history: list[dict]) -> None:
        """No pass removed anything before an addition of its own (vacuous for a pass that only adds or only removes)."""
        self.assertEqual([], apply_order.make_before_break_violations(history))

    def assertMakeBeforeBreak(self, history: list[dict]) -> None:
        """At least one pass both added and removed, and every pass added first."""
        self.assertNoBreakBeforeMake(history)
        self.assertGreaterEqual(apply_order.makes_and_breaks(history), 1,
                                [[w.action for w in p.writes] for p in apply_order.apply_passes(history)])


class ScenarioCase(unittest.TestCase, MakeBeforeBreak):
    """Builds worlds in, and runs executions against, the local cloud the test module started
    (it assigns `cloud` and `aws` on its test class in setUpModule)."""

    cloud: LocalCloud
    aws: sc.Aws

    def world(self, link_id: str, **options) -> sc.World:
        world = sc.build_world(self.aws, link_id, table=self.cloud.table, **options)
        self.addCleanup(sc.delete_link, self.aws, world)
        return world

    def execute(self, scenario: str | None, execution_input: dict):
        """Runs the state machine and returns (status, output, history, ELBv2 + Route 53 writes), having checked that
        no apply pass removed anything before its additions; with a scenario name, prints its wall time and write
        counts."""
        started = time.monotonic()
        status, output, history = self.cloud.start_execution_and_wait(execution_input)
        wall = time.monotonic() - started
        writes = sc.wiring_writes(history)
        self.assertNoBreakBeforeMake(history)
        if scenario:
            table = sum(sc.write_calls(history).values()) - sum(writes.values())
            print(f"scenario: {scenario} wall={wall:.2f} writes={sum(writes.values())} lock/table writes={table}",
                  file=sys.stderr)
        return status, output, history, writes

    def assertNoWrites(self, history: list[dict]) -> None:
        """Nothing at all was written: no ELBv2, Route 53 or table write task was scheduled."""
        self.assertEqual({}, dict(sc.write_calls(history)))

    def converge(self, world: sc.World) -> None:
        status, output, _, _ = self.execute(None, sc.manual(world))
        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual([], sc.convergence_problems(self.aws, world))

    def failure(self, history: list[dict]) -> dict:
        failed = [e["executionFailedEventDetails"] for e in history if e["type"] == "ExecutionFailed"]
        self.assertEqual(1, len(failed), history[-3:])
        return failed[0]
