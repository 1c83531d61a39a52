#!/usr/bin/env python3
"""Starts BrokerLink's local cloud: moto (with localcloud/motoext) and the local Lambda host,
creates template.yaml's table and state machines in it, prints one JSON ready line on stdout
and runs until SIGINT/SIGTERM.

    python3 localcloud/launcher.py [--port N] [--lambda-port M] [--host-dll PATH]
                                   [--param Key=Value ...] [--template PATH] [--verbose]
"""

import argparse
import ctypes
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DLL = REPO / "src/LocalLambdaHost/bin/Release/net10.0/BrokerLink.LocalLambdaHost.dll"
REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "brokerlink"
LOCAL_PARAMS = {"ClusterPollSeconds": "1"}


class LaunchError(Exception):
    pass


# --- template.yaml ------------------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    pass


def _short_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_tag)


def load_template(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_CfnLoader)


NO_VALUE = object()  # AWS::NoValue: the property or list item is left out


class Stack:
    """Just enough of CloudFormation to resolve the values the local cloud needs (`account`: where it is
    deployed; `local_params`: defaults of the local cloud's own)."""

    def __init__(self, template, overrides, account=ACCOUNT, stack_name=STACK, local_params=LOCAL_PARAMS, region=REGION):
        self.account, self.stack_name, self.region = account, stack_name, region
        self.resources = template.get("Resources") or {}
        self.conditions = template.get("Conditions") or {}
        self.function_globals = ((template.get("Globals") or {}).get("Function") or {})
        self.params = {}
        for name, spec in (template.get("Parameters") or {}).items():
            if name in overrides:
                self.params[name] = overrides[name]
            elif name in local_params:
                self.params[name] = local_params[name]
            elif "Default" in spec:
                self.params[name] = spec["Default"]
            if spec.get("Type") == "CommaDelimitedList" and isinstance(self.params.get(name), str):
                self.params[name] = self.params[name].split(",")
        unknown = set(overrides) - set(template.get("Parameters") or {})
        if unknown:
            raise LaunchError(f"--param for unknown template parameters: {sorted(unknown)}")
        self.names = {}  # logical id -> physical name, filled in as resources are created

    def of_type(self, resource_type):
        return {k: v for k, v in self.resources.items() if v.get("Type") == resource_type}

    def environment(self):
        """The functions' environment variables from the template's Globals (the stack name, for the metric lines)."""
        variables = ((self.function_globals.get("Environment") or {}).get("Variables")) or {}
        return {name: str(self.resolve(value)) for name, value in variables.items()}

    def handlers(self):
        """Function logical id -> Handler (the function's own or the template's Globals)."""
        found = {}
        for name, resource in self.of_type("AWS::Serverless::Function").items():
            handler = (resource.get("Properties") or {}).get("Handler") or self.function_globals.get("Handler")
            if handler:
                found[name] = self.resolve(handler)
        return found

    def ref(self, name):
        pseudo = {"AWS::Region": self.region, "AWS::AccountId": self.account, "AWS::StackName": self.stack_name,
                  "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": NO_VALUE}
        if name in pseudo:
            return pseudo[name]
        if name in self.params:
            return self.params[name]
        if name in self.resources:
            if self.resources[name].get("Type") == "AWS::Serverless::StateMachine":
                return self.get_att(name, "Arn")  # a state machine's Ref is its ARN
            return self.physical(name)
        raise LaunchError(f"!Ref {name}: no such parameter or resource (give it with --param {name}=...)")

    def roles(self):
        """Logical id -> (properties) of every IAM role: the template's, and the one SAM makes for a state machine
        without `Role` (`<logical id>Role`, trusting states.amazonaws.com, its `Policies` statements inline)."""
        found = {name: r.get("Properties") or {} for name, r in self.of_type("AWS::IAM::Role").items()}
        for name, machine in self.of_type("AWS::Serverless::StateMachine").items():
            props = machine.get("Properties") or {}
            if "Role" not in props:
                policies = []
                for i, policy in enumerate(props.get("Policies") or []):
                    if not isinstance(policy, dict) or "Statement" not in policy:
                        raise LaunchError(f"{name}: only inline policy statements are supported in Policies")
                    policies.append({"PolicyName": f"{name}RolePolicy{i}", "PolicyDocument": {"Version": "2012-10-17", **policy}})
                found[f"{name}Role"] = {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": ["states.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}]},
                    "Policies": policies}
        return found

    def role_arn(self, name):
        props = self.roles()[name]
        role_name = self.resolve(props.get("RoleName")) or f"{self.stack_name}-{name}"
        return f"arn:aws:iam::{self.account}:role{self.resolve(props.get('Path')) or '/'}{role_name}"

    def physical(self, name):
        kind = self.resources[name].get("Type")
        if kind == "AWS::Serverless::Function":
            return name
        if kind == "AWS::IAM::Role":
            return self.role_arn(name).rsplit("/", 1)[1]
        if name in self.names:
            return self.names[name]
        raise LaunchError(f"cannot resolve resource {name} ({kind}) in the local cloud")

    def get_att(self, name, attribute):
        if attribute == "Arn" and name in self.roles():
            return self.role_arn(name)
        if name not in self.resources:
            raise LaunchError(f"!GetAtt {name}.{attribute}: no such resource")
        kind = self.resources[name].get("Type")
        arns = {
            "AWS::Serverless::Function": f"arn:aws:lambda:{REGION}:{self.account}:function:{name}",
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{self.account}:table/{self.names.get(name)}",
            "AWS::Serverless::StateMachine": f"arn:aws:states:{REGION}:{self.account}:stateMachine:{self.names.get(name)}",
        }
        if attribute == "Arn" and kind in arns:
            return arns[kind]
        if attribute == "Name":
            return self.physical(name)
        raise LaunchError(f"!GetAtt {name}.{attribute} is not supported by the local cloud")

    def resolve(self, value):
        if isinstance(value, list):
            return [v for v in (self.resolve(v) for v in value) if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not NO_VALUE}
        (key, arg), = value.items()
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::GetAtt":
            return self.get_att(*(arg.split(".", 1) if isinstance(arg, str) else arg))
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
            return self.sub(text, variables)
        if key == "Fn::Join":
            items = self.resolve(arg[1])
            return str(arg[0]).join(str(v) for v in (items if isinstance(items, list) else [items]))
        if key == "Fn::Split":
            return str(self.resolve(arg[1])).split(arg[0])
        if key == "Fn::If":
            return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
        if key.startswith("Fn::"):
            raise LaunchError(f"{key} is not supported by the local cloud")
        resolved = self.resolve(arg)
        return NO_VALUE if resolved is NO_VALUE else {key: resolved}

    def condition(self, name):
        if name not in self.conditions:
            raise LaunchError(f"no such condition: {name}")
        return self._holds(self.conditions[name])

    def _holds(self, expression):
        (key, arg), = expression.items()
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Equals":
            return str(self.resolve(arg[0])) == str(self.resolve(arg[1]))
        if key == "Fn::Not":
            return not self._holds(arg[0])
        if key in ("Fn::And", "Fn::Or"):
            results = [self._holds(a) for a in arg]
            return all(results) if key == "Fn::And" else any(results)
        raise LaunchError(f"condition function {key} is not supported by the local cloud")

    def sub(self, text, variables):
        out, i = [], 0
        while i < len(text):
            start = text.find("${", i)
            if start < 0:
                out.append(text[i:])
                break
            end = text.index("}", start)
            out.append(text[i:start])
            name = text[start + 2:end]
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            elif name in variables:
                out.append(str(variables[name]))
            elif "." in name:
                out.append(str(self.get_att(*name.split(".", 1))))
            else:
                out.append(str(self.ref(name)))
            i = end + 1
        return "".join(out)


# --- processes and servers ---------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    # Linux: the host gets SIGTERM if this launcher dies without cleaning up (e.g. SIGKILL).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def start_lambda_host(dll, port, functions, environment=None):
    if not dll.is_file():
        raise LaunchError(f"the local Lambda host is not built: {dll} is missing; run ./build.sh first")
    if not functions:
        raise LaunchError("template.yaml has no AWS::Serverless::Function with a Handler")
    args = ["dotnet", str(dll), "--port", str(port)]
    for name, handler in functions.items():
        args += ["--function", f"{name}={handler}"]
    env = dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT="1", DOTNET_NOLOGO="1", **(environment or {}))
    return subprocess.Popen(args, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env,
                            preexec_fn=_die_with_parent)


def wait_lambda_host(process, timeout):
    result = {}

    def read_ready():
        result["line"] = process.stdout.readline()

    reader = threading.Thread(target=read_ready, daemon=True)
    reader.start()
    reader.join(timeout)
    line = result.get("line")
    if not line:
        process.kill()
        raise LaunchError(f"the local Lambda host did not start (exit code {process.poll()}); see its errors above")
    if not json.loads(line).get("ready"):
        raise LaunchError(f"unexpected first line from the local Lambda host: {line!r}")

    def forward():
        # Handler log lines (EMF metrics...) go to stderr: stdout carries only the ready line.
        for text in process.stdout:
            sys.stderr.write(f"[lambda] {text}")

    threading.Thread(target=forward, daemon=True).start()


def start_moto(port, lambda_endpoint):
    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import motoext

    app = motoext.wsgi(DomainDispatcherApplication(create_backend_app))
    try:
        server = make_server("127.0.0.1", port, app, threaded=True)
    except OSError as e:
        raise LaunchError(f"cannot listen on 127.0.0.1:{port}: {e.strerror}") from e
    motoext.install(lambda_endpoint, f"http://127.0.0.1:{server.server_port}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- resources ---------------------------------------------------------------------------------


def create_resources(stack, endpoint, template_dir):
    import boto3

    def client(service):
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    request = urllib.request.Request(
        f"{endpoint}/moto-api/config", method="POST",
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
        headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()

    tables = {}
    table_keys = ("KeySchema", "AttributeDefinitions", "BillingMode", "ProvisionedThroughput",
                  "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification", "SSESpecification")
    table_resources = stack.of_type("AWS::DynamoDB::Table")
    for logical_id, resource in table_resources.items():
        raw = resource.get("Properties") or {}
        props = {k: stack.resolve(v) for k, v in raw.items() if k in table_keys + ("TableName", "TimeToLiveSpecification")}
        name = props.get("TableName") or (STACK if len(table_resources) == 1 else f"{STACK}-{logical_id}")
        args = {k: v for k, v in props.items() if k in table_keys}
        # CloudFormation's names where the API's differ.
        if "StreamSpecification" in args:
            args["StreamSpecification"] = dict(args["StreamSpecification"], StreamEnabled=True)
        if "SSESpecification" in args:
            sse = dict(args["SSESpecification"])
            sse["Enabled"] = sse.pop("SSEEnabled", False)
            args["SSESpecification"] = sse
        args.setdefault("BillingMode", "PROVISIONED" if "ProvisionedThroughput" in args else "PAY_PER_REQUEST")
        client("dynamodb").create_table(TableName=name, **args)
        if props.get("TimeToLiveSpecification"):
            client("dynamodb").update_time_to_live(TableName=name,
                                                   TimeToLiveSpecification=props["TimeToLiveSpecification"])
        stack.names[logical_id] = name
        tables[logical_id] = name

    machines = {}
    sfn = client("stepfunctions")
    state_machines = stack.of_type("AWS::Serverless::StateMachine")
    for logical_id, resource in state_machines.items():  # named first: the roles' policies name them
        key = logical_id.removesuffix("StateMachine").lower() or logical_id.lower()
        stack.names[logical_id] = stack.resolve((resource.get("Properties") or {}).get("Name")) or f"{STACK}-{key}"
    deploy_roles(stack, client("iam"))
    for logical_id, resource in state_machines.items():
        props = resource.get("Properties") or {}
        key = logical_id.removesuffix("StateMachine").lower() or logical_id.lower()
        name = stack.names[logical_id]
        role_arn = stack.resolve(props["Role"]) if "Role" in props else stack.role_arn(f"{logical_id}Role")
        if "DefinitionUri" in props:
            uri = stack.resolve(props["DefinitionUri"])
            if not isinstance(uri, str):
                raise LaunchError(f"{logical_id}: DefinitionUri must be a local file path")
            text = (template_dir / uri).read_text(encoding="utf-8")
        elif "Definition" in props:
            text = json.dumps(stack.resolve(props["Definition"]))
        else:
            raise LaunchError(f"{logical_id}: needs DefinitionUri or Definition")
        # CloudFormation substitutes ${Key} in the definition text; other ${...} stay as they are.
        for sub_key, value in stack.resolve(props.get("DefinitionSubstitutions") or {}).items():
            value = json.dumps(value) if isinstance(value, bool) else str(value)
            text = text.replace("${" + sub_key + "}", value)
        try:
            json.loads(text)
        except ValueError as e:
            raise LaunchError(f"{logical_id}: the definition is not valid JSON after substitution: {e}") from e
        machines[key] = sfn.create_state_machine(
            name=name, definition=text, roleArn=role_arn,
            type=stack.resolve(props.get("Type")) or "STANDARD")["stateMachineArn"]
    return tables, machines


def delete_role(iam, name):
    """Deletes the role and its inline policies (IAM refuses to delete a role that still has any), if it exists."""
    try:
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        iam.delete_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        pass


def deploy_roles(stack, iam):
    """Creates (or replaces, as a stack update would) the stack's IAM roles with their trust and inline policies."""
    for logical_id, props in stack.roles().items():
        name, path = stack.role_arn(logical_id).rsplit("/", 1)[1], stack.resolve(props.get("Path")) or "/"
        delete_role(iam, name)
        iam.create_role(RoleName=name, Path=path,
                        AssumeRolePolicyDocument=json.dumps(stack.resolve(props["AssumeRolePolicyDocument"])),
                        MaxSessionDuration=int(stack.resolve(props.get("MaxSessionDuration") or 3600)))
        for policy in stack.resolve(props.get("Policies") or []):
            iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                                PolicyDocument=json.dumps(policy["PolicyDocument"]))


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="moto's port (default: a free port)")
    parser.add_argument("--lambda-port", type=int, default=0, help="the Lambda host's port (default: a free port)")
    parser.add_argument("--host-dll", type=Path, default=DEFAULT_DLL, help="BrokerLink.LocalLambdaHost.dll")
    parser.add_argument("--template", type=Path, default=REPO / "template.yaml")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="override a template parameter (ClusterPollSeconds defaults to 1 here)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--param expects KEY=VALUE, got {item!r}")
        overrides[key] = value
    args.overrides = overrides
    return args


def main(argv=None):
    args = parse_args(argv)
    ready_out = sys.stdout
    sys.stdout = sys.stderr  # anything else printed (moto, werkzeug) must not pollute the ready line
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # A failed state is in the execution history; moto also logs it at length as an error.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)

    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())

    started = time.monotonic()
    host = server = None
    try:
        if not args.template.is_file():
            raise LaunchError(f"template not found: {args.template}")
        template = load_template(args.template)
        stack = Stack(template, args.overrides)
        functions = stack.handlers()
        lambda_port = args.lambda_port or free_port()
        lambda_endpoint = f"http://127.0.0.1:{lambda_port}"
        host = start_lambda_host(args.host_dll, lambda_port, functions, stack.environment())  # starts while moto is imported
        server = start_moto(args.port, lambda_endpoint)
        endpoint = f"http://127.0.0.1:{server.server_port}"
        wait_lambda_host(host, timeout=30)
        tables, machines = create_resources(stack, endpoint, args.template.resolve().parent)
        ready = {
            "endpoint": endpoint,
            "region": REGION,
            "stateMachines": machines,
            "table": tables.get("LinksTable") or next(iter(tables.values()), None),
            "lambdaEndpoint": lambda_endpoint,
        }
        ready_out.write(json.dumps(ready) + "\n")
        ready_out.flush()
        sys.stderr.write(f"localcloud: ready in {time.monotonic() - started:.1f} s at {endpoint}\n")
        exit_code = 0
        while not stopping.wait(0.5):
            if host.poll() is not None:
                sys.stderr.write(f"localcloud: the Lambda host exited with code {host.returncode}\n")
                exit_code = 1
                break
        return exit_code
    except LaunchError as e:
        sys.stderr.write(f"localcloud: {e}\n")
        return 1
    finally:
        if host is not None and host.poll() is None:
            host.terminate()
            try:
                host.wait(10)
            except subprocess.TimeoutExpired:
                host.kill()
                host.wait()
        if server is not None:
            server.shutdown()
            server.block_on_close = False  # keep-alive connections would hold server_close for seconds
            server.server_close()


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    # Executions still running inside moto (a Wait state, say) must not keep the process alive.
    os._exit(code)
