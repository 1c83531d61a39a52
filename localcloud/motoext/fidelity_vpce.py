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
"""

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import ec2_backends
from moto.ec2.models.vpcs import VPCBackend
from moto.ec2.responses import EC2Response

_original = {}


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


def create_vpc_endpoint(self, vpc_id, service_name, endpoint_type, *args, **kwargs):
    owner, service = _service_named(self.region_name, service_name)
    if service is not None and owner != self.account_id and not _allows(service, self.account_id):
        raise EC2ClientError("InvalidServiceName", f"The Vpc Endpoint Service '{service_name}' does not exist")
    endpoint = _original["create_vpc_endpoint"](self, vpc_id, service_name, endpoint_type, *args, **kwargs)
    if service is not None and service.acceptance_required:
        endpoint.state = "pendingAcceptance"
    return endpoint


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
    _original["create_vpc_endpoint"] = VPCBackend.create_vpc_endpoint
    VPCBackend.create_vpc_endpoint = create_vpc_endpoint
    EC2Response.describe_vpc_endpoint_connections = describe_vpc_endpoint_connections
    EC2Response.accept_vpc_endpoint_connections = accept_vpc_endpoint_connections
