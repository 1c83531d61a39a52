"""Route 53 ListResourceRecordSets paging as AWS does it, for records with a SetIdentifier.

moto 5.2.1 ignores StartRecordIdentifier and never returns NextRecordIdentifier. A page that
ends inside a group of weighted/latency/failover records with the same name and type then
restarts at the group's first record: a client that pages correctly loops forever. AWS orders
records by (name with labels reversed, type, set identifier) and returns NextRecordIdentifier
when the next record has one.
"""

from moto.core.responses import ActionResult
from moto.route53.exceptions import InvalidInput
from moto.route53.models import Route53Backend, reverse_domain_name, validate_domain_name
from moto.route53.responses import Route53

_original = {}


def _key(record_set):
    return (reverse_domain_name(record_set.name), record_set.type or "", record_set.set_identifier or "")


def list_record_sets_page(backend, zone_id, start_type, start_name, start_identifier, max_items):
    if start_name:
        validate_domain_name(start_name)
    zone = backend.get_hosted_zone(zone_id)
    records = sorted(zone.rrsets, key=_key)
    if start_name:
        start = (reverse_domain_name(start_name), start_type or "", start_identifier or "")
        records = [r for r in records if _key(r) >= start]
    page = records[:max_items]
    following = records[max_items] if len(records) > max_items else None
    return page, following


def list_resource_record_sets(self):
    zone_id = self._get_param("HostedZoneId")
    start_type = self._get_param("StartRecordType")
    start_name = self._get_param("StartRecordName")
    start_identifier = self._get_param("StartRecordIdentifier")
    max_items = self._get_int_param("MaxItems", 300)
    if start_type and not start_name:
        raise InvalidInput("The input is not valid")
    if start_identifier and not start_type:
        raise InvalidInput("The input is not valid")
    page, following = list_record_sets_page(
        self.backend, zone_id, start_type, start_name, start_identifier, max_items)
    result = {
        "ResourceRecordSets": page,
        "IsTruncated": following is not None,
        "MaxItems": max_items,
    }
    if following is not None:
        result["NextRecordName"] = following.name
        result["NextRecordType"] = following.type
        if following.set_identifier:
            result["NextRecordIdentifier"] = following.set_identifier
    return ActionResult(result)


def install():
    if _original:
        return
    _original["list_resource_record_sets"] = Route53.list_resource_record_sets
    Route53.list_resource_record_sets = list_resource_record_sets
    # Route53Backend.list_resource_record_sets stays for other callers; the response no longer uses it.
    assert hasattr(Route53Backend, "list_resource_record_sets")
