"""Roles as AWS has them (localcloud/motoext/iam_tasks.py): a task's role is assumed for every call after its
trust policy is checked, nothing is kept between executions, and every call is authorized against the acting
role's policies from template.yaml and consumer-account.yaml (action, resource ARN, the conditions they use).

One local cloud for the module (and a second one, for a copy of the template with an action removed).
"""
import json
import shutil
import sys
import tempfile
import time
import unittest
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

import launcher  # noqa: E402
import scenario as sc  # noqa: E402
from motoext import _iam  # noqa: E402
from support import LocalCloud, start_module_cloud  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
ROUTE53_CATCH_ALL = "Route53.Route53Exception"

cloud: LocalCloud | None = None
aws: sc.Aws | None = None


def setUpModule():
    global cloud, aws
    cloud, aws = start_module_cloud()
    cloud.set_config(retryWaitScale=0.01)  # the Route 53 catch-all's Retry, spent in a moment


def apply(cloud_: LocalCloud, world: sc.World) -> tuple[str, dict, list[dict]]:
    """One Apply execution for the link: (status, its failure or {}, its events and its Observe executions')."""
    mark = cloud_.express_mark()
    arn = cloud_.start_execution(sc.manual(world))
    described = cloud_.wait_for_execution(arn, timeout=120)
    events = cloud_.execution_history(arn) + [e for o in cloud_.express_executions(after=mark) for e in o["events"]]
    failure = next((e["executionFailedEventDetails"] for e in events if e["type"] == "ExecutionFailed"), {})
    return described["status"], failure, events


def task_failures(events: list[dict], resource: str) -> list[dict]:
    return [e["taskFailedEventDetails"] for e in events
            if e["type"] == "TaskFailed" and e["taskFailedEventDetails"].get("resource") == resource]


class TrustPolicies(unittest.TestCase):
    """Observe and Apply reach a consumer's zone only through a role of consumer-account.yaml that trusts them."""

    def world(self, link_id: str) -> sc.World:
        world = sc.build_world(aws, link_id, table=cloud.table, consumers=(), provider_zone=False,
                               bootstrap_port=None, cross_account="partner")
        self.addCleanup(sc.delete_link, aws, world)
        self.addCleanup(sc.deploy_consumer_role, aws, sc.CONSUMER_ACCOUNT)  # the stack's defaults, for the next test
        return world

    def assertRefused(self, status: str, failure: dict, events: list[dict], role_arn: str) -> None:
        self.assertEqual("FAILED", status)
        self.assertEqual(ROUTE53_CATCH_ALL, failure.get("error"), failure)
        refused = task_failures(events, "listResourceRecordSets")
        self.assertTrue(refused)
        self.assertEqual({ROUTE53_CATCH_ALL}, {f["error"] for f in refused})
        self.assertIn(f"is not authorized to perform: sts:AssumeRole on resource: {role_arn}", refused[0]["cause"])
        self.assertIn("Status Code: 403", refused[0]["cause"])

    def test_the_consumer_templates_role_is_assumed_and_writes_the_records(self):
        world = self.world("roles-ok")

        status, failure, events = apply(cloud, world)

        self.assertEqual("SUCCEEDED", status, failure)
        self.assertEqual([], sc.convergence_problems(aws, world))
        upserts = [e["taskScheduledEventDetails"] for e in events if e["type"] == "TaskScheduled"
                   and e["taskScheduledEventDetails"]["resource"] == "changeResourceRecordSets"]
        self.assertEqual([sc.CONSUMER_ROLE], [u["taskCredentials"]["roleArn"] for u in upserts])

    def test_a_role_that_trusts_another_principal_is_refused(self):
        world = self.world("roles-other")
        someone = f"arn:aws:iam::{ACCOUNT}:role/someone-else"
        sc.deploy_consumer_role(aws, sc.CONSUMER_ACCOUNT, ReconcileRoleArn=someone, OnboardRoleArn=someone)

        status, failure, events = apply(cloud, world)

        self.assertRefused(status, failure, events, sc.CONSUMER_ROLE)
        self.assertEqual({}, {k: v for k, v in sc.records(aws.assume(sc.CONSUMER_ROLE), world.consumers[0].hosted_zone_id).items()
                              if k[1] in ("A", "TXT")})

    def test_the_trust_policys_conditions_are_checked(self):
        world = self.world("roles-cond")
        reconcile = sc.provider_roles(aws)["ReconcileRoleArn"]
        # The whole provider account is trusted, but only the Onboard role's ARN passes the condition.
        sc.create_role(aws, sc.CONSUMER_ROLE, ACCOUNT, condition={
            "ArnEquals": {"aws:PrincipalArn": sc.provider_roles(aws)["OnboardRoleArn"]}})

        status, failure, events = apply(cloud, world)

        self.assertRefused(status, failure, events, sc.CONSUMER_ROLE)
        # Step Functions passes no external id: a trust policy asking for one never lets a task in.
        sc.create_role(aws, sc.CONSUMER_ROLE, reconcile, condition={"StringEquals": {"sts:ExternalId": "brokerlink"}})
        status, failure, events = apply(cloud, world)
        self.assertRefused(status, failure, events, sc.CONSUMER_ROLE)
        sc.create_role(aws, sc.CONSUMER_ROLE, ACCOUNT, condition={"ArnEquals": {"aws:PrincipalArn": reconcile}})
        status, failure, _ = apply(cloud, world)
        self.assertEqual("SUCCEEDED", status, failure)

    def test_a_role_deleted_between_two_executions_is_refused_in_the_second(self):
        world = self.world("roles-gone")
        status, failure, _ = apply(cloud, world)
        self.assertEqual("SUCCEEDED", status, failure)
        launcher.delete_role(aws.assume(f"arn:aws:iam::{sc.CONSUMER_ACCOUNT}:role/admin").iam, sc.CONSUMER_ROLE.rsplit("/", 1)[1])

        status, failure, events = apply(cloud, world)

        self.assertRefused(status, failure, events, sc.CONSUMER_ROLE)
        sc.deploy_consumer_role(aws, sc.CONSUMER_ACCOUNT)
        status, failure, _ = apply(cloud, world)
        self.assertEqual("SUCCEEDED", status, failure)


class Policies(unittest.TestCase):
    """Calls the template's roles may and may not make, from a state machine running as the real role."""

    def run_as(self, role_arn: str, state: dict, execution_input: dict | None = None) -> tuple[str, dict]:
        sfn = cloud.client("stepfunctions")
        arn = sfn.create_state_machine(name=f"roles-{uuid.uuid4().hex[:12]}", roleArn=role_arn, definition=json.dumps(
            {"StartAt": "Call", "States": {"Call": {"Type": "Task", **state, "End": True}}}))["stateMachineArn"]
        status, output, history = cloud.start_execution_and_wait(execution_input or {}, state_machine=arn)
        failed = [e["executionFailedEventDetails"] for e in history if e["type"] == "ExecutionFailed"]
        return status, failed[0] if failed else output

    def reconcile_role(self) -> str:
        return sc.provider_roles(aws)["ReconcileRoleArn"]

    def lock_item(self, pk: str) -> dict:
        return {"Resource": "arn:aws:states:::dynamodb:putItem", "Parameters": {
            "TableName": cloud.table, "Item": {"pk": {"S": pk}, "sk": {"S": f"roles-{uuid.uuid4().hex[:8]}"}}}}

    def test_a_state_machines_role_must_trust_step_functions_globally_or_in_its_region(self):
        call = {"Resource": "arn:aws:states:::aws-sdk:sts:getCallerIdentity", "Parameters": {}}
        regional = sc.create_role(aws, f"arn:aws:iam::{ACCOUNT}:role/roles-regional", f"states.{sc.REGION}.amazonaws.com")
        self.assertEqual("SUCCEEDED", self.run_as(regional, call)[0])
        other = sc.create_role(aws, f"arn:aws:iam::{ACCOUNT}:role/roles-lambda", "lambda.amazonaws.com")

        status, failed = self.run_as(other, call)

        self.assertEqual("FAILED", status)
        self.assertIn("Neither the global service principal states.amazonaws.com, nor the regional one is authorized "
                      "to assume the provided role.", failed["cause"])

    def test_reconcile_may_write_lock_items_only(self):
        status, output = self.run_as(self.reconcile_role(), self.lock_item("LOCK"))
        self.assertEqual("SUCCEEDED", status, output)

        status, failed = self.run_as(self.reconcile_role(), self.lock_item("LINK"))

        self.assertEqual("FAILED", status)
        self.assertEqual("DynamoDB.AmazonDynamoDBException", failed["error"], failed)
        self.assertIn("is not authorized to perform: dynamodb:PutItem on resource: "
                      f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{cloud.table}", failed["cause"])

    def test_target_groups_are_created_only_named_bl_and_with_both_ownership_tags(self):
        vpc = aws.ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
        tags = [{"Key": sc.OWNER_TAG, "Value": "roles"}, {"Key": sc.KEY_TAG, "Value": "broker-1"}]

        def create(name, tags):
            return self.run_as(self.reconcile_role(), {
                "Resource": "arn:aws:states:::aws-sdk:elasticloadbalancingv2:createTargetGroup",
                "Parameters": {"Name": name, "Protocol": "TCP", "Port": 9094, "VpcId": vpc, "TargetType": "ip", "Tags": tags}})

        self.assertEqual("SUCCEEDED", create("bl-iam-tagged", tags)[0])
        for name, given in (("bl-iam-untagged", tags[:1]), ("iam-not-bl", tags)):
            with self.subTest(name=name):
                status, failed = create(name, given)
                self.assertEqual("FAILED", status)
                self.assertEqual("ElasticLoadBalancingV2.ElasticLoadBalancingV2Exception", failed["error"], failed)
                self.assertIn("is not authorized to perform: elasticloadbalancing:CreateTargetGroup on resource: "
                              f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/{name}/", failed["cause"])
        names = {g["TargetGroupName"] for g in aws.elbv2.describe_target_groups()["TargetGroups"]}
        self.assertEqual({"bl-iam-tagged"}, names & {"bl-iam-tagged", "bl-iam-untagged", "iam-not-bl"})

    def test_the_zone_role_writes_only_alias_and_txt_records_under_the_broker_names(self):
        zone = aws.route53.create_hosted_zone(Name=sc.ZONE_NAME, CallerReference=f"roles-{time.time_ns()}")["HostedZone"]["Id"]
        zone_role = next(r["Arn"] for r in aws.iam.list_roles()["Roles"] if r["RoleName"].endswith("ZoneRole"))

        def upsert(name, kind):
            return self.run_as(self.reconcile_role(), {
                "Resource": "arn:aws:states:::aws-sdk:route53:changeResourceRecordSets", "Credentials": {"RoleArn": zone_role},
                "Parameters": {"HostedZoneId": zone, "ChangeBatch": {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                    "Name": name, "Type": kind, "Ttl": 60, "ResourceRecords": [{"Value": '"x"' if kind == "TXT" else "10.0.0.1"}]}}]}}})

        self.assertEqual("SUCCEEDED", upsert(f"b-1.roles.{sc.ZONE_NAME}", "TXT")[0])
        for name, kind in ((f"b-1.roles.{sc.ZONE_NAME}", "CNAME"), (sc.ZONE_NAME, "TXT")):
            with self.subTest(name=name, kind=kind):
                status, failed = upsert(name, kind)
                self.assertEqual("FAILED", status)
                self.assertEqual(ROUTE53_CATCH_ALL, failed["error"], failed)
                self.assertIn("is not authorized to perform: route53:ChangeResourceRecordSets", failed["cause"])


    def test_a_consumer_role_creates_a_private_zone_only_for_the_vpc_its_stack_names(self):
        self.addCleanup(sc.deploy_consumer_role, aws, sc.CONSUMER_ACCOUNT)
        there = aws.assume(sc.CONSUMER_ROLE).ec2
        vpc, other = (there.create_vpc(CidrBlock=f"10.9{i}.0.0/16")["Vpc"]["VpcId"] for i in (1, 2))
        onboard = sc.provider_roles(aws)["OnboardRoleArn"]

        def create_zone():
            return self.run_as(onboard, {
                "Resource": "arn:aws:states:::aws-sdk:route53:createHostedZone", "Credentials": {"RoleArn": sc.CONSUMER_ROLE},
                "Parameters": {"Name": sc.ZONE_NAME, "CallerReference": f"roles-{uuid.uuid4()}",
                               "Vpc": {"VpcId": vpc, "VpcRegion": sc.REGION}, "HostedZoneConfig": {"PrivateZone": True}}})

        for parameters in ({}, {"VpcId": other}):  # the stack's defaults: records only; another VPC
            with self.subTest(parameters=parameters):
                sc.deploy_consumer_role(aws, sc.CONSUMER_ACCOUNT, **parameters)
                status, failed = create_zone()
                self.assertEqual("FAILED", status)
                self.assertEqual(ROUTE53_CATCH_ALL, failed["error"], failed)
                self.assertIn("is not authorized to perform: route53:CreateHostedZone", failed["cause"])
        sc.deploy_consumer_role(aws, sc.CONSUMER_ACCOUNT, VpcId=vpc)
        status, output = create_zone()
        self.assertEqual("SUCCEEDED", status, output)
        self.assertEqual(vpc, output["Vpc"]["VpcId"])


class WhatSnapshotSees(unittest.TestCase):
    """scenario.snapshot, which the "wrote nothing" checks compare, sees onboarding's own kinds of writes."""

    def assertSeen(self, change, *args, **kwargs):
        before = sc.snapshot(aws)
        answer = change(*args, **kwargs)
        self.assertNotEqual(before, sc.snapshot(aws), change)
        return answer

    def test_zones_and_associations_in_consumer_accounts_and_endpoint_service_changes_show(self):
        world = sc.build_world(aws, "roles-snap", table=cloud.table, consumers=(), provider_zone=False)
        self.addCleanup(sc.delete_link, aws, world)
        service_id = sc.endpoint_service_of(aws, world.load_balancer_arn)
        dns = aws.assume(f"arn:aws:iam::{sc.DNS_ACCOUNT}:role/admin")
        vpcs = aws.assume(f"arn:aws:iam::{sc.VPC_ACCOUNT}:role/admin")
        seed, other = (dns.ec2.create_vpc(CidrBlock=f"10.8{i}.0.0/16")["Vpc"]["VpcId"] for i in (1, 2))
        foreign = vpcs.ec2.create_vpc(CidrBlock="10.83.0.0/16")["Vpc"]["VpcId"]

        zone = self.assertSeen(dns.route53.create_hosted_zone, Name=sc.ZONE_NAME, CallerReference=f"snap-{uuid.uuid4()}",
                               VPC={"VPCRegion": sc.REGION, "VPCId": seed}, HostedZoneConfig={"PrivateZone": True})
        zone_id = zone["HostedZone"]["Id"].split("/")[-1]
        self.assertSeen(dns.route53.associate_vpc_with_hosted_zone, HostedZoneId=zone_id,
                        VPC={"VPCRegion": sc.REGION, "VPCId": other})
        self.assertSeen(dns.route53.create_vpc_association_authorization, HostedZoneId=zone_id,
                        VPC={"VPCRegion": sc.REGION, "VPCId": foreign})
        self.assertSeen(sc.allow_account, aws, service_id, sc.VPC_ACCOUNT)
        self.assertSeen(sc.interface_endpoint, vpcs, foreign, service_id)


class Evaluation(unittest.TestCase):
    """The evaluator's rules that the scenarios above do not all reach."""

    def test_arns_match_part_by_part_and_conditions_as_iam_documents_them(self):
        allow = {"Effect": "Allow", "Action": "route53:Change*", "Resource": "arn:aws:route53:::hostedzone/*",
                 "Condition": {"ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsRecordTypes": ["A", "TXT"]}}}
        deny = {"Effect": "Deny", "Action": "*", "Resource": "arn:aws:route53:::hostedzone/ZDENIED"}
        policy = json.dumps({"Statement": [allow, deny]})
        types = "route53:changeresourcerecordsetsrecordtypes"
        self.assertEqual("Allow", _iam.decide([policy], "route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z1", {types: ["A", "TXT"]}))
        self.assertEqual("Allow", _iam.decide([policy], "route53:changeresourcerecordsets", "arn:aws:route53:::hostedzone/Z1", {}))  # ForAllValues of nothing
        self.assertIsNone(_iam.decide([policy], "route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z1", {types: ["A", "CNAME"]}))
        self.assertEqual("Deny", _iam.decide([policy], "route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/ZDENIED", {types: ["A"]}))
        self.assertIsNone(_iam.decide([policy], "route53:ListResourceRecordSets", "arn:aws:route53:::hostedzone/Z1", {}))
        self.assertTrue(_iam.arn_like("arn:aws:iam::*:role/brokerlink-*", "arn:aws:iam::210987654321:role/brokerlink-dns"))
        self.assertFalse(_iam.arn_like("arn:aws:iam::*:role/brokerlink-*", "arn:aws:iam::210987654321:role/other"))
        self.assertFalse(_iam.arn_like("arn:aws:states:*:*:stateMachine:x", "arn:aws:states:us-east-1:1:execution:x:y"))
        null = {"Condition": {"Null": {"aws:RequestTag/k": "false"}}, "Effect": "Allow", "Action": "*", "Resource": "*"}
        self.assertIsNone(_iam.decide([json.dumps({"Statement": [null]})], "a:B", "*", {}))
        self.assertEqual("Allow", _iam.decide([json.dumps({"Statement": [null]})], "a:B", "*", {"aws:requesttag/k": "v"}))
        with self.assertRaises(_iam.PolicyNotSupported):
            _iam.decide([json.dumps({"Statement": [dict(null, Condition={"IpAddress": {"aws:SourceIp": "1.2.3.4"}})]})], "a:B", "*", {"aws:sourceip": "1.2.3.4"})


class TemplateCopy(unittest.TestCase):
    """A copy of template.yaml whose Reconcile role lacks elasticloadbalancing:CreateListener: a fresh link's Apply
    creates its target groups, then fails at its first listener with the access denied ELBv2 answers."""

    def test_removing_an_action_from_the_roles_policy_fails_its_task_access_denied(self):
        folder = Path(tempfile.mkdtemp(prefix="brokerlink-template-"))
        self.addCleanup(shutil.rmtree, folder, ignore_errors=True)
        (folder / "src").symlink_to(ROOT / "src")  # DefinitionUri is relative to the template
        text = (ROOT / "template.yaml").read_text()
        removed = "              Action: elasticloadbalancing:CreateListener\n"
        self.assertEqual(1, text.count(removed))
        (folder / "template.yaml").write_text(text.replace(removed, "              Action: elasticloadbalancing:DescribeListeners\n"))
        copy = LocalCloud(template=folder / "template.yaml").start()
        self.addCleanup(copy.stop)
        copy.set_config(retryWaitScale=0.01)  # ELBv2's catch-all is retried: spend its Retry in a moment
        there = sc.Aws(copy.endpoint)
        world = sc.build_world(there, "roles-copy", table=copy.table, consumers=(), provider_zone=False)

        status, failure, events = apply(copy, world)

        self.assertEqual("FAILED", status)
        self.assertTrue(task_failures(events, "createTargetGroup") == [] and
                        any(e["type"] == "TaskSucceeded" and e["taskSucceededEventDetails"]["resource"] == "createTargetGroup"
                            for e in events))
        denied = task_failures(events, "createListener")
        self.assertTrue(denied, failure)
        self.assertEqual("ElasticLoadBalancingV2.ElasticLoadBalancingV2Exception", denied[0]["error"])
        self.assertIn("is not authorized to perform: elasticloadbalancing:CreateListener on resource: "
                      f"{world.load_balancer_arn}", denied[0]["cause"])
        self.assertEqual({}, sc.load_balancer_state(there, world.load_balancer_arn)["listeners"])


if __name__ == "__main__":
    unittest.main()
