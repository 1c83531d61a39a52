"""Test-side access to the local cloud: puts localcloud/ on sys.path and re-exports its client,
plus `ScenarioCase`, the helpers every end-to-end scenario test uses."""

import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

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


class ScenarioCase(unittest.TestCase):
    """Builds worlds in, and runs executions against, the local cloud the test module started
    (it assigns `cloud` and `aws` on its test class in setUpModule)."""

    cloud: LocalCloud
    aws: sc.Aws

    def world(self, link_id: str, **options) -> sc.World:
        world = sc.build_world(self.aws, link_id, table=self.cloud.table, **options)
        self.addCleanup(sc.delete_link, self.aws, world)
        return world

    def execute(self, scenario: str | None, execution_input: dict):
        """Runs the state machine and returns (status, output, history, ELBv2 + Route 53 writes);
        with a scenario name, prints its wall time and write counts."""
        started = time.monotonic()
        status, output, history = self.cloud.start_execution_and_wait(execution_input)
        wall = time.monotonic() - started
        writes = sc.wiring_writes(history)
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
