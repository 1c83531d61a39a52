"""The bad-input corpus (tests/badinput/cases.json) as real executions in the local cloud.

Every case fails with its named error (or is ignored) and writes nothing: no write task in the
execution history, and ELBv2 and Route 53 (every target group, listener and record in the cloud)
are the same after the execution as before (as before the first case: each case checks that it
left them so, which makes that snapshot also the state before the next case). The link is left unconverged on purpose: any bad input
that slipped through to a plan would have plenty to write.

Execution inputs run as given. A link-config case stores its bad config (or table item) for the
link, runs a manual reconcile of it (a sweep, for an item whose sk no manual input can name), and
puts the valid item back. Every failed case's cause names the case's `field` first (after the
`Link <id>: ` of a link's failure, which a link case always has). The same corpus runs through the
functions in tests/BrokerLink.Tests/BadInputCorpusTests.cs. Each case prints
`bad input: <name> wall=<s> writes=<n> result=<status> <error>` to stderr.
"""
import concurrent.futures
import copy
import json
import re
import sys
import time
import unittest
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

import scenario as sc  # noqa: E402
from support import LocalCloud, start_module_cloud  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "badinput" / "cases.json"
ACCOUNT = "123456789012"
# Step Functions keeps at most 256 KiB per state: a cause or output must stay far below, whatever the input.
MAX_TEXT = 4096
PARALLEL = 3
# A link's failure, as Summarise raises it: "Link <id>: <its cause>" ("(no link id)" for an item whose sk is none).
LINK_CAUSE = re.compile(r"^Link ([^:]*): ")

cloud: LocalCloud | None = None
aws: sc.Aws | None = None


def setUpModule():
    global cloud, aws
    cloud, aws = start_module_cloud()


# ---------------------------------------------------------------- the corpus's notation

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
_SEGMENT = re.compile(r"^(?P<name>[^\[]+)(?:\[(?P<index>\d+)\])?$")


def expand(value, world: sc.World):
    """Fills the placeholders of a corpus value (any JSON) with the world's link."""
    if isinstance(value, dict):
        return {expand(k, world): expand(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, world) for v in value]
    if not isinstance(value, str) or value == "${proposedConfig}":  # filled in by the case (an object)
        return value

    def fill(match):
        name = match.group(1)
        fixed = {"linkId": world.link_id, "clusterArn": world.cluster_arn, "account": ACCOUNT, "region": sc.REGION,
                 "clusterArnUrlEncoded": urllib.parse.quote(world.cluster_arn, safe="")}
        if name in fixed:
            return fixed[name]
        if name.startswith("repeat:"):
            _, text, count = name.split(":")
            return text * int(count)
        if name.startswith("config:"):
            return _get(world.config, name.removeprefix("config:"))
        raise ValueError(f"unknown placeholder {name}")

    return _PLACEHOLDER.sub(fill, value)


def _steps(path: str):
    for segment in path.split("."):
        match = _SEGMENT.match(segment)
        yield match.group("name"), None if match.group("index") is None else int(match.group("index"))


def _get(document, path):
    node = document
    for name, index in _steps(path):
        node = node[name] if index is None else node[name][index]
    return node


def patched(config: dict, patch: dict, world: sc.World) -> dict:
    """The link's valid config with the case's {set: {path: value}, remove: [path]} applied."""
    config = copy.deepcopy(config)
    for path, value in [(p, expand(v, world)) for p, v in (patch.get("set") or {}).items()] + \
                       [(p, ...) for p in patch.get("remove") or []]:
        *parents, (name, index) = list(_steps(path))
        node = config
        for parent, i in parents:
            node = node[parent] if i is None else node[parent][i]
        if index is not None:
            node, name = node[name], index
        if value is ...:
            del node[name]
        else:
            node[name] = value
    return config


# ---------------------------------------------------------------- the test

class BadInputCorpus(unittest.TestCase):

    def test_every_case_fails_named_or_is_ignored_and_writes_nothing(self):
        cases = json.loads(CORPUS.read_text())["cases"]
        world = sc.build_world(aws, "badin", table=cloud.table)
        self.addCleanup(sc.delete_link, aws, world)
        started = time.monotonic()
        # Taken once: each check compares with it afterwards, so the next cases also start from it.
        self.before = sc.snapshot(aws)
        # Execution inputs touch nothing but the execution: a few run at once, then ELBv2 and Route 53 are compared.
        inputs = [c for c in cases if "input" in c]
        with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            runs = list(pool.map(lambda c: self.execute(c, world), inputs))
        self.assertEqual(self.before, sc.snapshot(aws))
        # A link case changes the link's item, so one at a time, each compared.
        runs += [self.execute(c, world, compare=True) for c in cases if "input" not in c]
        for case, run in zip(inputs + [c for c in cases if "input" not in c], runs):
            with self.subTest(case=case["name"]):
                self.check(case, world, *run)
        writes = sum(sum(sc.write_calls(run[2]).values()) for run in runs)
        print(f"bad input: {len(runs)} cases wall={time.monotonic() - started:.2f} writes={writes}", file=sys.stderr)
        self.assertEqual(len(cases), len(runs))
        self.assertGreaterEqual(len(runs), 80)

    def execute(self, case: dict, world: sc.World, compare: bool = False):
        """(status, output, history, snapshot afterwards or None) of the case's execution."""
        execution_input = self.arrange(case, world)
        started = time.monotonic()
        try:
            status, output, history = cloud.start_execution_and_wait(execution_input)
        finally:
            self.restore(case, world)
        failed = [e["executionFailedEventDetails"] for e in history if e["type"] == "ExecutionFailed"]
        error = failed[0].get("error") if failed else ""
        print(f"bad input: {case['name']} wall={time.monotonic() - started:.2f} writes={sum(sc.write_calls(history).values())} "
              f"result={status} {error}".rstrip(), file=sys.stderr)
        return status, output, history, sc.snapshot(aws) if compare else None

    def check(self, case: dict, world: sc.World, status, output, history, after) -> None:
        expect = expand(case["expect"], world)
        writes = sc.write_calls(history)
        failed = [e["executionFailedEventDetails"] for e in history if e["type"] == "ExecutionFailed"]
        error = failed[0].get("error") if failed else None
        self.assertEqual({}, dict(writes))
        if after is not None:
            self.assertEqual(self.before, after)
        self.assertEqual(expect["status"], status, (output, failed))
        if status == "FAILED":
            self.assertEqual(1, len(failed))
            self.assertEqual(expect["error"], error, failed[0])
            cause = failed[0].get("cause", "")
            self.assertIn(expect["causeContains"], cause)
            self.assertLessEqual(len(cause), MAX_TEXT)
            link = LINK_CAUSE.match(cause)
            if "input" not in case:
                self.assertIsNotNone(link, cause)
                self.assertIn(link.group(1), (world.link_id, "(no link id)"), cause)
            self.assertTrue(cause[link.end() if link else 0:].startswith(expect["field"] + ": "), (expect["field"], cause))
        else:
            self.assertEqual([], output["links"])
            self.assertIn(expect["ignoredContains"], output["ignored"])
            self.assertLessEqual(len(json.dumps(output)), MAX_TEXT)

    def arrange(self, case: dict, world: sc.World):
        """Stores a link case's bad config or item; returns the execution input."""
        manual = {"action": "reconcile", "linkId": world.link_id}
        if case.get("sweep"):
            manual = sc.load_event("schedule-sweep.json", world)
        item = {"pk": {"S": "LINK"}, "sk": {"S": world.link_id}, "kind": {"S": "msk-single-nlb"},
                "clusterArn": {"S": world.cluster_arn}, "config": {"S": json.dumps(world.config)}}
        if "linkConfig" in case:
            item["config"] = {"S": json.dumps(patched(world.config, case["linkConfig"], world))}
        elif "linkConfigText" in case:
            item["config"] = {"S": expand(case["linkConfigText"], world)}
        elif "linkItem" in case:
            attributes = expand(case["linkItem"], world)
            if "sk" in attributes:  # the item under another key, instead of the link's own
                item["sk"] = {"S": attributes.pop("sk")}
                sc.delete_link(aws, world)
            for name, value in attributes.items():
                if value is None:
                    item.pop(name)
                else:
                    item[name] = value
        else:
            execution_input = expand(case["input"], world)
            if "proposedConfig" in case:
                proposed = patched(world.config, case["proposedConfig"], world)
                execution_input = {k: proposed if v == "${proposedConfig}" else v for k, v in execution_input.items()}
            return execution_input
        aws.dynamodb.put_item(TableName=world.table, Item=item)
        return manual

    def restore(self, case: dict, world: sc.World) -> None:
        sk = (case.get("linkItem") or {}).get("sk")
        if sk is not None:
            aws.dynamodb.delete_item(TableName=world.table, Key={"pk": {"S": "LINK"}, "sk": {"S": expand(sk, world)}})
        if any(k in case for k in ("linkConfig", "linkConfigText", "linkItem")):
            sc.put_link(aws, world)


if __name__ == "__main__":
    unittest.main()
