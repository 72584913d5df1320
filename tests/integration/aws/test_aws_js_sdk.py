"""The AWS SDK for JavaScript v3 (`@aws-sdk/client-iam`, `@aws-sdk/client-sts`, pinned by tests/js/package-lock.json,
installed by `make node-deps`) against a live server: a second SDK's signer, XML parser, paginator and error
names. Node.js missing fails the test; VESTIBULE_ALLOW_NO_NODE=1 turns that into a skip."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from integration.aws.aws_world import Account, AwsWorld

JS = Path(__file__).resolve().parents[2] / "js"


def _node() -> str:
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "Node.js (`node`) is not on PATH: install Node.js 20 or later"
    elif not (JS / "node_modules" / "@aws-sdk" / "client-iam").is_dir() or \
            not (JS / "node_modules" / "@aws-sdk" / "client-sts").is_dir():
        missing = "the AWS SDK for JavaScript is not installed in tests/js: run `make node-deps`"
    if missing is not None:
        if os.environ.get("VESTIBULE_ALLOW_NO_NODE") == "1":
            pytest.skip(missing)
        pytest.fail(f"{missing} (or set VESTIBULE_ALLOW_NO_NODE=1 to skip this test)", pytrace=False)
    assert node is not None
    return node


def _round(world: AwsWorld, account: Account, prefix: str, home: Path) -> dict[str, Any]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "VESTIBULE_ENDPOINT": world.url,
           "AWS_ACCESS_KEY_ID": account.root.access_key_id, "AWS_SECRET_ACCESS_KEY": account.root.secret_access_key,
           "NAME_PREFIX": prefix, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    done = subprocess.run([_node(), str(JS / "round.mjs")], env=env, cwd=JS, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, f"node round.mjs: exit {done.returncode}\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_a_round_of_iam_and_sts_calls_with_the_javascript_sdk(world: AwsWorld, account: Account,
                                                              tmp_path: Path) -> None:
    prefix = f"js{uuid.uuid4().hex[:6]}"
    out = _round(world, account, prefix, tmp_path)
    names = [f"{prefix}-user-{i}" for i in (1, 2, 3)]
    assert out["account"] == account.account_id and out["rootArn"] == account.root_arn
    assert out["user"]["name"] == names[0] and out["user"]["arn"] == account.user_arn(names[0], "/js/")
    assert out["user"]["path"] == "/js/" and out["user"]["id"].startswith("AIDA")
    # paginateListUsers with MaxItems=1: one user per page, every page followed by its Marker
    assert (out["pages"], out["listed"], out["firstPageTruncated"]) == (3, sorted(names), True)
    assert sorted((t["Key"], t["Value"]) for t in out["tags"]) == [("cost-center", "42"), ("team", "web")]

    role_arn = f"arn:aws:iam::{account.account_id}:role/{prefix}-role"
    assert out["role"]["arn"] == role_arn and out["role"]["id"].startswith("AROA")
    assert out["roleTrust"]["Statement"][0]["Principal"] == {"AWS": account.user_arn(names[1], "/js/")}
    assert out["roleDescription"] == "made by the JS SDK"
    assert out["attached"] == [{"PolicyName": f"{prefix}-policy", "PolicyArn": out["policyArn"]}]

    session_arn = f"arn:aws:sts::{account.account_id}:assumed-role/{prefix}-role/js-session"
    assert out["assumedRoleUser"]["Arn"] == session_arn
    assert out["assumedRoleUser"]["AssumedRoleId"].startswith(out["role"]["id"] + ":js-session")
    assert out["sessionIdentity"]["Arn"] == session_arn and out["sessionIdentity"]["Account"] == account.account_id
    assert out["expiration"].endswith("Z")
    assert out["roleListedUsers"] == 3  # the role's policy allows iam:ListUsers ...
    assert out["roleDenied"]["name"] == "AccessDenied" and out["roleDenied"]["status"] == 403  # ... and no more

    assert out["missingUser"]["name"] == "NoSuchEntityException" and out["missingUser"]["status"] == 404
    assert out["duplicateUser"]["name"] == "EntityAlreadyExistsException" and out["duplicateUser"]["status"] == 409
    assert out["invalid"]["name"] == "ValidationError" and out["invalid"]["status"] == 400
    assert out["invalid"]["message"].startswith("2 validation errors detected: Value 'has spacehas space")

    # what the JavaScript SDK made, read back by boto3
    iam = world.iam(account.root)
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=f"{prefix}-role")["AttachedPolicies"]] \
        == [out["policyArn"]]
    assert len(iam.list_access_keys(UserName=names[1])["AccessKeyMetadata"]) == 1
