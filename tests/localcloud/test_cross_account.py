"""A consumer zone in another account: its records are read and written through the consumer's role.

The local cloud assumes a task's `Credentials.RoleArn` through moto's STS, so the calls land in
the role's account, as they do in AWS. The provider account cannot see that zone at all.
"""
import dataclasses
import sys
import types
import unittest
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

import scenario as sc  # noqa: E402
from support import LocalCloud, start_module_cloud  # noqa: E402

CONSUMER_ACCOUNT, CONSUMER_ROLE = sc.CONSUMER_ACCOUNT, sc.CONSUMER_ROLE

cloud: LocalCloud | None = None
aws: sc.Aws | None = None


def setUpModule():
    global cloud, aws
    cloud, aws = start_module_cloud()


class CrossAccountConsumer(unittest.TestCase):

    def consumer_account(self, service: str):
        credentials = aws.sts.assume_role(RoleArn=CONSUMER_ROLE, RoleSessionName="consumer-setup")["Credentials"]
        return boto3.client(service, endpoint_url=cloud.endpoint, region_name=sc.REGION,
                            aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"])

    def add_cross_account_consumer(self, world: sc.World) -> tuple[sc.World, str]:
        route53, ec2 = self.consumer_account("route53"), self.consumer_account("ec2")
        vpc_id = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
        zone_id = route53.create_hosted_zone(
            Name=sc.ZONE_NAME, CallerReference=f"{world.link_id}-payments",
            VPC={"VPCRegion": sc.REGION, "VPCId": vpc_id},
            HostedZoneConfig={"PrivateZone": True})["HostedZone"]["Id"].split("/")[-1]
        # Its interface endpoint to the link's service: Route 53 aliases only to an endpoint that exists.
        service_id = sc.endpoint_service_of(aws, world.load_balancer_arn)
        sc.allow_account(aws, service_id, CONSUMER_ACCOUNT)
        endpoint_id, dns_name, _ = sc.interface_endpoint(aws.assume(CONSUMER_ROLE), vpc_id, service_id)
        self.endpoint_dns_name = dns_name
        consumer = sc.Consumer("payments", vpc_id, endpoint_id, zone_id, dns_name)
        config = dict(world.config)
        config["consumers"] = [*config["consumers"], {
            "name": "payments", "hostedZoneId": zone_id, "endpointDnsName": dns_name,
            "endpointHostedZoneId": sc.ENDPOINT_ZONE_ID, "roleArn": CONSUMER_ROLE}]
        world = dataclasses.replace(world, consumers=(*world.consumers, consumer), config=config)
        sc.put_link(aws, world)
        return world, zone_id

    def consumer_records(self, zone_id: str) -> dict[tuple[str, str], str]:
        in_consumer_account = types.SimpleNamespace(route53=self.consumer_account("route53"))
        return {k: v for k, v in sc.records(in_consumer_account, zone_id).items() if k[1] in ("A", "TXT")}

    def test_records_in_another_accounts_zone_are_written_through_the_consumers_role(self):
        world = sc.build_world(aws, "xacct", table=cloud.table, consumers=("analytics",),
                               provider_zone=False, bootstrap_port=None)
        self.addCleanup(sc.delete_link, aws, world)
        world, zone_id = self.add_cross_account_consumer(world)

        status, output, history = cloud.start_execution_and_wait(sc.manual(world))

        self.assertEqual("SUCCEEDED", status, output)
        hosts = [b.hosts[0] for b in sc.brokers(aws, world.cluster_arn)]
        self.assertEqual(self.wired(world), self.consumer_records(zone_id))
        with self.assertRaises(ClientError) as seen:
            aws.route53.list_resource_record_sets(HostedZoneId=zone_id)
        self.assertEqual("NoSuchHostedZone", seen.exception.response["Error"]["Code"])
        # The same-account consumer is wired as usual, next to it.
        analytics = world.consumers[0].hosted_zone_id
        self.assertEqual(len(hosts) * 2, sum(1 for (_, t) in sc.records(aws, analytics) if t in ("A", "TXT")))

    def test_a_converged_cross_account_link_makes_no_writes(self):
        world = sc.build_world(aws, "xacct-idle", table=cloud.table, consumers=(),
                               provider_zone=False, bootstrap_port=None)
        self.addCleanup(sc.delete_link, aws, world)
        world, zone_id = self.add_cross_account_consumer(world)
        status, output, history = cloud.start_execution_and_wait(sc.manual(world))
        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual(self.wired(world), self.consumer_records(zone_id))  # the first run wrote the consumer's zone
        self.assertGreater(sc.wiring_writes(history)["changeResourceRecordSets"], 0)

        status, output, history = cloud.start_execution_and_wait(sc.manual(world))

        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual({}, dict(sc.write_calls(history)))
        self.assertEqual(self.wired(world), self.consumer_records(zone_id))

    def wired(self, world: sc.World) -> dict[tuple[str, str], str]:
        """The consumer's zone as the link wires it: an alias to its endpoint and the ownership TXT per broker."""
        hosts = [b.hosts[0] for b in sc.brokers(aws, world.cluster_arn)]
        expected = {(h, "A"): f"ALIAS {self.endpoint_dns_name} {sc.ENDPOINT_ZONE_ID}" for h in hosts}
        expected.update({(h, "TXT"): sc.ownership_txt(world.link_id) for h in hosts})
        return expected


if __name__ == "__main__":
    unittest.main()
