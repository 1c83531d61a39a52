"""Express workflows, as AWS runs them (moto 5.2.1 creates every state machine STANDARD, answers StartSyncExecution
with HTTP 500, and fails an `aws-sdk:sfn:startSyncExecution` task inside its interpreter).

* CreateStateMachine takes `type: EXPRESS`; an Express definition may not use the `.sync` or
  `.waitForTaskToken` integration patterns (AWS docs, "Standard vs Express workflows": Express "does not support
  Job-run (.sync) or Callback (.waitForTaskToken) service integration patterns").
* StartSyncExecution (Express only; a Standard machine is `StateMachineTypeNotSupported`) runs the execution and
  answers with its status, output or error and cause, and `billingDetails` (duration rounded up to 100 ms, memory in
  64 MB steps, as Express bills them). StartExecution on an Express machine runs it asynchronously (as EventBridge
  starts it). Express execution ARNs are `arn:aws:states:<region>:<account>:express:<machine>:<name>:<id>`.
* Express executions have no history API: DescribeExecution and GetExecutionHistory answer `InvalidArn` ("Resource
  type not valid in this context: express"), and ListExecutions `StateMachineTypeNotSupported`.
* An Express execution lasts at most 5 minutes (`expressTimeoutSeconds`, default 300): past it, it is stopped and
  ends `TIMED_OUT` with `States.Timeout`.

Boto3 sends StartSyncExecution to the host prefix `sync-`: a client for a local endpoint needs
`Config(inject_host_prefix=False)` (the interpreter's clients have it).

Test-only: `POST /_brokerlink/sfn/express-executions {"stateMachineArn", "after", "events"}` lists the Express
executions of a machine in the order they started (from the `after`-th on; with their events when `events` is true),
with their status, output, error and cause, history event count, state transitions, billed duration and largest
payload (what CloudWatch Logs and the bill would show for them on AWS); `POST /_brokerlink/sfn/express-execution
{"executionArn"}` answers one of them with its `events` (what CloudWatch Logs holds at log level ALL with execution
data).
"""

import copy
import datetime
import json
import math
import threading
import time
import uuid

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult

from . import CONFIG, ApiError, route

CONFIG.setdefault("expressTimeoutSeconds", 300.0)

EXPRESS = "EXPRESS"
_NOT_IN_EXPRESS = (".sync", ".waitForTaskToken")

_executions = {}  # express execution ARN -> record
_lock = threading.Lock()


class StateMachineTypeNotSupported(AWSError):
    TYPE = "StateMachineTypeNotSupported"
    STATUS = 400


class InvalidArn(AWSError):
    TYPE = "InvalidArn"
    STATUS = 400


class InvalidDefinition(AWSError):
    TYPE = "InvalidDefinition"
    STATUS = 400


def _resources(states):
    for state in (states or {}).values():
        if "Resource" in state:
            yield state["Resource"]
        for branch in state.get("Branches", []):
            yield from _resources(branch.get("States"))
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _resources(processor.get("States"))


def _is_express_arn(arn):
    return isinstance(arn, str) and arn.split(":")[5:6] == ["express"]


def _express_arn(state_machine, name):
    return f"arn:aws:states:{state_machine.arn.split(':')[3]}:{state_machine.arn.split(':')[4]}:express:" \
           f"{state_machine.name}:{name}:{uuid.uuid4()}"


class _Record:
    """One Express execution: moto's execution object plus what AWS would bill and log."""

    def __init__(self, execution, state_machine_arn):
        self.execution = execution
        self.state_machine_arn = state_machine_arn
        self.started = time.monotonic()
        self.ended = None
        self.timed_out = False

    def billed_duration_ms(self):
        elapsed = ((self.ended or time.monotonic()) - self.started) * 1000
        return max(100, int(math.ceil(elapsed / 100.0)) * 100)

    def status(self):
        if self.timed_out:
            return "TIMED_OUT"
        return getattr(self.execution.exec_status, "value", self.execution.exec_status)

    def events(self):
        env = getattr(self.execution.exec_worker, "env", None)
        return env.event_manager.get_event_history() if env is not None else []

    def describe(self):
        from . import stepfunctions_limits

        events = self.events()
        described = {
            "executionArn": self.execution.exec_arn,
            "name": self.execution.name,
            "status": self.status(),
            "startDate": self.execution.start_date.isoformat(),
            "stopDate": self.execution.stop_date.isoformat() if self.execution.stop_date else None,
            "output": json.dumps(self.execution.output, separators=(",", ":")) if self.status() == "SUCCEEDED" else None,
            "error": "States.Timeout" if self.timed_out else self.execution.error,
            "cause": self.execution.cause,
            "historyEvents": len(events),
            "stateTransitions": sum(1 for e in events if str(e.get("type", "")).endswith("StateEntered")),
            "billedDurationInMilliseconds": self.billed_duration_ms(),
            "billedMemoryUsedInMB": 64,
            "largestState": stepfunctions_limits.largest(self.execution.exec_arn),
        }
        return described


def _run(backend, state_machine_arn, name, execution_input, trace_header, wait):
    from moto.stepfunctions.parser.backend.execution import Execution, SyncExecution

    state_machine = backend.describe_state_machine(state_machine_arn)
    clone = copy.deepcopy(state_machine)
    name = name or str(uuid.uuid4())
    execution_class = SyncExecution if wait else Execution
    execution = execution_class(
        name=name,
        sm_type=EXPRESS,
        role_arn=clone.roleArn,
        exec_arn=_express_arn(state_machine, name),
        account_id=backend.account_id,
        region_name=backend.region_name,
        state_machine=clone,
        start_date=datetime.datetime.now(tz=datetime.timezone.utc),
        cloud_watch_logging_session=None,
        input_data=execution_input if execution_input is not None else "{}",
        trace_header=trace_header,
        activity_store={},
    )
    record = _Record(execution, state_machine.arn)
    with _lock:
        if len(_executions) >= 20000:
            _executions.pop(next(iter(_executions)))
        _executions[execution.exec_arn] = record

    def run():
        try:
            if wait:
                execution.start()  # SyncExecutionWorker runs in this thread
            else:
                execution.start()
                while execution.exec_status is not None and getattr(execution.exec_status, "value", execution.exec_status) == "RUNNING":
                    time.sleep(0.05)
        finally:
            record.ended = time.monotonic()

    thread = threading.Thread(target=run, daemon=True, name=f"express-{name}")
    thread.start()

    def watchdog():
        thread.join(CONFIG["expressTimeoutSeconds"])
        if thread.is_alive():
            record.timed_out = True
            record.ended = time.monotonic()
            try:
                execution.stop(stop_date=datetime.datetime.now(tz=datetime.timezone.utc), error="States.Timeout",
                               cause="The execution ran longer than the Express workflow limit of "
                                     f"{CONFIG['expressTimeoutSeconds']:g} seconds.")
            except Exception:  # noqa: BLE001 - the execution may end on its own meanwhile
                pass

    if wait:
        watchdog()
    else:
        threading.Thread(target=watchdog, daemon=True).start()
    return record


def _patch_backend():
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    create = StepFunctionsParserBackend.create_state_machine
    start = StepFunctionsParserBackend.start_execution
    describe_execution = StepFunctionsParserBackend.describe_execution
    history = StepFunctionsParserBackend.get_execution_history
    list_executions = StepFunctionsParserBackend.list_executions
    stop = StepFunctionsParserBackend.stop_execution

    def create_state_machine(self, name, definition, roleArn, *args, sm_type=None, **kwargs):
        if sm_type == EXPRESS:
            try:
                document = json.loads(definition)
            except ValueError:
                document = {}
            for resource in _resources(document.get("States")):
                if resource.endswith(_NOT_IN_EXPRESS) or ".sync:" in resource:
                    raise InvalidDefinition(f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express "
                                            f"state machines do not support the integration pattern of {resource}'")
        machine = create(self, name, definition, roleArn, *args, **kwargs)
        if sm_type == EXPRESS:
            machine.type = machine.sm_type = EXPRESS
        return machine

    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
        machine = self.describe_state_machine(state_machine_arn)
        if machine.sm_type != EXPRESS:
            return start(self, state_machine_arn, name, execution_input, trace_header)
        return _run(self, state_machine_arn, name, execution_input, trace_header, wait=False).execution

    def start_sync_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
        machine = self.describe_state_machine(state_machine_arn)
        if machine.sm_type != EXPRESS:
            raise StateMachineTypeNotSupported("This operation is not supported by this type of state machine")
        return _run(self, state_machine_arn, name, execution_input, trace_header, wait=True)

    def not_for_express(original):
        def call(self, execution_arn, *args, **kwargs):
            if _is_express_arn(execution_arn):
                raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: express'")
            return original(self, execution_arn, *args, **kwargs)

        return call

    def list_executions_standard_only(self, state_machine_arn, *args, **kwargs):
        if self.describe_state_machine(state_machine_arn).sm_type == EXPRESS:
            raise StateMachineTypeNotSupported("This operation is not supported by this type of state machine")
        return list_executions(self, state_machine_arn, *args, **kwargs)

    StepFunctionsParserBackend.create_state_machine = create_state_machine
    StepFunctionsParserBackend.start_execution = start_execution
    StepFunctionsParserBackend.start_sync_execution = start_sync_execution
    StepFunctionsParserBackend.describe_execution = not_for_express(describe_execution)
    StepFunctionsParserBackend.get_execution_history = not_for_express(history)
    StepFunctionsParserBackend.stop_execution = not_for_express(stop)
    StepFunctionsParserBackend.list_executions = list_executions_standard_only


def _patch_responses():
    from moto.stepfunctions.responses import StepFunctionResponse

    create = StepFunctionResponse.create_state_machine

    def create_state_machine(self):
        sm_type = self._get_param("type") or "STANDARD"
        if sm_type not in ("STANDARD", EXPRESS):
            from moto.stepfunctions.exceptions import ValidationException

            raise ValidationException(f"1 validation error detected: Value '{sm_type}' at 'type' failed to satisfy "
                                      "constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]")
        if sm_type == EXPRESS:
            backend = self.stepfunction_backend
            original = backend.create_state_machine
            backend.create_state_machine = lambda *a, **k: original(*a, sm_type=EXPRESS, **k)
            try:
                return create(self)
            finally:
                del backend.create_state_machine
        return create(self)

    def start_sync_execution(self):
        record = self.stepfunction_backend.start_sync_execution(
            self._get_param("stateMachineArn"), self._get_param("name"), self._get_param("input"),
            self._get_param("traceHeader"))
        execution = record.execution
        status = record.status()
        response = {
            "executionArn": execution.exec_arn,
            "stateMachineArn": record.state_machine_arn,
            "name": execution.name,
            "startDate": execution.start_date,
            "stopDate": execution.stop_date or datetime.datetime.now(tz=datetime.timezone.utc),
            "status": status,
            "input": json.dumps(execution.input_data, separators=(",", ":")),
            "inputDetails": {"included": True},
            "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": record.billed_duration_ms()},
        }
        if status == "SUCCEEDED":
            response["output"] = json.dumps(execution.output, separators=(",", ":"))
            response["outputDetails"] = {"included": True}
        elif record.timed_out:
            response["error"], response["cause"] = "States.Timeout", "The execution ran longer than the Express workflow limit."
        else:
            if execution.error is not None:
                response["error"] = execution.error
            if execution.cause is not None:
                response["cause"] = execution.cause
        return ActionResult(response)

    StepFunctionResponse.create_state_machine = create_state_machine
    StepFunctionResponse.start_sync_execution = start_sync_execution


@route("POST", "sfn/express-execution")
def express_execution(body):
    """One Express execution with its events: what CloudWatch Logs would hold with IncludeExecutionData."""
    arn = body.get("executionArn")
    with _lock:
        record = _executions.get(arn) if isinstance(arn, str) else None
    if record is None:
        raise ApiError(404, f"no Express execution {arn!r}")
    return dict(record.describe(), events=_jsonable(record.events()))


def _jsonable(value):
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


@route("POST", "sfn/express-executions")
def express_executions(body):
    """The machine's Express executions in the order they started, from the `after`-th on (default 0), with their
    events when `events` is true; `count`: how many it has started in all (a mark for a later `after`)."""
    arn, after, with_events = body.get("stateMachineArn"), body.get("after", 0), body.get("events", False)
    if not isinstance(arn, str) or not arn or not isinstance(after, int) or after < 0 or not isinstance(with_events, bool):
        raise ApiError(400, 'expected {"stateMachineArn": "<an Express state machine ARN>", "after": <n >= 0>, "events": <bool>}')
    with _lock:
        records = [r for r in _executions.values() if r.state_machine_arn == arn]
    return {"count": len(records),
            "executions": [dict(r.describe(), events=_jsonable(r.events())) if with_events else r.describe()
                           for r in records[after:]]}


def install():
    _patch_backend()
    _patch_responses()
