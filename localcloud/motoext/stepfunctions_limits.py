"""Step Functions' payload limit and terminal errors, as AWS enforces them (moto checks a state's output
only, reports an oversized one as States.Runtime without naming the state, and lets States.ALL catch it).

* 256 KiB (262,144 bytes of UTF-8) per state input after Parameters, per task result and per state output:
  past it the execution fails with `States.DataLimitExceeded`, cause naming the state. AWS docs,
  concepts-error-handling: "reported due to: the output of a connector is larger than payload size quota;
  the output of a state is larger than payload size quota; after Parameters processing, the input of a state
  is larger than the payload size quota"; limits-overview: "Maximum input or output size for a task, state,
  or execution: 256 KiB of data as a UTF-8 encoded string".
* `States.DataLimitExceeded` and `States.Runtime` are terminal: no Retry or Catch takes them, `States.ALL`
  included (concepts-error-handling: "States.ALL ... can't catch the States.DataLimitExceeded terminal error
  and Runtime error types"). The whole execution fails.
* StartExecution refuses an input over 256 KiB (`ValidationException`, the API model's length constraint on
  `input`), and it never starts.

Test-only: `POST /_brokerlink/sfn/largest-state {"executionArn"}` answers the largest payload the execution
passed (`{"bytes", "state", "what"}`: a state's input after Parameters, a task's result or a state's output),
so tests can hold the state machines to a budget below the limit.
"""

import json
import threading

from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

from . import ApiError, route

LIMIT_BYTES = 256 * 1024
TERMINAL = {StatesErrorNameType.StatesStatesDataLimitExceeded, StatesErrorNameType.StatesRuntime}

_largest = {}
_lock = threading.Lock()


def _size(value):
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return len(text.encode("utf-8"))


def _execution_arn(env):
    try:
        return env.states.context_object.context_object_data["Execution"]["Id"]
    except (AttributeError, KeyError, TypeError):
        return None


def measure(env, state_name, what, value):
    """Records the payload's size against its execution; past the limit the execution fails as AWS fails it."""
    size = _size(value)
    arn = _execution_arn(env)
    if arn is not None:
        with _lock:
            if size > _largest.get(arn, {}).get("bytes", -1):
                if arn not in _largest and len(_largest) >= 20000:
                    _largest.pop(next(iter(_largest)))
                _largest[arn] = {"bytes": size, "state": state_name, "what": what}
    if size <= LIMIT_BYTES:
        return
    verb = {"input": "has an input", "result": "returned a result", "output": "returned a result"}[what]
    cause = (f"The state/task '{state_name}' {verb} with a size exceeding the maximum number of bytes service limit "
             f"({size} bytes; the limit is {LIMIT_BYTES}).")
    error = StatesErrorNameType.StatesStatesDataLimitExceeded
    raise FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=error),
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(error=error.to_name(), cause=cause)),
        )
    )


def _state_output_quota(self, env, value):
    measure(env, self.name, "output", value)


def _task_result_quota(self, env, value):
    measure(env, self.name, "result", value)


def _parameters_within_quota(original):
    def evaluate(self, env):
        parameters = original(self, env)
        measure(env, self.name, "input", parameters)
        return parameters

    return evaluate


def _error_equals(original):
    def evaluate(self, env):
        error_name = env.stack[-1]
        if isinstance(error_name, StatesErrorName) and error_name.typ in TERMINAL:
            env.stack.pop()
            env.stack.append(False)
            return
        original(self, env)

    return evaluate


def _start_execution_within_quota(original):
    def start(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
        if execution_input is not None and _size(execution_input) > LIMIT_BYTES:
            from moto.stepfunctions.exceptions import ValidationException

            raise ValidationException(
                f"1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length "
                f"less than or equal to {LIMIT_BYTES} (the input is {_size(execution_input)} bytes)")
        return original(self, state_machine_arn, name, execution_input, trace_header)

    return start


def _error_name(error_name):
    # Map and Parallel re-raise an inner failure under its name, through CustomErrorName, which refuses "States."
    # names: the execution then failed with a misleading "Custom Error Names MUST NOT begin with ..." States.Runtime.
    if isinstance(error_name, str) and error_name.startswith("States."):
        try:
            return StatesErrorName.from_name(error_name)
        except ValueError:
            pass
    return CustomErrorName(error_name)


def largest(arn):
    """The largest payload measured for the execution, or None."""
    with _lock:
        return dict(_largest[arn]) if arn in _largest else None


@route("POST", "sfn/largest-state")
def largest_state(body):
    arn = body.get("executionArn")
    if not isinstance(arn, str) or not arn:
        raise ApiError(400, 'expected {"executionArn": "<an execution ARN>"}')
    measured = largest(arn)
    if measured is None:
        raise ApiError(404, f"no payload measured for {arn}")
    return measured


def install():
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import StateTaskService
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    CommonStateField._verify_size_quota = _state_output_quota
    StateTaskService._verify_size_quota = _task_result_quota
    StateTaskLambda._verify_size_quota = _task_result_quota
    StateTask._eval_parameters = _parameters_within_quota(StateTask._eval_parameters)
    StateTaskLambda._eval_parameters = _parameters_within_quota(StateTaskLambda._eval_parameters)
    ErrorEqualsDecl._eval_body = _error_equals(ErrorEqualsDecl._eval_body)
    StepFunctionsParserBackend.start_execution = _start_execution_within_quota(StepFunctionsParserBackend.start_execution)
    if hasattr(StepFunctionsParserBackend, "start_sync_execution"):  # stepfunctions_express installs first
        StepFunctionsParserBackend.start_sync_execution = _start_execution_within_quota(
            StepFunctionsParserBackend.start_sync_execution)

    import moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker as iteration_worker
    import moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branches_decl as branches_decl

    iteration_worker.CustomErrorName = _error_name
    branches_decl.CustomErrorName = _error_name
