"""Route 53 ChangeResourceRecordSets with AWS's semantics: all-or-nothing batches, CREATE of an
existing record and DELETE of a missing or different one fail with InvalidChangeBatch, the
1,000-record limit (UPSERT counts twice); alias records have no TTL and their DNSName ends
with a dot; `*` is listed as `\\052`."""

from moto.route53.exceptions import DnsNameInvalidForZone, InvalidInput, Route53ClientError
from moto.route53.models import RecordSet, Route53Backend
from moto.route53.utils import validate_domain_name

MAX_RECORDS = 1000

_original = {}


class InvalidChangeBatch(Route53ClientError):
    def __init__(self, messages):
        super().__init__("InvalidChangeBatch", "; ".join(messages))


def _key(name):
    name = name.lower().replace("*", "\\052")
    return name if name.endswith(".") else name + "."


def _values(record_set):
    return sorted(r["Value"] if isinstance(r, dict) else r for r in record_set.get("ResourceRecords") or [])


def _alias(alias):
    if not alias:
        return None
    return (alias.get("HostedZoneId"), _key(alias.get("DNSName", "")), bool(alias.get("EvaluateTargetHealth")))


def _same(existing, wanted):
    return (
        _alias(existing.alias_target) == _alias(wanted.get("AliasTarget"))
        and sorted(existing.records or []) == _values(wanted)
        and (existing.alias_target or str(existing.ttl) == str(wanted.get("TTL")))
    )


def change_resource_record_sets(self, zoneid, change_list):
    zone = self.get_hosted_zone(zoneid)
    counted = sum(
        len(c["ResourceRecordSet"].get("ResourceRecords") or []) * (2 if c["Action"] == "UPSERT" else 1)
        for c in change_list
    )
    if counted > MAX_RECORDS:
        raise InvalidChangeBatch([f"Number of records limit of {MAX_RECORDS} exceeded."])

    records = list(zone.rrsets)
    errors = []
    for change in change_list:
        action, wanted = change["Action"], dict(change["ResourceRecordSet"])
        if action not in ("CREATE", "UPSERT", "DELETE"):
            raise InvalidInput(f"Invalid Action {action}")
        validate_domain_name(wanted["Name"], code="InvalidChangeBatch")
        if not _key(wanted["Name"]).rstrip(".").endswith(_key(zone.name).rstrip(".")):
            raise DnsNameInvalidForZone(name=wanted["Name"], zone_name=zone.name)
        if not wanted.get("AliasTarget") and not ("TTL" in wanted and wanted.get("ResourceRecords")):
            raise InvalidInput(
                "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], "
                f"or TrafficPolicyInstanceId], but found none in Change with [Action={action}, "
                f"Name={wanted['Name']}, Type={wanted['Type']}]"
            )
        identity = (_key(wanted["Name"]), wanted["Type"], wanted.get("SetIdentifier"))
        found = next((r for r in records if (_key(r.name), r.type, r.set_identifier) == identity), None)
        described = f"[name='{_key(wanted['Name'])}', type='{wanted['Type']}']"
        if action == "CREATE" and found is not None:
            errors.append(f"Tried to create resource record set {described} but it already exists")
        elif action == "DELETE" and found is None:
            errors.append(f"Tried to delete resource record set {described} but it was not found")
        elif action == "DELETE" and not _same(found, wanted):
            errors.append(
                f"Tried to delete resource record set {described} but the values provided do not match the current values"
            )
        if found is not None:
            records.remove(found)
        if action in ("CREATE", "UPSERT"):
            wanted["Name"] = _key(wanted["Name"]) if "*" in wanted["Name"] else wanted["Name"].rstrip(".") + "."
            wanted["ResourceRecords"] = [r["Value"] for r in wanted.get("ResourceRecords") or []]
            if wanted.get("AliasTarget"):
                alias = dict(wanted["AliasTarget"])
                alias["DNSName"] = alias.get("DNSName", "").rstrip(".") + "."
                wanted["AliasTarget"] = alias
            record = RecordSet(wanted)
            if wanted.get("AliasTarget"):
                record.ttl = None  # alias records have no TTL
            records.append(record)
    if errors:
        raise InvalidChangeBatch(errors)
    zone.rrsets = records
    for change in change_list:
        zone.rr_changes.append(change)


def create_hosted_zone(self, *args, **kwargs):
    zone = _original["create_hosted_zone"](self, *args, **kwargs)
    for record in zone.rrsets:
        # moto stores the SOA value as {'Value': ...} and lists its repr
        record.records = [r["Value"] if isinstance(r, dict) else r for r in record.records or []]
    return zone


def install():
    _original["create_hosted_zone"] = Route53Backend.create_hosted_zone
    Route53Backend.change_resource_record_sets = change_resource_record_sets
    Route53Backend.create_hosted_zone = create_hosted_zone
