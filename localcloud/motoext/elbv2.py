"""ELBv2 as an NLB behaves: net/ ARNs, DNS names and hosted zone, idempotent CreateListener,
one listener per port, at most 50 listeners, no SSL policy on TCP listeners, DescribeTags
limited to 20 ARNs. (Target groups and draining: fidelity_elbv2.py.)"""

from moto.elbv2.exceptions import DuplicateListenerError, ValidationError
from moto.elbv2.models import ELBv2Backend

# Route 53 hosted zone of NLBs per region (the alias target's HostedZoneId); others keep moto's.
NLB_ZONE_IDS = {"us-east-1": "Z26RNL4JYFTOTI"}
LISTENERS_PER_NLB = 50
DESCRIBE_TAGS_MAX_ARNS = 20

_original = {}


class TooManyListeners(ValidationError):
    code = "TooManyListeners"

    def __init__(self):
        super().__init__("You've reached the limit on the number of listeners per load balancer")


def create_load_balancer(self, name, *args, **kwargs):
    balancer = _original["create_load_balancer"](self, name, *args, **kwargs)
    if balancer.type != "network":
        return balancer
    old_arn = balancer.arn
    if ":loadbalancer/app/" in old_arn:
        balancer.arn = old_arn.replace(":loadbalancer/app/", ":loadbalancer/net/")
        self.load_balancers[balancer.arn] = self.load_balancers.pop(old_arn)
        self.tagging_service.copy_tags(old_arn, balancer.arn)
        self.tagging_service.delete_all_tags_for_resource(old_arn)
    lb_id = balancer.arn.rsplit("/", 1)[-1]
    balancer.dns_name = f"{name}-{lb_id}.elb.{self.region_name}.amazonaws.com"
    balancer.canonical_hosted_zone_id = NLB_ZONE_IDS.get(self.region_name, balancer.canonical_hosted_zone_id)
    return balancer


def create_listener(self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions, *args, **kwargs):
    balancer = self.load_balancers.get(load_balancer_arn)
    if balancer is not None:
        for listener in balancer.listeners.values():
            if str(listener.port) != str(port):
                continue
            # AWS: the same listener again is a no-op returning it; another one on the port is an error.
            same_actions = [(a.type, a.data.get("TargetGroupArn")) for a in listener.default_actions] == [
                (a.get("Type"), a.get("TargetGroupArn")) for a in actions
            ]
            if listener.protocol == protocol and same_actions:
                return listener
            raise DuplicateListenerError()
        if balancer.type == "network" and len(balancer.listeners) >= LISTENERS_PER_NLB:
            raise TooManyListeners()
    listener = _original["create_listener"](
        self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions, *args, **kwargs
    )
    if protocol in ("TCP", "UDP", "TCP_UDP"):
        listener.ssl_policy = None  # moto gives every listener an SSL policy
    return listener


def describe_tags(self, resource_arns):
    if len(resource_arns) > DESCRIBE_TAGS_MAX_ARNS:
        raise ValidationError(
            f"1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: "
            f"Member must have length less than or equal to {DESCRIBE_TAGS_MAX_ARNS}"
        )
    return _original["describe_tags"](self, resource_arns)


def install():
    for name in ("create_load_balancer", "create_listener", "describe_tags"):
        _original[name] = getattr(ELBv2Backend, name)
    ELBv2Backend.create_load_balancer = create_load_balancer
    ELBv2Backend.create_listener = create_listener
    ELBv2Backend.describe_tags = describe_tags
