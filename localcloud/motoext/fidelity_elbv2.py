"""ELBv2 behaviour moto 5.2.1 gets wrong in ways that hide bugs in BrokerLink's observe/apply loop.

* DescribeTargetGroups(LoadBalancerArn) on a load balancer without target groups: AWS returns
  an empty list, moto raises TargetGroupNotFound.
* DeleteListener: AWS forgets the load balancer <-> target group association once no listener
  of that load balancer forwards to the group (the group then no longer shows under
  DescribeTargetGroups(LoadBalancerArn)); moto keeps it forever.
* CreateTargetGroup is documented idempotent: the same name with the same settings returns the
  existing group. moto raises DuplicateTargetGroupName.
* DeregisterTargets of a target that is not registered succeeds in AWS; moto raises InvalidTarget.
* A deregistered target stays listed as `draining` for the group's deregistration delay
  (`deregistration_delay.timeout_seconds`, 300 s by default); moto drops it at once, so a
  verify pass could never see a draining target. Set the delay to 0 on a group (or with
  POST /_brokerlink/elbv2/config {"drainingSeconds": N}) to change that.
"""

import threading
import time

from moto.elbv2.exceptions import DuplicateTargetGroupName
from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup

from . import ApiError, route

# None: each group's own deregistration_delay.timeout_seconds attribute.
CONFIG = {"drainingSeconds": None}

_lock = threading.RLock()
_original = {}


def describe_target_groups(self, load_balancer_arn, target_group_arns, names):
    if load_balancer_arn and not target_group_arns and not names and load_balancer_arn in self.load_balancers:
        if not any(load_balancer_arn in tg.load_balancer_arns for tg in self.target_groups.values()):
            return []
    return _original["describe_target_groups"](self, load_balancer_arn, target_group_arns, names)


def delete_listener(self, listener_arn):
    listener = _original["delete_listener"](self, listener_arn)
    load_balancer = self.load_balancers.get(listener.load_balancer_arn)
    still_used = set()
    if load_balancer is not None:
        for other in load_balancer.listeners.values():
            for rule in other.rules.values():
                for action in rule.actions:
                    still_used.update(self._get_target_group_arns_from(action_data=action.data))
    for arn, target_group in self.target_groups.items():
        if arn not in still_used and listener.load_balancer_arn in target_group.load_balancer_arns:
            target_group.load_balancer_arns.remove(listener.load_balancer_arn)
    return listener


def _same_settings(existing, kwargs):
    def norm(value):
        return None if value is None else str(value)

    return (
        norm(existing.vpc_id) == norm(kwargs.get("vpc_id"))
        and norm(existing.protocol) == norm(kwargs.get("protocol"))
        and norm(existing.port) == norm(kwargs.get("port"))
        and existing.target_type == (kwargs.get("target_type") or "instance")
    )


def create_target_group(self, name, **kwargs):
    for existing in self.target_groups.values():
        if existing.name == name:
            if _same_settings(existing, kwargs):
                return existing
            raise DuplicateTargetGroupName()
    return _original["create_target_group"](self, name, **kwargs)


def _draining_seconds(target_group):
    if CONFIG["drainingSeconds"] is not None:
        return CONFIG["drainingSeconds"]
    try:
        return float(target_group.attributes.get("deregistration_delay.timeout_seconds", 300))
    except (TypeError, ValueError):
        return 300.0


def _draining(target_group):
    """Deregistered targets still within the delay: {id: (target, deregistered_at)}."""
    draining = getattr(target_group, "bl_draining", None)
    if draining is None:
        draining = target_group.bl_draining = {}
    now, delay = time.time(), _draining_seconds(target_group)
    for target_id in [t for t, (_, at) in draining.items() if now - at >= delay]:
        draining.pop(target_id)
    return draining


def register(self, targets):
    with _lock:
        _original["register"](self, targets)
        draining = _draining(self)
        for target in targets:
            draining.pop(target["Id"], None)


def deregister(self, targets):
    with _lock:
        draining = _draining(self)
        for target in targets:
            current = self.targets.pop(target["Id"], None)
            if current is None:
                continue  # AWS: deregistering a target that is not registered succeeds
            self.deregistered_targets[target["Id"]] = current
            draining[target["Id"]] = (current, time.time())


def describe_target_health(self, target_group_arn, targets):
    statuses = _original["describe_target_health"](self, target_group_arn, targets)
    target_group = self.target_groups[target_group_arn]
    with _lock:
        draining = _draining(target_group)
        if targets:
            asked = {t["Id"] for t in targets}
            statuses = [s for s in statuses if s.instance_id not in draining]
        else:
            asked = None
        for target_id, (target, _) in draining.items():
            if asked is None or target_id in asked:
                statuses.append(FakeHealthStatus(
                    target_id, target["Port"], target_group.health_check_port, "draining",
                    "Target.DeregistrationInProgress", "Target deregistration is in progress"))
    return statuses


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
    _original["describe_target_groups"] = ELBv2Backend.describe_target_groups
    _original["delete_listener"] = ELBv2Backend.delete_listener
    _original["create_target_group"] = ELBv2Backend.create_target_group
    _original["describe_target_health"] = ELBv2Backend.describe_target_health
    _original["register"] = FakeTargetGroup.register
    ELBv2Backend.describe_target_groups = describe_target_groups
    ELBv2Backend.delete_listener = delete_listener
    ELBv2Backend.create_target_group = create_target_group
    ELBv2Backend.describe_target_health = describe_target_health
    FakeTargetGroup.register = register
    FakeTargetGroup.deregister = deregister
