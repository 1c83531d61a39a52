"""IAM policy evaluation: as much of it as BrokerLink's policies (template.yaml, consumer-account.yaml) use,
evaluated the way AWS documents it. Anything else in a policy (NotPrincipal, an operator not listed here) raises
PolicyNotSupported: the local cloud never guesses in favour of a call.

Sources (AWS IAM User Guide):
* reference_policies_evaluation-logic: an explicit Deny wins, then any Allow, else the request is implicitly
  denied. Each resource of a request is authorized on its own.
* reference_policies_elements_resource / _condition_operators (ARN): each of the six colon-delimited parts of an
  ARN is matched on its own, `*` and `?` as wildcards; the last part (the resource) may itself contain colons.
* reference_policies_elements_action: actions match case-insensitively, with `*` and `?`.
* reference_policies_elements_condition_operators: String*, Arn*, Bool, Null, the `...IfExists` suffix; several
  keys in one block, and several blocks, must all match; several values of one key in the policy: any of them.
  A single-valued operator on a key the request lacks is false (true with IfExists, or when negated); Null "true"
  means absent.
* reference_policies_condition-single-vs-multi-valued-context-keys: ForAllValues is true when every value the
  request has matches some policy value (also when the key is absent or empty); ForAnyValue when at least one does
  (false when absent).
* reference_policies_elements_principal: in a role trust policy, an AWS principal that is a role ARN matches that
  role's sessions; an account id or `arn:aws:iam::<account>:root` any principal of that account (which then also
  needs an identity policy allowing the action); `*` anyone. A Service principal matches that service.
"""

import functools
import json
import re


class PolicyNotSupported(Exception):
    pass


def _list(value):
    return value if isinstance(value, list) else [value]


@functools.lru_cache(maxsize=4096)
def _glob(pattern, case_sensitive=True):
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, 0 if case_sensitive else re.IGNORECASE)


def like(pattern, value, case_sensitive=True):
    return _glob(pattern, case_sensitive).fullmatch(value) is not None


def arn_like(pattern, arn):
    if pattern == "*":
        return True
    parts, values = pattern.split(":", 5), arn.split(":", 5)
    return len(parts) == len(values) == 6 and all(like(p, v) for p, v in zip(parts, values))


def _string_match(operator, policy_value, value):
    base = operator.removesuffix("IfExists")
    if base in ("StringEquals", "StringNotEquals"):
        return policy_value == value
    if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return policy_value.lower() == value.lower()
    if base in ("StringLike", "StringNotLike"):
        return like(policy_value, value)
    if base in ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"):
        return arn_like(policy_value, value)
    if base == "Bool":
        return policy_value.lower() == str(value).lower()
    raise PolicyNotSupported(f"condition operator {operator}")


def _condition_holds(operator, key, policy_values, context):
    policy_values = [str(v).lower() if isinstance(v, bool) else str(v) for v in _list(policy_values)]
    present = key.lower() in context
    values = _list(context.get(key.lower())) if present else []
    if operator == "Null":
        return (policy_values[0].lower() == "true") == (not present)
    qualifier, _, base = operator.rpartition(":")
    negated = "Not" in base
    if qualifier == "ForAllValues":
        return all(any(_string_match(base, p, v) for p in policy_values) != negated for v in values)
    if qualifier == "ForAnyValue":
        return any(any(_string_match(base, p, v) for p in policy_values) != negated for v in values)
    if qualifier:
        raise PolicyNotSupported(f"condition qualifier {qualifier}")
    if not present:  # a negated operator holds for a key the request lacks
        return base.endswith("IfExists") or negated
    matched = any(_string_match(base, p, v) for p in policy_values for v in values)
    return matched != negated


def conditions_hold(condition, context):
    return all(_condition_holds(operator, key, values, context)
               for operator, keys in (condition or {}).items() for key, values in keys.items())


def _principal_matches(principal, caller):
    """caller: {"arn": role ARN, "account": its account} or {"service": "states.amazonaws.com"}."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        raise PolicyNotSupported(f"principal {principal!r}")
    for kind, values in principal.items():
        for value in _list(values):
            if kind == "AWS" and "arn" in caller and (
                    value in ("*", caller["arn"], caller["account"], f"arn:aws:iam::{caller['account']}:root")):
                return True
            if kind == "Service" and value == caller.get("service"):
                return True
    return False


def _statement_matches(statement, action, resource, context, caller=None):
    if "NotPrincipal" in statement:
        raise PolicyNotSupported("NotPrincipal")
    if caller is not None and not _principal_matches(statement.get("Principal"), caller):
        return False
    if "Action" in statement:
        if not any(like(a, action, case_sensitive=False) for a in _list(statement["Action"])):
            return False
    elif any(like(a, action, case_sensitive=False) for a in _list(statement.get("NotAction", []))):
        return False
    if resource is not None:
        if "Resource" in statement:
            if not any(arn_like(r, resource) for r in _list(statement["Resource"])):
                return False
        elif "NotResource" in statement and any(arn_like(r, resource) for r in _list(statement["NotResource"])):
            return False
    return conditions_hold(statement.get("Condition"), context)


@functools.lru_cache(maxsize=1024)
def _statements(document_text):
    document = json.loads(document_text) if isinstance(document_text, str) else document_text
    return tuple(_list(document.get("Statement", [])))


def decide(documents, action, resource, context, caller=None):
    """"Deny" (an explicit Deny matched), "Allow", or None (implicitly denied). `documents`: policy JSON texts."""
    allowed = False
    for document in documents:
        for statement in _statements(document):
            if _statement_matches(statement, action, resource, context, caller):
                if statement.get("Effect") == "Deny":
                    return "Deny"
                allowed = True
    return "Allow" if allowed else None
