"""Step Functions' aws-sdk dialect, as real Step Functions speaks it (the project's one copy of these rules;
the interpreter fixes and tests/localcloud/test_template.py both use it).

Field names. An aws-sdk task's parameters are named after the AWS SDK for Java v2 members with the first
letter capitalised (AWS docs, supported-services-awssdk: "parameter names will be Pascal case"; the Java
name comes from aws-sdk-java-v2 codegen `Utils.unCapitalize`): a leading run of capitals is lowercased,
keeping the last one when a lowercase letter follows. So `TTL -> Ttl`, `DNSName -> DnsName`, `VPC -> Vpc`,
`VPCId -> VpcId`, `VPCs -> VpCs`, `BOOL -> Bool`, while `HostedZoneId` stays. Any other spelling, even one
differing only in case, is refused: "The field "X" is not supported by Step Functions" (AWS docs,
connect-parameters). Responses come back in the same dialect at every depth.

Error names. A service error Step Functions raises is `<Prefix>.<ExceptionName>`: the Java SDK v2 client's
prefix (`ElasticLoadBalancingV2`, `Route53`, `Ec2`, `Kafka`, `DynamoDb`, `Sfn`, `Sts`) and the Java exception
class, which is the modelled error shape whose code the service sent, with `Exception` appended when the
shape's name lacks it. A code the service does not model (ELBv2's and Route 53's rate throttling `Throttling`,
every EC2 error: EC2 models none) is the client's base exception, `<Prefix>.<Prefix>Exception`, with the
AWS message in the cause. Sources: AWS docs supported-services-awssdk; a real execution failing with
`Ec2.Ec2Exception: Request limit exceeded ... (Service: Ec2, Status Code: 503` (CloudSnorkel/cdk-github-runners#946).
The optimized DynamoDB integration (`arn:aws:states:::dynamodb:*`) names the same shapes with the prefix
`DynamoDB` (AWS docs, connect-ddb: "the exception prefix will be DynamoDB (uppercase DB)"), its catch-all being
`DynamoDB.AmazonDynamoDBException`.
"""

import functools

import botocore
import botocore.session
from botocore.model import ListShape, MapShape, StructureShape

# aws-sdk integration service name -> botocore service name, where they differ.
BOTO_NAMES = {"elasticloadbalancingv2": "elbv2", "sfn": "stepfunctions", "states": "stepfunctions"}

# aws-sdk integration service name -> the Java SDK v2 client prefix Step Functions puts in error names.
ERROR_PREFIXES = {
    "elasticloadbalancingv2": "ElasticLoadBalancingV2",
    "route53": "Route53",
    "kafka": "Kafka",
    "ec2": "Ec2",
    "dynamodb": "DynamoDb",
    "sfn": "Sfn",
    "sts": "Sts",
    "iam": "Iam",
}

@functools.lru_cache(maxsize=None)
def get_service_model(boto_name):
    # botocore's own models, which are AWS's: moto's copy adds error shapes of its own (EC2's AuthFailure).
    return botocore.session.get_session().get_service_model(boto_name)


OPTIMIZED_DYNAMODB_PREFIX = "DynamoDB"
OPTIMIZED_DYNAMODB_CATCH_ALL = "DynamoDB.AmazonDynamoDBException"


class UnsupportedField(Exception):
    """A parameter Step Functions does not know under that spelling; `path` is where it is."""

    def __init__(self, field, path, expected=None):
        self.field, self.path, self.expected = field, path, expected
        hint = f" (Step Functions spells it \"{expected}\")" if expected else ""
        super().__init__(f'The field "{field}" is not supported by Step Functions{hint}')


def java_name(member):
    """The Java SDK v2 member name with its first letter capitalised: TTL -> Ttl, DNSName -> DnsName, VPCs -> VpCs."""
    if not member:
        return member
    lowered = [member[0].lower()]
    i = 1
    while i < len(member) and member[i].isupper() and not (i < len(member) - 1 and member[i + 1].islower()):
        lowered.append(member[i].lower())
        i += 1
    name = "".join(lowered) + member[i:]
    return name[:1].upper() + name[1:]


def boto_service(sfn_service):
    return BOTO_NAMES.get(sfn_service, sfn_service)


def error_prefix(sfn_service):
    return ERROR_PREFIXES.get(sfn_service.lower(), sfn_service[:1].upper() + sfn_service[1:])


@functools.lru_cache(maxsize=None)
def operation(boto_name, action):
    """The botocore operation for an aws-sdk action (`changeResourceRecordSets`, or boto3's `change_resource_record_sets`)."""
    model = get_service_model(boto_name)
    wanted = botocore.xform_name(action)
    for name in model.operation_names:
        if botocore.xform_name(name) == wanted:
            return model.operation_model(name)
    return None


@functools.lru_cache(maxsize=None)
def _error_shapes_by_code(boto_name):
    shapes = {}
    for shape in get_service_model(boto_name).error_shapes:
        shapes[shape.metadata.get("error", {}).get("code", shape.name)] = shape.name
    return shapes


def _exception(name):
    return name if name.endswith("Exception") else name + "Exception"


def error_name(sfn_service, code):
    """The error Step Functions raises when an aws-sdk call answers with `code` on the wire."""
    prefix = error_prefix(sfn_service)
    shape = _error_shapes_by_code(boto_service(sfn_service)).get(code)
    return f"{prefix}.{_exception(shape or prefix)}"


def optimized_dynamodb_error_name(code):
    shape = _error_shapes_by_code("dynamodb").get(code)
    return f"{OPTIMIZED_DYNAMODB_PREFIX}.{_exception(shape)}" if shape else OPTIMIZED_DYNAMODB_CATCH_ALL


def raisable_errors(sfn_service):
    """Every error name an aws-sdk task of this service can raise: one per modelled error shape, and the catch-all."""
    prefix = error_prefix(sfn_service)
    names = {f"{prefix}.{_exception(shape)}" for shape in _error_shapes_by_code(boto_service(sfn_service)).values()}
    return names | {f"{prefix}.{_exception(prefix)}"}


def optimized_dynamodb_errors():
    names = {f"{OPTIMIZED_DYNAMODB_PREFIX}.{_exception(shape)}" for shape in _error_shapes_by_code("dynamodb").values()}
    return names | {OPTIMIZED_DYNAMODB_CATCH_ALL}


def _members_by_java_name(shape):
    return {java_name(member): member for member in shape.members}


def field_errors(value, shape, path, literal_only=False):
    """Every parameter name in `value` that Step Functions refuses for `shape`, as (field, path, expected) tuples.
    With `literal_only` (a definition, before `.$` values are known), a `Name.$` key is checked by its name only."""
    errors = []
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        members = _members_by_java_name(shape)
        for key, item in value.items():
            dynamic = literal_only and key.endswith(".$")
            name = key[:-2] if dynamic else key
            member = members.get(name)
            if member is None:
                errors.append((name, path, _close_match(name, members)))
            elif not dynamic:
                errors += field_errors(item, shape.members[member], f"{path}.{name}", literal_only)
    elif isinstance(shape, ListShape) and isinstance(value, list):
        for i, item in enumerate(value):
            errors += field_errors(item, shape.member, f"{path}[{i}]", literal_only)
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        for key, item in value.items():
            if not (literal_only and key.endswith(".$")):
                errors += field_errors(item, shape.value, f"{path}.{key}", literal_only)
    return errors


def _close_match(name, members):
    return next((java for java in members if java.lower() == name.lower()), None)


def to_boto(value, shape):
    """A request in Step Functions' dialect, renamed in place to botocore's members; raises UnsupportedField."""
    errors = field_errors(value, shape, "")
    if errors:
        field, path, expected = errors[0]
        raise UnsupportedField(field, path, expected)
    _rename_request(value, shape)


def _rename_request(value, shape):
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        members = _members_by_java_name(shape)
        for key in list(value):
            member = members[key]
            item = value.pop(key)
            _rename_request(item, shape.members[member])
            value[member] = item
    elif isinstance(shape, ListShape) and isinstance(value, list):
        for item in value:
            _rename_request(item, shape.member)
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        for item in value.values():
            _rename_request(item, shape.value)


def from_boto(value, shape):
    """A botocore response re-cased in place as Step Functions returns it. The values of maps are left as they are:
    a DynamoDB item's top-level attribute values keep `S`, `N`, `BOOL` (AWS-FACTS, Step Functions dialect)."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        for key in list(value):
            item = value.pop(key)
            member = shape.members.get(key)
            if member is not None:
                from_boto(item, member)
            value[java_name(key)] = item
    elif isinstance(shape, ListShape) and isinstance(value, list):
        for item in value:
            from_boto(item, shape.member)
