"""Fidelity checks that moto cannot give: the template lints, the ASL speaks the real APIs,
the EventBridge rule routes the events we ship, and IAM scopes every write.

Run: python3 -m unittest discover -s tests/localcloud -p 'test_template.py'
"""

import fnmatch
import json
import re
import subprocess
import sys
import unittest
import urllib.parse
from pathlib import Path

import boto3
import botocore.session
from botocore import xform_name
from botocore.model import ListShape, MapShape, StructureShape

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
STATE_MACHINES = sorted((ROOT / "src" / "StateMachine").glob("*.asl.json"))
EVENTS = ROOT / "events"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "localcloud") not in sys.path:
    sys.path.insert(0, str(ROOT / "localcloud"))

from motoext import _dialect  # noqa: E402  the one copy of Step Functions' naming rules

# aws-sdk integration service name -> botocore service name, where they differ.
BOTO_SERVICE = {"elasticloadbalancingv2": "elbv2", "sfn": "stepfunctions"}
# aws-sdk integration service name -> IAM action prefix, where they differ.
IAM_PREFIX = {"elasticloadbalancingv2": "elasticloadbalancing", "sfn": "states"}
# The error names Step Functions gives each service's rate throttling (AWS-FACTS, "Step Functions dialect"):
# ELBv2 and Route 53 throttle with the unmodelled code `Throttling`, EC2 models no errors at all, and the Step
# Functions API has no ThrottlingException, so each of those surfaces as the client's catch-all exception.
THROTTLING = {
    "elasticloadbalancingv2": {"ElasticLoadBalancingV2.ElasticLoadBalancingV2Exception"},
    "route53": {"Route53.Route53Exception", "Route53.PriorRequestNotCompleteException"},
    "kafka": {"Kafka.TooManyRequestsException"},
    "dynamodb": {"DynamoDb.ProvisionedThroughputExceededException", "DynamoDb.ThrottlingException"},
    "ec2": {"Ec2.Ec2Exception"},
    "sfn": {"Sfn.SfnException"},
}
OPTIMIZED_DYNAMODB_THROTTLING = {"DynamoDB.ProvisionedThroughputExceededException", "DynamoDB.ThrottlingException"}
# A catch-all retries every error of its service (access denied, a bad parameter) as well as throttling: it must
# give up within about a minute (README, "Retries").
CATCH_ALLS = {f"{_dialect.error_prefix(s)}.{_dialect.error_prefix(s)}Exception" for s in THROTTLING}
MAX_CATCH_ALL_ATTEMPTS = 6
# What a Lambda task (the optimized lambda:invoke integration) can raise besides the function's own errors.
LAMBDA_SERVICE_ERRORS = {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                         "Lambda.TooManyRequestsException"}
# The functions' own error types (src/Functions/Errors.cs).
FUNCTION_ERRORS = {"InvalidInputException", "UnknownLinkException", "IncompleteObservationException"}
STATES_ERRORS = {"States.ALL", "States.TaskFailed", "States.Timeout", "States.HeartbeatTimeout", "States.Permissions"}
FAIL_ERRORS = {
    "BrokerLink.InvalidInput",
    "BrokerLink.UnknownLink",
    "BrokerLink.IncompleteObservation",
    "BrokerLink.NotConverged",
    "BrokerLink.ClusterNotReady",
    "BrokerLink.PlanBlocked",
    # onboard.asl.json
    "BrokerLink.Conflict",
    "BrokerLink.ConnectionNotAccepted",
    "BrokerLink.ReconcileFailed",
}
# Step Functions log delivery: CloudWatch Logs supports no resource-level permissions for these
# (Step Functions developer guide, "IAM policies for logging to CloudWatch Logs").
UNSCOPABLE_WRITES = {
    "logs:CreateLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:PutResourcePolicy",
    # X-Ray (TracingPolicy, only while XRayTracing is on): no resource-level permissions either.
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}
SAMPLE_SUBSTITUTIONS = {
    "TriageFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:brokerlink-Triage",
    "PlanFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:brokerlink-Plan",
    "SummariseFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:brokerlink-Summarise",
    "OnboardFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:brokerlink-Onboard",
    "ObserveStateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:brokerlink-observe",
    "ApplyStateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:brokerlink-apply",
    "ZoneRoleArn": "arn:aws:iam::123456789012:role/brokerlink/brokerlink-ZoneRole-ABC",
    "TableName": "brokerlink-LinksTable",
    "ClusterPollSeconds": "30",
    "ClusterPollAttempts": "60",
    "LockLeaseSeconds": "3600",
}


def plain(node):
    """cfn-lint's decoded nodes as plain dicts/lists."""
    return json.loads(json.dumps(node))


def raw_template():
    from cfnlint.decode import decode

    template, matches = decode(str(TEMPLATE))
    if matches:
        raise AssertionError(f"template.yaml does not decode: {matches}")
    return template


def transformed_template():
    from cfnlint.template.transforms._sam import Transform

    transform = Transform(str(TEMPLATE), raw_template(), "us-east-1")
    errors = transform.transform_template()
    if errors:
        raise AssertionError(f"SAM transform failed: {errors}")
    return plain(transform.template())


def substitute(text, values):
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text)


def load_asl(path):
    return json.loads(substitute(path.read_text(), SAMPLE_SUBSTITUTIONS))


def scopes(states, path=()):
    """Yields (scope path, States dict) for the top level and every Map/Parallel inside."""
    for path, _, states in scopes_with_start(states, None, path):
        yield path, states


def scopes_with_start(states, start, path=()):
    """Yields (scope path, StartAt, States dict) for a scope and every Map/Parallel scope inside it."""
    yield path, start, states
    for name, state in states.items():
        if state["Type"] == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            yield from scopes_with_start(processor["States"], processor["StartAt"], path + (name,))
        elif state["Type"] == "Parallel":
            for i, branch in enumerate(state["Branches"]):
                yield from scopes_with_start(branch["States"], branch["StartAt"], path + (f"{name}[{i}]",))


def all_states(definition):
    for path, states in scopes(definition["States"]):
        for name, state in states.items():
            yield "/".join(path + (name,)), state


def transitions(state):
    targets = [state.get("Next"), state.get("Default")]
    targets += [choice.get("Next") for choice in state.get("Choices", [])]
    targets += [catcher.get("Next") for catcher in state.get("Catch", [])]
    return [t for t in targets if t]


def sdk_tasks(definition):
    for name, state in all_states(definition):
        resource = state.get("Resource", "") if state["Type"] == "Task" else ""
        if resource.startswith("arn:aws:states:::aws-sdk:"):
            service, action = resource.split(":")[-2:]
            yield name, state, service, action.split(".")[0]


def operation_model(service, action):
    model = botocore.session.get_session().get_service_model(BOTO_SERVICE.get(service, service))
    for operation in model.operation_names:
        if operation[0].lower() + operation[1:] == action:
            return model.operation_model(operation)
    raise AssertionError(f"{service} has no API action {action}")


def shape_errors(value, shape, where):
    """Parameter names (minus `.$`) that Step Functions refuses for the botocore shape, recursively for literals:
    only the Java SDK v2 spelling (`Ttl`, `DnsName`, `VpcId`) is accepted, and required members must be given."""
    errors = []
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return errors
        members = {_dialect.java_name(name): name for name in shape.members}
        given = set()
        for key, item in value.items():
            name = key[:-2] if key.endswith(".$") else key
            if name not in members:
                errors.append(f"{where}.{name}: not a member of {shape.name} in Step Functions' spelling ({sorted(members)})")
                continue
            given.add(members[name])
            if not key.endswith(".$"):
                errors += shape_errors(item, shape.members[members[name]], f"{where}.{name}")
        for required in shape.required_members:
            if required not in given:
                errors.append(f"{where}: required member {_dialect.java_name(required)} of {shape.name} is missing")
    elif isinstance(shape, ListShape) and isinstance(value, list):
        for i, item in enumerate(value):
            errors += shape_errors(item, shape.member, f"{where}[{i}]")
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        for key, item in value.items():
            if not key.endswith(".$"):
                errors += shape_errors(item, shape.value, f"{where}.{key}")
    return errors


def optimized_dynamodb_tasks(definition):
    for name, state in all_states(definition):
        if state["Type"] == "Task" and state.get("Resource", "").startswith("arn:aws:states:::dynamodb:"):
            yield name, state, state["Resource"].split(":")[-1]


def raisable_errors(state):
    """Every error name the task can raise, as Step Functions names it; None for a resource this test does not know."""
    resource = state.get("Resource", "")
    if resource.startswith("arn:aws:states:::aws-sdk:"):
        return _dialect.raisable_errors(resource.split(":")[6]) | STATES_ERRORS
    if resource.startswith("arn:aws:states:::dynamodb:"):
        return _dialect.optimized_dynamodb_errors() | STATES_ERRORS
    if resource == "arn:aws:states:::lambda:invoke":
        return LAMBDA_SERVICE_ERRORS | FUNCTION_ERRORS | STATES_ERRORS
    if resource.startswith("arn:aws:states:::states:startExecution"):
        return STATES_ERRORS
    if state["Type"] in ("Map", "Parallel"):  # what any state inside raises
        inner = [s for _, states in scopes({"_": state}) for s in states.values() if s is not state]
        return STATES_ERRORS.union(*(raisable_errors(s) or set() for s in inner))
    return None


# Each definition file, the state machine that runs it and where its role's statements are.
MACHINES = {"sweep.asl.json": "SweepStateMachine", "observe.asl.json": "ObserveStateMachine",
            "apply.asl.json": "ApplyStateMachine", "onboard.asl.json": "OnboardStateMachine"}


def machine_statements(template, machine):
    """The Allow statements of a state machine's role: SAM's from its Policies, or the role it names."""
    properties = template["Resources"][machine]["Properties"]
    if "Role" in properties:
        role = template["Resources"][plain(properties["Role"])["Fn::GetAtt"][0]]
        documents = [p["PolicyDocument"] for p in role["Properties"]["Policies"]]
    else:
        documents = [plain(p) for p in properties["Policies"]]
    return [s for d in documents for s in plain(d)["Statement"] if s["Effect"] == "Allow"]


def as_list(value):
    return value if isinstance(value, list) else [value]


PSEUDO = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
          "AWS::StackName": "brokerlink", "AWS::NoValue": None}


class Evaluator:
    """Just enough CloudFormation to read a policy as deployed: Ref, Fn::Sub/Join/Split/If and conditions."""

    def __init__(self, template, parameters=None):
        self.template = template
        self.values = dict(PSEUDO)
        for name, spec in template.get("Parameters", {}).items():
            value = (parameters or {}).get(name, spec.get("Default"))
            if spec["Type"] == "CommaDelimitedList" and isinstance(value, str):
                value = value.split(",")
            self.values[name] = value

    def condition(self, name):
        return self(self.template["Conditions"][name])

    def __call__(self, node):
        if isinstance(node, list):
            return [v for v in (self(item) for item in node) if v is not None]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.values[arg]
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], {k: self(v) for k, v in arg[1].items()})
                return re.sub(r"\$\{([\w:]+)\}", lambda m: str({**self.values, **variables}[m.group(1)]), text)
            if key == "Fn::Join":
                return arg[0].join(self(arg[1]))
            if key == "Fn::Split":
                return self(arg[1]).split(arg[0])
            if key == "Fn::If":
                return self(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::Equals":
                return self(arg[0]) == self(arg[1])
            if key == "Fn::Not":
                return not self(arg[0])
            if key == "Fn::And":
                return all(self(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
        return {k: self(v) for k, v in node.items()}


def string_like(pattern, value):
    """IAM's StringLike: * any run of characters (dots included), ? one character, case-sensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value) is not None


def normalised_record_name(name):
    """route53:ChangeResourceRecordSetsNormalizedRecordNames: lowercase, no trailing dot, and every character other
    than a-z, 0-9, -, _ and . as a backslash and its three-digit octal code (* is \\052)."""
    return "".join(c if re.fullmatch(r"[a-z0-9_.-]", c) else f"\\{ord(c):03o}" for c in name.lower().rstrip("."))


def may_write_records(statement, names):
    """Whether a ChangeResourceRecordSets statement's ForAllValues:StringLike allows every one of these names."""
    patterns = as_list(statement["Condition"]["ForAllValues:StringLike"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"])
    return all(any(string_like(p, normalised_record_name(n)) for p in patterns) for n in names)


class TemplateLintTest(unittest.TestCase):
    def test_cfn_lint_is_clean(self):
        result = subprocess.run(
            [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())", str(TEMPLATE)],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )
        self.assertEqual(result.returncode, 0, f"cfn-lint:\n{result.stdout}{result.stderr}")

    def test_definition_substitutions_match_the_placeholders(self):
        template = raw_template()
        machines = {name: r for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::StateMachine"}
        self.assertTrue(machines)
        for name, resource in machines.items():
            properties = resource["Properties"]
            self.assertNotIn("Definition", properties, f"{name}: keep the ASL in its file only")
            asl = ROOT / properties["DefinitionUri"]
            placeholders = set(re.findall(r"\$\{(\w+)\}", asl.read_text()))
            self.assertEqual(placeholders, set(properties["DefinitionSubstitutions"]), name)


class AslTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(STATE_MACHINES, "no src/StateMachine/*.asl.json")
        self.definitions = {path.name: load_asl(path) for path in STATE_MACHINES}

    def test_moto_parses_the_substituted_definition(self):
        from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

        for path in STATE_MACHINES:
            AmazonStateLanguageParser.parse(substitute(path.read_text(), SAMPLE_SUBSTITUTIONS))

    def test_numbers_arrive_through_string_to_json(self):
        # A bare ${ClusterPollSeconds} in a number position would leave the file invalid JSON.
        for path in STATE_MACHINES:
            json.loads(path.read_text())

    def test_state_names_are_unique_in_the_whole_machine_and_plain(self):
        # ASL: names are unique across Map/Parallel scopes too; keep to characters every
        # Step Functions name accepts (no whitespace, wildcards, brackets or punctuation).
        for file, definition in self.definitions.items():
            names = [path.rsplit("/", 1)[-1] for path, _ in all_states(definition)]
            self.assertEqual(len(names), len(set(names)), file)
            for name in names:
                self.assertRegex(name, r"^[A-Za-z0-9_-]{1,80}$")

    def test_every_transition_exists_and_every_state_is_reachable(self):
        for file, definition in self.definitions.items():
            for path, start, states in scopes_with_start(definition["States"], definition["StartAt"]):
                seen, todo = set(), [start]
                while todo:
                    name = todo.pop()
                    self.assertIn(name, states, f"{file} {'/'.join(path)}: no state {name}")
                    if name not in seen:
                        seen.add(name)
                        todo += transitions(states[name])
                self.assertEqual(set(states) - seen, set(), f"{file} {'/'.join(path)}: unreachable")

    def test_aws_sdk_parameters_are_members_of_the_botocore_input_shapes(self):
        for file, definition in self.definitions.items():
            for name, state, service, action in sdk_tasks(definition):
                operation = operation_model(service, action)
                with self.subTest(state=name):
                    errors = shape_errors(state.get("Parameters", {}), operation.input_shape, f"{file}:{name}")
                    self.assertEqual(errors, [])
                    if "Credentials" in state:
                        self.assertIn(set(state["Credentials"]), ({"RoleArn"}, {"RoleArn.$"}))
            for name, state, action in optimized_dynamodb_tasks(definition):
                members = set(operation_model("dynamodb", action).input_shape.members)
                with self.subTest(state=name):
                    given = {key.removesuffix(".$") for key in state.get("Parameters", {})}
                    self.assertLessEqual(given, members)
                    self.assertIn("TableName", given)

    def test_the_parameter_check_accepts_only_step_functions_spelling(self):
        operation = operation_model("route53", "changeResourceRecordSets")

        def batch(record):
            return {"HostedZoneId": "Z1", "ChangeBatch": {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]}}

        alias = {"Name": "x", "Type": "A", "AliasTarget": {"HostedZoneId": "Z", "DnsName": "d", "EvaluateTargetHealth": False}}
        self.assertEqual([], shape_errors(batch(alias), operation.input_shape, "t"))
        self.assertEqual([], shape_errors(batch({"Name": "x", "Type": "TXT", "Ttl": 300, "ResourceRecords": [{"Value": "v"}]}),
                                          operation.input_shape, "t"))
        for wrong in ({"AliasTarget": {"HostedZoneId": "Z", "DNSName": "d", "EvaluateTargetHealth": False}},  # the API's name
                      {"AliasTarget": {"HostedZoneID": "Z", "DnsName": "d", "EvaluateTargetHealth": False}},  # misspelt
                      {"TTL": 300}):
            with self.subTest(wrong=wrong):
                record = dict({"Name": "x", "Type": "A"}, **wrong)
                self.assertTrue(shape_errors(batch(record), operation.input_shape, "t"))
        association = operation_model("route53", "associateVPCWithHostedZone")
        self.assertEqual([], shape_errors({"HostedZoneId": "Z1", "Vpc": {"VpcId": "vpc-1", "VpcRegion": "us-east-1"}},
                                          association.input_shape, "t"))
        self.assertTrue(shape_errors({"HostedZoneId": "Z1", "VPC": {"VPCId": "vpc-1"}}, association.input_shape, "t"))
        self.assertEqual(shape_errors({"HostedZoneId": "Z1"}, operation.input_shape, "t"),
                         ["t: required member ChangeBatch of ChangeResourceRecordSetsRequest is missing"])

    def test_the_java_member_names_follow_the_sdk_codegen(self):
        # aws-sdk-java-v2 codegen Utils.unCapitalize, first letter then capitalised (AWS-FACTS, "Step Functions dialect").
        for api, sfn in {"TTL": "Ttl", "DNSName": "DnsName", "VPC": "Vpc", "VPCId": "VpcId", "VPCRegion": "VpcRegion",
                         "VPCs": "VpCs", "BOOL": "Bool", "HostedZoneId": "HostedZoneId", "MFAToken": "MfaToken",
                         "S": "S", "ResourceRecordSets": "ResourceRecordSets"}.items():
            self.assertEqual(sfn, _dialect.java_name(api), api)

    def test_every_aws_sdk_task_retries_its_service_throttling_with_jitter_only(self):
        tasks = [(name, state, THROTTLING[service]) for d in self.definitions.values() for name, state, service, _ in sdk_tasks(d)]
        tasks += [(name, state, OPTIMIZED_DYNAMODB_THROTTLING) for d in self.definitions.values()
                  for name, state, _ in optimized_dynamodb_tasks(d)]
        self.assertGreater(len(tasks), 40)
        for name, state, throttling in tasks:
            with self.subTest(state=name):
                retried = set()
                for retrier in state.get("Retry", []):
                    self.assertFalse({"States.ALL", "States.TaskFailed"} & set(retrier["ErrorEquals"]),
                                     "retry named errors only")
                    self.assertEqual(retrier.get("JitterStrategy"), "FULL")
                    self.assertGreater(retrier.get("BackoffRate", 1), 1)
                    self.assertIn("MaxDelaySeconds", retrier)
                    if CATCH_ALLS & set(retrier["ErrorEquals"]):
                        self.assertLessEqual(retrier.get("MaxAttempts", 3), MAX_CATCH_ALL_ATTEMPTS, "a catch-all retries everything")
                        self.assertLessEqual(retrier["MaxDelaySeconds"], 20)
                    retried |= set(retrier["ErrorEquals"])
                self.assertLessEqual(throttling, retried)

    def test_retry_and_catch_name_only_errors_aws_can_raise(self):
        # An error name AWS never raises (Route53.ThrottlingException, Ec2.RequestLimitExceededException) is a Retry
        # or Catch that never fires.
        checked = 0
        for file, definition in self.definitions.items():
            for name, state in all_states(definition):
                raisable = raisable_errors(state)
                for rule in state.get("Retry", []) + state.get("Catch", []):
                    for error in rule["ErrorEquals"]:
                        with self.subTest(state=f"{file}:{name}", error=error):
                            self.assertIsNotNone(raisable, f"{name}: an error rule on {state.get('Resource', state['Type'])}")
                            self.assertIn(error, raisable)
                            checked += 1
        self.assertGreater(checked, 80)

    def test_the_error_name_oracle_knows_aws_s_names(self):
        self.assertIn("ElasticLoadBalancingV2.TargetGroupNotFoundException", _dialect.raisable_errors("elasticloadbalancingv2"))
        self.assertIn("Route53.PriorRequestNotCompleteException", _dialect.raisable_errors("route53"))
        self.assertEqual({"Ec2.Ec2Exception"}, _dialect.raisable_errors("ec2"))
        self.assertNotIn("ElasticLoadBalancingV2.ThrottlingException", _dialect.raisable_errors("elasticloadbalancingv2"))
        self.assertNotIn("Sfn.ThrottlingException", _dialect.raisable_errors("sfn"))
        self.assertEqual("Route53.Route53Exception", _dialect.error_name("route53", "Throttling"))
        self.assertEqual("ElasticLoadBalancingV2.TargetGroupNotFoundException",
                         _dialect.error_name("elasticloadbalancingv2", "TargetGroupNotFound"))
        self.assertEqual("DynamoDB.ConditionalCheckFailedException",
                         _dialect.optimized_dynamodb_error_name("ConditionalCheckFailedException"))

    def test_dynamodb_item_writes_use_the_optimized_integration(self):
        # Its request format is documented (attribute values as the API takes them, `BOOL`); the aws-sdk dialect of
        # DynamoDB attribute values is not (AWS-FACTS). Query has no optimized form: it carries only one-letter types.
        for file, definition in self.definitions.items():
            for name, state, service, action in sdk_tasks(definition):
                if service == "dynamodb":
                    self.assertEqual("query", action, f"{file}:{name}")
                    values = json.dumps(state.get("Parameters", {}).get("ExpressionAttributeValues", {}))
                    # One-letter types (S, N, B, L, M) are spelt alike in both dialects; BOOL, NULL, SS, NS, BS are not.
                    self.assertNotRegex(values, r'"(BOOL|NULL|SS|NS|BS)(\.\$)?"', f"{file}:{name}")

    def test_fail_states_name_brokerlink_errors_and_all_are_used(self):
        # A link's run ends in a Fail state (BrokerLink.*, or an error handed on from an Observe execution) or in a failed
        # result (a Pass state's "error"); an execution's own Fail state takes its error from Summarise (ErrorPath).
        errors, summarised, handed_on = set(), [], []
        for d in self.definitions.values():
            for name, s in all_states(d):
                if s["Type"] == "Fail" and "Error" in s:
                    errors.add(s["Error"])
                elif s["Type"] == "Fail" and s.get("ErrorPath") == "$.observed.Error":
                    handed_on.append(name.rsplit("/", 1)[-1])
                    self.assertEqual("$.observed.Cause", s.get("CausePath"), name)
                elif s["Type"] == "Fail":
                    summarised.append(name)
                    self.assertEqual(("$.failed.error", "$.failed.cause"), (s.get("ErrorPath"), s.get("CausePath")), name)
                elif s["Type"] == "Pass" and "error" in s.get("Parameters", {}):
                    errors.add(s["Parameters"]["error"])
        self.assertEqual(errors, FAIL_ERRORS | {"Route53.NoSuchHostedZoneException"})
        self.assertEqual(["LinksFailed", "LinksFailed"], summarised)
        self.assertEqual({"ObserveFailed", "UpsertZonePlanFailed", "DeleteZonePlanFailed"}, set(handed_on))

    def test_a_links_detection_cannot_fail_the_sweep(self):
        # Per-link isolation in the sweep: each link's plan comes from an Observe execution of its own, whose failure,
        # of any kind, is an answer (Status FAILED) or a caught task error: the links Map never fails.
        sweep = self.definitions["sweep.asl.json"]["States"]
        links = sweep["DetectLinks"]
        self.assertEqual("Map", links["Type"])
        self.assertNotIn("Catch", links)
        # ... and then every link is summarised, or (a status run) reported.
        after = sweep[links["Next"]]
        self.assertEqual(({"Variable": "$.status", "BooleanEquals": True, "Next": "ReportStatus"}, "Summarise"),
                         (after["Choices"][0], after["Default"]))
        self.assertEqual("status", sweep["ReportStatus"]["Parameters"]["Payload"]["stage"])
        steps = links["ItemProcessor"]["States"]
        for name, step in steps.items():
            self.assertNotEqual("Fail", step["Type"], name)
            if step["Type"] == "Task":
                self.assertIn({"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "DetectCallFailed"}, step["Catch"], name)
        self.assertEqual("arn:aws:states:::aws-sdk:sfn:startSyncExecution", steps["DetectLink"]["Resource"])
        self.assertEqual({"linkId.$", "reason.$", "status", "error.$", "cause.$"}, set(steps["DetectFailed"]["Parameters"]))

    def test_a_sweeps_result_per_link_is_small(self):
        # The links Map gathers every link's result in one state (256 KiB): a few hundred bytes a link, so no plan,
        # advertised listeners or server.properties lines; only the counts Summarise reads, and the findings.
        steps = self.definitions["sweep.asl.json"]["States"]["DetectLinks"]["ItemProcessor"]["States"]
        allowed = {"linkId.$", "reason.$", "status", "converged", "applied", "summary", "findings.$", "applyExecutionArn.$",
                   "clusterState.$", "error", "error.$", "cause.$", "blocked.$", "dryRun", "plan.$", "overview.$"}
        results = {name: step for name, step in steps.items() if step["Type"] == "Pass" and step.get("End")}
        self.assertEqual({"DetectFailed", "DetectCallFailed", "DryRunResult", "HandedOver", "ClusterBusy", "Blocked", "Converged",
                          "StatusInDetail", "StatusOverview"}, set(results))
        # A status's detail (kilobytes a link) only where Triage said few links were asked for (Triager.StatusDetailLinks).
        detailed = {"And": [{"Variable": "$.link.status", "BooleanEquals": True}, {"Variable": "$.link.detail", "BooleanEquals": True}],
                    "Next": "StatusInDetail"}
        self.assertEqual(detailed, steps["IsStatus"]["Choices"][0])
        self.assertEqual({"linkId.$", "status", "overview.$", "detail.$"}, set(results.pop("StatusInDetail")["Parameters"]))
        for name, step in results.items():
            self.assertLessEqual(set(step["Parameters"]), allowed, name)
            if "summary" in step["Parameters"]:
                self.assertEqual({"brokers.$", "writeCalls.$"}, set(step["Parameters"]["summary"]), name)

    def test_every_failure_of_an_apply_releases_the_lock_it_holds(self):
        # The link's run is one Parallel branch: whatever fails in it goes through the lock release, which cannot fail.
        states = self.definitions["apply.asl.json"]["States"]
        run = states["RunLink"]
        self.assertEqual("Parallel", run["Type"])
        self.assertIn({"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "FindLockAfterFailure"}, run["Catch"])
        for name in ("FindLockAfterFailure", "HoldsLockAfterFailure", "ReleaseLockAfterFailure"):
            step = states[name]
            nexts = {step.get("Next"), step.get("Default")} | {c["Next"] for c in step.get("Choices", []) + step.get("Catch", [])}
            self.assertLessEqual(nexts - {None}, {"HoldsLockAfterFailure", "ReleaseLockAfterFailure", "LinkFailed"}, name)
            if step["Type"] == "Task":
                self.assertIn({"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "LinkFailed"}, step["Catch"], name)
        self.assertEqual({"linkId.$", "reason.$", "status", "error.$", "cause.$"}, set(states["LinkFailed"]["Parameters"]))

    def test_observe_writes_nothing_and_the_sweep_only_starts_executions(self):
        writes = re.compile(r"(create|register|deregister|delete|change|put|update|modify|accept|associate|authorize)", re.I)
        for file in ("observe.asl.json", "sweep.asl.json"):
            for name, state in all_states(self.definitions[file]):
                action = state.get("Resource", "").rsplit(":", 1)[-1] if state["Type"] == "Task" else ""
                self.assertIsNone(writes.match(action), f"{file}: {name} calls {action}")
        started = [s["Resource"] for _, s in all_states(self.definitions["sweep.asl.json"]) if s.get("Resource", "").startswith("arn:aws:states:::aws-sdk:sfn:")]
        self.assertEqual(["arn:aws:states:::aws-sdk:sfn:startSyncExecution", "arn:aws:states:::aws-sdk:sfn:startExecution"], started)

    def test_every_route53_call_goes_through_its_zones_role(self):
        # One task per purpose: the provider's own zones have a role too (ZoneRole), so no task needs a twin without one.
        calls = {}
        for file, definition in self.definitions.items():
            if file == "onboard.asl.json":
                continue
            for name, state, service, action in sdk_tasks(definition):
                if service == "route53":
                    self.assertIn("Credentials", state, name)
                    calls.setdefault(action, []).append(name.rsplit("/", 1)[-1])
        self.assertEqual({"listResourceRecordSets": ["ListFirstRecordsPage", "ListNextRecordsPage", "ListNextRecordsPageById"],
                          "changeResourceRecordSets": ["UpsertRecords", "DeleteRecords"]}, calls)

    def test_lambda_errors_end_in_their_brokerlink_fail_state_with_the_message_as_cause(self):
        expected = {
            "InvalidInputException": "BrokerLink.InvalidInput",
            "UnknownLinkException": "BrokerLink.UnknownLink",
            "IncompleteObservationException": "BrokerLink.IncompleteObservation",
        }
        seen = set()
        for file, definition in self.definitions.items():
            for path, states in scopes(definition["States"]):
                for name, state in states.items():
                    if state.get("Resource") != "arn:aws:states:::lambda:invoke":
                        continue
                    self.assertIn("FunctionName", state["Parameters"])
                    self.assertIn("Payload", state["Parameters"])
                    for catcher in state.get("Catch", []):
                        for error in catcher["ErrorEquals"]:
                            target = states[catcher["Next"]]
                            while target["Type"] == "Pass":
                                target = states[target["Next"]]
                            self.assertEqual(target["Type"], "Fail", f"{name} catches {error}")
                            self.assertEqual(target["Error"], expected[error], f"{name} catches {error}")
                            self.assertIn("CausePath", target)
                            seen.add(error)
        self.assertEqual(seen, set(expected))

    OBSERVE = {"cluster", "loadBalancer", "nodes", "vpcEndpointId", "instanceFilters", "targetGroupArns"}
    KINDS = ("msk-single-nlb", "msk-nlb-per-broker", "msk-serverless", "ec2-self-managed")

    def link_states(self):
        return self.definitions["observe.asl.json"]["States"]

    def test_observation_branches_on_the_check_passs_capabilities_never_on_kinds(self):
        for file in ("observe.asl.json", "apply.asl.json", "sweep.asl.json"):
            text = (ROOT / "src" / "StateMachine" / file).read_text()
            for kind in self.KINDS:
                self.assertNotIn(kind, text, file)
            self.assertNotIn(".kind", text, file)
        branched = set()
        for name, state in all_states(self.definitions["observe.asl.json"]):
            if state["Type"] != "Choice":
                continue
            rules = list(state["Choices"])
            while rules:
                rule = rules.pop()
                rules += rule.get("And", []) + rule.get("Or", []) + ([rule["Not"]] if "Not" in rule else [])
                variable = rule.get("Variable", "")
                if variable.startswith("$.observe."):
                    branched.add(re.match(r"\$\.observe\.(\w+)", variable).group(1))
        self.assertEqual(self.OBSERVE, branched)

    def test_observe_comes_from_the_check_pass_and_stays_in_the_link_state(self):
        states = self.link_states()
        self.assertEqual({"observe.$": "$.Payload.observe"}, states["CheckStoredConfig"]["ResultSelector"])
        self.assertEqual("check", states["CheckStoredConfig"]["Parameters"]["Payload"]["pass"])
        rebuilders = [name for name, s in states.items() if s["Type"] == "Pass" and "configJson.$" in s.get("Parameters", {})]
        self.assertEqual({"PrepareLink"}, set(rebuilders))
        for name in rebuilders:
            self.assertIn("observe.$", states[name]["Parameters"], name)
        # The config travels once, as text for the link pass: the reads take their ARNs from observe (256 KiB per state).
        self.assertEqual([], re.findall(r"\$\.config(?!Json)\b[.\w]*", json.dumps(states)))
        self.assertEqual("$.observe.clusterArn", states["DescribeCluster"]["Parameters"]["ClusterArn.$"])

    def test_the_link_pass_reads_only_observations_begin_observe_sets(self):
        states = self.link_states()
        payload = states["PlanLink"]["Parameters"]["Payload"]
        started = set(states["BeginObserve"]["Parameters"])
        read = {re.match(r"\$\.obs\.(\w+)", v).group(1) for v in payload.values() if str(v).startswith("$.obs.")}
        self.assertLessEqual({"instances", "vpcEndpoints", "networkInterfaces"}, set(k.removesuffix(".$") for k in payload))
        self.assertLessEqual(read, started)
        self.assertEqual("link", payload["pass"])
        self.assertEqual(SAMPLE_SUBSTITUTIONS["ZoneRoleArn"], payload["zoneRoleArn"])
        # clusterState is set on both paths: observed, or not (null).
        self.assertEqual("$.cluster", states["DescribeCluster"]["ResultPath"])
        self.assertEqual(("$.cluster", {"state": None}), (states["ClusterNotObserved"]["ResultPath"], states["ClusterNotObserved"]["Result"]))

    def test_the_role_allows_every_action_the_definitions_call(self):
        template = plain(raw_template())
        for file, definition in self.definitions.items():
            allowed = [action for s in machine_statements(template, MACHINES[file]) for action in as_list(s["Action"])]

            def is_allowed(action):
                return any(fnmatch.fnmatch(action.lower(), pattern.lower()) for pattern in allowed)

            for name, state, service, action in sdk_tasks(definition):
                iam_action = f"{IAM_PREFIX.get(service, service)}:{operation_model(service, action).name}"
                if "Credentials" in state:
                    # The call is made as the assumed role (a zone's); this role only assumes it.
                    self.assertTrue(is_allowed("sts:AssumeRole"), f"{file}: {name} assumes a role")
                    continue
                self.assertTrue(is_allowed(iam_action), f"{file}: {name}: {iam_action} is not allowed")
            for name, state, action in optimized_dynamodb_tasks(definition):
                iam_action = f"dynamodb:{operation_model('dynamodb', action).name}"
                self.assertTrue(is_allowed(iam_action), f"{file}: {name}: {iam_action} is not allowed")
            for name, state in all_states(definition):
                if state.get("Resource", "").startswith("arn:aws:states:::states:startExecution"):
                    self.assertTrue(is_allowed("states:StartExecution"), name)
                    if ".sync" in state["Resource"]:
                        for action in ("states:DescribeExecution", "states:StopExecution", "events:PutRule"):
                            self.assertTrue(is_allowed(action), f"{name}: {action} is not allowed")
            if any(s.get("Resource") == "arn:aws:states:::lambda:invoke" for _, s in all_states(definition)):
                self.assertTrue(is_allowed("lambda:InvokeFunction"), file)

    def test_the_zone_role_does_the_route53_work_of_the_providers_own_zones(self):
        template = plain(raw_template())
        zone_role = template["Resources"]["ZoneRole"]["Properties"]
        trusted = zone_role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"]
        self.assertEqual({"Fn::GetAtt": ["ReconcileRole", "Arn"]}, trusted)
        actions = {a for p in zone_role["Policies"] for s in p["PolicyDocument"]["Statement"] for a in as_list(s["Action"])}
        self.assertEqual({"route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets"}, actions)
        reconcile = {a for s in machine_statements(template, "ObserveStateMachine") for a in as_list(s["Action"])}
        self.assertFalse({a for a in reconcile if a.startswith("route53:")}, "Route 53 only through a zone's role")


class FunctionWiringTest(unittest.TestCase):
    def test_every_function_is_substituted_into_the_definition_and_may_be_invoked(self):
        template = raw_template()
        functions = {n for n, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
        self.assertIn("SummariseFunction", functions)
        self.assertIn("OnboardFunction", functions)
        substituted_anywhere = set()
        for machine_name in MACHINES.values():
            machine = template["Resources"][machine_name]["Properties"]
            substituted = {plain(v)["Fn::GetAtt"][0] for k, v in machine["DefinitionSubstitutions"].items()
                           if isinstance(plain(v), dict) and "Fn::GetAtt" in plain(v) and plain(v)["Fn::GetAtt"][0] in functions}
            substituted_anywhere |= substituted
            invoke = [s for s in machine_statements(template, machine_name) if "lambda:InvokeFunction" in as_list(s["Action"])]
            self.assertEqual(1, len(invoke), machine_name)
            may_invoke = {r["Fn::GetAtt"][0] for r in as_list(invoke[0]["Resource"])}
            self.assertLessEqual(substituted, may_invoke, machine_name)
        self.assertEqual(functions, substituted_anywhere)

    def test_every_lambda_task_names_a_substituted_function(self):
        expected = {
            "sweep.asl.json": {"${TriageFunctionArn}", "${SummariseFunctionArn}"},
            "observe.asl.json": {"${PlanFunctionArn}"},
            "apply.asl.json": {"${TriageFunctionArn}", "${SummariseFunctionArn}"},
            "onboard.asl.json": {"${OnboardFunctionArn}"},
        }
        self.assertEqual(set(expected), {path.name for path in STATE_MACHINES})
        for path in STATE_MACHINES:
            definition = json.loads(path.read_text())
            names = {s["Parameters"]["FunctionName"] for _, s in all_states(definition)
                     if s.get("Resource") == "arn:aws:states:::lambda:invoke"}
            self.assertEqual(expected[path.name], names, path.name)


class IamTest(unittest.TestCase):
    def statements(self):
        template = transformed_template()
        for name, resource in template["Resources"].items():
            properties = resource.get("Properties", {})
            documents = []
            if resource["Type"] == "AWS::IAM::Role":
                documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
            elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                documents = [properties["PolicyDocument"]]
            for document in documents:
                for statement in as_list(document["Statement"]):
                    yield name, statement

    def test_no_write_action_is_allowed_on_every_resource(self):
        checked = 0
        for role, statement in self.statements():
            if statement["Effect"] != "Allow":
                continue
            checked += 1
            self.assertNotIn("NotAction", statement, role)
            self.assertNotIn("NotResource", statement, role)
            if "*" not in as_list(statement["Resource"]):
                continue
            for action in as_list(statement["Action"]):
                verb = action.split(":", 1)[1]
                read = re.match(r"(Describe|List|Get)[A-Za-z0-9]+$", verb) is not None
                self.assertTrue(read or action in UNSCOPABLE_WRITES,
                                f"{role} {statement.get('Sid', '')}: {action} on Resource '*'")
        self.assertGreater(checked, 5)

    def test_elbv2_and_route53_writes_carry_ownership_conditions(self):
        writes = {}
        for _, statement in self.statements():
            for action in as_list(statement["Action"]):
                writes.setdefault(action, []).append(statement)
        conditions = {
            "elasticloadbalancing:CreateTargetGroup": "aws:RequestTag/brokerlink:link",
            "elasticloadbalancing:CreateListener": "aws:RequestTag/brokerlink:link",
            "elasticloadbalancing:RegisterTargets": "aws:ResourceTag/brokerlink:link",
            "elasticloadbalancing:DeregisterTargets": "aws:ResourceTag/brokerlink:link",
            "elasticloadbalancing:DeleteTargetGroup": "aws:ResourceTag/brokerlink:link",
            "elasticloadbalancing:DeleteListener": "aws:ResourceTag/brokerlink:link",
            "elasticloadbalancing:AddTags": "elasticloadbalancing:CreateAction",
            "route53:ChangeResourceRecordSets": "route53:ChangeResourceRecordSetsRecordTypes",
        }
        for action, key in conditions.items():
            self.assertIn(action, writes)
            for statement in writes[action]:
                keys = {k for operator in statement.get("Condition", {}).values() for k in operator}
                self.assertIn(key, keys, f"{action}: {statement.get('Sid')}")


class RecordNameTest(unittest.TestCase):
    """The Route 53 writes are limited by record name: every name a link kind writes passes, others do not."""

    BROKER = "b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com"
    SERVERLESS = "*.kafka-serverless.us-east-1.amazonaws.com"
    REFUSED = ["www.example.com", "kafka.us-east-1.amazonaws.com", "b-1.orders.abc123.c2.kafka.us-west-2.amazonaws.com",
               "*.kafka-serverless.us-west-2.amazonaws.com", "ledger.kafka.internal.example.com"]

    @staticmethod
    def ledger_names():
        return json.loads((EVENTS / "link-ledger.json").read_text())["recordNames"]

    def reconcile_statement(self, **parameters):
        template = raw_template()
        evaluate = Evaluator(template, parameters)
        statements = plain(template["Resources"]["ZoneRole"]["Properties"]["Policies"])[0]["PolicyDocument"]["Statement"]
        return evaluate(next(s for s in statements if s["Action"] == "route53:ChangeResourceRecordSets"))

    def consumer_statement(self, region="us-east-1", **parameters):
        """The consumer role's records statement, its stack deployed in `region`."""
        from cfnlint.decode import decode

        template, matches = decode(str(ROOT / "consumer-account.yaml"))
        self.assertEqual([], matches)
        template = plain(template)
        parameters = {"ReconcileRoleArn": "arn:aws:iam::123456789012:role/r", "OnboardRoleArn": "arn:aws:iam::123456789012:role/o"} | parameters
        evaluate = Evaluator(template, parameters)
        evaluate.values["AWS::Region"] = region
        role = evaluate(template["Resources"]["DnsRole"])
        statements = [s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]
        return next(s for s in statements if s["Action"] == "route53:ChangeResourceRecordSets")

    def test_normalised_names_and_string_like(self):
        self.assertEqual("\\052.kafka-serverless.us-east-1.amazonaws.com", normalised_record_name(self.SERVERLESS.upper() + "."))
        self.assertTrue(string_like("*.a.com", "\\052.a.com"))
        self.assertTrue(string_like("*.a.com", "x.y.a.com"))
        self.assertFalse(string_like("*.a.com", "a.com"))
        self.assertFalse(string_like("a?com", "a.b.com"))

    def test_every_kinds_names_may_be_written_by_both_roles_and_nothing_else(self):
        self.assertEqual(["ledger.kafka.internal"], self.ledger_names())  # the default SelfManagedRecordNames covers it
        for role, statement in (("reconcile", self.reconcile_statement()), ("consumer", self.consumer_statement())):
            with self.subTest(role=role):
                self.assertTrue(may_write_records(statement, [self.BROKER, self.SERVERLESS] + self.ledger_names()))
                for name in self.REFUSED:
                    self.assertFalse(may_write_records(statement, [name]), name)

    def test_self_managed_record_names_is_the_operators_list(self):
        names = "kafka.ledger.internal,*.ledger.example"
        for role, statement in (("reconcile", self.reconcile_statement(SelfManagedRecordNames=names)),
                                ("consumer", self.consumer_statement(SelfManagedRecordNames=names))):
            with self.subTest(role=role):
                self.assertTrue(may_write_records(statement, ["kafka.ledger.internal", "b-2.ledger.example", self.BROKER]))
                self.assertFalse(may_write_records(statement, ["ledger.kafka.internal"]))
                self.assertFalse(may_write_records(statement, ["kafka.ledger.internal", "www.example.com"]))

    def test_a_consumer_stack_in_another_region_writes_the_provider_regions_names(self):
        west = "b-1.orders.abc123.c2.kafka.us-west-2.amazonaws.com"
        for statement, allowed, refused in (
                (self.consumer_statement(region="us-west-2", ProviderRegion="us-east-1"), [self.BROKER, self.SERVERLESS], west),
                (self.consumer_statement(region="us-west-2"), [west, "*.kafka-serverless.us-west-2.amazonaws.com"], self.BROKER)):
            self.assertTrue(may_write_records(statement, allowed))
            self.assertFalse(may_write_records(statement, [refused]))

    def test_a_consumer_zone_name_narrows_its_role_to_that_zone(self):
        statement = self.consumer_statement(ZoneName="ledger.internal")
        self.assertTrue(may_write_records(statement, ["kafka.ledger.internal"]))
        self.assertFalse(may_write_records(statement, [self.BROKER]))
        self.assertFalse(may_write_records(statement, ["ledger.kafka.internal"]))

    def test_both_templates_take_the_same_self_managed_record_names(self):
        from cfnlint.decode import decode

        consumer = plain(decode(str(ROOT / "consumer-account.yaml"))[0])["Parameters"]["SelfManagedRecordNames"]
        provider = plain(raw_template())["Parameters"]["SelfManagedRecordNames"]
        self.assertEqual(("CommaDelimitedList", "*.kafka.internal"), (provider["Type"], provider["Default"]))
        self.assertEqual((provider["Type"], provider["Default"]), (consumer["Type"], consumer["Default"]))


class WriteListTest(unittest.TestCase):
    """scenario.WRITE_ACTIONS, the one list of writes the "wrote nothing" checks count, is every write the
    definitions can make: every task that is not a read (Describe, List, Get, DynamoDB's Query), a pure function
    (lambda:invoke) or the start of another execution (whose writes are in that execution's own history)."""

    READ = re.compile(r"((describe|list|get)[A-Z]|query$)")
    NOT_WRITES = {"invoke", "startExecution", "startSyncExecution"}

    @staticmethod
    def actions(definition):
        """The action of every task, as its TaskScheduled event names it (`changeResourceRecordSets`, `putItem`)."""
        for _, state in all_states(definition):
            if state["Type"] == "Task":
                parts = state["Resource"].split(":::", 1)[1].split(":")
                yield parts[2] if parts[0] == "aws-sdk" else parts[1].split(".")[0]

    def writes(self, definitions):
        return {a for d in definitions for a in self.actions(d) if not self.READ.match(a) and a not in self.NOT_WRITES}

    def test_the_write_list_is_every_write_of_the_definitions(self):
        import scenario

        written = self.writes(load_asl(path) for path in STATE_MACHINES)
        self.assertEqual(set(scenario.WRITE_ACTIONS), written)
        self.assertLessEqual(scenario.TABLE_WRITES, written)
        # Onboarding's own writes are in it: zones, VPC associations, connections, the service's principals.
        self.assertLessEqual({"createHostedZone", "associateVPCWithHostedZone", "createVPCAssociationAuthorization",
                              "deleteVPCAssociationAuthorization", "acceptVpcEndpointConnections",
                              "modifyVpcEndpointServicePermissions"}, written)

    def test_a_definition_gaining_a_write_would_fail_the_list(self):
        gained = {"StartAt": "Tag", "States": {"Tag": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:elasticloadbalancingv2:addTags", "End": True}}}
        reads = {"StartAt": "Read", "States": {"Read": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:route53:getHostedZone", "End": True}}}
        self.assertEqual({"addTags"}, self.writes([gained, reads]))


class EventRuleTest(unittest.TestCase):
    MSK = "SweepStateMachine.MskBrokerChange"
    EC2 = "SweepStateMachine.Ec2InstanceStateChange"
    # Every EventBridge event we ship -> the rule that routes it (None: no rule does).
    ROUTED_BY = {
        "cloudtrail-update-broker-count.json": MSK,
        "cloudtrail-create-cluster-v2.json": MSK,
        "cloudtrail-other-cluster.json": MSK,  # routed; triage finds no link and ignores it
        "cloudtrail-update-broker-count-payments.json": MSK,
        "cloudtrail-create-cluster-v2-serverless.json": MSK,
        "cloudtrail-update-broker-count-failed.json": None,  # a failed call changed nothing
        "ec2-instance-running.json": EC2,
        "ec2-instance-stopped.json": EC2,
        "ec2-instance-terminated.json": EC2,
        "ec2-instance-pending.json": None,  # running follows
        "schedule-sweep.json": None,  # the DriftSweep schedule's own event
        "invalid-unknown-event.json": None,
    }

    @classmethod
    def setUpClass(cls):
        from moto import mock_aws

        from localcloud.motoext import fidelity_events

        fidelity_events.install()  # moto 5.2.1's TestEventPattern is a stub
        cls.mock = mock_aws()
        cls.mock.start()
        cls.events = boto3.client("events", region_name="us-east-1", aws_access_key_id="test",
                                  aws_secret_access_key="test")
        cls.rules = {}
        for name, resource in raw_template()["Resources"].items():
            for event_name, event in resource.get("Properties", {}).get("Events", {}).items():
                if event["Type"] == "EventBridgeRule":
                    cls.rules[f"{name}.{event_name}"] = plain(event["Properties"]["Pattern"])

    @classmethod
    def tearDownClass(cls):
        cls.mock.stop()

    def matches(self, pattern, file):
        return self.events.test_event_pattern(
            EventPattern=json.dumps(pattern), Event=(EVENTS / file).read_text())["Result"]

    def test_every_shipped_event_has_an_expectation(self):
        # A new cloudtrail-*/ec2-* event file must say which rule (if any) routes it.
        shipped = {f.name for f in EVENTS.glob("*.json") if f.name.startswith(("cloudtrail-", "ec2-"))}
        self.assertEqual(shipped, {f for f in self.ROUTED_BY if f.startswith(("cloudtrail-", "ec2-"))})
        self.assertTrue({self.MSK, self.EC2} <= set(self.ROUTED_BY.values()))

    def test_each_event_is_routed_by_its_rule_only(self):
        self.assertEqual(sorted(self.rules), sorted([self.MSK, self.EC2]))
        for file, rule in self.ROUTED_BY.items():
            for name, pattern in self.rules.items():
                with self.subTest(event=file, rule=name):
                    self.assertEqual(self.matches(pattern, file), name == rule)

    def test_the_ec2_rule_takes_every_state_but_pending(self):
        pattern = self.rules[self.EC2]
        event = json.loads((EVENTS / "ec2-instance-running.json").read_text())
        for state in ("pending", "running", "stopping", "stopped", "shutting-down", "terminated"):
            with self.subTest(state=state):
                event["detail"]["state"] = state
                result = self.events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))["Result"]
                self.assertEqual(result, state != "pending")

    def test_the_matcher_is_not_vacuous(self):
        self.assertFalse(self.matches({"source": ["aws.nothing"]}, "cloudtrail-update-broker-count.json"))
        self.assertTrue(self.matches({"source": ["aws.kafka"]}, "cloudtrail-update-broker-count.json"))
        self.assertFalse(self.matches({"detail": {"state": ["running"]}}, "ec2-instance-stopped.json"))


class LinkKindIamTest(unittest.TestCase):
    """What the link kinds need from the Reconcile role (Observe and Apply), and no more."""

    def statements(self):
        template = raw_template()
        evaluate = Evaluator(template)
        return [evaluate(s) for s in plain(template["Resources"]["ReconcileRole"]["Properties"]["Policies"])[0]["PolicyDocument"]["Statement"]]

    def allowing(self, action):
        return [s for s in self.statements() if action in as_list(s["Action"])]

    def test_ec2_is_read_only(self):
        ec2 = {a for s in self.statements() for a in as_list(s["Action"]) if a.startswith("ec2:")}
        self.assertEqual({"ec2:DescribeInstances", "ec2:DescribeVpcEndpoints", "ec2:DescribeNetworkInterfaces"}, ec2)
        for action in ec2:
            self.assertEqual([["*"]], [as_list(s["Resource"]) for s in self.allowing(action)], action)

    def test_handed_over_target_groups_get_only_their_targets_changed(self):
        any_group = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-b1/0123456789abcdef"
        ours = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/bl-orders-3f2a1c-b1/0123456789abcdef"

        def on(statement, arn):
            return any(string_like(r, arn) for r in as_list(statement["Resource"]))

        handed_over = [s for s in self.statements() if any(a.startswith("elasticloadbalancing:") for a in as_list(s["Action"]))
                       and not any(a.split(":")[1].startswith("Describe") for a in as_list(s["Action"])) and on(s, any_group)]
        self.assertEqual(1, len(handed_over))
        self.assertEqual({"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"},
                         set(as_list(handed_over[0]["Action"])))
        self.assertEqual({"Null": {"aws:ResourceTag/brokerlink:link": "false"}}, handed_over[0]["Condition"])
        # BrokerLink's own bl-* groups keep their statements: created, changed and deleted only when tagged.
        for action in ("CreateTargetGroup", "RegisterTargets", "DeregisterTargets", "DeleteTargetGroup"):
            self.assertTrue(any(on(s, ours) and "bl-*" in s["Resource"] for s in self.allowing(f"elasticloadbalancing:{action}")), action)

    def test_describe_cluster_covers_provisioned_and_serverless_clusters(self):
        arns = [json.loads((EVENTS / f).read_text())["clusterArn"] for f in ("link-orders.json", "link-events.json")]
        self.assertTrue(arns[1].endswith("-s1"), arns[1])
        statements = self.allowing("kafka:DescribeClusterV2")
        for arn in arns:
            self.assertTrue(any(string_like(r, arn) for s in statements for r in as_list(s["Resource"])), arn)
        self.assertFalse(any(string_like(r, arns[0].replace("123456789012", "210987654321"))
                             for s in statements for r in as_list(s["Resource"])))


class EventFilesTest(unittest.TestCase):
    def test_every_event_file_is_json(self):
        files = sorted(EVENTS.glob("*.json"))
        self.assertGreaterEqual(len(files), 12)
        for file in files:
            json.loads(file.read_text())

    def test_cloudtrail_request_arns_are_url_encoded_forms_of_the_response_arns(self):
        checked = 0
        for file in sorted(EVENTS.glob("cloudtrail-*.json")):
            detail = json.loads(file.read_text())["detail"]
            request = detail.get("requestParameters") or {}
            response = detail.get("responseElements") or {}
            if "clusterArn" in request and "clusterArn" in response:
                self.assertIn("%3A", request["clusterArn"], file.name)
                self.assertEqual(urllib.parse.unquote(request["clusterArn"]), response["clusterArn"], file.name)
                checked += 1
        self.assertGreater(checked, 0, "no cloudtrail-*.json file has both ARNs")

    def test_the_sample_link_is_the_cluster_of_the_sample_events(self):
        link = json.loads((EVENTS / "link-orders.json").read_text())
        event = json.loads((EVENTS / "cloudtrail-update-broker-count.json").read_text())
        self.assertEqual(link["clusterArn"], event["detail"]["responseElements"]["clusterArn"])
        self.assertEqual(json.loads((EVENTS / "manual-reconcile.json").read_text())["linkId"], link["linkId"])
        other = json.loads((EVENTS / "cloudtrail-other-cluster.json").read_text())
        self.assertNotEqual(link["clusterArn"], other["detail"]["responseElements"]["clusterArn"])


if __name__ == "__main__":
    unittest.main()
