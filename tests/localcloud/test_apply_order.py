"""localcloud/apply_order.py on made-up histories: the make-before-break check the end-to-end tests rely on fails
when a removal is scheduled before an addition of the same apply pass, and only then."""
import json
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

import apply_order  # noqa: E402


class History:
    """Events as Step Functions records them, enough for apply_order."""

    def __init__(self):
        self.events = []

    def add(self, kind, **details):
        self.events.append({"id": len(self.events) + 1, "type": kind, **details})
        return self

    def start(self, link_id):
        return self.add("ExecutionStarted", executionStartedEventDetails={"input": json.dumps({"linkId": link_id})})

    def observe(self):
        return self.add("TaskStateEntered", stateEnteredEventDetails={"name": "ObserveLink"})

    def task(self, resource, **parameters):
        return self.add("TaskScheduled", taskScheduledEventDetails={
            "resource": resource, "resourceType": "aws-sdk:x", "parameters": json.dumps(parameters)})

    def records(self, *actions):
        return self.task("changeResourceRecordSets", HostedZoneId="Z1", ChangeBatch={"Changes": [
            {"Action": a, "ResourceRecordSet": {"Name": "b-1.kafka.us-east-1.amazonaws.com", "Type": "A"}} for a in actions]})


class MakeBeforeBreakCheck(unittest.TestCase):

    def test_additions_then_removals_pass(self):
        h = (History().start("a").observe().observe().task("createTargetGroup").task("registerTargets").records("UPSERT")
             .task("deregisterTargets").records("DELETE").task("deleteListener").task("deleteTargetGroup").observe())
        self.assertEqual([], apply_order.make_before_break_violations(h.events))
        self.assertEqual(1, apply_order.makes_and_breaks(h.events))

    def test_a_removal_before_an_addition_of_the_same_pass_fails(self):
        for first, then in ((("deregisterTargets",), ("registerTargets",)), (("deleteListener",), ("createListener",)),
                            ((None, "DELETE"), (None, "UPSERT")), (("deleteTargetGroup",), (None, "CREATE"))):
            with self.subTest(first=first, then=then):
                h = History().start("a").observe()
                for step in (first, then):
                    h = h.records(step[1]) if step[0] is None else h.task(step[0])
                violations = apply_order.make_before_break_violations(h.events)
                self.assertEqual(1, len(violations), violations)
                self.assertIn("link a pass 1", violations[0])

    def test_passes_and_executions_are_apart(self):
        # A later lock round may add after an earlier round removed; so may another link's execution.
        h = (History().start("a").observe().task("deregisterTargets").observe().task("registerTargets")
             .start("b").observe().task("deleteListener").start("c").observe().task("createListener"))
        self.assertEqual([], apply_order.make_before_break_violations(h.events))
        self.assertEqual(0, apply_order.makes_and_breaks(h.events))
        self.assertEqual([("a", 1), ("a", 2), ("b", 1), ("c", 1)],
                         [(p.link_id, p.number) for p in apply_order.apply_passes(h.events)])

    def test_table_writes_and_reads_are_neither(self):
        h = History().start("a").observe().task("putItem").task("describeTargetGroups").task("deleteItem")
        self.assertEqual([], apply_order.apply_passes(h.events))


if __name__ == "__main__":
    unittest.main()
