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
from support import LocalCloud, READY_KEYS, sc, start_module_cloud  # noqa: E402

ACCOUNT = "123456789012"
CLUSTER_ARN = re.compile(r"^arn:aws:kafka:us-east-1:123456789012:cluster/[A-Za-z0-9-]+/[0-9a-f-]{36}-\w+$")
BROKER_HOST = re.compile(r"^b-(\d+)\.([a-z0-9-]+)\.([a-z0-9]{6})\.c[1-3]\.kafka\.us-east-1\.amazonaws\.com$")

cloud: LocalCloud | None = None


def setUpModule():
    global cloud
    cloud, aws = start_module_cloud()
    # The test state machines' roles: Step Functions assumes a state machine's role, which must exist and trust it.
    for name in ("smoke", "strict", "express"):
        sc.create_role(aws, f"arn:aws:iam::{ACCOUNT}:role/{name}", "states.amazonaws.com")


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
        table = cloud.client("dynamodb").describe_table(TableName=cloud.table)["Table"]
        self.assertEqual([("pk", "HASH"), ("sk", "RANGE")], [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]])
        machine_types = {}
        for name in ("sweep", "observe", "apply", "onboard"):
            self.assertRegex(cloud.state_machines[name], rf"^arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:")
            machine_types[name] = cloud.client("stepfunctions").describe_state_machine(
                stateMachineArn=cloud.state_machines[name])["type"]
        self.assertEqual({"sweep": "EXPRESS", "observe": "EXPRESS", "apply": "STANDARD", "onboard": "STANDARD"}, machine_types)


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
        role = sc.create_role(sc.Aws(cloud.endpoint), "arn:aws:iam::222222222222:role/brokerlink-consumer",
                              f"arn:aws:iam::{ACCOUNT}:role/smoke")
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
            "Retry": [{"ErrorEquals": ["Route53.Route53Exception"], "IntervalSeconds": 1, "MaxAttempts": 2,
                       "BackoffRate": 1}],
            "End": True}}})
        self.assertEqual("SUCCEEDED", status, output)
        failures = [e["taskFailedEventDetails"] for e in history if e["type"] == "TaskFailed"]
        self.assertEqual(["Route53.Route53Exception"] * 2, [f["error"] for f in failures])
        self.assertIn("Throttling", failures[0]["cause"])

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


class StrictStepFunctions(unittest.TestCase):
    """The local cloud refuses what real Step Functions refuses (AWS-FACTS, "Step Functions dialect"): field names
    other than the Java SDK v2 spelling, payloads over 256 KiB, and it names errors and ends executions as AWS does."""

    zone = None

    @classmethod
    def setUpClass(cls):
        cls.zone = cloud.client("route53").create_hosted_zone(
            Name="strict.internal", CallerReference=f"strict-{time.time_ns()}")["HostedZone"]["Id"].split("/")[-1]

    def create(self, definition):
        return cloud.client("stepfunctions").create_state_machine(
            name=f"strict-{time.time_ns()}", definition=json.dumps(definition), roleArn=f"arn:aws:iam::{ACCOUNT}:role/strict")

    def upsert(self, record, catch_all=True):
        """Upserts one record; a Catch on States.ALL shows that what fails the execution is not catchable."""
        state = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:route53:changeResourceRecordSets",
                 "Parameters": {"HostedZoneId": self.zone, "ChangeBatch": {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]}},
                 "End": True}
        if catch_all:
            state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Caught"}]
        return {"StartAt": "Upsert", "States": {"Upsert": state, "Caught": {"Type": "Succeed"}}}

    def test_step_functions_spelling_is_accepted(self):
        arn = self.create(self.upsert({"Name": "ok.strict.internal", "Type": "TXT", "Ttl": 300,
                                       "ResourceRecords": [{"Value": '"v"'}]}))["stateMachineArn"]
        status, output, _ = cloud.start_execution_and_wait({}, state_machine=arn)
        self.assertEqual("SUCCEEDED", status, output)
        self.assertNotIn("caught", output)

    def test_a_definition_with_the_apis_spelling_or_a_misspelt_nested_member_is_refused(self):
        alias = {"HostedZoneId": "Z26RNL4JYFTOTI", "DnsName": "x.elb.us-east-1.amazonaws.com", "EvaluateTargetHealth": False}
        cases = {
            "TTL": {"Name": "a.strict.internal", "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": '"v"'}]},
            "DNSName": {"Name": "a.strict.internal", "Type": "A",
                        "AliasTarget": dict({k: v for k, v in alias.items() if k != "DnsName"}, DNSName=alias["DnsName"])},
            "HostedZoneID": {"Name": "a.strict.internal", "Type": "A",
                             "AliasTarget": dict({k: v for k, v in alias.items() if k != "HostedZoneId"}, HostedZoneID="Z1")},
        }
        for field, record in cases.items():
            with self.subTest(field=field), self.assertRaises(ClientError) as raised:
                self.create(self.upsert(record))
            self.assertEqual("InvalidDefinition", raised.exception.response["Error"]["Code"])
            self.assertIn(f'The field "{field}" is not supported by Step Functions', raised.exception.response["Error"]["Message"])
        association = {"StartAt": "A", "States": {"A": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:route53:associateVPCWithHostedZone",
            "Parameters": {"HostedZoneId": self.zone, "VPC": {"VPCId": "vpc-12345678", "VPCRegion": "us-east-1"}}, "End": True}}}
        with self.assertRaises(ClientError) as raised:
            self.create(association)
        self.assertIn('The field "VPC" is not supported by Step Functions (Step Functions spells it "Vpc")',
                      raised.exception.response["Error"]["Message"])

    def test_names_arriving_from_the_state_fail_the_execution_past_any_catch(self):
        definition = {"StartAt": "Upsert", "States": {
            "Upsert": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:route53:changeResourceRecordSets",
                       "Parameters": {"HostedZoneId": self.zone, "ChangeBatch.$": "$.batch"},
                       "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": True},
            "Caught": {"Type": "Succeed"}}}
        arn = self.create(definition)["stateMachineArn"]
        for field, record in {
                "TTL": {"Name": "b.strict.internal", "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": '"v"'}]},
                "DNSName": {"Name": "b.strict.internal", "Type": "A", "AliasTarget": {
                    "HostedZoneId": "Z26RNL4JYFTOTI", "DNSName": "x.elb.us-east-1.amazonaws.com", "EvaluateTargetHealth": False}}}.items():
            with self.subTest(field=field):
                status, _, history = cloud.start_execution_and_wait(
                    {"batch": {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]}}, state_machine=arn)
                self.assertEqual("FAILED", status)
                failed = [e["executionFailedEventDetails"] for e in history if e["type"] == "ExecutionFailed"][0]
                self.assertEqual("States.Runtime", failed["error"])
                self.assertIn(f'The field "{field}" is not supported by Step Functions', failed["cause"])
                self.assertNotIn("Caught", [e.get("stateEnteredEventDetails", {}).get("name") for e in history])
        self.assertNotIn(("b.strict.internal.", "TXT"), {(r["Name"], r["Type"]) for r in cloud.client("route53").list_resource_record_sets(
            HostedZoneId=self.zone)["ResourceRecordSets"]})

    def test_unmodelled_and_modelled_errors_carry_the_names_aws_gives_them(self):
        self.addCleanup(cloud.clear_faults)
        describe = {"StartAt": "D", "States": {"D": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:elasticloadbalancingv2:describeTargetGroups",
            "Parameters": {}, "End": True}}}
        arn = self.create(describe)["stateMachineArn"]
        for code, name in (("Throttling", "ElasticLoadBalancingV2.ElasticLoadBalancingV2Exception"),
                           ("TargetGroupNotFound", "ElasticLoadBalancingV2.TargetGroupNotFoundException")):
            with self.subTest(code=code):
                cloud.inject_fault("elasticloadbalancingv2", "DescribeTargetGroups", code, message=f"said {code}")
                status, _, history = cloud.start_execution_and_wait({}, state_machine=arn)
                self.assertEqual("FAILED", status)
                failed = [e["taskFailedEventDetails"] for e in history if e["type"] == "TaskFailed"][0]
                self.assertEqual(name, failed["error"])
                self.assertTrue(failed["cause"].startswith(f"said {code} (Service: ElasticLoadBalancingV2, Status Code: 400"), failed)

    def test_the_fault_injector_refuses_codes_the_service_never_sends(self):
        with self.assertRaises(Exception) as raised:
            cloud.inject_fault("elasticloadbalancingv2", "DescribeTargetGroups", "ThrottlingException2")
        self.assertIn("never answers with code", str(raised.exception))

    def test_the_optimized_dynamodb_integration_names_its_errors_dynamodb(self):
        table = cloud.table
        definition = {"StartAt": "Put", "States": {"Put": {
            "Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
            "Parameters": {"TableName": table, "Item": {"pk": {"S": "STRICT"}, "sk": {"S": "x"}, "flag": {"BOOL": True}},
                           "ConditionExpression": "attribute_not_exists(pk)"},
            "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.conflict", "Next": "Conflict"}],
            "End": True}, "Conflict": {"Type": "Succeed"}}}
        arn = self.create(definition)["stateMachineArn"]
        status, output, _ = cloud.start_execution_and_wait({}, state_machine=arn)
        self.assertEqual("SUCCEEDED", status, output)
        self.assertNotIn("conflict", output)
        self.assertIn("SdkHttpMetadata", output)
        status, output, _ = cloud.start_execution_and_wait({}, state_machine=arn)
        self.assertEqual(("SUCCEEDED", "DynamoDB.ConditionalCheckFailedException"), (status, output["conflict"]["Error"]))
        cloud.client("dynamodb").delete_item(TableName=table, Key={"pk": {"S": "STRICT"}, "sk": {"S": "x"}})
        wrong = json.loads(json.dumps(definition).replace('"ConditionExpression"', '"ConditionExpresion"'))
        with self.assertRaises(ClientError):
            self.create(wrong)

    def test_a_state_over_256_kib_ends_the_execution_past_any_catch_naming_the_state(self):
        definition = {"StartAt": "Each", "States": {
            "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.doubled",
                     "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                     "ItemProcessor": {"StartAt": "Double", "States": {
                         "Double": {"Type": "Pass", "Parameters": {"a.$": "$.text", "b.$": "$.text"}, "End": True}}},
                     "End": True},
            "Caught": {"Type": "Succeed"}}}
        arn = self.create(definition)["stateMachineArn"]
        status, output, _ = cloud.start_execution_and_wait({"items": [{"text": "x" * 60_000}]}, state_machine=arn)
        self.assertEqual("SUCCEEDED", status)
        self.assertEqual(1, len(output["doubled"]))
        status, _, history = cloud.start_execution_and_wait({"items": [{"text": "x" * 140_000}]}, state_machine=arn)
        self.assertEqual("FAILED", status)
        failed = [e["executionFailedEventDetails"] for e in history if e["type"] == "ExecutionFailed"][0]
        self.assertEqual("States.DataLimitExceeded", failed["error"])
        self.assertIn("'Double'", failed["cause"])

    def test_the_largest_state_of_an_execution_is_reported(self):
        definition = {"StartAt": "Grow", "States": {
            "Grow": {"Type": "Pass", "Parameters": {"a.$": "$.text", "b.$": "$.text"}, "Next": "Shrink"},
            "Shrink": {"Type": "Pass", "Result": "small", "End": True}}}
        arn = self.create(definition)["stateMachineArn"]
        sfn = cloud.client("stepfunctions")
        execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"text": "y" * 50_000}))["executionArn"]
        self.assertEqual("SUCCEEDED", cloud.wait_for_execution(execution)["status"])
        largest = cloud.post("sfn/largest-state", {"executionArn": execution})
        self.assertEqual("Grow", largest["state"])
        self.assertGreater(largest["bytes"], 100_000)
        self.assertLess(largest["bytes"], 100_100)

    def test_an_execution_input_over_256_kib_is_refused_at_start(self):
        arn = self.create({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})["stateMachineArn"]
        sfn = cloud.client("stepfunctions")
        with self.assertRaises(ClientError) as raised:
            sfn.start_execution(stateMachineArn=arn, input=json.dumps({"text": "z" * 300_000}))
        self.assertEqual("ValidationException", raised.exception.response["Error"]["Code"])
        self.assertEqual([], sfn.list_executions(stateMachineArn=arn)["executions"])
        sfn.start_execution(stateMachineArn=arn, input=json.dumps({"text": "z" * 250_000}))


class ExpressWorkflows(unittest.TestCase):
    """Express state machines as AWS runs them: synchronous results with billing details, no history API,
    no .sync patterns, callable from a task with aws-sdk:sfn:startSyncExecution, at most 5 minutes."""

    def create(self, definition, sm_type="EXPRESS"):
        return cloud.client("stepfunctions").create_state_machine(
            name=f"express-{time.time_ns()}", type=sm_type, definition=json.dumps(definition),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/express")["stateMachineArn"]

    def doubler(self):
        return self.create({"StartAt": "Double", "States": {"Double": {
            "Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True}}})

    def test_a_sync_execution_answers_with_its_output_and_billing_and_has_no_history(self):
        sfn = cloud.client("stepfunctions")
        arn = self.doubler()
        self.assertEqual("EXPRESS", sfn.describe_state_machine(stateMachineArn=arn)["type"])
        answer = sfn.start_sync_execution(stateMachineArn=arn, input=json.dumps({"n": 21}))
        self.assertEqual(("SUCCEEDED", {"doubled": 42}), (answer["status"], json.loads(answer["output"])))
        self.assertEqual(":express:", answer["executionArn"][answer["executionArn"].index(":express:"):][:9])
        self.assertEqual(64, answer["billingDetails"]["billedMemoryUsedInMB"])
        self.assertEqual(0, answer["billingDetails"]["billedDurationInMilliseconds"] % 100)
        for call in (sfn.describe_execution, sfn.get_execution_history):
            with self.assertRaises(ClientError) as raised:
                call(executionArn=answer["executionArn"])
            self.assertEqual("InvalidArn", raised.exception.response["Error"]["Code"])
        with self.assertRaises(ClientError) as raised:
            sfn.list_executions(stateMachineArn=arn)
        self.assertEqual("StateMachineTypeNotSupported", raised.exception.response["Error"]["Code"])

    def test_a_standard_machine_is_not_run_synchronously_and_an_express_one_takes_no_sync_pattern(self):
        sfn = cloud.client("stepfunctions")
        standard = self.create({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, sm_type="STANDARD")
        with self.assertRaises(ClientError) as raised:
            sfn.start_sync_execution(stateMachineArn=standard, input="{}")
        self.assertEqual("StateMachineTypeNotSupported", raised.exception.response["Error"]["Code"])
        with self.assertRaises(ClientError) as raised:
            self.create({"StartAt": "Run", "States": {"Run": {
                "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": standard}, "End": True}}})
        self.assertEqual("InvalidDefinition", raised.exception.response["Error"]["Code"])

    def test_tasks_call_an_express_machine_synchronously_from_standard_and_express_parents(self):
        child = self.doubler()
        call = {"StartAt": "Call", "States": {"Call": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:startSyncExecution",
            "Parameters": {"StateMachineArn": child, "Input.$": "States.JsonToString($.x)"},
            "ResultSelector": {"status.$": "$.Status", "output.$": "States.StringToJson($.Output)"}, "End": True}}}
        standard = self.create(call, sm_type="STANDARD")
        status, output, _ = cloud.start_execution_and_wait({"x": {"n": 2}}, state_machine=standard)
        self.assertEqual(("SUCCEEDED", {"status": "SUCCEEDED", "output": {"doubled": 4}}), (status, output))
        express = self.create(call)
        answer = cloud.client("stepfunctions").start_sync_execution(stateMachineArn=express, input=json.dumps({"x": {"n": 3}}))
        self.assertEqual({"status": "SUCCEEDED", "output": {"doubled": 6}}, json.loads(answer["output"]))

    def test_an_express_execution_is_stopped_at_its_time_limit(self):
        cloud.set_config(expressTimeoutSeconds=1)
        self.addCleanup(cloud.set_config, expressTimeoutSeconds=300)
        slow = self.create({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3, "End": True}}})
        started = time.monotonic()
        answer = cloud.client("stepfunctions").start_sync_execution(stateMachineArn=slow, input="{}")
        self.assertEqual(("TIMED_OUT", "States.Timeout"), (answer["status"], answer.get("error")))
        self.assertLess(time.monotonic() - started, 2.5)

    def test_an_asynchronous_express_execution_is_reported_by_the_test_route(self):
        arn = self.doubler()
        started = cloud.client("stepfunctions").start_execution(stateMachineArn=arn, input=json.dumps({"n": 5}))
        executions = wait_for(lambda: [e for e in cloud.post("sfn/express-executions", {"stateMachineArn": arn})["executions"]
                                       if e["executionArn"] == started["executionArn"] and e["status"] != "RUNNING"])
        self.assertEqual(1, len(executions))
        self.assertEqual(("SUCCEEDED", {"doubled": 10}), (executions[0]["status"], json.loads(executions[0]["output"])))
        self.assertEqual(1, executions[0]["stateTransitions"])


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
