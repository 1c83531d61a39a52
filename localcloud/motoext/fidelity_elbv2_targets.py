"""ELBv2 targets as AWS keeps them: a registered target is an (Id, Port) pair, and a deregistered one drains.

moto 5.2.1 keys a target group's targets by Id alone: registering `10.0.1.5:9095` silently replaces
`10.0.1.5:9094`, and deregistering `10.0.1.5:9094` then removes the 9095 target. A target port change
that forgets the old-port target therefore looks converged locally, while AWS keeps serving (and
health-checking) the stale target. Here, as in AWS:

* RegisterTargets / DeregisterTargets / DescribeTargetHealth identify a target by Id and Port; a
  target given without Port uses the target group's port. ELBv2 API reference, RegisterTargets
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RegisterTargets.html):
  "By default, the load balancer routes requests to registered targets using the protocol and port
  for the target group. Alternatively, you can override the port for a target when you register it.
  You can register each EC2 instance or IP address with the same target group multiple times using
  different ports."
* DeregisterTargets of a target (Id, Port) that is not registered succeeds and changes nothing
  (AWS answers 200, /work/shared/AWS-FACTS.md "ELBv2 / NLB"; moto raises InvalidTarget). Verify by
  describing.
* A deregistered target stays listed as `draining` for the group's deregistration delay
  (`deregistration_delay.timeout_seconds`, 300 s by default, "Target groups for your Network Load
  Balancers", https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-target-groups.html#deregistration-delay);
  moto drops it at once, so a verify pass could never see a draining target. Set the delay to 0 on
  a group, or for every group with POST /_brokerlink/elbv2/config {"drainingSeconds": N}.
  Registering the same (Id, Port) again ends its draining.
* DescribeTargetHealth without Targets lists every registered and every draining target; with
  Targets, one description per (Id, Port) asked (not registered: `unused`, `Target.NotRegistered`).
* A registered target is `healthy` (no health checks run here) unless a test says otherwise with
  POST /_brokerlink/elbv2/target-health {"targetGroupArn", "id", "port", "state", "reason", "description"}
  (state one of TargetHealthStateEnum, ELBv2 API reference, TargetHealth:
  https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html); state null
  clears it. It holds while the target stays registered.
"""

import threading
import time

from moto.elbv2.exceptions import TargetGroupNotFoundError, TargetNotRunning
from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup

from . import ApiError, route

# None: each group's own deregistration_delay.timeout_seconds attribute.
CONFIG = {"drainingSeconds": None}
# The health a test gave a registered target: (target group ARN, id, port) -> (state, reason, description).
HEALTH = {}
HEALTH_STATES = ("initial", "healthy", "unhealthy", "unhealthy.draining", "unused", "draining", "unavailable")

_lock = threading.RLock()
_original = {}


def _key(target_group, target):
    """(Id, Port) of a TargetDescription; no Port: the group's port (None for Lambda targets)."""
    port = target.get("Port")
    if port in (None, ""):
        port = target_group.port
    return target["Id"], None if port in (None, "") else int(port)


def _draining_seconds(target_group):
    if CONFIG["drainingSeconds"] is not None:
        return CONFIG["drainingSeconds"]
    try:
        return float(target_group.attributes.get("deregistration_delay.timeout_seconds", 300))
    except (TypeError, ValueError):
        return 300.0


def _draining(target_group):
    """Deregistered targets still within the delay: {(id, port): deregistered_at}."""
    draining = getattr(target_group, "bl_draining", None)
    if draining is None:
        draining = target_group.bl_draining = {}
    now, delay = time.time(), _draining_seconds(target_group)
    for key in [k for k, at in draining.items() if now - at >= delay]:
        draining.pop(key)
    return draining


def register(self, targets):
    with _lock:
        for target in targets:
            instance = self.ec2_backend.get_instance_by_id(target["Id"])
            if instance is not None and instance.state != "running":
                raise TargetNotRunning(instance_id=target["Id"])  # moto's own check, kept (AWS: InvalidTarget)
        draining = _draining(self)
        for target in targets:
            key = _key(self, target)
            self.targets[key] = {"Id": key[0], "Port": key[1]}
            draining.pop(key, None)


def deregister(self, targets):
    with _lock:
        draining = _draining(self)
        for target in targets:
            key = _key(self, target)
            if self.targets.pop(key, None) is None:
                continue  # AWS: deregistering a target that is not registered succeeds
            HEALTH.pop((self.arn, *key), None)
            draining[key] = time.time()


def deregister_terminated_instances(self, instance_ids):
    with _lock:
        for key in [k for k in self.targets if k[0] in instance_ids]:
            self.terminated_targets[key] = self.targets.pop(key)


def _healthy(target_group, ec2_backend, key):
    if (target_group.arn, *key) in HEALTH:
        return FakeHealthStatus(key[0], key[1], target_group.health_check_port, *HEALTH[(target_group.arn, *key)])
    instance = ec2_backend.get_instance_by_id(key[0]) if key[0].startswith("i-") else None
    if instance is not None and instance.state == "stopped":
        return FakeHealthStatus(key[0], key[1], target_group.health_check_port, "unused",
                                "Target.InvalidState", "Target is in the stopped state")
    return FakeHealthStatus(key[0], key[1], target_group.health_check_port, "healthy")


def describe_target_health(self, target_group_arn, targets):
    target_group = self.target_groups.get(target_group_arn)
    if target_group is None:
        raise TargetGroupNotFoundError()
    with _lock:
        draining = _draining(target_group)
        asked = [_key(target_group, t) for t in targets] if targets else list(target_group.targets) + list(draining)
        statuses = []
        for key in asked:
            if key in target_group.targets:
                statuses.append(_healthy(target_group, self.ec2_backend, key))
            elif key in draining:
                statuses.append(FakeHealthStatus(key[0], key[1], target_group.health_check_port, "draining",
                                                 "Target.DeregistrationInProgress", "Target deregistration is in progress"))
            else:
                statuses.append(FakeHealthStatus(key[0], key[1], target_group.health_check_port, "unused",
                                                 "Target.NotRegistered", "Target is not registered to the target group"))
        return statuses


@route("POST", "elbv2/target-health")
def set_target_health(body):
    key = (body.get("targetGroupArn"), body.get("id"), body.get("port"))
    if not all(isinstance(k, str) for k in key[:2]) or not isinstance(key[2], int):
        raise ApiError(400, 'expected {"targetGroupArn": str, "id": str, "port": int, "state": ..., "reason": ..., "description": ...}')
    state = body.get("state")
    if state is None:
        HEALTH.pop(key, None)
    elif state not in HEALTH_STATES:
        raise ApiError(400, f"state {state!r} is not one of {', '.join(HEALTH_STATES)}")
    else:
        HEALTH[key] = (state, body.get("reason"), body.get("description"))
    return {"targets": len(HEALTH)}


@route("POST", "elbv2/config")
def set_config(body):
    value = body.get("drainingSeconds")
    if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
        raise ApiError(400, 'expected {"drainingSeconds": N >= 0 or null}')
    CONFIG["drainingSeconds"] = value
    return dict(CONFIG)


def install():
    if _original:
        return
    _original["register"] = FakeTargetGroup.register
    _original["describe_target_health"] = ELBv2Backend.describe_target_health
    FakeTargetGroup.register = register
    FakeTargetGroup.deregister = deregister
    FakeTargetGroup.deregister_terminated_instances = deregister_terminated_instances
    ELBv2Backend.describe_target_health = describe_target_health
