"""Consumers in another region than the stack's: cross-Region PrivateLink, end to end in the local cloud.

The link is in us-east-1; the consumer is another account's VPC in us-west-2 with an interface endpoint
there to the link's endpoint service (CreateVpcEndpoint with ServiceRegion us-east-1). Onboarding adds
us-west-2 to the service's supported regions, accepts the connection, creates the consumer's zone
(named for the cluster's region) attached to its VPC in us-west-2 through its role, and the link's
records alias the broker names to that endpoint; remove-consumer takes it all off again but the zone.
Each run prints `cross-region: <kind> | <scenario> | <wall seconds> s` to stderr.
"""
import copy
import json
import sys
import time
import unittest
from pathlib import Path

from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

import scenario as sc  # noqa: E402
from support import LocalCloud, start_module_cloud  # noqa: E402

WEST = "us-west-2"
ACCOUNT = sc.CONSUMER_ACCOUNT
ROLE = sc.CONSUMER_ROLE

cloud: LocalCloud | None = None
aws: sc.Aws | None = None


def setUpModule():
    global cloud, aws
    cloud, aws = start_module_cloud()


class CrossRegionConsumer(unittest.TestCase):

    # ------------------------------------------------------------------ the world

    def provider(self, kind: str, link_id: str) -> sc.World:
        """The provider side (us-east-1), registered with no consumer; its endpoint service requires acceptance."""
        build = sc.build_serverless_world if kind == "msk-serverless" else sc.build_world
        options = {} if kind == "msk-serverless" else {"bootstrap_port": None}
        world = build(aws, link_id, table=cloud.table, consumers=(), provider_zone=False, **options)
        sc.delete_link(aws, world)
        self.addCleanup(sc.delete_link, aws, world)
        self.service = sc.endpoint_service_of(aws, world.load_balancer_arn)
        aws.ec2.modify_vpc_endpoint_service_configuration(ServiceId=self.service, AcceptanceRequired=True)
        link = {k: v for k, v in copy.deepcopy(world.config).items() if v is not None}
        link.update(consumers=[], endpointServiceId=self.service)
        self.assertSucceeded(*self.onboard(kind, "register-link", {"operation": "register-link", "link": link}))
        return world

    def west(self) -> sc.Aws:
        """The consumer account, in us-west-2."""
        return sc.Aws(cloud.endpoint, WEST).assume(ROLE)

    def west_endpoint(self, cidr: str) -> tuple[str, str, str, str]:
        """The consumer's VPC in us-west-2 and its endpoint to the service in us-east-1: (VPC, endpoint id, DNS name, zone id)."""
        there = self.west()
        vpc_id = there.ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        endpoint = there.ec2.create_vpc_endpoint(
            VpcId=vpc_id, VpcEndpointType="Interface", ServiceRegion=sc.REGION,
            ServiceName=f"com.amazonaws.vpce.{sc.REGION}.{self.service}")["VpcEndpoint"]
        regional = endpoint["DnsEntries"][0]
        return vpc_id, endpoint["VpcEndpointId"], regional["DnsName"], regional["HostedZoneId"]

    def supported_regions(self) -> list[str]:
        found = aws.ec2.describe_vpc_endpoint_service_configurations(ServiceIds=[self.service])["ServiceConfigurations"][0]
        return sorted(r["Region"] for r in found["SupportedRegions"])

    def state(self) -> dict:
        """Everything onboarding may write (scenario.snapshot: ELBv2, Route 53 in every account, the services'
        principals, connections and supported regions) and the table."""
        table = aws.dynamodb.scan(TableName=cloud.table, ConsistentRead=True)["Items"]
        return {"here": sc.snapshot(aws), "table": sorted(json.dumps(i, sort_keys=True) for i in table)}

    def onboard(self, kind: str, label: str, request: dict):
        started = time.monotonic()
        status, output, history = cloud.start_execution_and_wait(request, state_machine="onboard", timeout=180)
        print(f"cross-region: {kind} | {label} | {time.monotonic() - started:.2f} s", file=sys.stderr)
        return status, output, history

    def assertSucceeded(self, status, output, history):
        failed = [e.get("executionFailedEventDetails") for e in history if e["type"] == "ExecutionFailed"]
        self.assertEqual("SUCCEEDED", status, failed or output)

    def failure(self, status, history) -> dict:
        self.assertEqual("FAILED", status)
        return next(e["executionFailedEventDetails"] for e in history if e["type"] == "ExecutionFailed")

    # ------------------------------------------------------------------ onboarding and removing a consumer in us-west-2

    def onboard_and_remove(self, kind: str, link_id: str, cidr: str, names) -> None:
        west = self.onboard_west(kind, link_id, cidr, names)
        self.remove_west(kind, link_id, west)

    def onboard_west(self, kind: str, link_id: str, cidr: str, names) -> dict:
        """The consumer `west` (another account, us-west-2) added to a new link: its VPC, zone and endpoint."""
        world = self.provider(kind, link_id)
        allow = {"operation": "add-consumer", "linkId": link_id, "consumer": {"name": "west", "principal": ACCOUNT, "region": WEST}}
        with self.assertRaises(ClientError) as refused:  # the service does not support us-west-2 yet
            self.west_endpoint(cidr)
        self.assertEqual("InvalidServiceName", refused.exception.response["Error"]["Code"])
        before = self.state()

        status, output, history = self.onboard(kind, "allow, dry run", allow | {"dryRun": True})

        self.assertSucceeded(status, output, history)
        self.assertEqual({"ServiceId": self.service, "Regions": [WEST]}, output["decision"]["addRegions"])
        self.assertEqual({}, dict(sc.write_calls(history)))
        self.assertEqual(before, self.state())

        status, output, history = self.onboard(kind, "allow (adds us-west-2)", allow)

        self.assertSucceeded(status, output, history)
        self.assertEqual([sc.REGION, WEST], self.supported_regions())
        self.assertEqual({"modifyVpcEndpointServiceConfiguration": 1, "modifyVpcEndpointServicePermissions": 1}, dict(sc.write_calls(history)))

        vpc_id, endpoint_id, dns_name, endpoint_zone = self.west_endpoint(cidr)
        self.assertTrue(dns_name.endswith(f".{self.service}.{WEST}.vpce.amazonaws.com"), dns_name)
        connection = aws.ec2.describe_vpc_endpoint_connections(
            Filters=[{"Name": "vpc-endpoint-id", "Values": [endpoint_id]}])["VpcEndpointConnections"][0]
        self.assertEqual((WEST, "pendingAcceptance"), (connection["VpcEndpointRegion"], connection["VpcEndpointState"]))
        # The consumer's stack, deployed in its region, for names of the provider's region.
        sc.deploy_consumer_role(aws, ACCOUNT, region=WEST, VpcId=vpc_id, ProviderRegion=sc.REGION)
        self.addCleanup(sc.deploy_consumer_role, aws, ACCOUNT)
        add = {"operation": "add-consumer", "linkId": link_id, "consumer": {
            "name": "west", "principal": ACCOUNT, "endpointDnsName": dns_name, "endpointHostedZoneId": endpoint_zone,
            "acceptConnection": True, "roleArn": ROLE, "createZone": {"vpcId": vpc_id}}}

        status, output, history = self.onboard(kind, "add-consumer (accept, zone in us-west-2)", add)

        self.assertSucceeded(status, output, history)
        self.assertNotIn("modifyVpcEndpointServiceConfiguration", sc.write_calls(history))  # already supported
        self.assertEqual("available", self.west().ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]["State"])
        zone_id = output["records"]["hostedZoneId"]
        route53 = aws.assume(ROLE).route53
        zone = route53.get_hosted_zone(Id=zone_id)
        self.assertEqual(names["zone"], zone["HostedZone"]["Name"].rstrip("."))
        self.assertEqual([{"VPCRegion": WEST, "VPCId": vpc_id}], zone["VPCs"])
        wired = {k: v for k, v in sc.records(aws.assume(ROLE), zone_id).items() if k[1] in ("A", "TXT")}
        expected_names = names["records"](world)
        self.assertEqual({(n, "A"): f"ALIAS {dns_name} {endpoint_zone}" for n in expected_names},
                         {k: v for k, v in wired.items() if k[1] == "A"})
        self.assertEqual({(n, "TXT") for n in expected_names}, {k for k in wired if k[1] == "TXT"})
        stored = json.loads(aws.dynamodb.get_item(TableName=cloud.table, Key={"pk": {"S": "LINK"}, "sk": {"S": link_id}},
                                                  ConsistentRead=True)["Item"]["config"]["S"])
        self.assertEqual(WEST, stored["consumers"][0]["region"])

        before = self.state()
        status, output, history = self.onboard(kind, "add-consumer again", add)
        self.assertSucceeded(status, output, history)
        self.assertEqual(before, self.state())
        return {"vpc": vpc_id, "zone": zone_id}

    def remove_west(self, kind: str, link_id: str, west: dict) -> None:
        vpc_id, zone_id, route53 = west["vpc"], west["zone"], aws.assume(ROLE).route53
        status, output, history = self.onboard(kind, "remove-consumer (drops us-west-2)",
                                               {"operation": "remove-consumer", "linkId": link_id, "consumerName": "west"})

        self.assertSucceeded(status, output, history)
        self.assertEqual([sc.REGION], self.supported_regions())
        self.assertEqual({}, {k: v for k, v in sc.records(aws.assume(ROLE), zone_id).items() if k[1] in ("A", "TXT")})
        self.assertEqual([{"VPCRegion": WEST, "VPCId": vpc_id}], route53.get_hosted_zone(Id=zone_id)["VPCs"])  # the zone stays
        self.assertEqual([], aws.ec2.describe_vpc_endpoint_service_permissions(ServiceId=self.service)["AllowedPrincipals"])

    def test_a_single_nlb_link_onboards_and_removes_a_consumer_in_another_region_and_account(self):
        self.onboard_and_remove("msk-single-nlb", "xr-nlb", "10.80.0.0/16", {
            "zone": sc.ZONE_NAME, "records": lambda world: [b.hosts[0] for b in sc.brokers(aws, world.cluster_arn)]})

    def test_a_serverless_link_onboards_and_removes_a_consumer_in_another_region_and_account(self):
        self.onboard_and_remove("msk-serverless", "xr-sls", "10.81.0.0/16", {
            "zone": sc.SERVERLESS_ZONE_NAME, "records": lambda world: [sc.SERVERLESS_RECORD]})

    # ------------------------------------------------------------------ a peered VPC: the consumer's zone, no endpoint

    def test_a_peered_vpc_of_a_third_account_in_a_third_region_gets_the_consumers_zone(self):
        kind, link_id = "msk-single-nlb", "xr-peer"
        west = self.onboard_west(kind, link_id, "10.83.0.0/16", {
            "zone": sc.ZONE_NAME, "records": lambda world: [b.hosts[0] for b in sc.brokers(aws, world.cluster_arn)]})
        peer_role = sc.consumer_role(sc.VPC_ACCOUNT)
        peer_vpc = sc.Aws(cloud.endpoint, "eu-west-1").assume(peer_role).ec2.create_vpc(CidrBlock="10.84.0.0/16")["Vpc"]["VpcId"]
        # The zone's owner may authorize that VPC; the VPC's owner (its stack in eu-west-1) may associate and disassociate it.
        sc.deploy_consumer_role(aws, ACCOUNT, region=WEST, VpcId=west["vpc"], ProviderRegion=sc.REGION,
                                ForeignVpcId=peer_vpc, ForeignVpcRegion="eu-west-1")
        sc.deploy_consumer_role(aws, sc.VPC_ACCOUNT, region="eu-west-1", VpcId=peer_vpc, ProviderRegion=sc.REGION)
        self.addCleanup(sc.deploy_consumer_role, aws, sc.VPC_ACCOUNT)
        peered = {"operation": "add-consumer", "linkId": link_id, "consumer": {
            "name": "peered", "peerOf": "west", "vpc": {"vpcId": peer_vpc, "vpcRegion": "eu-west-1", "roleArn": peer_role}}}
        route53 = aws.assume(ROLE).route53
        both = sorted([(WEST, west["vpc"]), ("eu-west-1", peer_vpc)])

        status, output, history = self.onboard(kind, "add-consumer (peered VPC)", peered)

        self.assertSucceeded(status, output, history)
        self.assertEqual(both, sorted((v["VPCRegion"], v["VPCId"]) for v in route53.get_hosted_zone(Id=west["zone"])["VPCs"]))
        self.assertEqual([], route53.list_vpc_association_authorizations(HostedZoneId=west["zone"])["VPCs"])
        self.assertNotIn("changeResourceRecordSets", sc.write_calls(history))

        before = self.state()
        status, output, history = self.onboard(kind, "refused: removing the consumer a peer depends on",
                                               {"operation": "remove-consumer", "linkId": link_id, "consumerName": "west"})
        failed = self.failure(status, history)
        self.assertEqual("BrokerLink.InvalidInput", failed["error"])
        self.assertTrue(failed["cause"].startswith("consumerName: consumer 'west' has peered consumers (peered)"), failed)
        self.assertEqual({}, dict(sc.write_calls(history)))
        self.assertEqual(before, self.state())

        status, output, history = self.onboard(kind, "remove-consumer (peered VPC)",
                                               {"operation": "remove-consumer", "linkId": link_id, "consumerName": "peered"})

        self.assertSucceeded(status, output, history)
        self.assertEqual([(WEST, west["vpc"])], [(v["VPCRegion"], v["VPCId"]) for v in route53.get_hosted_zone(Id=west["zone"])["VPCs"]])
        self.remove_west(kind, link_id, west)

    # ------------------------------------------------------------------ refusals: nothing written

    def test_refusals_write_nothing(self):
        kind = "msk-single-nlb"
        world = self.provider(kind, "xr-refuse")
        link_id = world.link_id
        cloud.set_config(retryWaitScale=0.01)  # the refused AWS calls are retried as any EC2 or Route 53 error is
        self.addCleanup(cloud.set_config, retryWaitScale=1.0)
        allow = {"operation": "add-consumer", "linkId": link_id, "consumer": {"name": "west", "principal": ACCOUNT}}
        before = self.state()

        # A region that offers no cross-Region PrivateLink: AWS refuses to add it, the first write of the run.
        status, output, history = self.onboard(kind, "refused: region without cross-Region PrivateLink",
                                               allow | {"consumer": allow["consumer"] | {"region": "ap-south-2"}})

        self.assertEqual("Ec2.Ec2Exception", self.failure(status, history)["error"])
        self.assertEqual({"modifyVpcEndpointServiceConfiguration"}, set(sc.write_calls(history)))
        self.assertEqual(before, self.state())

        self.assertSucceeded(*self.onboard(kind, "allow (adds us-west-2)", allow | {"consumer": allow["consumer"] | {"region": WEST}}))
        vpc_id, endpoint_id, dns_name, endpoint_zone = self.west_endpoint("10.82.0.0/16")
        # The consumer's stack deployed in us-east-1, not in its VPC's region: its role may create a zone only for a
        # VPC of us-east-1 (route53:VPCs pins VPCRegion).
        sc.deploy_consumer_role(aws, ACCOUNT, VpcId=vpc_id)
        self.addCleanup(sc.deploy_consumer_role, aws, ACCOUNT)
        add = {"operation": "add-consumer", "linkId": link_id, "consumer": {
            "name": "west", "endpointDnsName": dns_name, "endpointHostedZoneId": endpoint_zone, "roleArn": ROLE,
            "createZone": {"vpcId": vpc_id}}}
        before = self.state()
        refused = {
            "the endpoint is not in the region named": (
                add | {"consumer": add["consumer"] | {"region": "eu-west-1"}}, "BrokerLink.InvalidInput", "consumer.endpointDnsName: "),
            "a zone for a VPC of another region than the endpoint's": (
                add | {"consumer": add["consumer"] | {"createZone": {"vpcId": vpc_id, "vpcRegion": sc.REGION}}},
                "BrokerLink.InvalidInput", "consumer.createZone.vpcRegion: "),
            "an endpoint of another service": (
                add | {"consumer": add["consumer"] | {"endpointDnsName": dns_name.replace(self.service, "vpce-svc-0123456789abcdef0")}},
                "BrokerLink.InvalidInput", "consumer.endpointDnsName: "),
            # CreateHostedZone through the role, the first write of this run, is refused (AccessDenied).
            "a role that cannot act in the consumer's region": (add, "Route53.Route53Exception", "route53:CreateHostedZone"),
        }
        for what, (request, error, cause) in refused.items():
            with self.subTest(what):
                status, output, history = self.onboard(kind, f"refused: {what}", request)

                failed = self.failure(status, history)
                self.assertEqual(error, failed["error"], failed)
                self.assertIn(cause, failed["cause"])
                self.assertEqual(set(), set(sc.write_calls(history)) - {"createHostedZone"})
                self.assertEqual(before, self.state())


if __name__ == "__main__":
    unittest.main()
