"""Test-only fault injection: the next N calls of one API fail with a given AWS error code,
so tests can drive Retry/Catch paths (Throttling, PriorRequestNotComplete, ...).

POST /_brokerlink/faults {"service": "route53", "action": "ChangeResourceRecordSets",
                          "code": "PriorRequestNotComplete", "count": 1, "status": 400}
GET /_brokerlink/faults lists what is left; POST /_brokerlink/faults/clear removes all.
`service` is the boto3 name or the Step Functions one (elasticloadbalancingv2).

Optional fields:
* `skip`: let this many matching calls through first (`"skip": 2, "count": 1` fails the third call);
* `account`: match only calls made in that account (e.g. through a cross-account role);
* `delaySeconds`: hold each matching call this long first; without `code` the call then goes
  ahead as usual (a slow API, or a window for a test to change things mid-run).

`code` is a wire code the service really sends: one of its modelled errors (`PriorRequestNotComplete`,
`TargetGroupNotFound`) or an unmodelled one AWS documents (`Throttling` for ELBv2 and Route 53,
`RequestLimitExceeded` and any other for EC2, which models none, `AccessDenied`, `InternalFailure`, ...).
Step Functions then names it as AWS does (`_dialect.error_name`): a test cannot inject
`ThrottlingException` into ELBv2 and see a Retry on a name AWS never raises fire.

Setting `retryWaitScale` (POST /_brokerlink/config, default 1): multiplies the waits of the
state machines' Retry policies, so a test can exhaust a Retry of 8 attempts in a second; the
number of attempts stays what the ASL says.
"""

import json
import threading
import time
import uuid
from xml.sax.saxutils import escape

from moto.core.responses import BaseResponse
from moto.core.utils import get_service_model

from . import CONFIG, ApiError, _dialect, route

CONFIG.setdefault("retryWaitScale", 1.0)

ALIASES = {"elasticloadbalancingv2": "elbv2", "sfn": "stepfunctions", "states": "stepfunctions"}

# Codes AWS services send without modelling them (AWS API references, "Common Errors"; ELBv2 and Route 53
# throttle with `Throttling`, AWS-FACTS). A service's modelled codes are allowed as well.
UNMODELLED_CODES = {"Throttling", "ThrottlingException", "AccessDenied", "AccessDeniedException", "InternalFailure",
                    "ServiceUnavailable", "RequestLimitExceeded", "ValidationError", "ValidationException",
                    "IncompleteSignature", "InvalidClientTokenId", "RequestExpired", "UnrecognizedClientException"}

_faults = []
_lock = threading.Lock()
_original = {}


def _take(service, action, account):
    with _lock:
        for fault in _faults:
            if fault["service"] == service and fault["action"] == action and fault["account"] in (None, account):
                if fault["skip"] > 0:
                    fault["skip"] -= 1
                    return None
                fault["count"] -= 1
                if fault["count"] <= 0:
                    _faults.remove(fault)
                return dict(fault)
    return None


def _error(service, fault):
    code, message, request_id = fault["code"], fault.get("message") or f"Injected fault: {fault['code']}", str(uuid.uuid4())
    protocol = get_service_model(service).protocol
    if protocol in ("json", "rest-json"):
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code, "x-amzn-RequestId": request_id}
        return fault["status"], headers, json.dumps({"__type": code, "message": message})
    if protocol == "ec2":
        body = (f"<Response><Errors><Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
                f"</Errors><RequestID>{request_id}</RequestID></Response>")
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code><Message>{escape(message)}"
                f"</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return fault["status"], {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body


def call_action(self):
    if _faults:
        fault = _take(self.service_name, self._get_action(), getattr(self, "current_account", None))
        if fault is not None:
            if fault["delaySeconds"]:
                time.sleep(fault["delaySeconds"])
            if fault["code"]:
                return _error(self.service_name, fault)
    return _original["call_action"](self)


@route("POST", "faults")
def add_fault(body):
    service = ALIASES.get(body.get("service"), body.get("service"))
    fault = {
        "service": service,
        "action": body.get("action"),
        "code": body.get("code"),
        "count": body.get("count", 1),
        "status": body.get("status", 400),
        "message": body.get("message"),
        "skip": body.get("skip", 0),
        "account": body.get("account"),
        "delaySeconds": body.get("delaySeconds", 0),
    }
    delay = fault["delaySeconds"]
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0:
        raise ApiError(400, "delaySeconds must be a number >= 0")
    required = ("service", "action") + (("code",) if not delay or fault["code"] is not None else ())
    if not all(isinstance(fault[k], str) and fault[k] for k in required):
        raise ApiError(400, 'expected {"service", "action", "code"[, "count", "status", "message", "skip", "account", '
                            '"delaySeconds"]} ("code" may be left out when delaySeconds > 0)')
    if not isinstance(fault["count"], int) or fault["count"] < 1 or not isinstance(fault["status"], int):
        raise ApiError(400, "count must be an integer >= 1 and status an HTTP status code")
    if not isinstance(fault["skip"], int) or isinstance(fault["skip"], bool) or fault["skip"] < 0:
        raise ApiError(400, "skip must be an integer >= 0")
    if fault["account"] is not None and not (isinstance(fault["account"], str) and fault["account"].isdigit()):
        raise ApiError(400, "account must be an account id (12 digits)")
    try:
        get_service_model(service).operation_model(fault["action"])
    except Exception as e:
        raise ApiError(400, f"unknown service or action: {service} {fault['action']}") from e
    if fault["code"] and not _sent_by(service, fault["code"]):
        raise ApiError(400, f"{service} never answers with code {fault['code']}: use a code it models "
                            f"or one of {sorted(UNMODELLED_CODES)}")
    with _lock:
        _faults.append(fault)
        return {"faults": [dict(f) for f in _faults]}


def _sent_by(service, code):
    modelled = {shape.metadata.get("error", {}).get("code", shape.name) for shape in _dialect.get_service_model(service).error_shapes}
    return service == "ec2" or code in modelled or code in UNMODELLED_CODES


@route("GET", "faults")
def list_faults(body):
    with _lock:
        return {"faults": [dict(f) for f in _faults]}


@route("POST", "faults/clear")
def clear_faults(body):
    with _lock:
        _faults.clear()
    return {"faults": []}


class _ScaledRetryTime:
    """Stands in for the `time` module in moto's Retry evaluation: waits scaled by retryWaitScale."""

    def __getattr__(self, name):
        return getattr(time, name)

    @staticmethod
    def sleep(seconds):
        time.sleep(seconds * CONFIG.get("retryWaitScale", 1.0))


def install():
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    _original["call_action"] = BaseResponse.call_action
    BaseResponse.call_action = call_action
    retrier_decl.time = _ScaledRetryTime()
