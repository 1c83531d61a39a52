"""Route 53 alias records whose target must exist, as AWS checks them.

moto 5.2.1 accepts any AliasTarget. AWS refuses, with InvalidChangeBatch, an alias (CREATE or
UPSERT) to a load balancer or an interface VPC endpoint that does not exist, or whose hosted zone
id is not the target's:

* the DNS name is no load balancer's / no endpoint's DNS name, while the zone is the zone of that
  kind of target: "Tried to create an alias that targets <name>., type A in zone <zone id>, but that
  target was not found" (boto/boto#2519, barnybug/cli53#227: the message; aws/aws-cdk#19643 and
  harmony-one/harmony-ops#491 show both messages);
* the DNS name exists but under another hosted zone id (or the zone is no such zone at all): "Tried
  to create an alias that targets <name>., type A in zone <zone id>, but the alias target name does
  not lie within the target zone" (barnybug/cli53#213, hashicorp/terraform#21021).

Which zone id goes with which target is AWS's documented rule (Route 53 API reference, AliasTarget,
https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html): for an ELB load
balancer "the value of CanonicalHostedZoneId" of DescribeLoadBalancers, with its DNSName (an
optional `dualstack.` prefix allowed); for an interface VPC endpoint, "the hosted zone ID of the
endpoint" with a DNS name from its DnsEntries (DescribeVpcEndpoints). Here a target is a load
balancer in moto's ELBv2 (any account: the zone of a region's load balancers is shared) or an
entry of an endpoint's DnsEntries in moto's EC2 (any account). Aliases to anything else (a record
in the same zone, CloudFront, S3, API Gateway, ...) are not checked.
"""

import re

from moto.ec2.models import ec2_backends
from moto.elbv2.models import elbv2_backends

from . import route53
from .elbv2 import NLB_ZONE_IDS
from .fidelity_vpce import ENDPOINT_ZONE_IDS

ELB_NAME = re.compile(r"\.elb(\.[a-z0-9-]+)?\.amazonaws\.com$")
ENDPOINT_NAME = re.compile(r"\.vpce\.amazonaws\.com$")


def _backends(backends):
    """The backends moto has created, every account and region (reading them creates none)."""
    for per_region in list(backends.values()):
        yield from list(dict.values(per_region))


def _load_balancers():
    """{DNS name: canonical hosted zone id} of every load balancer."""
    return {lb.dns_name.lower().rstrip("."): lb.canonical_hosted_zone_id
            for backend in _backends(elbv2_backends) for lb in list(backend.load_balancers.values())}


def _endpoint_names():
    """{DNS name: hosted zone id} of every endpoint's DnsEntries (a deleted endpoint's names are gone)."""
    return {entry["dns_name"].lower().rstrip("."): entry["hosted_zone_id"]
            for backend in _backends(ec2_backends) for endpoint in list(backend.vpc_end_points.values())
            if (endpoint.state or "").lower() not in ("deleted", "deleting")
            for entry in endpoint.dns_entries or [] if entry.get("dns_name")}


def check(zone, action, wanted):
    alias = wanted.get("AliasTarget")
    if not alias:
        return []
    dns_name = alias.get("DNSName", "").lower().rstrip(".")
    zone_id = alias.get("HostedZoneId", "")
    load_balancers = _load_balancers()
    endpoints = _endpoint_names()
    if ELB_NAME.search(dns_name) or (zone_id in set(NLB_ZONE_IDS.values()) | set(load_balancers.values())
                                     and not ENDPOINT_NAME.search(dns_name)):
        targets, zones = load_balancers, set(NLB_ZONE_IDS.values()) | set(load_balancers.values())
        dns_name = dns_name.removeprefix("dualstack.")
    elif ENDPOINT_NAME.search(dns_name) or zone_id in set(ENDPOINT_ZONE_IDS.values()) | set(endpoints.values()):
        targets, zones = endpoints, set(ENDPOINT_ZONE_IDS.values()) | set(endpoints.values())
    else:
        return []
    if targets.get(dns_name) == zone_id:
        return []
    described = f"Tried to create an alias that targets {alias.get('DNSName', '').rstrip('.')}., type {wanted['Type']} in zone {zone_id}"
    if dns_name not in targets and zone_id in zones:
        return [f"{described}, but that target was not found"]
    return [f"{described}, but the alias target name does not lie within the target zone"]


def install():
    if check not in route53.CHANGE_CHECKS:
        route53.CHANGE_CHECKS.append(check)
