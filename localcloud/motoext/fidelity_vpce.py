"""VPC endpoint services across accounts, as AWS connects them.

moto 5.2.1 keeps an endpoint service and the interface endpoints to it apart: an endpoint in
another account never reaches the service, the service's allowed principals are never
checked, AcceptanceRequired has no effect, and DescribeVpcEndpointConnections and
AcceptVpcEndpointConnections do not exist. Here:

* CreateVpcEndpoint for a service of another account fails with InvalidServiceName unless one
  of the service's allowed principals is in the creator's account (its root, a role or a user)
  or is `*`. (Same-account endpoints stay unchecked, as before.)
* An endpoint to a service with AcceptanceRequired starts `pendingAcceptance`.
* DescribeVpcEndpointConnections (the service owner's view, every account, filters service-id,
  vpc-endpoint-id, vpc-endpoint-owner, vpc-endpoint-state) and AcceptVpcEndpointConnections
  (pendingAcceptance -> available; anything else is an Unsuccessful item, as AWS answers).

Interface endpoints, as AWS builds them (moto gives each subnet an ENI with a random IP outside
the subnet and a DnsEntries name of its own shape):

* one requester-managed ENI (`InterfaceType: vpc_endpoint`, description `VPC Endpoint Interface
  <id>`) per subnet, with a free private IP inside that subnet; at most one subnet per AZ
  (`DuplicateSubnetsInSameZone`), subnets of the endpoint's VPC only;
* ModifyVpcEndpoint AddSubnetIds / RemoveSubnetIds create / delete those ENIs;
  DeleteVpcEndpoints frees their IPs;
* DnsEntries: the regional name `vpce-<id>-<8 chars>.<service>.<region>.vpce.amazonaws.com`
  (`<service>` is `vpce-svc-...` for an endpoint service, else the AWS service's short name)
  and one zonal name per AZ (`vpce-<id>-<8 chars>-<az>....`), with the region's endpoint zone id.
"""

import random
import string

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import ec2_backends
from moto.ec2.models.vpcs import VPCBackend
from moto.ec2.responses import EC2Response

from ._addresses import NoFreeAddress, delete_interface, new_interface

_original = {}

# The hosted zone of interface endpoints' DNS names, per region (Route 53 alias targets).
ENDPOINT_ZONE_IDS = {"us-east-1": "Z7HUB22UULQXV"}


def _services(region):
    """(owner account, service) of every endpoint service in the region."""
    for account_id in list(ec2_backends.keys()):
        backend = ec2_backends[account_id][region]
        for service in backend.configurations.values():
            yield account_id, service


def _service_named(region, name):
    return next(((owner, s) for owner, s in _services(region) if s.service_name == name), (None, None))


def _allows(service, account_id):
    return any(p == "*" or p.split(":")[4:5] == [account_id] for p in service.principals)


def _is_interface(endpoint_type):
    return (endpoint_type or "").lower() == "interface"


def _check_subnets(backend, vpc_id, subnet_ids, kept=()):
    """Subnets of the VPC, at most one per AZ (counting the `kept` subnets too)."""
    zones = {backend.get_subnet(s).availability_zone: s for s in kept}
    for subnet_id in subnet_ids:
        subnet = backend.get_subnet(subnet_id)  # InvalidSubnetID.NotFound
        if subnet.vpc_id != vpc_id:
            raise EC2ClientError("InvalidParameter", f"The subnet {subnet_id} is not in the VPC {vpc_id}")
        if zones.get(subnet.availability_zone, subnet_id) != subnet_id:
            raise EC2ClientError(
                "DuplicateSubnetsInSameZone",
                f"Found another VPC endpoint subnet in the availability zone of {subnet_id}. "
                "VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service.")
        zones[subnet.availability_zone] = subnet_id


def _dns_suffix(region, service_name):
    parts = service_name.split(".")
    if service_name.startswith(f"com.amazonaws.vpce.{region}.") and len(parts) == 5:
        return f"{parts[4]}.{region}.vpce.amazonaws.com"
    if service_name.startswith(f"com.amazonaws.{region}.") and len(parts) >= 4:
        return f"{'.'.join(parts[3:])}.{region}.vpce.amazonaws.com"
    return None


def _set_dns_entries(backend, endpoint):
    suffix = _dns_suffix(backend.region_name, endpoint.service_name)
    if suffix is None:
        return  # moto's own entry stays
    if not getattr(endpoint, "bl_dns_label", None):
        endpoint.bl_dns_label = "".join(random.choices(string.ascii_lowercase + string.digits, k=8))
    zone_id = ENDPOINT_ZONE_IDS.get(backend.region_name, "Z1HUB22UULQXV")
    name = f"{endpoint.id}-{endpoint.bl_dns_label}"
    zones = sorted({backend.get_subnet(s).availability_zone for s in endpoint.subnet_ids or []})
    endpoint.dns_entries = [{"dns_name": f"{name}.{suffix}", "hosted_zone_id": zone_id}] + [
        {"dns_name": f"{name}-{zone}.{suffix}", "hosted_zone_id": zone_id} for zone in zones]


def _sync_interfaces(backend, endpoint):
    """One endpoint ENI per subnet of the endpoint: new subnets get one, removed subnets lose theirs."""
    kept = []
    for eni_id in endpoint.network_interface_ids:
        eni = backend.enis.get(eni_id)
        if eni is not None and eni.subnet.id in (endpoint.subnet_ids or []) and eni.subnet.id not in {
                backend.enis[k].subnet.id for k in kept}:
            kept.append(eni_id)
        else:
            delete_interface(backend, eni_id)
    covered = {backend.enis[k].subnet.id for k in kept}
    for subnet_id in endpoint.subnet_ids or []:
        if subnet_id not in covered:
            try:
                eni = new_interface(backend, subnet_id, f"VPC Endpoint Interface {endpoint.id}",
                                    group_ids=list(endpoint.security_group_ids), interface_type="vpc_endpoint",
                                    requester_managed=True)
            except NoFreeAddress as e:
                raise EC2ClientError("InsufficientFreeAddressesInSubnet", str(e)) from e
            kept.append(eni.id)
    endpoint.network_interface_ids = kept
    _set_dns_entries(backend, endpoint)


def create_vpc_endpoint(self, vpc_id, service_name, endpoint_type, *args, **kwargs):
    owner, service = _service_named(self.region_name, service_name)
    if service is not None and owner != self.account_id and not _allows(service, self.account_id):
        raise EC2ClientError("InvalidServiceName", f"The Vpc Endpoint Service '{service_name}' does not exist")
    interface = _is_interface(endpoint_type)
    if interface:
        self.get_vpc(vpc_id)
        subnet_ids = kwargs.get("subnet_ids") if "subnet_ids" in kwargs else (args[2] if len(args) > 2 else None)
        _check_subnets(self, vpc_id, subnet_ids or [])
    endpoint = _original["create_vpc_endpoint"](self, vpc_id, service_name, endpoint_type, *args, **kwargs)
    if interface:
        for eni_id in endpoint.network_interface_ids:  # moto's, with IPs outside the subnets
            self.enis.pop(eni_id, None)
        endpoint.network_interface_ids = []
        endpoint.subnet_ids = list(endpoint.subnet_ids or [])
        _sync_interfaces(self, endpoint)
    if service is not None and service.acceptance_required:
        endpoint.state = "pendingAcceptance"
    return endpoint


def modify_vpc_endpoint(self, vpc_id, policy_doc, add_subnets, remove_subnets, *args, **kwargs):
    endpoint = self.describe_vpc_endpoints(vpc_end_point_ids=[vpc_id])[0]
    interface = _is_interface(endpoint.vpc_endpoint_type)
    if interface and add_subnets:
        kept = [s for s in endpoint.subnet_ids or [] if s not in (remove_subnets or [])]
        _check_subnets(self, endpoint.vpc_id, [s for s in add_subnets if s not in kept], kept)
    _original["modify_vpc_endpoint"](self, vpc_id, policy_doc, add_subnets, remove_subnets, *args, **kwargs)
    if interface:
        _sync_interfaces(self, endpoint)


def delete_vpc_endpoints(self, vpce_ids=None):
    for vpce_id in vpce_ids or []:
        endpoint = self.vpc_end_points.get(vpce_id)
        if endpoint is not None and _is_interface(endpoint.vpc_endpoint_type):
            for eni_id in endpoint.network_interface_ids:
                delete_interface(self, eni_id)
    _original["delete_vpc_endpoints"](self, vpce_ids)


def _connections(region, service):
    for account_id in list(ec2_backends.keys()):
        for endpoint in ec2_backends[account_id][region].vpc_end_points.values():
            if endpoint.service_name == service.service_name:
                yield account_id, endpoint


def _connection(service, account_id, endpoint):
    return {
        "ServiceId": service.id,
        "VpcEndpointId": endpoint.id,
        "VpcEndpointOwner": account_id,
        "VpcEndpointState": endpoint.state,
        "CreationTimestamp": endpoint.creation_timestamp,
        "DnsEntries": endpoint.dns_entries or [],
        "NetworkLoadBalancerArns": list(service.network_load_balancer_arns),
        "IpAddressType": "ipv4",
        "VpcEndpointRegion": service.ec2_backend.region_name,
    }


def describe_vpc_endpoint_connections(self):
    filters = self._filters_from_querystring()
    found = []
    for service in self.ec2_backend.configurations.values():
        if "service-id" in filters and service.id not in filters["service-id"]:
            continue
        for account_id, endpoint in _connections(self.region, service):
            if "vpc-endpoint-id" in filters and endpoint.id not in filters["vpc-endpoint-id"]:
                continue
            if "vpc-endpoint-owner" in filters and account_id not in filters["vpc-endpoint-owner"]:
                continue
            if "vpc-endpoint-state" in filters and endpoint.state not in filters["vpc-endpoint-state"]:
                continue
            found.append(_connection(service, account_id, endpoint))
    return ActionResult({"VpcEndpointConnections": found})


def accept_vpc_endpoint_connections(self):
    service_id = self._get_param("ServiceId")
    service = self.ec2_backend.describe_vpc_endpoint_service_configurations([service_id])[0]
    endpoints = {endpoint.id: endpoint for _, endpoint in _connections(self.region, service)}
    unsuccessful = []
    for endpoint_id in self._get_param("VpcEndpointIds", []):
        endpoint = endpoints.get(endpoint_id)
        if endpoint is None:
            unsuccessful.append({"ResourceId": endpoint_id, "Error": {
                "Code": "InvalidVpcEndpointId.NotFound", "Message": f"The Vpc Endpoint Id '{endpoint_id}' does not exist"}})
        elif endpoint.state != "pendingAcceptance":
            unsuccessful.append({"ResourceId": endpoint_id, "Error": {
                "Code": "InvalidState", "Message": f"Endpoint {endpoint_id} is in state {endpoint.state}, not pendingAcceptance"}})
        else:
            endpoint.state = "available"
    return ActionResult({"Unsuccessful": unsuccessful})


def install():
    if _original:
        return
    for name in ("create_vpc_endpoint", "modify_vpc_endpoint", "delete_vpc_endpoints"):
        _original[name] = getattr(VPCBackend, name)
    VPCBackend.create_vpc_endpoint = create_vpc_endpoint
    VPCBackend.modify_vpc_endpoint = modify_vpc_endpoint
    VPCBackend.delete_vpc_endpoints = delete_vpc_endpoints
    EC2Response.describe_vpc_endpoint_connections = describe_vpc_endpoint_connections
    EC2Response.accept_vpc_endpoint_connections = accept_vpc_endpoint_connections
