"""`LocalCloud`: starts localcloud/launcher.py in a subprocess and drives it (tests, the demo, your scripts).

    cloud = LocalCloud(params={"ClusterPollSeconds": "1"}).start()
    elbv2 = cloud.client("elbv2")
    status, output, history = cloud.start_execution_and_wait({"action": "reconcile", "all": True})
    cloud.stop()

The launcher's stderr (moto, Lambda host and handler logs) goes to `cloud.log_path`; it is
printed if the start fails.

Besides executions, `LocalCloud` changes the world as AWS would under BrokerLink's feet: an MSK
broker replaced (`replace_broker`), EC2 broker instances run, terminated or replaced
(`run_broker_instance`, `terminate_instance`, `replace_broker_instance`), subnets added to or
removed from an interface endpoint (`add_endpoint_subnet`, `remove_endpoint_subnet`).
"""

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parents[1]
LAUNCHER = REPO / "localcloud" / "launcher.py"
READY_KEYS = ("endpoint", "region", "stateMachines", "table", "lambdaEndpoint")


class LocalCloudError(RuntimeError):
    pass


AMI = "ami-12c6146b"  # one of moto's images


def run_instance(ec2, subnet_id: str, tags: dict[str, str], instance_type: str = "m7g.large") -> dict:
    """Runs one instance with these tags in the subnet: {"instanceId", "ip", "subnetId"}."""
    instance = ec2.run_instances(
        ImageId=AMI, MinCount=1, MaxCount=1, InstanceType=instance_type, SubnetId=subnet_id,
        TagSpecifications=[{"ResourceType": "instance",
                            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}])["Instances"][0]
    return {"instanceId": instance["InstanceId"], "ip": instance["PrivateIpAddress"], "subnetId": subnet_id}


def endpoint_ips(ec2, vpc_endpoint_id: str) -> list[str]:
    """The private IPs of an interface endpoint's network interfaces, sorted."""
    endpoint = ec2.describe_vpc_endpoints(VpcEndpointIds=[vpc_endpoint_id])["VpcEndpoints"][0]
    if not endpoint["NetworkInterfaceIds"]:
        return []
    interfaces = ec2.describe_network_interfaces(NetworkInterfaceIds=endpoint["NetworkInterfaceIds"])
    return sorted(eni["PrivateIpAddress"] for eni in interfaces["NetworkInterfaces"])


class Reconciliation:
    """A sweep and the Apply executions it started, read as one run (see LocalCloud.reconcile). `summary`: the sweep's
    Summarise output (from its events when the sweep failed) with each handed-over link's Apply result in its place."""

    def __init__(self, status, output, history, sweep, applies, summary, sweep_events, apply_histories):
        self.status, self.output, self.history, self.sweep, self.applies = status, output, history, sweep, applies
        self.summary, self.sweep_events, self.apply_histories = summary, sweep_events, apply_histories
        self.sweep_express = {}  # the sweep as the local cloud describes an Express execution (billing, largest state)
        self.observes = []  # the Observe executions the run started (sweep and Apply), with their events

    @property
    def observe_events(self):
        """Every event of the run's Observe executions (what CloudWatch Logs would hold at level ALL)."""
        return [e for o in self.observes for e in o["events"]]

    @staticmethod
    def _summarised(described, events):
        """An execution's Summarise output: its own output, or (when it failed after summarising) Summarise's result."""
        if described.get("output"):
            return json.loads(described["output"])
        entered = [e["id"] for e in events if e["type"] == "TaskStateEntered" and e["stateEnteredEventDetails"]["name"] == "Summarise"]
        done = [e for e in events if e["type"] == "TaskSucceeded" and entered and e["id"] > entered[-1]]
        return json.loads(done[0]["taskSucceededEventDetails"]["output"])["Payload"] if done else None

    @classmethod
    def of(cls, sweep, sweep_events, applies, histories):
        failures = []
        output = cls._summarised(sweep, sweep_events)
        if sweep["status"] != "SUCCEEDED":
            failures.append((sweep.get("error") or "States.Timeout", sweep.get("cause") or ""))
        by_arn = {a["executionArn"]: (a, h) for a, h in zip(applies, histories)}
        for i, result in enumerate((output or {}).get("results") or []):
            if result.get("status") != "applying":
                continue
            if result["applyExecutionArn"] not in by_arn:
                raise LocalCloudError(f"the sweep started {result['applyExecutionArn']}, which is not listed")
            applied, history = by_arn[result["applyExecutionArn"]]
            done = cls._summarised(applied, history)
            output["results"][i] = (done["results"][0] if done and done.get("results") else
                                    {"linkId": result["linkId"], "reason": result.get("reason"), "status": "failed",
                                     "error": applied.get("error"), "cause": applied.get("cause")})
        for applied in applies:
            if applied["status"] != "SUCCEEDED":
                failures.append((applied.get("error") or applied["status"], applied.get("cause") or ""))
        events = [e for h in histories for e in h if e["type"] != "ExecutionFailed"]
        if output is not None and "results" in output:
            output["converged"] = not failures and all(
                (not r["plan"]["hasChanges"] and r["plan"]["blocked"] is None) if r.get("dryRun") else r.get("converged", False)
                for r in output["results"])
        if not failures:
            return cls("SUCCEEDED", output, events, sweep, applies, output, sweep_events, histories)
        error, cause = failures[0] if len(failures) == 1 else (
            "BrokerLink.LinksFailed", "; ".join(f"{e}: {c}" for e, c in failures))
        events.append({"type": "ExecutionFailed", "executionFailedEventDetails": {"error": error, "cause": cause}})
        return cls("FAILED", None, events, sweep, applies, output, sweep_events, histories)


class LocalCloud:
    def __init__(self, params=None, template=None, host_dll=None, ready_timeout=60.0, extra_args=()):
        self.params = dict(params or {})
        self.template = template
        self.host_dll = host_dll
        self.ready_timeout = ready_timeout
        self.extra_args = list(extra_args)
        self.process = None
        self.ready = None
        self.startup_seconds = None
        self.log_path = None
        self._log = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self):
        """Starts the launcher and waits for its ready line; returns self."""
        if self.process is not None:
            raise LocalCloudError("already started")
        args = [sys.executable, str(LAUNCHER)]
        for key, value in self.params.items():
            args += ["--param", f"{key}={value}"]
        if self.template:
            args += ["--template", str(self.template)]
        if self.host_dll:
            args += ["--host-dll", str(self.host_dll)]
        args += self.extra_args
        self._log = tempfile.NamedTemporaryFile("w+", prefix="localcloud-", suffix=".log", delete=False)
        self.log_path = self._log.name
        started = time.monotonic()
        # Own session: stop() can make sure the launcher and the Lambda host are both gone.
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL,
                                        text=True, start_new_session=True, cwd=REPO)
        atexit.register(self.stop)
        line = self._read_line(self.ready_timeout)
        if not line:
            code = self.process.poll()
            self.stop()
            raise LocalCloudError(f"the local cloud did not get ready (exit code {code}):\n{self.log_text()}")
        self.startup_seconds = time.monotonic() - started
        self.ready = json.loads(line)
        return self

    def stop(self, timeout=15.0):
        """Stops the launcher (SIGTERM, then SIGKILL) and everything it started; returns its exit code."""
        process, self.process = self.process, None
        if process is None:
            return None
        atexit.unregister(self.stop)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        try:
            os.killpg(process.pid, signal.SIGKILL)  # whatever is left of our own session
        except (ProcessLookupError, PermissionError):
            pass
        if process.stdout:
            process.stdout.close()
        if self._log:
            self._log.close()
        return process.returncode

    def __enter__(self):
        return self.start() if self.process is None else self

    def __exit__(self, *exc):
        self.stop()

    def log_text(self):
        return Path(self.log_path).read_text(errors="replace") if self.log_path else ""

    def _read_line(self, timeout):
        result = {}
        reader = threading.Thread(target=lambda: result.setdefault("line", self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        return result.get("line")

    # --- ready info ----------------------------------------------------------------------------

    @property
    def endpoint(self):
        return self.ready["endpoint"]

    @property
    def region(self):
        return self.ready["region"]

    @property
    def table(self):
        return self.ready["table"]

    @property
    def lambda_endpoint(self):
        return self.ready["lambdaEndpoint"]

    @property
    def state_machines(self):
        return self.ready["stateMachines"]

    @property
    def pid(self):
        return self.process.pid if self.process else None

    # --- clients and helpers -------------------------------------------------------------------

    def client(self, service, endpoint=None, credentials=None):
        """A boto3 client for the local cloud (`endpoint` overrides, e.g. the Lambda host; `credentials`
        as STS returns them act in the assumed role's account)."""
        keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        if credentials:
            keys = {"aws_access_key_id": credentials["AccessKeyId"],
                    "aws_secret_access_key": credentials["SecretAccessKey"],
                    "aws_session_token": credentials["SessionToken"]}
        return boto3.session.Session().client(
            service, endpoint_url=endpoint or self.endpoint, region_name=self.region,
            # inject_host_prefix: StartSyncExecution would go to "sync-127.0.0.1"; read_timeout: it answers when the
            # Express execution ends, which may take its full 5 minutes.
            config=Config(retries={"total_max_attempts": 1}, inject_host_prefix=False, read_timeout=330), **keys)

    def lambda_client(self):
        return self.client("lambda", endpoint=self.lambda_endpoint)

    def start_execution_and_wait(self, execution_input, state_machine="reconcile", timeout=120.0, name=None):
        """Runs an execution to its end: (status, output or None, history events). `reconcile` is a sweep and the
        Apply executions it starts, as `reconcile()` runs them."""
        if state_machine == "reconcile":
            self.last_reconciliation = run = self.reconcile(execution_input, timeout)
            return run.status, run.output, run.history
        execution_arn = self.start_execution(execution_input, state_machine, name)
        described = self.wait_for_execution(execution_arn, timeout)
        output = described.get("output")
        return described["status"], json.loads(output) if output else None, self.execution_history(execution_arn)

    def reconcile(self, execution_input, timeout=120.0):
        """What EventBridge or an operator sets off: the sweep (Express, run synchronously here), then every Apply
        execution it started (the Apply machine's executions named `<link id>-<the sweep's name>`), to their end.
        The answer reads as one run: its status, the sweep's output with each handed-over link's Apply result in
        its place, and the Apply executions' histories, ending in one ExecutionFailed event when anything failed."""
        if isinstance(execution_input, (str, Path)) and Path(execution_input).is_file():
            execution_input = json.loads(Path(execution_input).read_text())
        mark = self.express_mark()
        sweep = self._stepfunctions().start_sync_execution(
            stateMachineArn=self.state_machines["sweep"], input=json.dumps(execution_input))
        applies = self._applies_of(sweep["name"])
        deadline = time.monotonic() + timeout
        finished = [self.wait_for_execution(arn, max(1.0, deadline - time.monotonic())) for arn in applies]
        described = self.post("sfn/express-execution", {"executionArn": sweep["executionArn"]})
        run = Reconciliation.of(sweep, described["events"], finished, [self.execution_history(arn) for arn in applies])
        run.sweep_express = described
        run.observes = self.express_executions(after=mark)
        return run

    def express_mark(self, state_machine="observe"):
        """How many Express executions the machine has started: pass it to express_executions(after=...) later."""
        return self.post("sfn/express-executions", {"stateMachineArn": self.state_machines[state_machine],
                                                    "after": 2 ** 31})["count"]  # past the end: the count alone

    def express_executions(self, state_machine="observe", after=0, events=True):
        """The machine's Express executions started after the mark, in start order, each with its `events`."""
        return self.post("sfn/express-executions", {"stateMachineArn": self.state_machines[state_machine],
                                                    "after": after, "events": events})["executions"]

    def _applies_of(self, sweep_name):
        arns, token = [], None
        while True:
            page = self._stepfunctions().list_executions(
                stateMachineArn=self.state_machines["apply"], maxResults=1000, **({"nextToken": token} if token else {}))
            arns += [e["executionArn"] for e in page["executions"] if e["name"].endswith(f"-{sweep_name}")]
            token = page.get("nextToken")
            if not token:
                return sorted(arns)

    def start_execution(self, execution_input, state_machine="apply", name=None):
        """Starts an execution (input: a dict, or the path of a JSON file) and returns its ARN; by default an Apply
        execution (one link's reconcile, with a history)."""
        if isinstance(execution_input, (str, Path)) and Path(execution_input).is_file():
            execution_input = json.loads(Path(execution_input).read_text())
        args = {"stateMachineArn": self.state_machines.get(state_machine, state_machine),
                "input": json.dumps(execution_input)}
        if name:
            args["name"] = name
        return self._stepfunctions().start_execution(**args)["executionArn"]

    def wait_for_execution(self, execution_arn, timeout=120.0):
        """DescribeExecution's answer once the execution is no longer RUNNING."""
        deadline = time.monotonic() + timeout
        while True:
            described = self._stepfunctions().describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise LocalCloudError(f"execution still running after {timeout} s: {execution_arn}")
            time.sleep(0.1)

    def execution_history(self, execution_arn):
        """Every history event of an execution, all pages."""
        events, token = [], None
        while True:
            page = self._stepfunctions().get_execution_history(
                executionArn=execution_arn, maxResults=1000, **({"nextToken": token} if token else {}))
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events

    def _stepfunctions(self):
        # One client per endpoint: making a boto3 client costs about as much CPU as a short execution.
        if getattr(self, "_sfn", (None, None))[0] != self.endpoint:
            self._sfn = (self.endpoint, self.client("stepfunctions"))
        return self._sfn[1]

    def post(self, path, body=None, method="POST"):
        """Calls a test-only route /_brokerlink/<path>; returns its JSON answer."""
        request = urllib.request.Request(f"{self.endpoint}/_brokerlink/{path}", method=method,
                                         data=None if method == "GET" else json.dumps(body or {}).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as e:
            raise LocalCloudError(f"{method} /_brokerlink/{path}: {e.code} {e.read().decode(errors='replace')}") from e

    def replace_broker(self, cluster_arn, broker_id):
        """Gives a broker a new ENI and IP: {"brokerId", "oldIp", "newIp"}."""
        return self.post("kafka/replace-broker", {"clusterArn": cluster_arn, "brokerId": broker_id})

    # --- EC2 brokers and interface endpoints ----------------------------------------------------

    def run_broker_instance(self, subnet_id, tags):
        """Runs a (broker) instance with these tags: {"instanceId", "ip", "subnetId"}."""
        return run_instance(self._ec2(), subnet_id, tags)

    def terminate_instance(self, instance_id):
        """Terminates an instance; it stays visible as `terminated`, as on AWS for a while."""
        self._ec2().terminate_instances(InstanceIds=[instance_id])

    def replace_broker_instance(self, instance_id):
        """A new instance with the old one's tags and subnet (and a new IP), then the old one terminated:
        {"oldInstanceId", "newInstanceId", "oldIp", "newIp"}."""
        old = self._ec2().describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        new = self.run_broker_instance(old["SubnetId"], {t["Key"]: t["Value"] for t in old.get("Tags", [])})
        self.terminate_instance(instance_id)
        return {"oldInstanceId": instance_id, "newInstanceId": new["instanceId"],
                "oldIp": old["PrivateIpAddress"], "newIp": new["ip"]}

    def add_endpoint_subnet(self, vpc_endpoint_id, subnet_id):
        """ModifyVpcEndpoint AddSubnetIds: the endpoint gets a network interface there; returns its IPs."""
        self._ec2().modify_vpc_endpoint(VpcEndpointId=vpc_endpoint_id, AddSubnetIds=[subnet_id])
        return endpoint_ips(self._ec2(), vpc_endpoint_id)

    def remove_endpoint_subnet(self, vpc_endpoint_id, subnet_id):
        """ModifyVpcEndpoint RemoveSubnetIds: that subnet's network interface goes; returns the IPs left."""
        self._ec2().modify_vpc_endpoint(VpcEndpointId=vpc_endpoint_id, RemoveSubnetIds=[subnet_id])
        return endpoint_ips(self._ec2(), vpc_endpoint_id)

    def endpoint_ips(self, vpc_endpoint_id):
        return endpoint_ips(self._ec2(), vpc_endpoint_id)

    def _ec2(self):
        if getattr(self, "_ec2_client", (None, None))[0] != self.endpoint:
            self._ec2_client = (self.endpoint, self.client("ec2"))
        return self._ec2_client[1]

    def set_config(self, **settings):
        """E.g. set_config(clusterActivationSeconds=0, updateSeconds=1); returns all settings."""
        return self.post("config", settings)

    def inject_fault(self, service, action, code=None, count=1, status=400, message=None, skip=0, account=None,
                     delay_seconds=0):
        """The next `count` calls of service/action fail with `code` (e.g. route53, ChangeResourceRecordSets,
        PriorRequestNotComplete). `skip`: let that many calls through first; `account`: only calls made in
        that account; `delay_seconds`: hold each call that long first (without a code it then succeeds)."""
        body = {"service": service, "action": action, "count": count, "status": status}
        optional = {"code": code, "message": message, "skip": skip, "account": account, "delaySeconds": delay_seconds}
        body.update({key: value for key, value in optional.items() if value})
        return self.post("faults", body)

    def clear_faults(self):
        return self.post("faults/clear")
