#!/usr/bin/env python3
"""BrokerLink at production sizes, measured in the strict local cloud: the figures README "Performance and cost"
quotes, printed from the executions themselves (the local cloud enforces the 256 KiB state limit and bills
Express executions as AWS does: duration rounded up to 100 ms, memory in 64 MB steps).

    python3 localcloud/measure.py [scale] [isolation] [cost] [speed]      (default: all four)

Each section starts its own local cloud (so a sweep sees only that section's links) and prints lines of
`<section>: <what> <figures>`. Times are wall-clock seconds in the local cloud (Python, 2 cores): slower than AWS
for the same work, so the cost figures built on them are upper bounds.
"""
import json
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenario as sc  # noqa: E402
from client import LocalCloud  # noqa: E402

KIB = 1024
HALF_THE_LIMIT = 128 * KIB
# AWS list prices, us-east-1 (README "Performance and cost" cites them).
EXPRESS_PER_REQUEST = 1.00 / 1_000_000
EXPRESS_PER_GB_SECOND = 0.00001667
STANDARD_PER_TRANSITION = 0.025 / 1000
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_PER_GB_SECOND = 0.0000133  # arm64
LAMBDA_MEMORY_GB = 512 / 1024     # template.yaml Globals
RUNS_A_MONTH = 30 * 24 * 4        # a sweep every 15 minutes


def show(section, text):
    print(f"{section}: {text}", flush=True)


# ---------------------------------------------------------------- what a run cost and carried

def lambda_calls(events):
    """(count, billed ms) of the Lambda invocations in an execution's events (scheduled to succeeded, rounded up
    to 1 ms as Lambda bills; the local host's time, an upper bound of the function's own)."""
    started, count, billed = {}, 0, 0
    for e in events:
        if e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resourceType"] == "lambda":
            started[e["id"]] = _seconds(e["timestamp"])
        elif e["type"] in ("TaskSucceeded", "TaskFailed") and (e.get("taskSucceededEventDetails") or
                                                               e.get("taskFailedEventDetails") or {}).get("resourceType") == "lambda":
            scheduled = max((i for i in started if i < e["id"]), default=None)
            if scheduled is not None:
                count += 1
                billed += max(1, int((_seconds(e["timestamp"]) - started.pop(scheduled)) * 1000 + 0.999))
    return count, billed


def _seconds(timestamp):
    if isinstance(timestamp, (int, float)):
        return float(timestamp)
    return datetime.fromisoformat(str(timestamp).replace("Z", "+00:00")).timestamp()


def express_of(run):
    """The run's Express executions as the local cloud describes them: the sweep, then its Observe executions."""
    return [run.sweep_express] + run.observes


def largest_of_run(cloud, run):
    """(bytes, state, execution) of the largest payload any execution of the run passed."""
    found = []
    for express in express_of(run):
        measured = express.get("largestState")
        if measured:
            found.append((measured["bytes"], measured["state"], express["executionArn"].split(":")[-3]))
    for applied in run.applies:
        measured = cloud.post("sfn/largest-state", {"executionArn": applied["executionArn"]})
        found.append((measured["bytes"], measured["state"], "apply"))
    return max(found)


def run_figures(cloud, run):
    """The bill and the size of one reconcile run (a sweep, its Observe executions and any Apply executions)."""
    express = express_of(run)
    lambdas = [lambda_calls(e["events"]) for e in express]
    standard_transitions = sum(1 for e in run.history if e["type"].endswith("StateEntered"))
    cost = (len(express) * EXPRESS_PER_REQUEST
            + sum(x["billedDurationInMilliseconds"] / 1000 * x["billedMemoryUsedInMB"] / 1024 for x in express)
            * EXPRESS_PER_GB_SECOND
            + sum(n for n, _ in lambdas) * LAMBDA_PER_REQUEST
            + sum(ms for _, ms in lambdas) / 1000 * LAMBDA_MEMORY_GB * LAMBDA_PER_GB_SECOND
            + standard_transitions * STANDARD_PER_TRANSITION)
    return {
        "express": len(express),
        "expressBilledMs": sum(x["billedDurationInMilliseconds"] for x in express),
        "expressTransitions": sum(x["stateTransitions"] for x in express),
        "expressEvents": max(x["historyEvents"] for x in express),
        "lambdaCalls": sum(n for n, _ in lambdas),
        "lambdaBilledMs": sum(ms for _, ms in lambdas),
        "applies": len(run.applies),
        "standardTransitions": standard_transitions,
        "largest": largest_of_run(cloud, run),
        "cost": cost,
    }


def reconcile(cloud, execution_input):
    started = time.monotonic()
    run = cloud.reconcile(execution_input, timeout=600)
    run.wall = time.monotonic() - started
    return run


def outcome(run):
    failed = next((e["executionFailedEventDetails"] for e in run.history if e["type"] == "ExecutionFailed"), None)
    return run.status + (f" {failed['error']}: {failed['cause'][:200]}" if failed else "")


def describe(cloud, run, world=None, aws=None):
    f = run_figures(cloud, run)
    size, state, where = f["largest"]
    problems = sc.convergence_problems(aws, world) if world else []
    return (f"{outcome(run)} in {run.wall:.1f} s, converged={not problems}, writes={sum(sc.wiring_writes(run.history).values())}, "
            f"apply executions={f['applies']}, largest state {size / KIB:.1f} KiB ({state} in {where}; "
            f"{'under' if size < HALF_THE_LIMIT else 'OVER'} 128 KiB)")


# ---------------------------------------------------------------- 1. scale

def scale():
    with LocalCloud() as cloud:
        aws = sc.Aws(cloud.endpoint)
        # MSK puts the same number of brokers in each AZ: 48 (3 AZs) is the most that fits one NLB with the
        # bootstrap listener (50 listeners); 49 brokers is no MSK cluster.
        consumers = tuple(f"c{i:02d}" for i in range(49))
        world = sc.build_world(aws, "scale", table=cloud.table, brokers=48, consumers=consumers, cross_account="partner")
        show("scale", f"msk-single-nlb, 48 brokers + bootstrap, {len(world.consumers)} consumer zones "
                      f"(1 cross-account) + the provider zone")
        run = reconcile(cloud, sc.manual(world))
        show("scale", "first reconcile: " + describe(cloud, run, world, aws))

        busy = world.consumers[0].hosted_zone_id
        sc.add_foreign_records(aws, busy, sc.ZONE_NAME, 2000)
        run = reconcile(cloud, sc.manual(world))
        show("scale", "converged, one zone with 2,000 foreign records: " + describe(cloud, run, world, aws))

        moved = cloud.replace_broker(world.cluster_arn, 7)
        run = reconcile(cloud, sc.manual(world))
        show("scale", f"broker 7 replaced ({moved['oldIp']} -> {moved['newIp']}): " + describe(cloud, run, world, aws))

        ec2 = sc.build_ec2_world(aws, "scale-ec2", table=cloud.table, brokers=40)
        for instance in sc.ec2_instances(aws, ec2):
            aws.ec2.create_tags(Resources=[instance.instance_id],
                                Tags=[{"Key": f"team:label-{n:02d}", "Value": "x" * 200} for n in range(47)])
        reservations = aws.ec2.describe_instances(Filters=[{"Name": "tag:kafka-cluster", "Values": [ec2.link_id]}])["Reservations"]
        tags = Counter(len(i["Tags"]) for r in reservations for i in r["Instances"])
        show("scale", f"ec2-self-managed, 40 instances with {dict(tags)} tags (values of 200 characters)")
        run = reconcile(cloud, sc.manual(ec2))
        show("scale", "first reconcile: " + describe(cloud, run, ec2, aws))


# ---------------------------------------------------------------- 2. isolation

LINKS = 300


def isolation():
    with LocalCloud() as cloud:
        aws = sc.Aws(cloud.endpoint)
        started = time.monotonic()
        worlds = [sc.build_world(aws, f"iso-{n:03d}", table=cloud.table, consumers=("analytics",), provider_zone=False,
                                 cluster_name=f"iso-{n:03d}") for n in range(LINKS)]
        show("isolation", f"{LINKS} msk-single-nlb links (3 brokers + bootstrap, 1 consumer zone) built in "
                          f"{time.monotonic() - started:.0f} s")
        # Wired 30 links a run (300 fresh links at once would be 300 Apply executions on the local cloud's 2 cores).
        started, most = time.monotonic(), 0
        for first in range(0, LINKS, 30):
            run = reconcile(cloud, {"action": "reconcile", "linkIds": [w.link_id for w in worlds[first:first + 30]]})
            if run.status != "SUCCEEDED":
                failed = [e for e in run.history if e["type"].endswith("Failed")]
                raise SystemExit(f"links {first}..{first + 29} did not converge: {outcome(run)}\n"
                                 + "\n".join(json.dumps(e, default=str)[:3000] for e in failed))
            most = max([most] + [len(h) for h in run.apply_histories])
        show("isolation", f"{LINKS} links wired, 30 a run, in {time.monotonic() - started:.0f} s; "
                          f"most events in one Apply execution: {most}")
        sweep = sc.load_event("schedule-sweep.json")
        run = reconcile(cloud, sweep)
        f = run_figures(cloud, run)
        converged = sum(1 for r in run.output["results"] if r.get("converged")) if run.output else 0
        show("isolation", f"converged sweep over {LINKS} links: {outcome(run)} in {run.wall:.0f} s, "
                          f"{converged}/{LINKS} converged, {f['express']} Express executions, sweep events "
                          f"{run.sweep_express['historyEvents']}, most events in one Observe "
                          f"{max(o['historyEvents'] for o in run.observes)}, largest state {f['largest'][0] / KIB:.1f} KiB")

        broken = worlds[LINKS // 2]
        sc.add_large_txt_records(aws, broken.consumers[0].hosted_zone_id, sc.ZONE_NAME, 100)
        moved = cloud.replace_broker(worlds[0].cluster_arn, 1)  # one other link has work to do
        run = reconcile(cloud, sweep)
        f = run_figures(cloud, run)
        results = run.summary["results"]
        failed = [r for r in results if r.get("status") == "failed"]
        others = [r for r in results if r["linkId"] != broken.link_id]
        locks = sc.lock_items(aws, cloud.table)
        show("isolation", f"sweep with a zone of 100 TXT records of 4,000 characters in {broken.link_id}: "
                          f"{outcome(run)} in {run.wall:.0f} s")
        show("isolation", f"  failed links: {[(r['linkId'], r.get('error')) for r in failed]}")
        show("isolation", f"  other links: {sum(1 for r in others if r.get('converged'))}/{len(others)} converged, "
                          f"{f['applies']} apply execution(s) ({worlds[0].link_id}: broker 1 {moved['oldIp']} -> "
                          f"{moved['newIp']}, converged={not sc.convergence_problems(aws, worlds[0])})")
        show("isolation", f"  lock items left in the table: {len(locks)}")
        show("isolation", f"  history events: sweep {run.sweep_express['historyEvents']} (Express, CloudWatch Logs only), "
                          f"largest Observe {max(o['historyEvents'] for o in run.observes)}, "
                          f"largest Apply {max(map(len, run.apply_histories), default=0)} "
                          f"(Standard limit 25,000)")


# ---------------------------------------------------------------- 3. cost at rest, 4. speed

def thirty_by_ten(cloud, aws):
    consumers = tuple(f"c{i}" for i in range(10))
    world = sc.build_world(aws, "mid", table=cloud.table, brokers=30, consumers=consumers, provider_zone=False)
    run = reconcile(cloud, sc.manual(world))
    if run.status != "SUCCEEDED" or sc.convergence_problems(aws, world):
        raise SystemExit(f"the 30 x 10 link did not converge: {outcome(run)}")
    return world


def cost():
    with LocalCloud() as cloud:
        aws = sc.Aws(cloud.endpoint)
        world = thirty_by_ten(cloud, aws)
        show("cost", "msk-single-nlb, 30 brokers + bootstrap, 10 consumer zones, converged; prices: Express "
                     "$1.00/M requests + $0.00001667/GB-s, Lambda arm64 $0.20/M + $0.0000133/GB-s at 512 MB, "
                     "Standard $0.025/1,000 transitions")
        for label, execution_input in (("scheduled sweep", sc.load_event("schedule-sweep.json")),
                                       ("CloudTrail event that changes nothing",
                                        sc.load_event("cloudtrail-update-broker-count.json", world)),
                                       ("manual reconcile", sc.manual(world))):
            runs = [reconcile(cloud, execution_input) for _ in range(3)]
            figures = [run_figures(cloud, r) for r in runs]
            f = max(figures, key=lambda x: x["cost"])
            show("cost", f"{label}: {outcome(runs[-1])}, {f['express']} Express executions billed "
                         f"{f['expressBilledMs']} ms at 64 MB, {f['expressTransitions']} transitions, {f['lambdaCalls']} "
                         f"Lambda calls billed {f['lambdaBilledMs']} ms, {f['applies']} Standard executions "
                         f"({f['standardTransitions']} transitions), largest state {f['largest'][0] / KIB:.1f} KiB; "
                         f"${f['cost']:.7f} a run (most of 3) = ${f['cost'] * RUNS_A_MONTH:.4f} a link-month at "
                         f"{RUNS_A_MONTH} runs")


def speed():
    with LocalCloud() as cloud:
        aws = sc.Aws(cloud.endpoint)
        world = thirty_by_ten(cloud, aws)
        moved = cloud.replace_broker(world.cluster_arn, 12)
        run = reconcile(cloud, sc.load_event("schedule-sweep.json"))
        problems = sc.convergence_problems(aws, world)
        show("speed", f"30 x 10, broker 12 replaced ({moved['oldIp']} -> {moved['newIp']}), scheduled sweep -> "
                      f"converged: {outcome(run)} in {run.wall:.2f} s, converged={not problems}, "
                      f"writes={dict(sc.wiring_writes(run.history))}")
        express_writes = sum(sc.write_calls(o["events"]).total() for o in express_of(run))
        show("audit", f"writes in the Apply execution's history: {sum(sc.wiring_writes(run.history).values())} "
                      f"(each its own task), in Express executions: {express_writes}")


# ---------------------------------------------------------------- 5. status

def status():
    """The status's output against the 256 KiB limit: one link at the largest scale in detail, fresh and wired;
    then every one of 300 small links (overviews only), fresh: the most each row can say."""
    def figures(run):
        size, state, where = largest_of_run(cloud, run)
        output = run.sweep.get("output") or ""
        text = json.loads(output)["text"] if output else ""
        return (f"{outcome(run)} in {run.wall:.1f} s, output {len(output) / KIB:.1f} KiB (text {len(text) / KIB:.1f} KiB, "
                f"{text.count(chr(10))} lines), largest state {size / KIB:.1f} KiB ({state} in {where}), "
                f"{len(run.applies)} Apply executions, writes={sc.write_calls([e for o in express_of(run) for e in o['events']]).total()}")

    with LocalCloud() as cloud:
        aws = sc.Aws(cloud.endpoint)
        consumers = tuple(f"c{i:02d}" for i in range(49))
        world = sc.build_world(aws, "scale", table=cloud.table, brokers=48, consumers=consumers, cross_account="partner")
        show("status", "msk-single-nlb, 48 brokers + bootstrap, 50 consumer zones (1 cross-account) + the provider zone")
        show("status", "fresh (every target group and record pending): " + figures(reconcile(cloud, {"action": "status", "linkId": "scale"})))
        wired = reconcile(cloud, sc.manual(world))
        show("status", f"wired ({outcome(wired)}): " + figures(reconcile(cloud, {"action": "status", "linkId": "scale"})))
        sc.delete_link(aws, world)

        started = time.monotonic()
        for n in range(LINKS):
            sc.build_world(aws, f"iso-{n:03d}", table=cloud.table, consumers=("analytics",), provider_zone=False, cluster_name=f"iso-{n:03d}")
        show("status", f"{LINKS} msk-single-nlb links (3 brokers + bootstrap, 1 consumer zone), fresh, built in {time.monotonic() - started:.0f} s")
        show("status", f"all {LINKS} links, an overview each: " + figures(reconcile(cloud, {"action": "status", "all": True})))


SECTIONS = {"scale": scale, "isolation": isolation, "cost": cost, "speed": speed, "status": status}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section(s) {unknown}: choose from {list(SECTIONS)}")
    for name in chosen:
        SECTIONS[name]()
