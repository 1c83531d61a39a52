#!/usr/bin/env python3
"""BrokerLink's scripted demo against the local cloud (run by `./build.sh demo`).

msk-single-nlb: one MSK cluster with 3 brokers behind one NLB, two consumer zones and a provider
zone: 1. a fresh link is reconciled by hand; 2. the converged link again (no writes);
3. UpdateBrokerCount to 4 and its CloudTrail event; 4. a broker replaced (new IP) and the
scheduled sweep.
ec2-self-managed: three tagged Kafka instances behind another NLB: 5. the fresh link, and the
server.properties lines its plan gives each broker; 6. broker 2's instance replaced (new IP) and
the terminated instance's EC2 event; 7. the converged link again (no writes).
Each step prints what changed; the last line is `converged`.
"""
import json
from collections import Counter
import sys
import time
import traceback

import scenario as sc
from client import LocalCloud

WIDTH = 120


class DemoFailed(Exception):
    pass


def show(text: str = "") -> None:
    for line in text.splitlines() or [""]:
        print(line if len(line) <= WIDTH else line[:WIDTH - 3] + "...", flush=True)


def step(cloud: LocalCloud, aws: sc.Aws, world: sc.World, title: str, trigger: str, execution_input: dict,
         server_properties_of=None) -> int:
    show(f"\n== {title}")
    show(f"   trigger: {trigger}")
    before = sc.link_view(aws, world)
    started = time.monotonic()
    status, output, history = cloud.start_execution_and_wait(execution_input)
    wall = time.monotonic() - started
    if status != "SUCCEEDED":
        failed = next((e["executionFailedEventDetails"] for e in history if e["type"] == "ExecutionFailed"), {})
        raise DemoFailed(f"{title}: execution {status}: {failed.get('error')}: {failed.get('cause')}")
    writes = sc.wiring_writes(history)
    lock_writes = sum(sc.write_calls(history).values()) - sum(writes.values())
    show(f"   execution {status} in {wall:.2f} s, {sum(writes.values())} write calls"
         + (f" (+{lock_writes} to the link's lock item)" if lock_writes else ""))
    if writes:
        show("   " + ", ".join(f"{action} {n}" for action, n in sorted(writes.items())))
    rows = sc.changes(before, sc.link_view(aws, world), world)
    if rows:
        width = max(len(what) for what, _, _ in rows)
        show(f"   {'change':<{width}}  op  detail")
        for what, sign, detail in rows:
            show(f"   {what:<{width}}  {sign:<2}  {detail}")
        totals = Counter(f"{what} {sign}" for what, sign, _ in rows)
        show("   totals: " + ", ".join(f"{key}{n}" for key, n in totals.items()))
    else:
        show("   no changes")
    for result in output.get("results", []):
        if result.get("blocked"):
            show(f"   blocked {result['blocked']['code']}: {result['blocked']['reason']}")
        for finding in result.get("findings") or []:
            show(f"   finding {finding['code']}: {finding['subject']}: {finding['message']}")
        if result.get("advertisedListeners"):
            show("   advertised.listeners (client entry per broker):")
        for entry in result.get("advertisedListeners") or []:
            show(f"     broker {entry['brokerId']}: {entry['entry']}")
        if server_properties_of is not None:
            show("   server.properties per broker (the link result's serverProperties):")
        for entry in result.get("serverProperties") or [] if server_properties_of is not None else []:
            if server_properties_of == "all" or entry["brokerId"] in server_properties_of:
                show(f"     broker {entry['brokerId']} ({entry['instanceId']}):")
                for line in entry["lines"]:
                    show(f"       {line}")
    return sum(writes.values())


def run(cloud: LocalCloud) -> None:
    aws = sc.Aws(cloud.endpoint)
    run_single_nlb(cloud, aws)
    run_ec2(cloud, aws)
    show("converged")


def run_single_nlb(cloud: LocalCloud, aws: sc.Aws) -> None:
    show("\n#### msk-single-nlb: an MSK cluster behind one NLB, a listener port per broker")
    world = sc.build_world(aws, "orders", table=cloud.table, brokers=3, bootstrap_port=8999)
    show(f"local cloud at {cloud.endpoint}, link '{world.link_id}' in table {world.table}")
    show(f"cluster   {world.cluster_arn}")
    for b in sc.brokers(aws, world.cluster_arn):
        show(f"  broker {b.broker_id}  {b.ip:<12}  {b.hosts[0]}")
    show(f"NLB       {world.load_balancer_arn}")
    for zone_id in world.zone_ids:
        target, _ = world.alias_target(zone_id)
        show(f"zone      {world.zone_label(zone_id):<9} {zone_id} (private {sc.ZONE_NAME})")
        show(f"            aliases -> {target}")

    step(cloud, aws, world, "step 1: fresh link", "manual " + json.dumps(sc.manual(world)), sc.manual(world))
    step(cloud, aws, world, "step 2: converged re-run", "manual " + json.dumps(sc.manual(world)), sc.manual(world))

    sc.update_broker_count(aws, world.cluster_arn, 6)  # MSK adds brokers one per AZ: three subnets, 3 -> 6
    state = sc.cluster_state(aws, world.cluster_arn)
    step(cloud, aws, world, "step 3: UpdateBrokerCount 3 -> 6",
         f"events/cloudtrail-update-broker-count.json while the cluster is {state}",
         sc.update_broker_count_event(world, 6))

    replaced = cloud.replace_broker(world.cluster_arn, 2)
    step(cloud, aws, world, "step 4: broker 2 replaced",
         f"{replaced['oldIp']} -> {replaced['newIp']}, then events/schedule-sweep.json",
         sc.load_event("schedule-sweep.json", world))

    problems = sc.convergence_problems(aws, world)
    if problems:
        raise DemoFailed("not converged:\n" + "\n".join(f"  {p}" for p in problems))
    view = sc.link_view(aws, world)
    txt = sc.ownership_txt(world.link_id)
    owned = [sum(1 for (_, kind), v in view.records[z].items() if kind == "TXT" and v == txt) for z in world.zone_ids]
    show(f"\nchecked against ListNodes: {len(sc.brokers(aws, world.cluster_arn))} brokers, "
         f"{len(view.target_groups)} owned target groups, {len(view.listeners)} listeners, "
         f"owned names per zone {owned}")


def run_ec2(cloud: LocalCloud, aws: sc.Aws) -> None:
    show("\n#### ec2-self-managed: Kafka on EC2 instances tagged kafka-cluster / kafka-broker-id")
    world = sc.build_ec2_world(aws, "ledger", table=cloud.table, brokers=3)
    show(f"link '{world.link_id}': instances tagged {world.broker_tag[0]}={world.broker_tag[1]}, "
         f"names {', '.join(world.config['recordNames'])}")
    for i in sorted(sc.ec2_instances(aws, world), key=lambda i: int(i.broker_id_tag)):
        show(f"  broker {i.broker_id_tag}  {i.ip:<12}  {i.instance_id}  {i.state}")
    show(f"NLB       {world.load_balancer_arn}")
    for zone_id in world.zone_ids:
        target, _ = world.alias_target(zone_id)
        show(f"zone      {world.zone_label(zone_id):<9} {zone_id} (private {sc.EC2_ZONE_NAME})")
        show(f"            aliases -> {target}")

    step(cloud, aws, world, "step 5: fresh link", "manual " + json.dumps(sc.manual(world)), sc.manual(world),
         server_properties_of="all")

    broker_2 = next(i for i in sc.ec2_instances(aws, world) if i.broker_id_tag == "2")
    replaced = cloud.replace_broker_instance(broker_2.instance_id)
    step(cloud, aws, world, "step 6: broker 2's instance replaced",
         f"{replaced['oldInstanceId']} ({replaced['oldIp']}) -> {replaced['newInstanceId']} "
         f"({replaced['newIp']}), events/ec2-instance-terminated.json",
         sc.ec2_event("ec2-instance-terminated.json", replaced["oldInstanceId"]), server_properties_of={2})

    writes = step(cloud, aws, world, "step 7: converged re-run", "manual " + json.dumps(sc.manual(world)),
                  sc.manual(world))
    if writes:
        raise DemoFailed(f"the converged re-run of {world.link_id} wrote {writes} times")
    problems = sc.convergence_problems(aws, world)
    if problems:
        raise DemoFailed("not converged:\n" + "\n".join(f"  {p}" for p in problems))
    brokers, _, _ = sc.ec2_brokers(aws, world)
    view = sc.link_view(aws, world)
    show(f"\nchecked against DescribeInstances: {len(brokers)} brokers, {len(view.target_groups)} owned target "
         f"groups, {len(view.listeners)} listeners, records in {len(world.zone_ids)} zones")


def main() -> int:
    cloud = LocalCloud()
    try:
        show("starting the local cloud (moto + BrokerLink extensions + local Lambda host)")
        cloud.start()
        run(cloud)
        return 0
    except DemoFailed as e:
        show(f"demo failed: {e}")
    except Exception:
        traceback.print_exc()
        show("demo failed")
    finally:
        cloud.stop()
    if cloud.log_path:
        show(f"local cloud log: {cloud.log_path}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
