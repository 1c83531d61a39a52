"""Step Functions tasks act as their IAM role, and IAM decides, as on AWS.

* A task acts as the state machine's role, or as the role its `Credentials.RoleArn` names (AWS docs,
  state-task "Credentials"). That role is assumed for every task call, through this moto's STS
  (`AssumeRole`, so injected faults apply), after the checks AWS makes: the role exists in its account,
  its trust policy allows the state machine's role with the trust policy's conditions (`aws:PrincipalArn`,
  `aws:PrincipalAccount`; Step Functions passes no external id), and the state machine's role's own policies
  allow `sts:AssumeRole` on it (always required across accounts; within one account AWS could do with a
  trust policy naming the role, which BrokerLink never relies on). Nothing is kept between calls: a role
  deleted, or no longer trusting, is refused at the next call, in the next execution.
* The state machine's role must exist and trust `states.amazonaws.com` (with its conditions:
  `aws:SourceAccount` is the state machine's account).
* Each call is authorized against the acting role's policies (inline and attached): the IAM action, every
  resource ARN the call touches, and the condition keys BrokerLink's policies use (`CHECKS` below; an action
  not listed there is authorized on `*`). Companion actions AWS also authorizes are checked with the call:
  `elasticloadbalancing:AddTags` for tags given at creation (with `elasticloadbalancing:CreateAction`; ELB
  guide, tagging-resources-during-creation), `ec2:DescribeVpcs` with CreateHostedZone (Route 53 API reference),
  and for `startExecution.sync` the DescribeExecution, StopExecution and EventBridge rule actions (AWS docs,
  stepfunctions-iam).

A refused call fails the task as the service answers a denied request: `AccessDenied` (Route 53, ELBv2, STS),
`UnauthorizedOperation` (EC2), `AccessDeniedException` (the JSON services), HTTP 403 (400 for DynamoDB and Step
Functions), message `User: <session> is not authorized to perform: <action> on resource: <arn> because no
identity-based policy allows the <action> action` (AWS docs, IAM troubleshoot_access-denied; EC2 API error
codes: UnauthorizedOperation). Step Functions then names it as for any other code (`_dialect.error_name`:
`Route53.Route53Exception`, `Ec2.Ec2Exception`, ...). A refused role assumption is reported the same way, as
STS's AccessDenied for `sts:AssumeRole`, named with the called service's catch-all: what AWS names this failure
is not documented.
"""

import re
import uuid

from botocore.exceptions import ClientError
from moto.iam.models import iam_backends
from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import StateCredentials
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb import (
    StateTaskServiceDynamoDB,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
    StateTaskServiceLambda,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)

from . import _dialect, _iam

IAM_PREFIXES = {"elbv2": "elasticloadbalancing", "stepfunctions": "states"}
# (wire code, HTTP status) of a denied request, by boto3 service name; others: AccessDeniedException, 403.
DENIED = {"route53": ("AccessDenied", 403), "elbv2": ("AccessDenied", 403), "sts": ("AccessDenied", 403),
          "ec2": ("UnauthorizedOperation", 403), "dynamodb": ("AccessDeniedException", 400),
          "stepfunctions": ("AccessDeniedException", 400)}
SESSION = "brokerlink-local"
_original = {}


# ---------------------------------------------------------------- roles in moto's IAM

def role(arn):
    account = arn.split(":")[4]
    try:
        return iam_backends[account]["aws"].get_role_by_arn(arn)
    except Exception:
        return None


def role_policies(found):
    """The role's inline policies and the default version of each attached managed policy."""
    managed = [v.document for p in found.managed_policies.values() for v in p.versions if v.is_default]
    return list(found.policies.values()) + managed


def session_arn(role_arn):
    account, name = role_arn.split(":")[4], role_arn.split("/")[-1]
    return f"arn:aws:sts::{account}:assumed-role/{name}/{SESSION}"


# ---------------------------------------------------------------- what a call touches

def _zone(value):
    return "arn:aws:route53:::hostedzone/" + value.split("/")[-1]


def _vpcs(p):
    vpc = p.get("VPC") or {}
    return {"route53:vpcs": [f"VPCId={vpc.get('VPCId')},VPCRegion={vpc.get('VPCRegion')}"]} if vpc else {}


def _request_tags(p):
    return {f"aws:requesttag/{t['Key']}".lower(): t.get("Value", "") for t in p.get("Tags") or []}


def _resource_tags(where, arn):
    from moto.elbv2.models import elbv2_backends

    tags = elbv2_backends[where["account"]][where["region"]].describe_tags([arn]).get(arn) or {}
    return {f"aws:resourcetag/{k}".lower(): v for k, v in tags.items()}


def _normalized_name(name):
    # Route 53 docs (specifying-conditions-route53): lowercase, no trailing dot, characters other than a-z 0-9 - _ .
    # as \ and three octal digits (`*` is \052).
    name = re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1), 8)), name).lower().rstrip(".")
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else f"\\{ord(c):03o}" for c in name)


def _records(p):
    changes = (p.get("ChangeBatch") or {}).get("Changes") or []
    return {"route53:changeresourcerecordsetsnormalizedrecordnames": [_normalized_name(c["ResourceRecordSet"]["Name"]) for c in changes],
            "route53:changeresourcerecordsetsrecordtypes": [c["ResourceRecordSet"]["Type"] for c in changes],
            "route53:changeresourcerecordsetsactions": [c["Action"] for c in changes]}


def _leading_keys(where, p):
    from moto.dynamodb.models import dynamodb_backends

    try:
        hash_key = dynamodb_backends[where["account"]][where["region"]].get_table(p["TableName"]).hash_key_attr
    except Exception:
        return {}
    item = p.get("Key") or p.get("Item")
    if item is not None:
        value = (item.get(hash_key) or {}).get("S")
        return {"dynamodb:leadingkeys": [value]} if value is not None else {}
    names = {k: v for k, v in (p.get("ExpressionAttributeNames") or {}).items()}
    for name, placeholder in re.findall(r"(#?\w+)\s*=\s*(:\w+)", p.get("KeyConditionExpression") or ""):
        if names.get(name, name) == hash_key:
            value = ((p.get("ExpressionAttributeValues") or {}).get(placeholder) or {}).get("S")
            return {"dynamodb:leadingkeys": [value]} if value is not None else {}
    return {}


def _arn(where, service, resource):
    return f"arn:aws:{service}:{where['region']}:{where['account']}:{resource}"


def _new_id():
    return uuid.uuid4().hex[:16]


def _create_target_group(where, p):
    arn = _arn(where, "elasticloadbalancing", f"targetgroup/{p.get('Name')}/{_new_id()}")
    yield "elasticloadbalancing:CreateTargetGroup", arn, _request_tags(p)
    if p.get("Tags"):
        yield "elasticloadbalancing:AddTags", arn, {**_request_tags(p), "elasticloadbalancing:createaction": "CreateTargetGroup"}


def _create_listener(where, p):
    listener = p["LoadBalancerArn"].replace(":loadbalancer/", ":listener/") + "/" + _new_id()
    for arn in (p["LoadBalancerArn"], listener):
        yield "elasticloadbalancing:CreateListener", arn, _request_tags(p)
    if p.get("Tags"):
        yield "elasticloadbalancing:AddTags", listener, {**_request_tags(p), "elasticloadbalancing:createaction": "CreateListener"}


def _start_execution_sync(where, p):
    machine = p["stateMachineArn"]
    yield "states:StartExecution", machine, {}
    executions = machine.replace(":stateMachine:", ":execution:") + ":" + _new_id()
    for action in ("states:DescribeExecution", "states:StopExecution"):
        yield action, executions, {}
    rule = _arn(where, "events", "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule")
    for action in ("events:PutTargets", "events:PutRule", "events:DescribeRule"):
        yield action, rule, {}


def _one(action, resource, context=lambda where, p: {}):
    return lambda where, p: [(action, resource(where, p), context(where, p))]


def _tagged(action, key):
    return _one(action, lambda where, p: p[key], lambda where, p: _resource_tags(where, p[key]))


def _table(action):
    return _one(f"dynamodb:{action}", lambda where, p: _arn(where, "dynamodb", f"table/{p['TableName']}"),
                lambda where, p: _leading_keys(where, p))


def _create_hosted_zone(where, p):
    yield "route53:CreateHostedZone", "*", _vpcs(p)
    # Route 53 API reference, CreateHostedZone: "requires the caller to have an ec2:DescribeVpcs permission".
    yield "ec2:DescribeVpcs", "*", {}


_service = lambda where, p: _arn(where, "ec2", f"vpc-endpoint-service/{p['ServiceId']}")  # noqa: E731

# IAM action -> the (action, resource ARN, condition context) checks of one call, from its boto3 parameters.
CHECKS = {
    "elasticloadbalancing:CreateTargetGroup": _create_target_group,
    "elasticloadbalancing:CreateListener": _create_listener,
    "elasticloadbalancing:RegisterTargets": _tagged("elasticloadbalancing:RegisterTargets", "TargetGroupArn"),
    "elasticloadbalancing:DeregisterTargets": _tagged("elasticloadbalancing:DeregisterTargets", "TargetGroupArn"),
    "elasticloadbalancing:DeleteTargetGroup": _tagged("elasticloadbalancing:DeleteTargetGroup", "TargetGroupArn"),
    "elasticloadbalancing:DeleteListener": _tagged("elasticloadbalancing:DeleteListener", "ListenerArn"),
    "route53:ListResourceRecordSets": _one("route53:ListResourceRecordSets", lambda w, p: _zone(p["HostedZoneId"])),
    "route53:ChangeResourceRecordSets": _one("route53:ChangeResourceRecordSets", lambda w, p: _zone(p["HostedZoneId"]),
                                             lambda w, p: _records(p)),
    "route53:GetHostedZone": _one("route53:GetHostedZone", lambda w, p: _zone(p["Id"])),
    "route53:CreateHostedZone": _create_hosted_zone,
    "route53:AssociateVPCWithHostedZone": _one("route53:AssociateVPCWithHostedZone", lambda w, p: _zone(p["HostedZoneId"]),
                                               lambda w, p: _vpcs(p)),
    "route53:DisassociateVPCFromHostedZone": _one("route53:DisassociateVPCFromHostedZone", lambda w, p: _zone(p["HostedZoneId"]),
                                                  lambda w, p: _vpcs(p)),
    "route53:CreateVPCAssociationAuthorization": _one("route53:CreateVPCAssociationAuthorization",
                                                      lambda w, p: _zone(p["HostedZoneId"]), lambda w, p: _vpcs(p)),
    "route53:DeleteVPCAssociationAuthorization": _one("route53:DeleteVPCAssociationAuthorization",
                                                      lambda w, p: _zone(p["HostedZoneId"]), lambda w, p: _vpcs(p)),
    "ec2:ModifyVpcEndpointServicePermissions": _one("ec2:ModifyVpcEndpointServicePermissions", _service),
    "ec2:AcceptVpcEndpointConnections": _one("ec2:AcceptVpcEndpointConnections", _service),
    "ec2:ModifyVpcEndpointServiceConfiguration": _one("ec2:ModifyVpcEndpointServiceConfiguration", _service),
    "kafka:DescribeClusterV2": _one("kafka:DescribeClusterV2", lambda w, p: p["ClusterArn"]),
    "kafka:ListNodes": _one("kafka:ListNodes", lambda w, p: p["ClusterArn"]),
    **{f"dynamodb:{a}": _table(a) for a in ("Query", "GetItem", "PutItem", "UpdateItem", "DeleteItem")},
    "states:StartExecution": _one("states:StartExecution", lambda w, p: p["stateMachineArn"]),
    "states:StartSyncExecution": _one("states:StartSyncExecution", lambda w, p: p["stateMachineArn"]),
    "states:DescribeExecution": _one("states:DescribeExecution", lambda w, p: p["executionArn"]),
    "lambda:InvokeFunction": _one("lambda:InvokeFunction", lambda w, p: p["FunctionName"].split(":$")[0]),
}


def task_checks(task, where, parameters):
    """The (action, resource, context) checks of one task call; `where`: the acting account and region."""
    boto_name = task._get_boto_service_name()
    if boto_name == "lambda":
        action = "lambda:InvokeFunction"
    else:
        operation = _dialect.operation(boto_name, task._get_boto_service_action())
        action = f"{IAM_PREFIXES.get(boto_name, boto_name)}:{operation.name}"
    if action == "states:StartExecution" and task.resource.condition:
        return boto_name, list(_start_execution_sync(where, parameters))
    check = CHECKS.get(action)
    return boto_name, list(check(where, parameters)) if check else [(action, "*", {})]


# ---------------------------------------------------------------- decisions

def _refuse(boto_name, principal, action, resource, why=None):
    """`why`: the identity policy's part ("explicit" deny, or None: nothing allows it); "" for a refusal by the
    role's trust policy, which AWS's message gives no reason for."""
    code, status = DENIED.get(boto_name, ("AccessDeniedException", 403))
    reason = {"explicit": " with an explicit deny in an identity-based policy", "": ""}.get(
        why, f" because no identity-based policy allows the {action} action")
    message = f"User: {principal} is not authorized to perform: {action} on resource: {resource}{reason}"
    if code == "UnauthorizedOperation":
        message = "You are not authorized to perform this operation. " + message
    raise ClientError({"Error": {"Code": code, "Message": message},
                       "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4())}},
                      "".join(w.capitalize() for w in action.split(":")[1:]))


def authorize(boto_name, principal_role, checks):
    found = role(principal_role)
    documents = role_policies(found) if found else []
    account = principal_role.split(":")[4]
    for action, resource, context in checks:
        context = {"aws:principalarn": principal_role, "aws:principalaccount": account, **context}
        decision = _iam.decide(documents, action, resource, context)
        if decision != "Allow":
            _refuse(boto_name, session_arn(principal_role), action, resource, "explicit" if decision == "Deny" else None)


def trusts(target, caller, context):
    return _iam.decide([target.assume_role_policy_document], "sts:AssumeRole", None, context, caller) == "Allow"


def assume(boto_name, env, execution_role, task_role):
    """The checks of STS AssumeRole by the state machine's role, then the call itself (faults apply)."""
    target = role(task_role)
    caller = {"arn": execution_role, "account": execution_role.split(":")[4]}
    context = {"aws:principalarn": execution_role, "aws:principalaccount": caller["account"]}
    if target is None or not trusts(target, caller, context):
        _refuse("sts", session_arn(execution_role), "sts:AssumeRole", task_role, "")
    authorize("sts", execution_role, [("sts:AssumeRole", task_role, {})])
    from .stepfunctions import client_for

    client_for(env.aws_execution_details.region, "sts", StateCredentials(role_arn=execution_role)).assume_role(
        RoleArn=task_role, RoleSessionName=SESSION)


def execution_role_usable(env):
    """Step Functions assumes the state machine's role as its global or regional service principal, for the
    execution's account (lumigo-io/lumigo-CLI#83: a role trusting only states.<region>.amazonaws.com works there)."""
    details = env.aws_execution_details
    target = role(details.role_arn)
    context = {"aws:sourceaccount": details.account}
    return target is not None and any(trusts(target, {"service": service}, context) for service in
                                      ("states.amazonaws.com", f"states.{details.region}.amazonaws.com"))


def _checked(original):
    def run(self, env, resource_runtime_part, normalised_parameters, state_credentials):
        execution_role = env.aws_execution_details.role_arn
        acting = state_credentials.role_arn or execution_role
        boto_name, checks = task_checks(self, {"account": acting.split(":")[4], "region": resource_runtime_part.region},
                                        normalised_parameters)
        if not execution_role_usable(env):
            # What a task reports then (lumigo-io/lumigo-CLI#83); the error name is the service's, as for any refusal.
            code, status = DENIED.get(boto_name, ("AccessDeniedException", 403))
            raise ClientError({"Error": {"Code": code, "Message": "Neither the global service principal states.amazonaws.com, "
                                                                  "nor the regional one is authorized to assume the provided role."},
                               "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4())}}, "AssumeRole")
        if acting != execution_role:
            assume(boto_name, env, execution_role, acting)
        authorize(boto_name, acting, checks)
        return original(self, env, resource_runtime_part, normalised_parameters, state_credentials)

    return run


def install():
    if _original:
        return
    for cls in (StateTaskServiceAwsSdk, StateTaskServiceDynamoDB, StateTaskServiceSfn, StateTaskServiceLambda):
        _original[cls] = cls._eval_service_task
        cls._eval_service_task = _checked(cls._eval_service_task)
