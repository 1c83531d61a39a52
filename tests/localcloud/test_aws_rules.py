"""The local cloud refuses what AWS refuses, and still accepts what AWS accepts.

Direct boto3 calls against the local cloud (no state machine), one class per service. Each refusal
asserts AWS's error code and that nothing changed; each rule has a call AWS accepts beside it. The
AWS source of every rule is cited in the motoext module that enforces it.
"""

import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from botocore.exceptions import ClientError  # noqa: E402
from support import LocalCloud, start_module_cloud  # noqa: E402

cloud: LocalCloud | None = None


def setUpModule():
    global cloud
    cloud, _ = start_module_cloud()


def vpc_with_subnets(second_octet: int, azs: str = "abc") -> tuple[str, list[str]]:
    ec2 = cloud.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=f"10.{second_octet}.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{second_octet}.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"] for i, az in enumerate(azs)]
    return vpc, subnets


class ElbTargets(unittest.TestCase):
    """A target is an (Id, Port) pair, as in AWS; deregistering what is not registered succeeds; deregistered targets drain."""

    @classmethod
    def setUpClass(cls):
        cls.elbv2 = cloud.client("elbv2")
        cls.vpc, _ = vpc_with_subnets(80)

    def setUp(self):
        self.group = self.elbv2.create_target_group(
            Name=f"rules-{time.time_ns() % 10**9}", Protocol="TCP", Port=9094, VpcId=self.vpc, TargetType="ip",
        )["TargetGroups"][0]["TargetGroupArn"]

    def health(self, **targets) -> list[tuple[str, int, str]]:
        found = self.elbv2.describe_target_health(TargetGroupArn=self.group, **targets)["TargetHealthDescriptions"]
        return sorted((d["Target"]["Id"], d["Target"]["Port"], d["TargetHealth"]["State"]) for d in found)

    def test_the_same_ip_on_another_port_is_another_target(self):
        self.elbv2.register_targets(TargetGroupArn=self.group, Targets=[{"Id": "10.0.1.10", "Port": 9094}])

        self.elbv2.register_targets(TargetGroupArn=self.group, Targets=[{"Id": "10.0.1.10", "Port": 9096}])

        self.assertEqual([("10.0.1.10", 9094, "healthy"), ("10.0.1.10", 9096, "healthy")], self.health())

        self.elbv2.deregister_targets(TargetGroupArn=self.group, Targets=[{"Id": "10.0.1.10", "Port": 9094}])

        self.assertEqual([("10.0.1.10", 9094, "draining"), ("10.0.1.10", 9096, "healthy")], self.health())
        self.assertEqual([("10.0.1.10", 9096, "healthy")], self.health(Targets=[{"Id": "10.0.1.10", "Port": 9096}]))
        self.assertEqual([("10.0.1.10", 9094, "draining")], self.health(Targets=[{"Id": "10.0.1.10", "Port": 9094}]))

    def test_a_target_without_port_is_on_the_groups_port(self):
        self.elbv2.register_targets(TargetGroupArn=self.group, Targets=[{"Id": "10.0.1.11"}])

        self.assertEqual([("10.0.1.11", 9094, "healthy")], self.health())
        self.elbv2.deregister_targets(TargetGroupArn=self.group, Targets=[{"Id": "10.0.1.11"}])
        self.assertEqual([("10.0.1.11", 9094, "draining")], self.health())

    def test_deregistering_an_ip_port_that_is_not_registered_succeeds_and_changes_nothing(self):
        self.elbv2.register_targets(TargetGroupArn=self.group, Targets=[{"Id": "10.0.1.12", "Port": 9096}])
        before = self.health()

        self.elbv2.deregister_targets(TargetGroupArn=self.group, Targets=[
            {"Id": "10.0.1.12", "Port": 9094}, {"Id": "10.0.1.99", "Port": 9096}])

        self.assertEqual(before, self.health())
        self.assertEqual([("10.0.1.12", 9094, "unused")], self.health(Targets=[{"Id": "10.0.1.12", "Port": 9094}]))

    def test_a_deregistered_target_drains_for_the_groups_delay_and_registering_it_again_ends_that(self):
        self.elbv2.register_targets(TargetGroupArn=self.group, Targets=[{"Id": "10.0.1.13", "Port": 9094},
                                                                        {"Id": "10.0.1.14", "Port": 9094}])
        self.elbv2.deregister_targets(TargetGroupArn=self.group, Targets=[{"Id": "10.0.1.13", "Port": 9094},
                                                                          {"Id": "10.0.1.14", "Port": 9094}])
        self.assertEqual([("10.0.1.13", 9094, "draining"), ("10.0.1.14", 9094, "draining")], self.health())

        self.elbv2.register_targets(TargetGroupArn=self.group, Targets=[{"Id": "10.0.1.13", "Port": 9094}])
        self.assertEqual([("10.0.1.13", 9094, "healthy"), ("10.0.1.14", 9094, "draining")], self.health())

        self.elbv2.modify_target_group_attributes(TargetGroupArn=self.group, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "0"}])
        self.assertEqual([("10.0.1.13", 9094, "healthy")], self.health())


if __name__ == "__main__":
    unittest.main()
