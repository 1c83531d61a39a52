"""Network interfaces that BrokerLink's moto extensions create for AWS-managed things (MSK broker
ENIs, interface endpoint ENIs): a free private IP inside the subnet, reserved in moto's subnet so
that instances launched later never get it, and given back when the interface goes."""

import ipaddress
import itertools
import random


class NoFreeAddress(Exception):
    pass


def _free_ip(ec2, subnet):
    used = {eni.private_ip_address for eni in ec2.enis.values() if eni.subnet.id == subnet.id}
    used |= set(getattr(subnet, "_subnet_ips", {}))
    network = ipaddress.ip_network(subnet.cidr_block)
    # AWS reserves the first four addresses and the last one of every subnet.
    first, last = int(network.network_address) + 4, int(network.broadcast_address) - 1
    numbers = itertools.chain((random.randint(first, last) for _ in range(200)), range(first, last + 1))
    ip = next((ip for ip in (str(ipaddress.ip_address(n)) for n in numbers) if ip not in used), None)
    if ip is None:
        raise NoFreeAddress(f"No free IP address left in subnet {subnet.id}")
    return ip


def new_interface(ec2, subnet_id, description, group_ids=None, interface_type=None, requester_managed=False):
    """An ENI in `subnet_id` with a free private IP of that subnet (raises NoFreeAddress)."""
    subnet = ec2.get_subnet(subnet_id)
    ip = _free_ip(ec2, subnet)
    eni = ec2.create_network_interface(subnet, ip, group_ids=group_ids or None, description=description)
    subnet.request_ip(ip, eni)
    if interface_type:
        eni.interface_type = interface_type
    if requester_managed:
        eni.requester_managed = True
        eni.status = "in-use"
    return eni


def delete_interface(ec2, eni_id):
    """Removes an ENI and frees its IP; an unknown id is ignored."""
    eni = ec2.enis.pop(eni_id, None)
    if eni is not None and eni.private_ip_address:
        reserved = getattr(eni.subnet, "_subnet_ips", {})
        if reserved.get(eni.private_ip_address) is eni:
            del reserved[eni.private_ip_address]
