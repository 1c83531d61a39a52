"""On call: every alarm and dashboard graph watches a metric the stack really emits, missing data is handled on purpose,
every alarm links to its runbook, and the deploy configuration (samconfig.toml, parameters, outputs) is complete.

The BrokerLink metrics are captured from the real Summarise handler (the built BrokerLink.LocalLambdaHost, as the
local cloud runs it), not from a list kept beside the template.

Run: cd tests/localcloud && python3 -m unittest test_alarms   (after ./build.sh build)
"""

import json
import queue
import re
import sys
import threading
import tomllib
import unittest
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "localcloud"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import launcher  # noqa: E402
from test_template import plain, raw_template  # noqa: E402

STACK = launcher.STACK  # the local cloud's stack name, which template.yaml's Globals hand the functions
# What AWS publishes (AWS/States: per state machine, AWS/Lambda: per function) that the alarms and dashboard may use.
AWS_METRICS = {
    "AWS/States": ({"ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted",
                    "ExecutionTime", "ExecutionThrottled"}, "StateMachineArn", "AWS::Serverless::StateMachine"),
    "AWS/Lambda": ({"Errors", "Throttles", "Invocations", "Duration", "ConcurrentExecutions"}, "FunctionName", "AWS::Serverless::Function"),
}
# Each alarm's missing-data treatment, decided: only "the sweep stopped starting" breaches on silence; every other alarm
# watches something a healthy stack either reports as 0 (the stack totals line) or does not report at all.
MISSING_DATA = {
    "sweep-not-running": "breaching",
    "sweep-failing": "notBreaching",
    "apply-failing": "notBreaching",
    "onboard-failed": "notBreaching",
    "links-failing": "notBreaching",
    "links-blocked": "notBreaching",
    "links-not-converged": "notBreaching",
    "findings-need-action": "notBreaching",
    "function-errors": "notBreaching",
    "function-throttles": "notBreaching",
}
PSEUDO_SAMPLES = {"AWS::Region": "us-east-1", "AWS::StackName": STACK, "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}


def result(link_id, status="succeeded", findings=(), **fields):
    return {"linkId": link_id, "reason": "scheduled sweep", "status": status,
            "findings": [{"code": code, "subject": "s", "message": "m"} for code in findings], **fields}


SUMMARY = {"brokers": 3, "writeCalls": 2}
# A sweep with one link of each outcome Summarise reports.
EVERY_OUTCOME = [
    result("alpha", converged=True, applied=True, summary=SUMMARY, findings=["RecordConflict", "RemovalGuardOverridden"]),
    result("beta", "failed", error="BrokerLink.PlanBlocked", cause="RemovalShareExceeded: 4 of 6", converged=False, applied=False,
           summary=SUMMARY, blocked={"code": "RemovalShareExceeded", "reason": "4 of 6"}),
    {"linkId": "gamma", "reason": "scheduled sweep", "status": "failed", "error": "BrokerLink.ClusterNotReady", "cause": "UPDATING"},
    result("delta", converged=True, applied=False, summary=SUMMARY, findings=["BrokerNeedsProvisioning", "TargetGroupNotTagged"]),
    result("epsilon", "applying", applyExecutionArn="arn:aws:states:us-east-1:123456789012:execution:x-apply:epsilon-1", summary=SUMMARY),
]
HEALTHY = [result("alpha", converged=True, applied=False, summary=SUMMARY), result("beta", converged=True, applied=True, summary=SUMMARY)]


def summarise_input(results, dry_run=False):
    return {"stage": "sweep", "trigger": "schedule", "dryRun": dry_run, "timestamp": "2026-01-31T12:00:00.000Z", "results": results,
            "invalidItems": []}


def directives(line):
    """(namespace, dimension names, metric name, value, dimension values) for every metric an EMF line declares."""
    document = json.loads(line)
    for directive in document["_aws"]["CloudWatchMetrics"]:
        for dimensions in directive["Dimensions"]:
            for metric in directive["Metrics"]:
                yield (directive["Namespace"], frozenset(dimensions), metric["Name"], document[metric["Name"]],
                       {d: document[d] for d in dimensions})


class SummariseHost:
    """The real Summarise handler behind the local Lambda host; each invocation's standard output lines."""

    def __init__(self, params=None):
        stack = launcher.Stack(launcher.load_template(launcher.REPO / "template.yaml"), dict(params or {}))
        self.port = launcher.free_port()
        # The environment template.yaml's Globals give the functions, as the local cloud gives it (its stack name).
        self.environment = stack.environment()
        self.process = launcher.start_lambda_host(launcher.DEFAULT_DLL, self.port, {"SummariseFunction": stack.handlers()["SummariseFunction"]},
                                                  self.environment)
        # Its first line says it is ready; every later line is the handler's standard output (launcher.wait_lambda_host would
        # forward those to stderr: this reads them itself).
        self.lines = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.process.stdout], daemon=True).start()
        ready = self.lines.get(timeout=60)
        if not json.loads(ready).get("ready"):
            raise AssertionError(f"unexpected first line from the local Lambda host: {ready!r}")

    def invoke(self, payload, expected_lines):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/2015-03-31/functions/SummariseFunction/invocations",
                                         data=json.dumps(payload).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            output = json.loads(response.read())
        lines = [self.lines.get(timeout=30) for _ in range(expected_lines)]
        try:
            extra = self.lines.get(timeout=0.5)
        except queue.Empty:
            extra = None
        if extra is not None:
            raise AssertionError(f"more output than {expected_lines} lines: {extra!r}")
        return output, [line.rstrip("\n") for line in lines]

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.process.stdout.close()


def alarms(template):
    return {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def suffix(properties):
    name = properties["AlarmName"]["Fn::Sub"]
    assert name.startswith("${AWS::StackName}-"), name
    return name.removeprefix("${AWS::StackName}-")


def watched(properties):
    """(namespace, name, {dimension: value node}) of every metric an alarm reads."""
    if "MetricName" in properties:
        yield properties["Namespace"], properties["MetricName"], {d["Name"]: d["Value"] for d in properties["Dimensions"]}
    for query in properties.get("Metrics", []):
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            yield metric["Namespace"], metric["MetricName"], {d["Name"]: d["Value"] for d in metric["Dimensions"]}


def github_anchor(heading):
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^a-z0-9 -]", "", text).replace(" ", "-")


def readme_anchors():
    text = re.sub(r"^```.*?^```", "", (ROOT / "README.md").read_text(), flags=re.M | re.S)  # a shell comment is no heading
    return {github_anchor(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.M)}


_CAPTURED = {}


def captured():
    """The Summarise handler's output and lines for a sweep of every outcome, a healthy sweep and a dry run (one host, once)."""
    if not _CAPTURED:
        if not launcher.DEFAULT_DLL.is_file():
            raise AssertionError(f"{launcher.DEFAULT_DLL} is missing: run ./build.sh build first")
        # PerLinkMetrics true: the dashboard's per-link graphs read those metrics; the default is read below.
        host = SummariseHost({"PerLinkMetrics": "true"})
        try:
            _CAPTURED["every"] = host.invoke(summarise_input(EVERY_OUTCOME), expected_lines=5)  # 4 links (epsilon is Apply's) + totals
            _CAPTURED["healthy"] = host.invoke(summarise_input(HEALTHY), expected_lines=3)
            _CAPTURED["dry"] = host.invoke(summarise_input(HEALTHY, dry_run=True), expected_lines=2)
        finally:
            host.close()
        host = SummariseHost()
        try:
            _CAPTURED["default"] = host.invoke(summarise_input(HEALTHY), expected_lines=3)
        finally:
            host.close()
        lines = _CAPTURED["every"][1] + _CAPTURED["healthy"][1]
        _CAPTURED["emitted"] = {(ns, name, dims) for line in lines for ns, dims, name, _, _ in directives(line)}
    return _CAPTURED


class EmittedMetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        run = captured()
        cls.output, cls.lines = run["every"]
        cls.healthy_lines = run["healthy"][1]
        cls.dry_lines = run["dry"][1]
        cls.emitted = run["emitted"]
        cls.template = plain(raw_template())

    def totals(self, lines):
        stack = [line for line in lines if "Stack" in json.loads(line)]
        self.assertEqual(1, len(stack), lines)
        return json.loads(stack[0])

    def test_the_handler_writes_one_line_per_reported_link_and_the_stack_totals(self):
        self.assertEqual(["alpha", "beta", "gamma", "delta"], [json.loads(line).get("LinkId") for line in self.lines[:-1]])
        totals = self.totals(self.lines)
        self.assertEqual(STACK, totals["Stack"])
        self.assertEqual({"LinksReported": 4, "LinksConverged": 2, "LinksNotConverged": 2, "LinksFailed": 1, "LinksBlocked": 1,
                          "FindingsNeedingAction": 3},
                         {k: totals[k] for k in ("LinksReported", "LinksConverged", "LinksNotConverged", "LinksFailed", "LinksBlocked",
                                                 "FindingsNeedingAction")})
        self.assertEqual(("BrokerLink.PlanBlocked", "BrokerLink.ClusterNotReady"), (json.loads(self.lines[1])["Error"], json.loads(self.lines[2])["Error"]))
        self.assertEqual("BrokerLink.LinksFailed", self.output["failed"]["error"])

    def test_by_default_a_links_line_is_a_log_line_and_only_the_totals_are_metrics(self):
        # 8 custom metrics a link cost about USD 2.40 a link-month: per-link metrics are the PerLinkMetrics parameter's choice.
        self.assertEqual("false", self.template["Parameters"]["PerLinkMetrics"]["Default"])
        lines = [json.loads(line) for line in captured()["default"][1]]
        self.assertEqual(["alpha", "beta"], [line["LinkId"] for line in lines if "LinkId" in line])
        self.assertEqual([False, False, True], ["_aws" in line for line in lines])
        self.assertLessEqual({"LinkId", "WriteCalls", "Brokers", "Findings", "FindingsNeedingAction", "Converged", "Blocked", "Failed",
                              "Trigger", "DryRun"}, set(lines[0]))

    def test_a_dry_run_writes_no_stack_totals(self):
        self.assertEqual(["alpha", "beta"], [json.loads(line)["LinkId"] for line in self.dry_lines])

    def test_both_state_machines_give_summarise_the_execution_name(self):
        # Every metric line then names its execution: from an alarm to the execution's history in one step.
        for file in ("sweep.asl.json", "apply.asl.json"):
            payload = json.loads((ROOT / "src" / "StateMachine" / file).read_text())["States"]["Summarise"]["Parameters"]["Payload"]
            self.assertEqual("$$.Execution.Name", payload["execution.$"], file)

    def test_the_stack_dimension_is_the_stack_name_the_template_gives_the_functions(self):
        variables = self.template["Globals"]["Function"]["Environment"]["Variables"]
        self.assertEqual({"Ref": "AWS::StackName"}, variables["BROKERLINK_STACK_NAME"])

    def test_every_alarm_watches_a_metric_the_stack_emits_with_its_dimensions(self):
        resources = self.template["Resources"]
        checked = set()
        for name, properties in alarms(self.template).items():
            for namespace, metric, dimensions in watched(properties):
                with self.subTest(alarm=name, metric=metric):
                    if namespace == "BrokerLink":
                        self.assertIn((namespace, metric, frozenset(dimensions)), self.emitted)
                        self.assertEqual({"Stack": {"Ref": "AWS::StackName"}}, dimensions, "the stack totals of this stack")
                    else:
                        names, dimension, resource_type = AWS_METRICS[namespace]
                        self.assertIn(metric, names)
                        self.assertEqual([dimension], list(dimensions))
                        self.assertEqual(resource_type, resources[dimensions[dimension]["Ref"]]["Type"])
                    checked.add((namespace, metric))
        self.assertLessEqual({("BrokerLink", m) for m in ("LinksFailed", "LinksBlocked", "LinksNotConverged", "FindingsNeedingAction")}, checked)
        self.assertLessEqual({("AWS/States", "ExecutionsStarted"), ("AWS/States", "ExecutionsFailed"), ("AWS/Lambda", "Errors"),
                              ("AWS/Lambda", "Throttles")}, checked)

    def test_every_failing_execution_alarm_covers_sweep_apply_and_onboard(self):
        resources = self.template["Resources"]
        machines = {dimensions["StateMachineArn"]["Ref"] for p in alarms(self.template).values() for ns, metric, dimensions in watched(p)
                    if metric == "ExecutionsFailed"}
        self.assertEqual({"SweepStateMachine", "ApplyStateMachine", "OnboardStateMachine"}, machines)
        functions = {dimensions["FunctionName"]["Ref"] for p in alarms(self.template).values() for ns, metric, dimensions in watched(p)
                     if ns == "AWS/Lambda"}
        self.assertEqual({n for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}, functions)

    def test_every_alarm_treats_missing_data_deliberately(self):
        found = {suffix(p): p.get("TreatMissingData") for p in alarms(self.template).values()}
        self.assertEqual(MISSING_DATA, found)

    def test_a_healthy_run_reports_zero_for_every_alarmed_stack_metric(self):
        # notBreaching on silence is safe only because a healthy run reports 0, not nothing: the alarms see data.
        totals = self.totals(self.healthy_lines)
        for name, properties in alarms(self.template).items():
            for namespace, metric, _ in watched(properties):
                if namespace == "BrokerLink":
                    with self.subTest(alarm=name):
                        self.assertEqual(0, totals[metric])
                        self.assertEqual(("GreaterThanOrEqualToThreshold", 1), (properties["ComparisonOperator"], properties["Threshold"]))
        self.assertEqual(2, totals["LinksReported"])

    def test_the_sweep_not_running_alarm_fires_on_silence(self):
        properties = next(p for p in alarms(self.template).values() if suffix(p) == "sweep-not-running")
        self.assertEqual([("AWS/States", "ExecutionsStarted", {"StateMachineArn": {"Ref": "SweepStateMachine"}})], list(watched(properties)))
        self.assertEqual(("LessThanThreshold", 1, "breaching", "Sum"),
                         (properties["ComparisonOperator"], properties["Threshold"], properties["TreatMissingData"], properties["Statistic"]))

    def test_every_metric_math_alarm_adds_its_parts_with_fill(self):
        for name, properties in alarms(self.template).items():
            queries = properties.get("Metrics")
            if not queries:
                continue
            with self.subTest(alarm=name):
                returned = [q for q in queries if q.get("ReturnData")]
                self.assertEqual(1, len(returned))
                parts = {q["Id"] for q in queries if "MetricStat" in q}
                self.assertEqual(parts, set(re.findall(r"FILL\((m\d+), 0\)", returned[0]["Expression"])))

    def test_the_evaluation_range_stays_within_a_day_for_every_allowed_value(self):
        parameters = self.template["Parameters"]
        longest = max(parameters["AlarmPeriodSeconds"]["AllowedValues"]) * max(
            parameters["UnhealthyPeriods"]["MaxValue"], parameters["NotConvergedPeriods"]["MaxValue"])
        self.assertLessEqual(longest, 86400)

    def test_every_alarm_notifies_the_topic_and_links_its_runbook(self):
        anchors = readme_anchors()
        for name, properties in alarms(self.template).items():
            with self.subTest(alarm=name):
                target = {"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}
                self.assertEqual([target], properties["AlarmActions"])
                self.assertEqual([target], properties["OKActions"])
                description = properties["AlarmDescription"]["Fn::Sub"]
                self.assertTrue(description.endswith(f" Runbook: ${{RunbookUrl}}#{suffix(properties)}"), description)
                self.assertIn(suffix(properties), anchors, "README needs a runbook heading for this alarm")
                self.assertLessEqual(len(description), 900)


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emitted = captured()["emitted"]
        cls.template = plain(raw_template())
        text = cls.template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
        cls.placeholders = set(re.findall(r"\$\{([\w:.]+)\}", text))
        values = {p: "x" for p in cls.placeholders} | PSEUDO_SAMPLES | {"AlarmPeriodSeconds": "900"}
        cls.body = json.loads(re.sub(r"\$\{([\w:.]+)\}", lambda m: values[m.group(1)], text))

    def test_every_placeholder_is_a_parameter_resource_or_pseudo_parameter(self):
        known = set(self.template["Parameters"]) | set(self.template["Resources"]) | set(PSEUDO_SAMPLES)
        for placeholder in self.placeholders:
            self.assertIn(placeholder.removesuffix(".Arn"), known, placeholder)

    def test_every_graph_shows_a_metric_the_stack_emits(self):
        seen = set()
        for widget in self.body["widgets"]:
            if widget["type"] != "metric":
                continue
            for row in widget["properties"]["metrics"]:
                with self.subTest(widget=widget["properties"]["title"]):
                    if isinstance(row[0], dict):  # an expression
                        match = re.fullmatch(r"SEARCH\('\{(\w+),(\w+)\} MetricName=\"(\w+)\"', '(\w+)', 900\)", row[0]["expression"])
                        self.assertIsNotNone(match, row[0]["expression"])
                        namespace, dimension, metric, _ = match.groups()
                        self.assertIn((namespace, metric, frozenset([dimension])), self.emitted)
                    else:
                        namespace, metric, *rest = row
                        dimensions = dict(zip(rest[0:-1:2], rest[1::2])) if rest and isinstance(rest[-1], dict) else dict(zip(rest[0::2], rest[1::2]))
                        if namespace == "BrokerLink":
                            self.assertIn((namespace, metric, frozenset(dimensions)), self.emitted)
                        else:
                            names, dimension, _ = AWS_METRICS[namespace]
                            self.assertIn(metric, names)
                            self.assertEqual([dimension], list(dimensions))
                    seen.add(row[0]["expression"] if isinstance(row[0], dict) else row[1])
        for metric in ("Converged", "Failed", "Blocked", "Brokers", "WriteCalls", "FindingsNeedingAction"):
            self.assertTrue(any(f'MetricName="{metric}"' in s for s in seen), metric)
        self.assertLessEqual({"ExecutionsStarted", "ExecutionsFailed", "ExecutionTime", "Errors", "Throttles"}, seen)

    def test_the_links_table_reads_the_function_log_and_fields_every_links_line_has(self):
        # Without per-link metrics this table is where a link's state is seen: every field it reads is in the default line.
        widget = next(w for w in self.body["widgets"] if w["type"] == "log")
        query = widget["properties"]["query"]
        self.assertIn("SOURCE '${FunctionLogGroup}'", self.template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"])
        fields = set(re.findall(r"latest\((\w+)\)", query)) | set(re.findall(r" by (\w+)", query))
        line = json.loads(captured()["default"][1][0])
        self.assertLessEqual({"Converged", "Failed", "Blocked", "FindingsNeedingAction", "Brokers", "DryRun", "LinkId"}, fields)
        self.assertLessEqual(fields - {"Error"}, set(line))

    def test_the_alarm_widget_shows_every_alarm(self):
        widget = next(w for w in self.body["widgets"] if w["type"] == "alarm")
        self.assertEqual(len(alarms(self.template)), len(widget["properties"]["alarms"]))
        text = self.template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
        for name in alarms(self.template):
            self.assertIn(f"${{{name}.Arn}}", text)


class DeployConfigurationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.template = plain(raw_template())
        cls.readme = (ROOT / "README.md").read_text()

    def test_every_parameter_has_a_description_and_a_constraint(self):
        for name, spec in self.template["Parameters"].items():
            with self.subTest(parameter=name):
                self.assertGreater(len(spec.get("Description", "")), 20)
                if spec["Type"] != "CommaDelimitedList":  # AllowedPattern would apply to the whole list, not each item
                    self.assertTrue({"AllowedValues", "AllowedPattern", "MinValue"} & set(spec), "no constraint")

    def test_every_parameter_is_in_exactly_one_console_group(self):
        groups = self.template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        grouped = [name for group in groups for name in group["Parameters"]]
        self.assertEqual(sorted(self.template["Parameters"]), sorted(grouped))

    def test_samconfig_deploys_with_the_templates_parameters(self):
        config = tomllib.loads((ROOT / "samconfig.toml").read_text())
        deploy = config["default"]["deploy"]["parameters"]
        self.assertEqual(["CAPABILITY_IAM"], deploy["capabilities"].split())
        self.assertTrue(deploy["confirm_changeset"])
        given = deploy["parameter_overrides"]
        overrides = dict(re.findall(r'(\w+)="([^"]*)"', given if isinstance(given, str) else " ".join(given)))
        self.assertTrue(overrides)
        for name, value in overrides.items():
            with self.subTest(parameter=name):
                spec = self.template["Parameters"][name]
                self.assertEqual(str(spec["Default"]), value, "samconfig.toml repeats the template's default")
        self.assertIn("build", config["default"])

    def test_the_readme_deploy_table_lists_every_parameter(self):
        deploy = self.readme[self.readme.index("## Deploy"):self.readme.index("## Configure a link")]
        for name in self.template["Parameters"]:
            self.assertIn(f"| `{name}` |", deploy, name)

    def test_the_readme_names_every_output(self):
        deploy = self.readme[self.readme.index("## Deploy"):self.readme.index("## Configure a link")]
        for name in self.template["Outputs"]:
            self.assertIn(f"`{name}`", deploy, name)

    def test_outputs_give_an_operator_everything(self):
        self.assertLessEqual({"SweepStateMachineArn", "ApplyStateMachineArn", "ObserveStateMachineArn", "OnboardStateMachineArn",
                              "LinksTableName", "AlarmTopicArn", "DashboardUrl", "FunctionLogGroupName"}, set(self.template["Outputs"]))
        for name, output in self.template["Outputs"].items():
            self.assertIn("Description", output, name)

    def test_the_readme_has_a_runbook_per_alarm_and_no_other(self):
        section = self.readme[self.readme.index("### Alarms"):]
        section = section[:section.index("\n## ")]
        headings = re.findall(r"^#### (.+)$", section, re.M)
        self.assertEqual(sorted(MISSING_DATA), sorted(github_anchor(h) for h in headings))


if __name__ == "__main__":
    unittest.main()
