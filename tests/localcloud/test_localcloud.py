"""Smoke tests of the local cloud itself: launcher, Lambda host, moto extensions."""

import ipaddress
import json
import os
import re
import socket
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from botocore.exceptions import ClientError  # noqa: E402
from support import LocalCloud, READY_KEYS, start_module_cloud  # noqa: E402

ACCOUNT = "123456789012"
CLUSTER_ARN = re.compile(r"^arn:aws:kafka:us-east-1:123456789012:cluster/[A-Za-z0-9-]+/[0-9a-f-]{36}-\w+$")
BROKER_HOST = re.compile(r"^b-(\d+)\.([a-z0-9-]+)\.([a-z0-9]{6})\.c[1-3]\.kafka\.us-east-1\.amazonaws\.com$")

cloud: LocalCloud | None = None


def setUpModule():
    global cloud
    cloud, _ = start_module_cloud()


def wait_for(predicate, timeout=15.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def make_subnets(count, second_octet):
    ec2 = cloud.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=f"10.{second_octet}.0.0/16")["Vpc"]["VpcId"]
    subnets = {}
    for i in range(count):
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{second_octet}.{i}.0/24",
                                   AvailabilityZone=f"us-east-1{'abc'[i]}")["Subnet"]
        subnets[subnet["SubnetId"]] = ipaddress.ip_network(subnet["CidrBlock"])
    return vpc, subnets


def create_cluster(name, subnets, brokers=3):
    kafka = cloud.client("kafka")
    created = kafka.create_cluster_v2(ClusterName=name, Provisioned={
        "BrokerNodeGroupInfo": {"ClientSubnets": list(subnets), "InstanceType": "kafka.m5.large"},
        "KafkaVersion": "3.6.0", "NumberOfBrokerNodes": brokers})
    arn = created["ClusterArn"]
    state = wait_for(lambda: kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE")
    assert state, "cluster did not become ACTIVE"
    return arn


def nodes(cluster_arn):
    pages = cloud.client("kafka").get_paginator("list_nodes").paginate(ClusterArn=cluster_arn)
    return [n["BrokerNodeInfo"] for page in pages for n in page["NodeInfoList"]]


class ReadyLine(unittest.TestCase):

    def test_ready_within_30_seconds_with_every_key(self):
        self.assertLess(cloud.startup_seconds, 30)
        for key in READY_KEYS:
            self.assertIn(key, cloud.ready)
        self.assertEqual("us-east-1", cloud.region)
        self.assertRegex(cloud.endpoint, r"^http://127\.0\.0\.1:\d+$")
        self.assertRegex(cloud.lambda_endpoint, r"^http://127\.0\.0\.1:\d+$")
        self.assertRegex(cloud.state_machines["reconcile"], rf"^arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:")
        table = cloud.client("dynamodb").describe_table(TableName=cloud.table)["Table"]
        self.assertEqual([("pk", "HASH"), ("sk", "RANGE")], [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]])
        cloud.client("stepfunctions").describe_state_machine(stateMachineArn=cloud.state_machines["reconcile"])


class LambdaHost(unittest.TestCase):

    def test_handler_output_is_the_invoke_payload(self):
        payload = {
            "event": {"action": "reconcile", "all": True},
            "links": [{"sk": {"S": "orders"}, "kind": {"S": "msk-single-nlb"},
                       "clusterArn": {"S": f"arn:aws:kafka:us-east-1:{ACCOUNT}:cluster/orders/0b9f3c1e-1111-2222-3333-444455556666-2"}}],
            "linksTruncated": False,
            "stateMachineArn": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:Reconcile",
        }
        answer = cloud.lambda_client().invoke(FunctionName=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:TriageFunction",
                                              Payload=json.dumps(payload).encode())
        self.assertEqual(200, answer["StatusCode"])
        self.assertNotIn("FunctionError", answer)
        self.assertEqual(["orders"], [link["linkId"] for link in json.loads(answer["Payload"].read())["links"]])

    def test_handler_exception_is_a_function_error_named_after_its_type(self):
        answer = cloud.lambda_client().invoke(FunctionName="TriageFunction", Payload=b"{not json")
        self.assertEqual(200, answer["StatusCode"])
        self.assertEqual("Unhandled", answer["FunctionError"])
        error = json.loads(answer["Payload"].read())
        self.assertEqual("InvalidInputException", error["errorType"])
        self.assertIsInstance(error["errorMessage"], str)

    def test_unknown_function_is_resource_not_found(self):
        with self.assertRaises(ClientError) as raised:
            cloud.lambda_client().invoke(FunctionName="NoSuchFunction", Payload=b"{}")
        self.assertEqual("ResourceNotFoundException", raised.exception.response["Error"]["Code"])


class StepFunctionsExtensions(unittest.TestCase):

    def run_definition(self, definition, execution_input=None):
        sfn = cloud.client("stepfunctions")
        arn = sfn.create_state_machine(name=f"smoke-{time.time_ns()}", definition=json.dumps(definition),
                                       roleArn=f"arn:aws:iam::{ACCOUNT}:role/smoke")["stateMachineArn"]
        return cloud.start_execution_and_wait(execution_input or {}, state_machine=arn)

    def test_errors_are_caught_by_their_aws_names(self):
        definition = {"StartAt": "Health", "States": {
            "Health": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:elasticloadbalancingv2:describeTargetHealth",
                       "Parameters": {"TargetGroupArn": f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/none/0123456789abcdef"},
                       "Catch": [{"ErrorEquals": ["ElasticLoadBalancingV2.TargetGroupNotFoundException"],
                                  "ResultPath": "$.elbError", "Next": "Triage"}],
                       "End": True},
            "Triage": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                       "Parameters": {"FunctionName": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:TriageFunction",
                                      "Payload": {"not": "a triage input"}},
                       "Catch": [{"ErrorEquals": ["InvalidInputException"], "ResultPath": "$.lambdaError", "Next": "Done"}],
                       "End": True},
            "Done": {"Type": "Succeed"}}}
        for _ in range(2):  # moto failed from the second execution on (StartExecution deep-copied the backend)
            status, output, _ = self.run_definition(definition)
            self.assertEqual("SUCCEEDED", status, output)
            self.assertEqual("ElasticLoadBalancingV2.TargetGroupNotFoundException", output["elbError"]["Error"])
            self.assertEqual("InvalidInputException", output["lambdaError"]["Error"])

    def test_task_credentials_role_in_another_account_is_assumed(self):
        role = "arn:aws:iam::222222222222:role/brokerlink-consumer"
        keys = cloud.client("sts").assume_role(RoleArn=role, RoleSessionName="smoke")["Credentials"]
        other = cloud.client("route53", credentials=keys)
        zone = other.create_hosted_zone(Name="other.internal", CallerReference=str(time.time_ns()))["HostedZone"]["Id"]

        def list_records(**credentials):
            return self.run_definition({"StartAt": "List", "States": {"List": dict({
                "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:route53:listResourceRecordSets",
                "Parameters": {"HostedZoneId": zone}, "End": True}, **credentials)}})

        status, output, _ = list_records(Credentials={"RoleArn": role})
        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual({"NS", "SOA"}, {r["Type"] for r in output["ResourceRecordSets"]})
        status, _, history = list_records()
        self.assertEqual("FAILED", status)
        self.assertEqual("Route53.NoSuchHostedZoneException",
                         [e for e in history if e["type"] == "TaskFailed"][0]["taskFailedEventDetails"]["error"])

    def test_injected_faults_drive_retries(self):
        self.addCleanup(cloud.clear_faults)
        cloud.inject_fault("route53", "ListHostedZones", "Throttling", count=2)
        status, output, history = self.run_definition({"StartAt": "List", "States": {"List": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:route53:listHostedZones", "Parameters": {},
            "Retry": [{"ErrorEquals": ["Route53.ThrottlingException"], "IntervalSeconds": 1, "MaxAttempts": 2,
                       "BackoffRate": 1}],
            "End": True}}})
        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual(2, sum(1 for e in history if e["type"] == "TaskFailed"))

    def test_aws_sdk_output_uses_step_functions_casing(self):
        _, subnets = make_subnets(1, 60)
        balancer = cloud.client("elbv2").create_load_balancer(Name="smoke-nlb", Type="network", Scheme="internal",
                                                              Subnets=list(subnets))["LoadBalancers"][0]
        self.assertIn(":loadbalancer/net/smoke-nlb/", balancer["LoadBalancerArn"])
        status, output, _ = self.run_definition({"StartAt": "Describe", "States": {"Describe": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:elasticloadbalancingv2:describeLoadBalancers",
            "Parameters": {"LoadBalancerArns": [balancer["LoadBalancerArn"]]}, "End": True}}})
        self.assertEqual("SUCCEEDED", status, output)
        described = output["LoadBalancers"][0]
        self.assertEqual(balancer["DNSName"], described["DnsName"])
        self.assertIsInstance(described["CreatedTime"], str)


class KafkaExtension(unittest.TestCase):

    def test_cluster_brokers_and_broker_count_update(self):
        # Long enough that a loaded machine still sees the cluster UPDATING with its old brokers right after the call.
        cloud.set_config(updateSeconds=4)
        self.addCleanup(cloud.set_config, updateSeconds=2)
        _, subnets = make_subnets(3, 61)
        arn = create_cluster("smoke-grow", subnets)
        self.assertRegex(arn, CLUSTER_ARN)
        kafka = cloud.client("kafka")

        brokers = nodes(arn)
        self.assertEqual([1.0, 2.0, 3.0], [b["BrokerId"] for b in brokers])
        self.assertEqual(set(subnets), {b["ClientSubnet"] for b in brokers})
        for b in brokers:
            self.assertIn(ipaddress.ip_address(b["ClientVpcIpAddress"]), subnets[b["ClientSubnet"]])
            self.assertEqual(int(b["BrokerId"]), int(BROKER_HOST.match(b["Endpoints"][0]).group(1)))
        self.assertEqual(1, len({BROKER_HOST.match(b["Endpoints"][0]).group(3) for b in brokers}))
        enis = cloud.client("ec2").describe_network_interfaces(NetworkInterfaceIds=[b["AttachedENIId"] for b in brokers])
        self.assertEqual({b["ClientVpcIpAddress"] for b in brokers},
                         {e["PrivateIpAddress"] for e in enis["NetworkInterfaces"]})
        pages = list(kafka.get_paginator("list_nodes").paginate(ClusterArn=arn, PaginationConfig={"PageSize": 2}))
        self.assertEqual([2, 1], [len(p["NodeInfoList"]) for p in pages])

        version = kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["CurrentVersion"]
        operation = kafka.update_broker_count(ClusterArn=arn, CurrentVersion=version, TargetNumberOfBrokerNodes=6)
        self.assertEqual(arn, operation["ClusterArn"])
        info = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
        self.assertEqual("UPDATING", info["State"])
        self.assertNotEqual(version, info["CurrentVersion"])
        self.assertEqual(3, len(nodes(arn)))
        self.assertTrue(wait_for(lambda: kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE"))
        self.assertEqual([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [b["BrokerId"] for b in nodes(arn)])
        self.assertEqual(6, kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]["NumberOfBrokerNodes"])
        done = kafka.describe_cluster_operation(ClusterOperationArn=operation["ClusterOperationArn"])
        self.assertEqual("UPDATE_COMPLETE", done["ClusterOperationInfo"]["OperationState"])
        bootstrap = kafka.get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerStringTls"].split(",")
        self.assertEqual(6, len(bootstrap))
        self.assertTrue(all(b.endswith(":9094") for b in bootstrap))

    def test_replace_broker_gives_it_a_new_ip_and_removes_the_old_eni(self):
        _, subnets = make_subnets(3, 62)
        arn = create_cluster("smoke-replace", subnets)
        before = {int(b["BrokerId"]): b for b in nodes(arn)}

        replaced = cloud.replace_broker(arn, 2)

        self.assertEqual(2, replaced["brokerId"])
        self.assertEqual(before[2]["ClientVpcIpAddress"], replaced["oldIp"])
        self.assertNotEqual(replaced["oldIp"], replaced["newIp"])
        after = {int(b["BrokerId"]): b for b in nodes(arn)}
        self.assertEqual(replaced["newIp"], after[2]["ClientVpcIpAddress"])
        self.assertEqual(before[2]["ClientSubnet"], after[2]["ClientSubnet"])
        self.assertEqual(before[2]["Endpoints"], after[2]["Endpoints"])
        self.assertEqual(before[1], after[1])
        with self.assertRaises(ClientError) as raised:
            cloud.client("ec2").describe_network_interfaces(NetworkInterfaceIds=[before[2]["AttachedENIId"]])
        self.assertEqual("InvalidNetworkInterfaceID.NotFound", raised.exception.response["Error"]["Code"])

    def test_serverless_cluster_has_no_nodes(self):
        _, subnets = make_subnets(2, 63)
        kafka = cloud.client("kafka")
        arn = kafka.create_cluster_v2(ClusterName="smoke-serverless",
                                      Serverless={"VpcConfigs": [{"SubnetIds": list(subnets)}]})["ClusterArn"]
        with self.assertRaises(ClientError) as raised:
            kafka.list_nodes(ClusterArn=arn)
        self.assertEqual("BadRequestException", raised.exception.response["Error"]["Code"])


class Route53Extension(unittest.TestCase):

    def test_change_batches_follow_aws_rules(self):
        route53 = cloud.client("route53")
        zone = route53.create_hosted_zone(Name="smoke.internal", CallerReference=str(time.time_ns()))["HostedZone"]["Id"]
        # Route 53 aliases only to a load balancer that exists, under its canonical hosted zone.
        _, subnets = make_subnets(1, 64)
        nlb = cloud.client("elbv2").create_load_balancer(Name="smoke-r53-nlb", Type="network", Scheme="internal",
                                                         Subnets=list(subnets))["LoadBalancers"][0]
        alias = {"Name": "b-1.smoke.internal", "Type": "A", "AliasTarget": {
            "HostedZoneId": nlb["CanonicalHostedZoneId"], "DNSName": nlb["DNSName"], "EvaluateTargetHealth": False}}
        txt = {"Name": "b-1.smoke.internal", "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": '"owner"'}]}

        def change(action, *record_sets):
            route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={
                "Changes": [{"Action": action, "ResourceRecordSet": r} for r in record_sets]})

        change("UPSERT", alias, txt)
        listed = {(r["Name"], r["Type"]): r for r in route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]}
        self.assertNotIn("TTL", listed[("b-1.smoke.internal.", "A")])
        for action, records in (("CREATE", [txt]), ("DELETE", [dict(txt, TTL=60)]), ("DELETE", [alias, dict(txt, Name="b-2.smoke.internal")])):
            with self.assertRaises(ClientError) as raised:
                change(action, *records)
            self.assertEqual("InvalidChangeBatch", raised.exception.response["Error"]["Code"])
        self.assertIn(("b-1.smoke.internal.", "A"), {(r["Name"], r["Type"]) for r in
                                                     route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]})
        change("DELETE", alias, txt)


class Stopping(unittest.TestCase):

    def test_stop_leaves_no_process_behind(self):
        other = LocalCloud().start()
        pid = other.pid
        ports = [int(url.rsplit(":", 1)[1]) for url in (other.endpoint, other.lambda_endpoint)]

        self.assertEqual(0, other.stop())

        with self.assertRaises(ProcessLookupError):
            os.killpg(pid, 0)  # nothing left in the launcher's session (moto, Lambda host)
        for port in ports:
            with socket.socket() as s:
                self.assertNotEqual(0, s.connect_ex(("127.0.0.1", port)))


if __name__ == "__main__":
    unittest.main()
