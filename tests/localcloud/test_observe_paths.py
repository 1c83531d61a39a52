"""The observation states of observe.asl.json, run on their own in the local cloud: for each
combination of the check pass's `observe` flags, the link pass's input holds every field (nothing
unobserved is missing: a missing JSONPath is a runtime error no Catch takes), and what is observed
is what the AWS APIs say.

The states from BeginObserve up to the PlanLink task are taken from the real definition; PlanLink
becomes a Pass with the same Payload, so the execution's output is exactly what the link pass would get.
"""
import json
import sys
import unittest
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import sc, start_module_cloud  # noqa: E402
from test_template import ROOT, load_asl, transitions  # noqa: E402

PLAN_FIELDS = {"pass", "linkId", "linkConfig", "zoneRoleArn", "clusterState", "loadBalancer", "nodes", "listeners", "targetGroups",
               "tags", "targetHealth", "instances", "vpcEndpoints", "networkInterfaces", "allowRemovals", "status", "execution"}
NOTHING = {"cluster": False, "loadBalancer": False, "nodes": False,
           "vpcEndpointId": None, "instanceFilters": None, "targetGroupArns": None, "instanceTags": None}

cloud = None
aws = None


def setUpModule():
    global cloud, aws
    cloud, aws = start_module_cloud()


def observation_machine(instances_page_size=None):
    """BeginObserve .. PlanLink of the real definition; PlanLink becomes a Pass that outputs its Payload."""
    states = load_asl(ROOT / "src" / "StateMachine" / "observe.asl.json")["States"]
    kept, todo = {}, ["BeginObserve"]
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        state = json.loads(json.dumps(states[name]))
        if name == "PlanLink":
            kept[name] = {"Type": "Pass", "Parameters": state["Parameters"]["Payload"], "End": True}
            continue
        state.pop("Catch", None)
        kept[name] = state
        todo += [t for t in transitions(state)]
    # The instances pass is the one function call before PlanLink: the local cloud's own Plan function digests the pages.
    kept["DigestInstances"]["Parameters"]["FunctionName"] = "arn:aws:lambda:us-east-1:123456789012:function:PlanFunction"
    if instances_page_size:
        # EC2 pages hold at most 1000 instances; a smaller page makes a handful of instances take several.
        for name in ("DescribeInstances", "DescribeMoreInstances"):
            kept[name]["Parameters"]["MaxResults"] = instances_page_size
    return {"StartAt": "BeginObserve", "States": kept}


class ObservePaths(unittest.TestCase):
    machines = {}

    @classmethod
    def setUpClass(cls):
        cls.sfn = cloud.client("stepfunctions")
        cls.ec2 = aws.ec2
        cls.elbv2 = aws.elbv2
        role = sc.provider_roles(aws)["ReconcileRoleArn"]  # Observe's own role, with its policies
        for key, page_size in (("real", None), ("small-pages", 5)):
            cls.machines[key] = cls.sfn.create_state_machine(
                name=f"observe-{key}-{uuid.uuid4().hex[:8]}", roleArn=role,
                definition=json.dumps(observation_machine(page_size)))["stateMachineArn"]
        vpc = cls.ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        cls.vpc = vpc
        cls.subnets = [cls.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"us-east-1{az}")
                       ["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]

    def observe(self, observe, config=None, cluster_state=None, machine="real"):
        config = config or {}
        state = {
            # The check pass names the ARNs the reads use (the config itself travels as text only).
            "observe": observe | {"clusterArn": config.get("clusterArn"), "loadBalancerArn": config.get("loadBalancerArn")},
            "configJson": json.dumps(config),
            "cluster": {"state": cluster_state},
            "request": {"linkId": "paths", "allowRemovals": False, "status": False},
        }
        status, output, history = cloud.start_execution_and_wait(state, self.machines[machine])
        self.assertEqual("SUCCEEDED", status, history[-3:])
        self.assertEqual(PLAN_FIELDS, set(output))
        return output, history

    @staticmethod
    def called(history, action):
        """How many times the execution scheduled an aws-sdk action, e.g. ec2:describeInstances."""
        service, name = action.split(":")
        return sum(1 for e in history if e["type"] == "TaskScheduled"
                   and e["taskScheduledEventDetails"]["resourceType"] == f"aws-sdk:{service}"
                   and e["taskScheduledEventDetails"]["resource"] == name)

    def target_group(self, name, tags=None):
        arn = self.elbv2.create_target_group(Name=name, Protocol="TCP", Port=9094, VpcId=self.vpc,
                                             TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        if tags:
            self.elbv2.add_tags(ResourceArns=[arn], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        return arn

    def load_balancer(self, name):
        nlb = self.elbv2.create_load_balancer(Name=name, Type="network", Scheme="internal",
                                              Subnets=self.subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        group = self.target_group(f"{name}-tg", {"brokerlink:link": name, "brokerlink:key": "broker-1"})
        self.elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": "10.20.1.10", "Port": 9094}])
        self.elbv2.create_listener(LoadBalancerArn=nlb, Protocol="TCP", Port=9001,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
        return nlb, group

    # ---------------------------------------------------------------------------------------------

    def test_nothing_observed_still_gives_the_plan_every_field(self):
        output, history = self.observe(NOTHING)
        self.assertEqual(
            {"clusterState": None, "loadBalancer": None, "nodes": None, "listeners": None, "targetGroups": None,
             "tags": [], "targetHealth": [], "instances": None, "vpcEndpoints": None, "networkInterfaces": None},
            {k: v for k, v in output.items() if k not in ("pass", "linkId", "linkConfig", "zoneRoleArn", "allowRemovals", "status", "execution")})
        self.assertEqual(0, sum(1 for e in history if e["type"] == "TaskScheduled"))

    def test_absent_observe_fields_are_not_observed(self):
        output, history = self.observe({})
        self.assertIsNone(output["instances"])
        self.assertEqual(0, sum(1 for e in history if e["type"] == "TaskScheduled"))

    def test_load_balancer(self):
        nlb, group = self.load_balancer("obs-lb")
        output, _ = self.observe(NOTHING | {"loadBalancer": True}, {"loadBalancerArn": nlb}, "ACTIVE")
        self.assertEqual("ACTIVE", output["clusterState"])
        self.assertEqual(nlb, output["loadBalancer"]["LoadBalancerArn"])
        self.assertEqual([group], [g["TargetGroupArn"] for g in output["targetGroups"]["TargetGroups"]])
        self.assertEqual(1, len(output["listeners"]["Listeners"]))
        tagged = {d["ResourceArn"] for page in output["tags"] for d in page["TagDescriptions"]}
        self.assertIn(group, tagged)
        self.assertEqual([(group, ["10.20.1.10"])],
                         [(h["TargetGroupArn"], [t["Target"]["Id"] for t in h["TargetHealthDescriptions"]])
                          for h in output["targetHealth"]])
        self.assertIsNone(output["nodes"])

    def test_configured_target_groups_in_chunks_of_20(self):
        groups = [self.target_group(f"obs-cfg-{i}", {"brokerlink:link": "payments"} if i % 2 else None)
                  for i in range(21)]
        self.elbv2.register_targets(TargetGroupArn=groups[3], Targets=[{"Id": "10.20.1.33", "Port": 9094}])
        output, history = self.observe(NOTHING | {"targetGroupArns": groups})
        self.assertIsNone(output["loadBalancer"])
        self.assertIsNone(output["listeners"])
        self.assertEqual(2, self.called(history, "elasticloadbalancingv2:describeTags"))
        described = [d["ResourceArn"] for page in output["tags"] for d in page["TagDescriptions"]]
        self.assertEqual(sorted(groups), sorted(described))
        tags = {d["ResourceArn"]: d["Tags"] for page in output["tags"] for d in page["TagDescriptions"]}
        self.assertEqual([{"Key": "brokerlink:link", "Value": "payments"}], tags[groups[3]])
        self.assertEqual([], tags[groups[2]])
        self.assertEqual(groups, [h["TargetGroupArn"] for h in output["targetHealth"]])
        self.assertEqual(["10.20.1.33"], [t["Target"]["Id"] for t in output["targetHealth"][3]["TargetHealthDescriptions"]])

    def test_configured_target_groups_add_to_the_load_balancers(self):
        nlb, group = self.load_balancer("obs-both")
        extra = self.target_group("obs-both-extra", {"brokerlink:link": "both"})
        output, _ = self.observe(NOTHING | {"loadBalancer": True, "targetGroupArns": [extra]}, {"loadBalancerArn": nlb})
        described = {d["ResourceArn"] for page in output["tags"] for d in page["TagDescriptions"]}
        self.assertLessEqual({group, extra}, described)
        self.assertEqual([group, extra], [h["TargetGroupArn"] for h in output["targetHealth"]])

    def test_no_configured_target_groups_describes_none(self):
        output, history = self.observe(NOTHING | {"targetGroupArns": []})
        self.assertEqual(([], []), (output["tags"], output["targetHealth"]))
        self.assertEqual(0, sum(1 for e in history if e["type"] == "TaskScheduled"))

    def test_vpc_endpoint_and_its_network_interfaces(self):
        endpoint = self.ec2.create_vpc_endpoint(
            VpcId=self.vpc, VpcEndpointType="Interface", SubnetIds=self.subnets,
            ServiceName="com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0")["VpcEndpoint"]
        output, _ = self.observe(NOTHING | {"vpcEndpointId": endpoint["VpcEndpointId"]})
        self.assertEqual([endpoint["VpcEndpointId"]], [e["VpcEndpointId"] for e in output["vpcEndpoints"]["VpcEndpoints"]])
        self.assertEqual(2, len(endpoint["NetworkInterfaceIds"]))
        self.assertEqual(sorted(endpoint["NetworkInterfaceIds"]),
                         sorted(n["NetworkInterfaceId"] for n in output["networkInterfaces"]["NetworkInterfaces"]))
        self.assertTrue(all(n["PrivateIpAddress"] for n in output["networkInterfaces"]["NetworkInterfaces"]))

    def test_vpc_endpoint_without_network_interfaces(self):
        endpoint = self.ec2.create_vpc_endpoint(VpcId=self.vpc, VpcEndpointType="Gateway",
                                                ServiceName="com.amazonaws.us-east-1.s3")["VpcEndpoint"]
        output, history = self.observe(NOTHING | {"vpcEndpointId": endpoint["VpcEndpointId"]})
        self.assertEqual({"NetworkInterfaces": []}, output["networkInterfaces"])
        self.assertEqual(0, self.called(history, "ec2:describeNetworkInterfaces"))

    def test_instances_by_filter_page_by_page_keeping_only_the_broker_tags(self):
        image = self.ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        value = f"ledger-{uuid.uuid4().hex[:6]}"
        extra = [{"Key": f"team-{i}", "Value": "x" * 40} for i in range(45)]
        tags = [{"ResourceType": "instance", "Tags": [{"Key": "kafka-cluster", "Value": value},
                                                      {"Key": "kafka-broker-id", "Value": "1"}] + extra}]
        # One reservation each: moto pages by reservation.
        ids = {self.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=self.subnets[0],
                                      TagSpecifications=tags)["Instances"][0]["InstanceId"] for _ in range(7)}
        self.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=self.subnets[0])  # not a broker
        filters = [{"Name": "tag:kafka-cluster", "Values": [value]}]
        observe = NOTHING | {"instanceFilters": filters, "instanceTags": ["kafka-cluster", "kafka-broker-id"]}

        output, history = self.observe(observe, machine="small-pages")
        # Two pages of five, digested one after the other into one page the link pass reads.
        self.assertEqual(2, self.called(history, "ec2:describeInstances"))
        self.assertIsNone(output["instances"]["rest"])
        instances = [i for r in output["instances"]["page"]["Reservations"] for i in r["Instances"]]
        self.assertEqual(sorted(ids), sorted(i["instanceId"] for i in instances))
        for instance in instances:
            self.assertEqual({"kafka-cluster", "kafka-broker-id"}, {t["key"] for t in instance["tags"]})
            self.assertTrue(instance["privateIpAddress"])

        output, _ = self.observe(observe)
        self.assertEqual(ids, {i["instanceId"] for r in output["instances"]["page"]["Reservations"] for i in r["Instances"]})

    def test_an_empty_filter_list_never_lists_every_instance(self):
        output, history = self.observe(NOTHING | {"instanceFilters": []})
        self.assertIsNone(output["instances"])
        self.assertEqual(0, self.called(history, "ec2:describeInstances"))


if __name__ == "__main__":
    unittest.main()
