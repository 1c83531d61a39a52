"""Step Functions interpreter fixes.

* aws-sdk tasks: `elasticloadbalancingv2` maps to boto3's `elbv2`; parameters are accepted in
  Step Functions' casing, responses re-cased as Step Functions does, timestamps become text;
  error names follow AWS (`ElasticLoadBalancingV2.TargetGroupNotFoundException`); a task's
  Credentials.RoleArn in another account is assumed (moto then acts in that account).
* Lambda tasks call the local Lambda host instead of moto's Docker-based Lambda.
* StartExecution works more than once per server and without a name.
"""

import copy
import datetime
import logging
import sys
import threading
import uuid

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.utils import get_service_model
from moto.stepfunctions.models import StateMachineInstance
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk,
)

from . import ENDPOINTS

# aws-sdk service name -> boto3 client name, where they differ.
BOTO_NAMES = {"elasticloadbalancingv2": "elbv2"}

# aws-sdk service name -> the service name Step Functions puts in error names.
ERROR_SERVICE_NAMES = {
    "elasticloadbalancingv2": "ElasticLoadBalancingV2",
    "route53": "Route53",
    "kafka": "Kafka",
    "ec2": "Ec2",
    "dynamodb": "DynamoDb",
    "sfn": "Sfn",
    "sts": "Sts",
    "iam": "Iam",
}

_clients = {}
_clients_lock = threading.RLock()
_models = {}


def client_for(region, service, state_credentials=None):
    """Replaces moto's boto_client_for: Lambda calls go to the local Lambda host, the rest to this
    moto; a task's Credentials.RoleArn in another account is assumed, so its calls land there."""
    endpoint = ENDPOINTS["lambda"] if service == "lambda" else ENDPOINTS["moto"]
    role_arn = getattr(state_credentials, "role_arn", None) if service != "lambda" else None
    if not role_arn or role_arn.split(":")[4:5] == [DEFAULT_ACCOUNT_ID]:
        role_arn = None
    key = (service, region, endpoint, role_arn)
    with _clients_lock:
        if key not in _clients:
            keys = {"aws_access_key_id": "ak", "aws_secret_access_key": "sk"}
            if role_arn:
                assumed = client_for(region, "sts").assume_role(RoleArn=role_arn, RoleSessionName="brokerlink-local")
                credentials = assumed["Credentials"]
                keys = {"aws_access_key_id": credentials["AccessKeyId"],
                        "aws_secret_access_key": credentials["SecretAccessKey"],
                        "aws_session_token": credentials["SessionToken"]}
            _clients[key] = boto3.session.Session().client(
                service,
                region_name=region,
                endpoint_url=endpoint,
                # Validation on: a wrong parameter name fails the task, as AWS rejects it.
                config=Config(
                    retries={"total_max_attempts": 1},
                    connect_timeout=10,
                    read_timeout=300,
                    max_pool_connections=50,
                ),
                **keys,
            )
        return _clients[key]


def _operation(service, snake_action):
    key = (service, snake_action)
    if key not in _models:
        model = get_service_model(service)
        by_snake = {botocore.xform_name(name): name for name in model.operation_names}
        _models[key] = model.operation_model(by_snake[snake_action]) if snake_action in by_snake else None
    return _models[key]


def _normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
    # Step Functions takes parameters in its own PascalCase (Ttl, DnsName) as well as the API's (TTL, DNSName).
    operation = _operation(self._get_boto_service_name(boto_service_name), self._get_boto_service_action(service_action_name))
    if operation is not None and operation.input_shape is not None:
        self._to_boto_request(parameters, operation.input_shape)


def _normalise_response(self, response, boto_service_name=None, service_action_name=None):
    # Step Functions re-cases response members (DNSName -> DnsName, AttachedENIId -> AttachedEniId, TTL -> Ttl).
    operation = _operation(self._get_boto_service_name(boto_service_name), self._get_boto_service_action(service_action_name))
    if operation is not None and operation.output_shape is not None:
        self._from_boto_response(response, operation.output_shape)
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


def _service_error_name(service_name):
    return ERROR_SERVICE_NAMES.get(service_name.lower(), service_name[:1].upper() + service_name[1:])


def _exception_name(norm_service_name, ex):
    # AWS: "<ServiceName>.<ErrorCode>", with "Exception" appended when the code lacks it.
    code = ex.response.get("Error", {}).get("Code") if isinstance(ex, ClientError) else None
    name = f"{norm_service_name}.{code or ex.__class__.__name__}"
    return name if name.endswith("Exception") else name + "Exception"


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
    StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES.update(BOTO_NAMES)
    StateTaskServiceAwsSdk._normalise_parameters = _normalise_parameters
    StateTaskServiceAwsSdk._normalise_response = _normalise_response
    StateTaskServiceAwsSdk._normalise_service_error_name = staticmethod(_service_error_name)
    StateTaskServiceAwsSdk._normalise_exception_name = staticmethod(_exception_name)

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
