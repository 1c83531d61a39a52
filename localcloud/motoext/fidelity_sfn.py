"""The Step Functions service integration (`arn:aws:states:::states:startExecution[.sync[:2]]`) as AWS runs it.

moto 5.2.1 passes the task's parameters to boto3 as written (`StateMachineArn`, `Input`), which
boto3 rejects, and hands back boto3's camelCase response (`executionArn`), where its own
`.sync` resolvers read `ExecutionArn`: the integration fails either way. Here parameters are
mapped to the API's members and responses re-cased as Step Functions returns them
(`ExecutionArn`, `StartDate`; for `.sync:2` the DescribeExecution output with `Output` and
`Input` as JSON), timestamps as text.
"""

from botocore import xform_name
from moto.core.utils import get_service_model
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)

from .stepfunctions import _timestamps_to_text

_original = {}


def _operation(snake_action):
    model = get_service_model("stepfunctions")
    for name in model.operation_names:
        if xform_name(name) == snake_action:
            return model.operation_model(name)
    return None


def _normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
    _original["parameters"](self, parameters, boto_service_name, service_action_name)  # Input becomes JSON text
    operation = _operation(self._get_boto_service_action(service_action_name))
    if operation is not None and operation.input_shape is not None:
        self._to_boto_request(parameters, operation.input_shape)


def _normalise_response(self, response, boto_service_name=None, service_action_name=None):
    operation = _operation(self._get_boto_service_action(service_action_name))
    if operation is not None and operation.output_shape is not None:
        self._from_boto_response(response, operation.output_shape)
    _timestamps_to_text(response)


def install():
    if _original:
        return
    _original["parameters"] = StateTaskServiceSfn._normalise_parameters
    StateTaskServiceSfn._normalise_parameters = _normalise_parameters
    StateTaskServiceSfn._normalise_response = _normalise_response
