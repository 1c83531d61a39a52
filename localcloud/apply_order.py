"""Make before break, read from execution histories: in every apply pass of a link, each creation,
registration and record upsert is scheduled before any deregistration, deletion or record delete.

An Apply execution runs one link. Its history may hold several apply passes (the pass under the lock,
then extra lock rounds); each pass starts where the execution enters its `ObserveLink` state, so a
pass's writes follow one plan. `LocalCloud.reconcile` gives the histories of all the Apply executions
of a run one after the other: they are told apart by their `ExecutionStarted` events.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

MAKES = frozenset({"createTargetGroup", "createListener", "registerTargets"})
BREAKS = frozenset({"deregisterTargets", "deleteListener", "deleteTargetGroup"})
RECORD_WRITE = "changeResourceRecordSets"
PASS_START = "ObserveLink"


@dataclass(frozen=True)
class Write:
    kind: str      # "make" or "break"
    action: str    # e.g. registerTargets, or changeResourceRecordSets UPSERT
    event_id: int


@dataclass(frozen=True)
class ApplyPass:
    link_id: str | None
    number: int               # 1-based, within its execution
    writes: tuple[Write, ...]  # in scheduling order

    @property
    def makes(self) -> list[Write]:
        return [w for w in self.writes if w.kind == "make"]

    @property
    def breaks(self) -> list[Write]:
        return [w for w in self.writes if w.kind == "break"]

    def violations(self) -> list[str]:
        """Each make scheduled after the first break of the pass."""
        at = next((i for i, w in enumerate(self.writes) if w.kind == "break"), len(self.writes))
        return [f"link {self.link_id} pass {self.number}: {w.action} (event {w.event_id}) scheduled after "
                f"{self.writes[at].action} (event {self.writes[at].event_id})"
                for w in self.writes[at:] if w.kind == "make"]


def classify(details: dict) -> Write | None:
    """A TaskScheduled event's details as a make or a break (None: not an ELBv2 / Route 53 wiring write)."""
    action = details["resource"]
    if action in MAKES or action in BREAKS:
        return Write("make" if action in MAKES else "break", action, 0)
    if action != RECORD_WRITE:
        return None
    changes = json.loads(details.get("parameters") or "{}").get("ChangeBatch", {}).get("Changes", [])
    actions = sorted({c.get("Action") for c in changes})
    kind = "break" if "DELETE" in actions else "make"
    return Write(kind, f"{action} {'+'.join(map(str, actions))}", 0)


def apply_passes(history_events: list[dict]) -> list[ApplyPass]:
    """Every apply pass that scheduled a wiring write, per execution, in history order."""
    passes, link_id, number, writes = [], None, 0, []

    def close():
        if writes:
            passes.append(ApplyPass(link_id, number, tuple(writes)))

    for event in history_events:
        kind = event["type"]
        if kind == "ExecutionStarted":
            close()
            started = json.loads(event.get("executionStartedEventDetails", {}).get("input") or "{}")
            link_id, number, writes = started.get("linkId"), 0, []
        elif kind.endswith("StateEntered") and event["stateEnteredEventDetails"]["name"] == PASS_START:
            close()
            number, writes = number + 1, []
        elif kind == "TaskScheduled":
            write = classify(event["taskScheduledEventDetails"])
            if write:
                writes.append(Write(write.kind, write.action, event["id"]))
    close()
    return passes


def make_before_break_violations(history_events: list[dict]) -> list[str]:
    """[] when, in every apply pass, no creation, registration or upsert was scheduled after a removal."""
    return [v for p in apply_passes(history_events) for v in p.violations()]


def makes_and_breaks(history_events: list[dict]) -> int:
    """How many apply passes both added and removed something (where the order is put to the test)."""
    return sum(1 for p in apply_passes(history_events) if p.makes and p.breaks)
