"""Amazon Resource Names of the principals and resources Vestibule serves: one place builds and reads them."""

from __future__ import annotations

import re

_ROLE_ARN = re.compile(r"arn:aws:iam::([0-9]{12}):role/(?:[\u0021-\u007E]*/)?([\w+=,.@-]{1,64})", re.ASCII)
_USER_ARN = re.compile(r"arn:aws:iam::([0-9]{12}):user/(?:[\u0021-\u007E]*/)?([\w+=,.@-]{1,64})", re.ASCII)
_ROOT_ARN = re.compile(r"arn:aws:iam::([0-9]{12}):root", re.ASCII)
_SIGNIN_SESSION_ARN = re.compile(r"arn:aws:signin::([0-9]{12}):session/([0-9a-f]{32})", re.ASCII)


def root_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def user_arn(account_id: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:user{path}{name}"


def group_arn(account_id: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:group{path}{name}"


def role_arn(account_id: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:role{path}{name}"


def policy_arn(account_id: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:policy{path}{name}"


def mfa_arn(account_id: str, device_name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:mfa{path}{device_name}"


def all_of_kind(account_id: str, kind: str, path_prefix: str = "/") -> str:
    """The resource of a List call: every `kind` under `path_prefix` (`arn:aws:iam::1:user/*`)."""
    return f"arn:aws:iam::{account_id}:{kind}{path_prefix}*"


def assumed_role_arn(account_id: str, role_name: str, session_name: str) -> str:
    return f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}"


def federated_user_arn(account_id: str, name: str) -> str:
    return f"arn:aws:sts::{account_id}:federated-user/{name}"


def parse_role_arn(arn: str) -> tuple[str, str] | None:
    """(account ID, role name) of `arn:aws:iam::<account>:role/<path><name>`, or None."""
    match = _ROLE_ARN.fullmatch(arn)
    return (match.group(1), match.group(2)) if match else None


def role_of_session(session_arn: str) -> str:
    """The role ARN behind `arn:aws:sts::<account>:assumed-role/<role>/<session>` (path not kept)."""
    fields = session_arn.split(":", 5)
    return role_arn(fields[4], fields[5].split("/")[1])


def parse_user_arn(arn: str) -> tuple[str, str] | None:
    """(account ID, user name) of `arn:aws:iam::<account>:user/<path><name>`, or None."""
    match = _USER_ARN.fullmatch(arn)
    return (match.group(1), match.group(2)) if match else None


def parse_root_arn(arn: str) -> str | None:
    """The account ID of `arn:aws:iam::<account>:root`, or None."""
    match = _ROOT_ARN.fullmatch(arn)
    return match.group(1) if match else None


def signin_session(account_id: str, public_id: str) -> str:
    """A console or command-line sign-in session (the signin service's ListSessions, GetSession)."""
    return f"arn:aws:signin::{account_id}:session/{public_id}"


def signin_sessions(account_id: str) -> str:
    """Every sign-in session of an account: the resource of ListSessions for another principal's."""
    return f"arn:aws:signin::{account_id}:session/*"


def parse_signin_session(arn: str) -> tuple[str, str] | None:
    """(account ID, public ID) of `arn:aws:signin::<account>:session/<public id>`, or None."""
    match = _SIGNIN_SESSION_ARN.fullmatch(arn)
    return (match.group(1), match.group(2)) if match else None


def is_aws_managed(arn: str) -> bool:
    """A built-in (AWS managed) policy: `arn:aws:iam::aws:policy/...`."""
    return arn.startswith("arn:aws:iam::aws:")


def account_of(arn: str) -> str:
    """The account field of an ARN ('' when it has none, 'aws' for AWS managed policies)."""
    fields = arn.split(":")
    return fields[4] if len(fields) > 4 else ""
