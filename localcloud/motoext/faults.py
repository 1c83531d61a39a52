"""Test-only fault injection: the next N calls of one API fail with a given AWS error code,
so tests can drive Retry/Catch paths (Throttling, PriorRequestNotComplete, ...).

POST /_brokerlink/faults {"service": "route53", "action": "ChangeResourceRecordSets",
                          "code": "PriorRequestNotComplete", "count": 1, "status": 400}
GET /_brokerlink/faults lists what is left; POST /_brokerlink/faults/clear removes all.
`service` is the boto3 name or the Step Functions one (elasticloadbalancingv2).
"""

import json
import threading
import uuid
from xml.sax.saxutils import escape

from moto.core.responses import BaseResponse
from moto.core.utils import get_service_model

from . import ApiError, route

ALIASES = {"elasticloadbalancingv2": "elbv2", "sfn": "stepfunctions", "states": "stepfunctions"}

_faults = []
_lock = threading.Lock()
_original = {}


def _take(service, action):
    with _lock:
        for fault in _faults:
            if fault["service"] == service and fault["action"] == action:
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
        fault = _take(self.service_name, self._get_action())
        if fault is not None:
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
    }
    if not all(isinstance(fault[k], str) and fault[k] for k in ("service", "action", "code")):
        raise ApiError(400, 'expected {"service", "action", "code"[, "count", "status", "message"]}')
    if not isinstance(fault["count"], int) or fault["count"] < 1 or not isinstance(fault["status"], int):
        raise ApiError(400, "count must be an integer >= 1 and status an HTTP status code")
    try:
        get_service_model(service).operation_model(fault["action"])
    except Exception as e:
        raise ApiError(400, f"unknown service or action: {service} {fault['action']}") from e
    with _lock:
        _faults.append(fault)
        return {"faults": [dict(f) for f in _faults]}


@route("GET", "faults")
def list_faults(body):
    with _lock:
        return {"faults": [dict(f) for f in _faults]}


@route("POST", "faults/clear")
def clear_faults(body):
    with _lock:
        _faults.clear()
    return {"faults": []}


def install():
    _original["call_action"] = BaseResponse.call_action
    BaseResponse.call_action = call_action
