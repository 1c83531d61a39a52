"""Step Functions interpreter fixes.

* aws-sdk tasks speak Step Functions' dialect (`_dialect.py`): parameters only under the Java SDK v2
  names (`Ttl`, `DnsName`, `VpcId`; anything else fails the execution with States.Runtime, and a
  definition naming a field Step Functions does not know is refused at CreateStateMachine), responses
  re-cased the same way, timestamps as text, error names as AWS gives them (modelled errors
  `ElasticLoadBalancingV2.TargetGroupNotFoundException`, unmodelled ones such as rate throttling
  `ElasticLoadBalancingV2.ElasticLoadBalancingV2Exception`); `elasticloadbalancingv2` maps to boto3's
  `elbv2`; a task acts in the account of its role (assumed and checked for each call: `iam_tasks.py`).
* The optimized DynamoDB integration (`arn:aws:states:::dynamodb:putItem`) takes only its documented
  fields and names errors `DynamoDB.<Code>Exception`.
* Lambda tasks call the local Lambda host instead of moto's Docker-based Lambda.
* StartExecution works more than once per server and without a name.
"""

import copy
import datetime
import json
import logging
import sys
import threading
import uuid

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from moto.core import DEFAULT_ACCOUNT_ID
from moto.stepfunctions.models import StateMachineInstance
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.core.exceptions import AWSError
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.api import InvalidDefinition as _MotoInvalidDefinition
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb import (
    StateTaskServiceDynamoDB,
)

from . import ENDPOINTS, _dialect

_dynamodb_error_cause = StateTaskServiceDynamoDB._error_cause_from_client_error

_clients = {}
_clients_lock = threading.RLock()


def client_for(region, service, state_credentials=None):
    """Replaces moto's boto_client_for: Lambda calls go to the local Lambda host, the rest to this moto, in the
    account of the role the task acts as (a task's Credentials.RoleArn, or the state machine's role). The role
    itself is assumed and checked for each call by `iam_tasks`; a client holds no credentials of it."""
    endpoint = ENDPOINTS["lambda"] if service == "lambda" else ENDPOINTS["moto"]
    role_arn = getattr(state_credentials, "role_arn", None) if service != "lambda" else None
    account = role_arn.split(":")[4] if role_arn and role_arn.count(":") >= 5 else DEFAULT_ACCOUNT_ID
    key = (service, region, endpoint, account)
    with _clients_lock:
        if key not in _clients:
            client = boto3.session.Session().client(
                service,
                region_name=region,
                endpoint_url=endpoint,
                # Validation on: a wrong parameter name fails the task, as AWS rejects it.
                config=Config(
                    inject_host_prefix=False,  # StartSyncExecution's "sync-" host prefix would leave 127.0.0.1
                    retries={"total_max_attempts": 1},
                    connect_timeout=10,
                    read_timeout=300,
                    max_pool_connections=50,
                ),
                aws_access_key_id="ak",
                aws_secret_access_key="sk",
            )
            if account != DEFAULT_ACCOUNT_ID:
                # moto acts in the account this header names (moto.core.responses.get_current_account).
                client.meta.events.register(
                    "before-sign", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
            _clients[key] = client
        return _clients[key]


class _DialectRefused(Exception):
    """A request Step Functions would not send: the task fails with States.Runtime, as AWS fails it."""

    def __init__(self, refusal, raw_parameters):
        super().__init__(str(refusal))
        self.refusal, self.raw_parameters = refusal, raw_parameters


def _normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
    # Only Step Functions' own spelling passes (Ttl, DnsName, VpcId; not TTL, DNSName, VPCId), at every depth.
    operation = _dialect.operation(self._get_boto_service_name(boto_service_name), self._get_boto_service_action(service_action_name))
    if operation is not None and operation.input_shape is not None:
        raw = json.dumps(parameters, separators=(",", ":"), default=str)
        try:
            _dialect.to_boto(parameters, operation.input_shape)
        except _dialect.UnsupportedField as refusal:
            raise _DialectRefused(refusal, raw) from None


def _normalise_response(self, response, boto_service_name=None, service_action_name=None):
    # Step Functions re-cases response members the same way (DNSName -> DnsName, AttachedENIId -> AttachedEniId).
    operation = _dialect.operation(self._get_boto_service_name(boto_service_name), self._get_boto_service_action(service_action_name))
    if operation is not None and operation.output_shape is not None:
        _dialect.from_boto(response, operation.output_shape)
    _timestamps_to_text(response)


def _timestamps_to_text(value):
    # boto3 parses timestamps into datetimes; state data must stay JSON (moto's DescribeExecution
    # fails on them), so write them as ISO 8601 UTC text.
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in list(items):
        if isinstance(item, datetime.datetime):
            utc = item.astimezone(datetime.timezone.utc) if item.tzinfo else item
            value[key] = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
        else:
            _timestamps_to_text(item)


def _runtime_failure(env, state, cause):
    return FailureEvent(
        env=env,
        error_name=StatesErrorName(typ=StatesErrorNameType.StatesRuntime),
        event_type=HistoryEventType.TaskFailed,
        event_details=EventDetails(
            taskFailedEventDetails=TaskFailedEventDetails(
                error=StatesErrorNameType.StatesRuntime.to_name(),
                cause=cause,
                resource=state._get_sfn_resource(),
                resourceType=state._get_sfn_resource_type(),
            )
        ),
    )


_aws_sdk_from_error = StateTaskServiceAwsSdk._from_error


def _aws_sdk_error(self, env, ex):
    if isinstance(ex, _DialectRefused):
        # UNVERIFIED wording; the outcome (the execution fails, no Catch takes it) is AWS's for parameters it refuses.
        parameters = ex.raw_parameters if len(ex.raw_parameters) <= 2000 else ex.raw_parameters[:2000] + "..."
        return _runtime_failure(env, self, f"The Parameters '{parameters}' could not be used to start the Task: [{ex}]")
    if isinstance(ex, ParamValidationError):
        return _runtime_failure(env, self, f"The Parameters could not be used to start the Task: [{ex}]")
    if isinstance(ex, ClientError):
        service = self.resource.api_name
        error = _dialect.error_name(service, ex.response.get("Error", {}).get("Code", ""))
        metadata = ex.response.get("ResponseMetadata", {})
        cause = (f"{ex.response.get('Error', {}).get('Message', '')} (Service: {_dialect.error_prefix(service)}, "
                 f"Status Code: {metadata.get('HTTPStatusCode')}, Request ID: {metadata.get('RequestId')})")
        return self._get_task_failure_event(env=env, error=error, cause=cause)
    return _aws_sdk_from_error(self, env, ex)


def _optimized_dynamodb_error(client_error):
    error, cause = _dynamodb_error_cause(client_error)
    return _dialect.optimized_dynamodb_error_name(client_error.response["Error"]["Code"]), cause


# The fields the optimized DynamoDB integration takes (AWS docs, connect-ddb: GetItem, PutItem, UpdateItem and
# DeleteItem with the API's own request members); moto silently drops any other, AWS refuses it.
def _optimized_dynamodb_fields(action):
    operation = _dialect.operation("dynamodb", action)
    return set(operation.input_shape.members) if operation is not None else None


def _definition_errors(definition):
    """Why Step Functions would refuse the definition's aws-sdk and optimized DynamoDB tasks, as (message, where)."""
    try:
        document = json.loads(definition)
    except ValueError:
        return []  # moto's own parser reports it
    errors = []

    def visit(states, where):
        for name, state in (states or {}).items():
            at = f"{where}/States/{name}"
            resource = state.get("Resource", "") if state.get("Type") == "Task" else ""
            parameters = state.get("Parameters") or {}
            if resource.startswith("arn:aws:states:::aws-sdk:"):
                service, action = resource.split(":")[6:8]
                operation = _dialect.operation(_dialect.boto_service(service), action.split(".")[0])
                if operation is None:
                    errors.append((f"The resource provided {resource} is not recognized", at))
                elif operation.input_shape is not None:
                    for field, path, expected in _dialect.field_errors(parameters, operation.input_shape, "", literal_only=True):
                        hint = f' (Step Functions spells it "{expected}")' if expected else ""
                        errors.append((f'The field "{field}" is not supported by Step Functions{hint}',
                                       f"{at}/Parameters{path.replace('.', '/')}"))
            elif resource.startswith("arn:aws:states:::dynamodb:"):
                fields = _optimized_dynamodb_fields(resource.split(":")[-1])
                for key in parameters:
                    field = key[:-2] if key.endswith(".$") else key
                    if fields is not None and field not in fields:
                        errors.append((f'The field "{field}" is not supported by Step Functions', f"{at}/Parameters"))
            for branch in state.get("Branches", []):
                visit(branch.get("States"), at)
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                visit(processor.get("States"), at)

    visit(document.get("States"), "")
    return errors


class InvalidDefinition(AWSError):
    # moto's own InvalidDefinition answers with an empty error code.
    TYPE = "InvalidDefinition"
    STATUS = 400


_validate_definition = StepFunctionsParserBackend._validate_definition


def _validate_definition_in_dialect(definition):
    try:
        _validate_definition(definition)
    except _MotoInvalidDefinition as e:
        raise InvalidDefinition(str(e)) from None
    errors = _definition_errors(definition)
    if errors:
        raise InvalidDefinition(message="Invalid State Machine Definition: '" + ", ".join(
            f"SCHEMA_VALIDATION_FAILED: {message} at {where}" for message, where in errors) + "'")


def _dynamodb_parameters(self, env):
    # moto drops a field the integration does not take; AWS fails the task (States.Runtime), which is what is kept here.
    if self.parargs is not None:
        self.parargs.eval(env=env)
        parameters = env.stack.pop()
        unknown = sorted(set(parameters) - (_optimized_dynamodb_fields(self.resource.api_action) or set(parameters)))
        if unknown:
            raise _DialectRefused(f'The field "{unknown[0]}" is not supported by Step Functions',
                                  json.dumps(parameters, separators=(",", ":"), default=str))
    return StateTask._eval_parameters(self, env)  # looked up now: stepfunctions_limits measures it


_dynamodb_from_error = StateTaskServiceDynamoDB._from_error


def _dynamodb_error(self, env, ex):
    if isinstance(ex, _DialectRefused):
        return _runtime_failure(env, self, f"The Parameters '{ex.raw_parameters[:2000]}' could not be used to start the Task: [{ex}]")
    return _dynamodb_from_error(self, env, ex)


def _dynamodb_response(self, response, boto_service_name=None, service_action_name=None):
    # The optimized integration hands back the Java SDK v1 result: the API's members plus the HTTP metadata.
    if isinstance(response, dict):
        request_id = str(uuid.uuid4())
        response["SdkHttpMetadata"] = {
            "AllHttpHeaders": {"Content-Type": ["application/x-amz-json-1.0"], "x-amzn-RequestId": [request_id]},
            "HttpHeaders": {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": request_id},
            "HttpStatusCode": 200,
        }
        response["SdkResponseMetadata"] = {"RequestId": request_id}


def _state_machine_deepcopy(self, memo):
    # StartExecution deep-copies the state machine; moto's copy reaches the backend and every
    # running execution (locks, threads) and fails from the second execution on.
    clone = copy.copy(self)
    memo[id(self)] = clone
    for name, value in vars(self).items():
        if name == "backend":
            continue
        setattr(clone, name, [] if name == "executions" else copy.deepcopy(value, memo))
    return clone


_start_execution = StepFunctionsParserBackend.start_execution


def _start_execution_named(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
    # Without a name, moto's interpreter names every execution "None": the second one then "already exists".
    return _start_execution(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)


def install():
    StateMachineInstance.__deepcopy__ = _state_machine_deepcopy
    StepFunctionsParserBackend.start_execution = _start_execution_named
    StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES.update({"elasticloadbalancingv2": "elbv2"})
    StateTaskServiceAwsSdk._normalise_parameters = _normalise_parameters
    StateTaskServiceAwsSdk._normalise_response = _normalise_response
    StateTaskServiceAwsSdk._from_error = _aws_sdk_error
    StateTaskServiceDynamoDB._error_cause_from_client_error = staticmethod(_optimized_dynamodb_error)
    StateTaskServiceDynamoDB._eval_parameters = _dynamodb_parameters
    StateTaskServiceDynamoDB._from_error = _dynamodb_error
    StateTaskServiceDynamoDB._normalise_response = _dynamodb_response
    StepFunctionsParserBackend._validate_definition = staticmethod(_validate_definition_in_dialect)

    # boto_client_for is imported by name into many interpreter modules: patch it where it is used.
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils  # noqa: F401
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_factory  # noqa: F401
    import moto.stepfunctions.parser.asl.utils.boto_client as boto_client

    boto_client.boto_client_for = client_for
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and hasattr(module, "boto_client_for"):
            module.boto_client_for = client_for

    # Maps of typed values (DynamoDB items) are not re-cased; moto logs a warning for each.
    logging.getLogger("moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service").setLevel(
        logging.ERROR
    )
