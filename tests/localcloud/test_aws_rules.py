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



ZONE = "kafka.us-east-1.amazonaws.com"
ENDPOINT_ZONE_ID = "Z7HUB22UULQXV"  # the regional hosted zone of interface endpoints in us-east-1


def txt(name: str, value: str = '"owner"', **extra) -> dict:
    return {"Name": name, "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": value}], **extra}


def cname(name: str, target: str = "elsewhere.example.com") -> dict:
    return {"Name": name, "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": target}]}


def alias(name: str, dns_name: str, zone_id: str, kind: str = "A") -> dict:
    return {"Name": name, "Type": kind, "AliasTarget": {"DNSName": dns_name, "HostedZoneId": zone_id, "EvaluateTargetHealth": False}}


class Route53ChangeBatches(unittest.TestCase):
    """Whole-batch validation: a refused batch is InvalidChangeBatch (400) naming the problem and changes nothing."""

    @classmethod
    def setUpClass(cls):
        cls.route53, cls.ec2, cls.elbv2 = cloud.client("route53"), cloud.client("ec2"), cloud.client("elbv2")
        cls.vpc, cls.subnets = vpc_with_subnets(81, "ab")
        cls.nlb = cls.elbv2.create_load_balancer(Name="rules-nlb", Subnets=cls.subnets, Type="network",
                                                 Scheme="internal")["LoadBalancers"][0]

    def setUp(self):
        self.zone = self.route53.create_hosted_zone(Name=ZONE, CallerReference=f"rules-{time.time_ns()}")["HostedZone"]["Id"]

    def change(self, *changes: tuple[str, dict]) -> None:
        self.route53.change_resource_record_sets(HostedZoneId=self.zone, ChangeBatch={
            "Changes": [{"Action": action, "ResourceRecordSet": record} for action, record in changes]})

    def listed(self) -> list[dict]:
        return self.route53.list_resource_record_sets(HostedZoneId=self.zone)["ResourceRecordSets"]

    def assertRefused(self, phrase: str, *changes: tuple[str, dict]) -> str:
        before = self.listed()
        with self.assertRaises(ClientError) as refused:
            self.change(*changes)
        error = refused.exception.response
        self.assertEqual(("InvalidChangeBatch", 400), (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]))
        self.assertIn(phrase, error["Error"]["Message"])
        self.assertEqual(before, self.listed())
        return error["Error"]["Message"]

    def names(self) -> set[tuple[str, str]]:
        return {(r["Name"], r["Type"]) for r in self.listed()}

    # ------------------------------------------------------------------ names in the zone

    def test_a_name_outside_the_zone_is_refused_on_label_boundaries(self):
        message = self.assertRefused("is not permitted in zone", ("CREATE", txt("xkafka.us-east-1.amazonaws.com")))
        self.assertEqual("RRSet with DNS name xkafka.us-east-1.amazonaws.com. is not permitted in zone "
                         "kafka.us-east-1.amazonaws.com.", message)
        self.assertRefused("is not permitted in zone", ("CREATE", txt("b-1.kafka.us-east-1.amazonaws.com.evil.example")))
        # All or nothing: the good change in the same batch is not applied either.
        self.assertRefused("xkafka.us-east-1.amazonaws.com.", ("CREATE", txt(f"b-1.{ZONE}")),
                           ("CREATE", txt("xkafka.us-east-1.amazonaws.com")))

        self.change(("CREATE", txt(f"b-1.{ZONE}")), ("CREATE", txt(ZONE)), ("CREATE", txt(f"B-2.{ZONE.upper()}.")))

        self.assertLessEqual({(f"b-1.{ZONE}.", "TXT"), (f"{ZONE}.", "TXT"), (f"b-2.{ZONE}.", "TXT")},
                             {(name.lower(), kind) for name, kind in self.names()})

    # ------------------------------------------------------------------ one change per record set

    def test_two_changes_to_one_record_set_are_refused_but_delete_then_create_replaces_it(self):
        name = f"b-1.{ZONE}"
        self.change(("CREATE", txt(name)))

        message = self.assertRefused("invalid set of changes", ("UPSERT", txt(name, '"a"')), ("UPSERT", txt(name, '"b"')))
        self.assertEqual(f"The request contains an invalid set of changes for a resource record set 'TXT {name}.'", message)
        self.assertRefused("invalid set of changes", ("DELETE", txt(name)), ("DELETE", txt(name)))
        self.assertRefused("invalid set of changes", ("CREATE", txt(f"b-2.{ZONE}")), ("UPSERT", txt(f"B-2.{ZONE}.")))

        self.change(("DELETE", txt(name)), ("CREATE", txt(name, '"replaced"')))
        self.change(("CREATE", txt(f"w.{ZONE}", SetIdentifier="one", Weight=1)),
                    ("CREATE", txt(f"w.{ZONE}", SetIdentifier="two", Weight=2)))

        listed = {(r["Name"], r.get("SetIdentifier")): r for r in self.listed() if r["Type"] == "TXT"}
        self.assertEqual([{"Value": '"replaced"'}], listed[(f"{name}.", None)]["ResourceRecords"])
        self.assertLessEqual({(f"w.{ZONE}.", "one"), (f"w.{ZONE}.", "two")}, set(listed))

    # ------------------------------------------------------------------ CNAME

    def test_a_cname_is_alone_at_its_name(self):
        name = f"b-1.{ZONE}"
        self.change(("CREATE", alias(name, self.nlb["DNSName"], self.nlb["CanonicalHostedZoneId"])))

        message = self.assertRefused("conflicts with other records", ("CREATE", cname(name)))
        self.assertEqual(f"RRSet of type CNAME with DNS name {name}. is not permitted as it conflicts with other records "
                         f"with the same DNS name in zone {ZONE}.", message)
        self.change(("CREATE", cname(f"c.{ZONE}")))
        message = self.assertRefused("conflicting RRSet of type  CNAME", ("CREATE", txt(f"c.{ZONE}")))
        self.assertEqual(f"RRSet of type TXT with DNS name c.{ZONE}. is not permitted because a conflicting RRSet of type "
                         f" CNAME with the same DNS name already exists in zone {ZONE}.", message)
        self.assertRefused("conflicting RRSet of type  CNAME",
                           ("UPSERT", alias(f"c.{ZONE}", self.nlb["DNSName"], self.nlb["CanonicalHostedZoneId"])))

        # The API reference's own example: delete the CNAME and create an alias at its name in one batch.
        self.change(("DELETE", cname(f"c.{ZONE}")),
                    ("CREATE", alias(f"c.{ZONE}", self.nlb["DNSName"], self.nlb["CanonicalHostedZoneId"])))
        self.change(("UPSERT", cname(f"d.{ZONE}")))
        self.change(("UPSERT", cname(f"d.{ZONE}", "other.example.com")))
        self.assertIn((f"c.{ZONE}.", "A"), self.names())
        self.assertNotIn((f"c.{ZONE}.", "CNAME"), self.names())

    # ------------------------------------------------------------------ routing policies

    def test_simple_and_routing_policy_record_sets_of_a_name_and_type_do_not_mix(self):
        name = f"w.{ZONE}"
        self.change(("CREATE", txt(name, SetIdentifier="one", Weight=10)))

        message = self.assertRefused("cannot be created as other RRSets exist", ("CREATE", txt(name)))
        self.assertEqual(f"RRSet with DNS name {name}., type TXT cannot be created as other RRSets exist with the same "
                         "name and type.", message)
        message = self.assertRefused("as a non-latency set exists",
                                     ("CREATE", txt(name, SetIdentifier="east", Region="us-east-1")))
        self.assertEqual(f"RRSet with DNS name {name}., type TXT, SetIdentifier east cannot be created as a non-latency "
                         "set exists with the same name and type.", message)
        self.change(("CREATE", txt(f"s.{ZONE}")))
        self.assertRefused("as a non-weighted set exists", ("CREATE", txt(f"s.{ZONE}", SetIdentifier="one", Weight=1)))

        self.change(("CREATE", txt(name, SetIdentifier="two", Weight=20)),
                    ("CREATE", alias(name, self.nlb["DNSName"], self.nlb["CanonicalHostedZoneId"])))
        # Deleting the simple record first, in the same batch, lets the weighted one in (external-dns #1411).
        self.change(("DELETE", txt(f"s.{ZONE}")), ("CREATE", txt(f"s.{ZONE}", SetIdentifier="one", Weight=1)))
        self.assertEqual(2, sum(1 for r in self.listed() if r["Name"] == f"{name}." and r["Type"] == "TXT"))

    # ------------------------------------------------------------------ alias targets

    def test_an_alias_to_a_load_balancer_must_name_an_existing_one_with_its_zone(self):
        dns_name, zone_id = self.nlb["DNSName"], self.nlb["CanonicalHostedZoneId"]
        missing = dns_name.replace("rules-nlb-", "rules-gone-")

        message = self.assertRefused("but that target was not found", ("CREATE", alias(f"b-1.{ZONE}", missing, zone_id)))
        self.assertEqual(f"Tried to create an alias that targets {missing}., type A in zone {zone_id}, but that target "
                         "was not found", message)
        message = self.assertRefused("does not lie within the target zone",
                                     ("UPSERT", alias(f"b-1.{ZONE}", dns_name, ENDPOINT_ZONE_ID)))
        self.assertEqual(f"Tried to create an alias that targets {dns_name}., type A in zone {ENDPOINT_ZONE_ID}, but the "
                         "alias target name does not lie within the target zone", message)
        self.assertRefused("does not lie within the target zone", ("CREATE", alias(f"b-1.{ZONE}", dns_name, "Z0NOTAZONE")))

        self.change(("CREATE", alias(f"b-1.{ZONE}", dns_name, zone_id)),
                    ("CREATE", alias(f"b-2.{ZONE}", dns_name.upper() + ".", zone_id)))
        self.assertLessEqual({(f"b-1.{ZONE}.", "A"), (f"b-2.{ZONE}.", "A")}, self.names())

    def test_an_alias_to_an_interface_endpoint_must_name_one_of_its_dns_entries(self):
        service = self.ec2.create_vpc_endpoint_service_configuration(
            NetworkLoadBalancerArns=[self.nlb["LoadBalancerArn"]], AcceptanceRequired=False)["ServiceConfiguration"]
        endpoint = self.ec2.create_vpc_endpoint(
            VpcId=self.vpc, VpcEndpointType="Interface", SubnetIds=self.subnets,
            ServiceName=service["ServiceName"])["VpcEndpoint"]
        regional, zonal = endpoint["DnsEntries"][0], endpoint["DnsEntries"][1]
        missing = regional["DnsName"].replace(endpoint["VpcEndpointId"], "vpce-0000000000000dead")

        self.assertRefused("but that target was not found", ("CREATE", alias(f"b-1.{ZONE}", missing, ENDPOINT_ZONE_ID)))
        self.assertRefused("does not lie within the target zone",
                           ("CREATE", alias(f"b-1.{ZONE}", regional["DnsName"], self.nlb["CanonicalHostedZoneId"])))

        self.change(("CREATE", alias(f"b-1.{ZONE}", regional["DnsName"], regional["HostedZoneId"])),
                    ("CREATE", alias(f"b-2.{ZONE}", zonal["DnsName"], zonal["HostedZoneId"])))
        self.assertLessEqual({(f"b-1.{ZONE}.", "A"), (f"b-2.{ZONE}.", "A")}, self.names())

        self.ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
        self.assertRefused("but that target was not found",
                           ("CREATE", alias(f"b-3.{ZONE}", regional["DnsName"], regional["HostedZoneId"])))


class MskBrokerCounts(unittest.TestCase):
    """MSK spreads brokers evenly over the client subnets' Availability Zones: a count is a multiple of their number."""

    @classmethod
    def setUpClass(cls):
        cls.kafka, cls.ec2 = cloud.client("kafka"), cloud.client("ec2")
        cls.vpc3, cls.three_azs = vpc_with_subnets(82, "abc")
        cls.vpc2, cls.two_azs = vpc_with_subnets(83, "ab")

    def create(self, name: str, subnets: list[str], brokers: int, v1: bool = False) -> str:
        info = {"ClientSubnets": subnets, "InstanceType": "kafka.m5.large"}
        if v1:
            return self.kafka.create_cluster(ClusterName=name, BrokerNodeGroupInfo=info, KafkaVersion="3.6.0",
                                             NumberOfBrokerNodes=brokers)["ClusterArn"]
        return self.kafka.create_cluster_v2(ClusterName=name, Provisioned={
            "BrokerNodeGroupInfo": info, "KafkaVersion": "3.6.0", "NumberOfBrokerNodes": brokers})["ClusterArn"]

    def cluster(self, arn: str) -> dict:
        return self.kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]

    def active(self, arn: str) -> dict:
        deadline = time.monotonic() + 30
        while (info := self.cluster(arn))["State"] != "ACTIVE":
            self.assertLess(time.monotonic(), deadline, info)
            time.sleep(0.2)
        return info

    def broker_ids(self, arn: str) -> list[int]:
        pages = self.kafka.get_paginator("list_nodes").paginate(ClusterArn=arn)
        return [int(n["BrokerNodeInfo"]["BrokerId"]) for page in pages for n in page["NodeInfoList"]]

    def interfaces(self, vpc: str) -> list[str]:
        found = self.ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkInterfaces"]
        return sorted(i["NetworkInterfaceId"] for i in found)

    def assertBadRequest(self, parameter: str, call, *args, **kwargs) -> None:
        with self.assertRaises(ClientError) as refused:
            call(*args, **kwargs)
        error = refused.exception.response
        self.assertEqual(("BadRequestException", 400), (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]))
        self.assertEqual("The number of broker nodes must be a multiple of Availability Zones in the Client Subnets parameter.",
                         error["Error"]["Message"])
        self.assertEqual(parameter, error.get("InvalidParameter"))

    def update(self, arn: str, count: int) -> dict:
        return self.kafka.update_broker_count(ClusterArn=arn, CurrentVersion=self.cluster(arn)["CurrentVersion"],
                                              TargetNumberOfBrokerNodes=count)

    def names(self) -> set[str]:
        return {c["ClusterName"] for c in self.kafka.list_clusters_v2()["ClusterInfoList"]}

    def test_create_cluster_refuses_a_broker_count_that_is_not_a_multiple_of_the_azs(self):
        enis = self.interfaces(self.vpc3), self.interfaces(self.vpc2)

        self.assertBadRequest("numberOfBrokerNodes", self.create, "rules-four", self.three_azs, 4)
        self.assertBadRequest("numberOfBrokerNodes", self.create, "rules-five", self.three_azs, 5, v1=True)
        self.assertBadRequest("numberOfBrokerNodes", self.create, "rules-three", self.two_azs, 3)

        self.assertFalse({"rules-four", "rules-five", "rules-three"} & self.names())
        self.assertEqual(enis, (self.interfaces(self.vpc3), self.interfaces(self.vpc2)))
        six = self.create("rules-six", self.three_azs, 6)
        four = self.create("rules-two-azs", self.two_azs, 4, v1=True)
        self.assertEqual((list(range(1, 7)), [1, 2, 3, 4]),
                         (self.broker_ids(self.active(six)["ClusterArn"]), self.broker_ids(self.active(four)["ClusterArn"])))

    def test_update_broker_count_refuses_a_target_that_is_not_a_multiple_of_the_azs_up_or_down(self):
        arn = self.create("rules-resize", self.three_azs, 3)
        before = self.active(arn)

        self.assertBadRequest("targetNumberOfBrokerNodes", self.update, arn, 5)
        self.assertBadRequest("targetNumberOfBrokerNodes", self.update, arn, 4)

        after = self.cluster(arn)
        self.assertEqual(("ACTIVE", before["CurrentVersion"], None), (after["State"], after["CurrentVersion"], after.get("ActiveOperationArn")))
        self.assertEqual([1, 2, 3], self.broker_ids(arn))

        self.update(arn, 6)
        self.assertEqual(list(range(1, 7)), self.broker_ids(self.active(arn)["ClusterArn"]))
        self.assertBadRequest("targetNumberOfBrokerNodes", self.update, arn, 4)
        self.update(arn, 3)
        self.assertEqual([1, 2, 3], self.broker_ids(self.active(arn)["ClusterArn"]))

        two = self.create("rules-resize-2az", self.two_azs, 2)
        self.active(two)
        self.assertBadRequest("targetNumberOfBrokerNodes", self.update, two, 3)
        self.update(two, 4)
        self.assertEqual([1, 2, 3, 4], self.broker_ids(self.active(two)["ClusterArn"]))

if __name__ == "__main__":
    unittest.main()
