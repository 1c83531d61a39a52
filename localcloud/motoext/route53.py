"""Route 53 ChangeResourceRecordSets with AWS's semantics, validated as a whole batch before anything
is applied: a batch is all or nothing. Each rule cites its AWS source; AWS answers every one with
InvalidChangeBatch (HTTP 400), the messages of all failed changes in one answer.

* CREATE of an existing record set, DELETE of a missing or different one.
* At most 1,000 records per batch, UPSERT counting twice.
* A name outside the zone, on label boundaries (`xkafka.us-east-1.amazonaws.com` is not in
  `kafka.us-east-1.amazonaws.com`).
* Two changes to one record set (name, type, set identifier) in one batch, but for DELETE then
  CREATE (replacing it, the way records were changed before UPSERT existed).
* A CNAME beside any other record at its name, and any record beside a CNAME.
* A record without SetIdentifier beside records of the same name and type with one, and a
  routing policy (weighted, latency, ...) beside another policy or a simple record.
* Checks other modules add to CHANGE_CHECKS (fidelity_route53_alias.py: the alias target exists).

Changes are checked in order against the zone as the earlier changes of the batch leave it (a
DELETE of a CNAME lets a later CREATE of an A record at its name pass), as AWS does (external-dns
#1411: creating a weighted record before deleting the simple one fails, deleting first works).
Alias records have no TTL and their DNSName ends with a dot; `*` is listed as `\\052`."""

from moto.route53.exceptions import InvalidInput, Route53ClientError
from moto.route53.models import RecordSet, Route53Backend
from moto.route53.utils import validate_domain_name

MAX_RECORDS = 1000

# check(zone, action, wanted record set as requested) -> [messages]: run for every CREATE and UPSERT.
CHANGE_CHECKS = []

# The request fields that give a record set a routing policy, and the word AWS's messages use for it.
# "weighted" is AWS's (external-dns #1411, #3141); the other words follow the same pattern (UNVERIFIED).
POLICIES = (("Weight", "weighted"), ("Region", "latency"), ("Failover", "failover"), ("GeoLocation", "geolocation"),
            ("GeoProximityLocation", "geoproximity"), ("CidrRoutingConfig", "IP-based"),
            ("MultiValueAnswer", "multivalue answer"))

_original = {}


class InvalidChangeBatch(Route53ClientError):
    def __init__(self, messages):
        super().__init__("InvalidChangeBatch", "; ".join(messages))


def _key(name):
    name = name.lower().replace("*", "\\052")
    return name if name.endswith(".") else name + "."


def _in_zone(name_key, zone_key):
    """On label boundaries: the zone's apex or a name ending in `.<zone>`."""
    return name_key == zone_key or name_key.endswith("." + zone_key)


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


def _policy_of_request(wanted):
    return next((word for field, word in POLICIES if wanted.get(field) not in (None, False, "")), None)


def _policy(record):
    """The routing policy word of a stored record set, None for a simple one."""
    if hasattr(record, "bl_policy"):
        return record.bl_policy
    stored = {"Weight": record.weight, "Region": record.region, "Failover": record.failover,
              "GeoLocation": record.geo_location, "MultiValueAnswer": record.multi_value_answer}
    return _policy_of_request(stored)


def _duplicates(change_list):
    """Record sets changed more than once in the batch (DELETE then CREATE is allowed).

    AWS: "The request contains an invalid set of changes for a resource record set 'A name.'" for two
    changes to one record set (external-dns #4241: the same DELETE twice). DELETE followed by CREATE in
    one batch is how records were replaced before UPSERT (ChangeResourceRecordSets API reference,
    "Change Batches and Transactional Changes": a DELETE and a CREATE in one batch are made in a single
    operation, or neither is; fog Record#modify and Netflix denominator sent exactly that)."""
    actions = {}
    for change in change_list:
        wanted = change["ResourceRecordSet"]
        identity = (_key(wanted["Name"]), wanted["Type"], wanted.get("SetIdentifier"))
        actions.setdefault(identity, []).append(change["Action"])
    return [f"The request contains an invalid set of changes for a resource record set '{kind} {name}'"
            for (name, kind, _), done in actions.items() if len(done) > 1 and done != ["DELETE", "CREATE"]]


def _conflicts(zone_key, name_key, wanted, others):
    """Messages for the record sets already at the name (the one this change replaces excluded)."""
    kind, identifier = wanted["Type"], wanted.get("SetIdentifier")
    errors = []
    # A CNAME is alone at its name (RFC 1034 section 3.6.2; Route 53 developer guide, "Supported DNS record
    # types", CNAME: "If you create a CNAME record for a subdomain, you cannot create any other records for
    # that subdomain"). Messages as AWS words them (aws-sdk-java#1996; external-dns #1517, with its two spaces).
    if kind == "CNAME" and any(r.type != "CNAME" for r in others):
        errors.append(f"RRSet of type CNAME with DNS name {name_key} is not permitted as it conflicts with other "
                      f"records with the same DNS name in zone {zone_key}")
    elif kind != "CNAME" and any(r.type == "CNAME" for r in others):
        errors.append(f"RRSet of type {kind} with DNS name {name_key} is not permitted because a conflicting RRSet "
                      f"of type  CNAME with the same DNS name already exists in zone {zone_key}")
    # Records of one name and type are either one simple record set or a group of record sets of one routing
    # policy, each with its SetIdentifier (Route 53 API reference, ResourceRecordSet.SetIdentifier: "Resource
    # record sets that have a routing policy other than simple"; developer guide, "Choosing a routing policy").
    # Messages as AWS words them: chef-boneyard/route53#100 (simple beside weighted), external-dns #1411 and
    # #4345 (weighted beside simple, beside latency).
    siblings = [r for r in others if r.type == kind]
    if siblings and identifier is None:
        errors.append(f"RRSet with DNS name {name_key}, type {kind} cannot be created as other RRSets exist with "
                      "the same name and type.")
    elif siblings:
        policy = _policy_of_request(wanted)
        if any(r.set_identifier is None or _policy(r) != policy for r in siblings):
            errors.append(f"RRSet with DNS name {name_key}, type {kind}, SetIdentifier {identifier} cannot be created "
                          f"as a non-{policy} set exists with the same name and type.")
    return errors


def change_resource_record_sets(self, zoneid, change_list):
    zone = self.get_hosted_zone(zoneid)
    zone_key = _key(zone.name)
    counted = sum(
        len(c["ResourceRecordSet"].get("ResourceRecords") or []) * (2 if c["Action"] == "UPSERT" else 1)
        for c in change_list
    )
    if counted > MAX_RECORDS:
        raise InvalidChangeBatch([f"Number of records limit of {MAX_RECORDS} exceeded."])
    for change in change_list:
        if change["Action"] not in ("CREATE", "UPSERT", "DELETE"):
            raise InvalidInput(f"Invalid Action {change['Action']}")
        validate_domain_name(change["ResourceRecordSet"]["Name"], code="InvalidChangeBatch")
    duplicates = _duplicates(change_list)
    if duplicates:
        raise InvalidChangeBatch(duplicates)

    records = list(zone.rrsets)
    errors = []
    for change in change_list:
        action, wanted = change["Action"], dict(change["ResourceRecordSet"])
        name_key = _key(wanted["Name"])
        if not _in_zone(name_key, zone_key):
            # AWS: "RRSet with DNS name <name> is not permitted in zone <zone>" (Route 53 API reference,
            # ChangeResourceRecordSets: the names must be in the hosted zone; message from getmoto/moto#916).
            errors.append(f"RRSet with DNS name {name_key} is not permitted in zone {zone_key}")
            continue
        if not wanted.get("AliasTarget") and not ("TTL" in wanted and wanted.get("ResourceRecords")):
            raise InvalidInput(
                "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], "
                f"or TrafficPolicyInstanceId], but found none in Change with [Action={action}, "
                f"Name={wanted['Name']}, Type={wanted['Type']}]"
            )
        identity = (name_key, wanted["Type"], wanted.get("SetIdentifier"))
        found = next((r for r in records if (_key(r.name), r.type, r.set_identifier) == identity), None)
        described = f"[name='{name_key}', type='{wanted['Type']}']"
        if action == "CREATE" and found is not None:
            errors.append(f"Tried to create resource record set {described} but it already exists")
        elif action == "DELETE" and found is None:
            errors.append(f"Tried to delete resource record set {described} but it was not found")
        elif action == "DELETE" and not _same(found, wanted):
            errors.append(
                f"Tried to delete resource record set {described} but the values provided do not match the current values"
            )
        if action in ("CREATE", "UPSERT"):
            others = [r for r in records if r is not found and _key(r.name) == name_key]
            errors += _conflicts(zone_key, name_key, wanted, others)
            for check in CHANGE_CHECKS:
                errors += check(zone, action, wanted)
        if found is not None:
            records.remove(found)
        if action in ("CREATE", "UPSERT"):
            records.append(_record(wanted))
    if errors:
        raise InvalidChangeBatch(errors)
    zone.rrsets = records
    for change in change_list:
        zone.rr_changes.append(change)


def _record(wanted):
    """The stored record set: names with a trailing dot, `*` as \\052, alias DNSName with a trailing dot, no TTL."""
    policy = _policy_of_request(wanted)
    wanted["Name"] = _key(wanted["Name"]) if "*" in wanted["Name"] else wanted["Name"].rstrip(".") + "."
    wanted["ResourceRecords"] = [r["Value"] for r in wanted.get("ResourceRecords") or []]
    if wanted.get("AliasTarget"):
        alias = dict(wanted["AliasTarget"])
        alias["DNSName"] = alias.get("DNSName", "").rstrip(".") + "."
        wanted["AliasTarget"] = alias
    record = RecordSet(wanted)
    record.bl_policy = policy
    if wanted.get("AliasTarget"):
        record.ttl = None  # alias records have no TTL
    return record


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
