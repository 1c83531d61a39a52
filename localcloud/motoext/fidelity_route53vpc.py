"""Private hosted zones and VPCs across accounts, as Route 53 associates them.

moto 5.2.1 has no CreateVPCAssociationAuthorization, ListVPCAssociationAuthorizations or
DeleteVPCAssociationAuthorization; its AssociateVPCWithHostedZone only finds zones of the
caller's own account and checks no VPC; CreateHostedZone accepts a CallerReference twice and
any VPC id. Here:

* CreateHostedZone: a CallerReference already used in the account is HostedZoneAlreadyExists;
  a private zone's VPC must exist in the caller's account (InvalidVPCId); a VPC already
  associated with a zone of the same name is ConflictingDomainExists.
* The zone owner authorizes a VPC of another account (Create/List/DeleteVPCAssociationAuthorization).
* AssociateVPCWithHostedZone by the VPC's owner: the zone may be in another account, which must
  have authorized that VPC (else NotAuthorizedException); the VPC must exist in the caller's
  account; a VPC already associated with a zone of the same name (this one included) is
  ConflictingDomainExists.
* DisassociateVPCFromHostedZone by the zone's owner or the VPC's (Route 53 API reference,
  DisassociateVPCFromHostedZone: the account that created the zone, or the one that created the VPC,
  may disassociate it): the zone may be in another account; a VPC that is not associated is
  VPCAssociationNotFound; the zone's last VPC is LastVPCAssociation (moto's own rule).
"""

from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.route53 import urls as route53_urls
from moto.route53.exceptions import InvalidVPCId, LastVPCAssociation, NoSuchHostedZone, Route53ClientError
from moto.route53.models import Route53Backend, route53_backends
from moto.route53.responses import Route53
from moto.core.responses import ActionResult

# (zone owner account, zone id) -> {(VPC id, VPC region)}
AUTHORIZATIONS = {}
_original = {}


def _error(code, message):
    return Route53ClientError(code, message)


def _zones():
    """(account, zone) of every hosted zone of every account."""
    for account_id in list(route53_backends.keys()):
        for zone in route53_backends[account_id]["aws"].zones.values():
            yield account_id, zone


def _name(name):
    return name.lower().rstrip(".")


def _vpc_exists(account_id, region, vpc_id):
    try:
        return vpc_id in ec2_backends[account_id][region].vpcs
    except KeyError:
        return False


def _conflict(name, vpc_id):
    for _, zone in _zones():
        if zone.private_zone and _name(zone.name) == _name(name) and any(v.get("vpc_id") == vpc_id for v in zone.vpcs):
            return zone
    return None


def create_hosted_zone(self, name, private_zone, caller_reference=None, vpcid=None, vpcregion=None, *args, **kwargs):
    if caller_reference and any(z.caller_reference == caller_reference for z in self.zones.values()):
        raise _error("HostedZoneAlreadyExists",
                     f"A hosted zone has already been created with the specified caller reference {caller_reference}.")
    if private_zone and vpcid:
        if not _vpc_exists(self.account_id, vpcregion or "us-east-1", vpcid):
            raise InvalidVPCId()
        if (other := _conflict(name, vpcid)) is not None:
            raise _error("ConflictingDomainExists",
                         f"The VPC {vpcid} is already associated with hosted zone {other.resource_id} of the same name {_name(name)}.")
    return _original["create_hosted_zone"](self, name, private_zone, caller_reference, vpcid, vpcregion, *args, **kwargs)


def _owned_zone(self):
    zone_id = self._get_param("HostedZoneId").replace("/hostedzone/", "")
    return zone_id, self.backend.get_hosted_zone(zone_id)


def _vpc(self):
    return self._get_param("VPC.VPCId"), self._get_param("VPC.VPCRegion")


def create_vpc_association_authorization(self):
    zone_id, zone = _owned_zone(self)
    vpc_id, region = _vpc(self)
    if not zone.private_zone:
        raise _error("InvalidInput", f"Hosted zone {zone_id} is public: only private zones are associated with VPCs.")
    AUTHORIZATIONS.setdefault((self.current_account, zone_id), set()).add((vpc_id, region))
    return ActionResult({"HostedZoneId": zone_id, "VPC": {"VPCId": vpc_id, "VPCRegion": region}})


def list_vpc_association_authorizations(self):
    zone_id, _ = _owned_zone(self)
    vpcs = sorted(AUTHORIZATIONS.get((self.current_account, zone_id), set()))
    return ActionResult({"HostedZoneId": zone_id, "VPCs": [{"VPCId": v, "VPCRegion": r} for v, r in vpcs]})


def delete_vpc_association_authorization(self):
    zone_id, _ = _owned_zone(self)
    vpc_id, region = _vpc(self)
    authorized = AUTHORIZATIONS.get((self.current_account, zone_id), set())
    if (vpc_id, region) not in authorized:
        raise _error("VPCAssociationAuthorizationNotFound",
                     f"The VPC {vpc_id} in region {region} has not been authorized to associate with hosted zone {zone_id}.")
    authorized.discard((vpc_id, region))
    return ActionResult({})


def _zone_and_vpc(self):
    """(zone id, VPC id, VPC region, calling account, zone owner, zone) of an (dis)association request, any account's zone."""
    zone_id = self._get_param("HostedZoneId").replace("/hostedzone/", "")
    vpc_id, region = _vpc(self)
    owner, zone = next(((a, z) for a, z in _zones() if z.resource_id == zone_id), (None, None))
    if zone is None:
        raise NoSuchHostedZone(zone_id)
    return zone_id, vpc_id, region, self.current_account, owner, zone


def associate_vpc_with_hosted_zone(self):
    zone_id, vpc_id, region, caller, owner, zone = _zone_and_vpc(self)
    if owner != caller and (vpc_id, region) not in AUTHORIZATIONS.get((owner, zone_id), set()):
        raise _error("NotAuthorizedException",
                     f"The VPC {vpc_id} in region {region} has not been authorized to associate with hosted zone {zone_id}.")
    if not _vpc_exists(caller, region, vpc_id):
        raise InvalidVPCId()
    if not zone.private_zone:
        raise _error("PublicZoneVPCAssociation", f"Hosted zone {zone_id} is public.")
    if (other := _conflict(zone.name, vpc_id)) is not None:
        raise _error("ConflictingDomainExists",
                     f"The VPC {vpc_id} in region {region} is already associated with hosted zone {other.resource_id} with the same domain name.")
    zone.add_vpc(vpc_id, region)
    return ActionResult({"ChangeInfo": {"Id": "/change/C0BROKERLINKASSOC", "Status": "INSYNC", "SubmittedAt": utcnow(),
                                        "Comment": self._get_param("Comment")}})


def disassociate_vpc_from_hosted_zone(self):
    zone_id, vpc_id, region, caller, owner, zone = _zone_and_vpc(self)
    if owner != caller and not _vpc_exists(caller, region, vpc_id):
        raise _error("NotAuthorizedException", f"The VPC {vpc_id} in region {region} is not owned by this account, nor is hosted zone {zone_id}.")
    if not any(v.get("vpc_id") == vpc_id and v.get("vpc_region") == region for v in zone.vpcs):
        raise _error("VPCAssociationNotFound", f"The specified VPC {vpc_id} in region {region} is not associated with hosted zone {zone_id}.")
    if len(zone.vpcs) <= 1:
        raise LastVPCAssociation()
    zone.delete_vpc(vpc_id)
    return ActionResult({"ChangeInfo": {"Id": "/change/C0BROKERLINKDISASSOC", "Status": "INSYNC", "SubmittedAt": utcnow(),
                                        "Comment": self._get_param("Comment")}})


def install():
    if _original:
        return
    _original["create_hosted_zone"] = Route53Backend.create_hosted_zone
    Route53Backend.create_hosted_zone = create_hosted_zone
    Route53.create_vpc_association_authorization = create_vpc_association_authorization
    Route53.list_vpc_association_authorizations = list_vpc_association_authorizations
    Route53.delete_vpc_association_authorization = delete_vpc_association_authorization
    Route53.associate_vpc_with_hosted_zone = associate_vpc_with_hosted_zone
    Route53.disassociate_vpc_from_hosted_zone = disassociate_vpc_from_hosted_zone
    base = r"{0}/(?P<api_version>[\d_-]+)/hostedzone/(?P<zone_id>[^/]+)"
    route53_urls.url_paths[base + r"/authorizevpcassociation$"] = Route53.dispatch
    route53_urls.url_paths[base + r"/deauthorizevpcassociation$"] = Route53.dispatch
