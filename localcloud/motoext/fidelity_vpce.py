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
  (`<service>` is `vpce-svc-...` for an endpoint service, else the AWS service's short name;
  `<region>` the endpoint's own, also for a service in another region) and one zonal name per
  AZ (`vpce-<id>-<8 chars>-<az>....`), with the region's endpoint zone id.

Cross-Region PrivateLink (AWS, November 2024; moto 5.2.1 stores SupportedRegions and nothing more):

* An endpoint service supports its own region from the start (DescribeVpcEndpointServiceConfigurations
  lists it in SupportedRegions, ServiceState Available). ModifyVpcEndpointServiceConfiguration
  AddSupportedRegions takes only regions where cross-Region connectivity is offered (CROSS_REGION),
  for a Network Load Balancer service, not already supported; RemoveSupportedRegions only supported
  ones, never the service's own. AWS's error codes for these refusals are UNVERIFIED (no primary source
  found): `InvalidParameterValue` here; Step Functions names every EC2 error `Ec2.Ec2Exception` anyway.
* CreateVpcEndpoint with ServiceRegion (or a service name of another region) reaches the service in
  that region, only if that service supports the endpoint's region: else InvalidServiceName, as for a
  service that does not exist. Its connection appears in the provider's DescribeVpcEndpointConnections
  with VpcEndpointRegion, the endpoint's region; AcceptVpcEndpointConnections accepts it.
"""

import contextvars
import random
import string

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import ec2_backends
from moto.ec2.models.vpc_service_configuration import VPCServiceConfigurationBackend
from moto.ec2.models.vpcs import VPCBackend
from moto.ec2.responses import EC2Response

from ._addresses import NoFreeAddress, delete_interface, new_interface

_original = {}

# The hosted zone of interface endpoints' DNS names, per region (Route 53 alias targets).
ENDPOINT_ZONE_IDS = {"us-east-1": "Z7HUB22UULQXV"}

# Regions offering cross-Region PrivateLink for endpoint services: those of AWS's launch announcement (2024-11,
# "aws-privatelink-across-region-connectivity"). UNVERIFIED as a complete list: AWS adds regions; keep this in step.
CROSS_REGION = frozenset({"us-east-1", "us-east-2", "us-west-2", "eu-central-1", "eu-west-1", "ap-northeast-1",
                          "ap-southeast-1", "ap-southeast-2", "sa-east-1"})

# CreateVpcEndpoint's ServiceRegion, from the request to the backend call (moto's signature has no place for it).
_service_region = contextvars.ContextVar("service_region", default=None)


def _services(region):
    """(owner account, service) of every endpoint service in the region."""
    for account_id in list(ec2_backends.keys()):
        backend = ec2_backends[account_id][region]
        for service in backend.configurations.values():
            yield account_id, service


def _region_of(service_name):
    """The region a `com.amazonaws.vpce.<region>.vpce-svc-...` name is in (None for other names)."""
    parts = service_name.split(".")
    return parts[3] if service_name.startswith("com.amazonaws.vpce.") and len(parts) == 5 else None


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
    if _region_of(service_name):  # a service of this region or, cross-Region, of another: named in the endpoint's
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


def _supported(service):
    return [r["Region"] for r in service.supported_regions if r["ServiceState"] == "Available"]


def create_vpc_endpoint(self, vpc_id, service_name, endpoint_type, *args, **kwargs):
    service_region = _service_region.get() or _region_of(service_name) or self.region_name
    owner, service = _service_named(service_region, service_name)
    missing = EC2ClientError("InvalidServiceName", f"The Vpc Endpoint Service '{service_name}' does not exist")
    if service_region != self.region_name and (service is None or self.region_name not in _supported(service)):
        raise missing
    if service is not None and owner != self.account_id and not _allows(service, self.account_id):
        raise missing
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
    if service_region != self.region_name:
        endpoint.service_region = service_region
    return endpoint


def create_vpc_endpoint_request(self):
    token = _service_region.set(self._get_param("ServiceRegion"))
    try:
        return _original["create_vpc_endpoint_request"](self)
    finally:
        _service_region.reset(token)


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


def _connections(service):
    """(account, endpoint) of every endpoint to the service, in any account and region (cross-Region ones too)."""
    for account_id in list(ec2_backends.keys()):
        for backend in list(dict.values(ec2_backends[account_id])):
            for endpoint in list(backend.vpc_end_points.values()):
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
        "VpcEndpointRegion": endpoint.ec2_backend.region_name,
    }


def describe_vpc_endpoint_connections(self):
    filters = self._filters_from_querystring()
    found = []
    for service in self.ec2_backend.configurations.values():
        if "service-id" in filters and service.id not in filters["service-id"]:
            continue
        for account_id, endpoint in _connections(service):
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
    endpoints = {endpoint.id: endpoint for _, endpoint in _connections(service)}
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


def create_vpc_endpoint_service_configuration(self, *args, **kwargs):
    config = _original["create_vpc_endpoint_service_configuration"](self, *args, **kwargs)
    if self.region_name not in config._supported_region_names:
        config._supported_region_names.insert(0, self.region_name)
    return config


def modify_vpc_endpoint_service_configuration(self, service_id, *args, **kwargs):
    config = self.describe_vpc_endpoint_service_configurations([service_id])[0]
    add, remove = kwargs.get("add_supported_regions") or [], kwargs.get("remove_supported_regions") or []
    supported = config._supported_region_names
    for region in add:
        if config.gateway_load_balancer_arns:
            raise EC2ClientError("InvalidParameterValue", f"Cross-Region connectivity is not supported for service {service_id} "
                                 "(Gateway Load Balancer)")
        if region not in CROSS_REGION:
            raise EC2ClientError("InvalidParameterValue", f"The region '{region}' is not supported for cross-Region connectivity")
        if region in supported or add.count(region) > 1:
            raise EC2ClientError("InvalidParameterValue", f"The region '{region}' is already a supported region of {service_id}")
    for region in remove:
        if region == self.region_name:
            raise EC2ClientError("InvalidParameterValue", f"The service region '{region}' cannot be removed from {service_id}")
        if region not in supported or remove.count(region) > 1:
            raise EC2ClientError("InvalidParameterValue", f"The region '{region}' is not a supported region of {service_id}")
    _original["modify_vpc_endpoint_service_configuration"](self, service_id, *args, **kwargs)


def install():
    if _original:
        return
    for name in ("create_vpc_endpoint", "modify_vpc_endpoint", "delete_vpc_endpoints"):
        _original[name] = getattr(VPCBackend, name)
    for name in ("create_vpc_endpoint_service_configuration", "modify_vpc_endpoint_service_configuration"):
        _original[name] = getattr(VPCServiceConfigurationBackend, name)
        setattr(VPCServiceConfigurationBackend, name, globals()[name])
    _original["create_vpc_endpoint_request"] = EC2Response.create_vpc_endpoint
    EC2Response.create_vpc_endpoint = create_vpc_endpoint_request
    VPCBackend.create_vpc_endpoint = create_vpc_endpoint
    VPCBackend.modify_vpc_endpoint = modify_vpc_endpoint
    VPCBackend.delete_vpc_endpoints = delete_vpc_endpoints
    EC2Response.describe_vpc_endpoint_connections = describe_vpc_endpoint_connections
    EC2Response.accept_vpc_endpoint_connections = accept_vpc_endpoint_connections
