"""ELBv2 behaviour moto 5.2.1 gets wrong in ways that hide bugs in BrokerLink's observe/apply loop.

* DescribeTargetGroups(LoadBalancerArn) on a load balancer without target groups: AWS returns
  an empty list, moto raises TargetGroupNotFound.
* DeleteListener: AWS forgets the load balancer <-> target group association once no listener
  of that load balancer forwards to the group (the group then no longer shows under
  DescribeTargetGroups(LoadBalancerArn)); moto keeps it forever.
* CreateTargetGroup is documented idempotent: the same name with the same settings returns the
  existing group. moto raises DuplicateTargetGroupName.

Targets (keyed by Id and Port, deregistering what is not registered, draining): fidelity_elbv2_targets.py.
"""

import threading

from moto.elbv2.exceptions import DuplicateTargetGroupName
from moto.elbv2.models import ELBv2Backend

_original = {}
# Executions run on threads: a name check and the create it guards must not interleave with another create
# (iterating the groups while another thread adds one raised "OrderedDict mutated during iteration" at 30
# concurrent Apply executions).
_lock = threading.RLock()


def describe_target_groups(self, load_balancer_arn, target_group_arns, names):
    if load_balancer_arn and not target_group_arns and not names and load_balancer_arn in self.load_balancers:
        if not any(load_balancer_arn in tg.load_balancer_arns for tg in list(self.target_groups.values())):
            return []
    return _original["describe_target_groups"](self, load_balancer_arn, target_group_arns, names)


def delete_listener(self, listener_arn):
    listener = _original["delete_listener"](self, listener_arn)
    load_balancer = self.load_balancers.get(listener.load_balancer_arn)
    still_used = set()
    if load_balancer is not None:
        for other in list(load_balancer.listeners.values()):
            for rule in other.rules.values():
                for action in rule.actions:
                    still_used.update(self._get_target_group_arns_from(action_data=action.data))
    for arn, target_group in list(self.target_groups.items()):
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
    with _lock:
        for existing in list(self.target_groups.values()):
            if existing.name == name:
                if _same_settings(existing, kwargs):
                    return existing
                raise DuplicateTargetGroupName()
        return _original["create_target_group"](self, name, **kwargs)


def install():
    if _original:
        return
    _original["describe_target_groups"] = ELBv2Backend.describe_target_groups
    _original["delete_listener"] = ELBv2Backend.delete_listener
    _original["create_target_group"] = ELBv2Backend.create_target_group
    ELBv2Backend.describe_target_groups = describe_target_groups
    ELBv2Backend.delete_listener = delete_listener
    ELBv2Backend.create_target_group = create_target_group
