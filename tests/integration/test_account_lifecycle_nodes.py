"""Two server processes on one database and one Redis: the operator suspends the account with the command line
(a third process) and node B, which had the account's keys cached, refuses them on the very next request; after
`reinstate` B accepts them again at once; a console session open on B ended too."""

from __future__ import annotations

import os
import subprocess
import sys
from http.cookiejar import CookieJar

import httpx

from http_steps import sign_in_iam
from integration.test_multi_node import MASTER_KEY, Cluster, _client, _refused, cluster  # noqa: F401  # the fixture
from support import CHEAP_HASH


def _operator(cluster: Cluster, *argv: str) -> str:  # noqa: F811  # the fixture's name
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    env.update(VESTIBULE_DATABASE_URL=cluster.settings.database_url, VESTIBULE_REDIS_URL=cluster.settings.redis_url,
               VESTIBULE_MASTER_KEY=MASTER_KEY, VESTIBULE_DATA_DIR=str(cluster.settings.data_dir),
               VESTIBULE_ARGON2_MEMORY_KIB=str(CHEAP_HASH.memory_kib),
               VESTIBULE_ARGON2_TIME_COST=str(CHEAP_HASH.time_cost))
    done = subprocess.run([sys.executable, "-m", "vestibule.cli", *argv], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_a_suspension_by_the_operator_reaches_every_node_at_once(cluster: Cluster) -> None:  # noqa: F811
    iam_a = _client("iam", cluster.a, cluster.root_key)
    created = iam_a.create_access_key(UserName="alice")["AccessKey"]
    alice = (created["AccessKeyId"], created["SecretAccessKey"])
    sts_b = _client("sts", cluster.b, alice)
    root_b = _client("sts", cluster.b, cluster.root_key)
    account_id = sts_b.get_caller_identity()["Account"]
    assert sts_b.get_caller_identity()["Arn"].endswith(":user/alice")  # B has the key cached now
    assert root_b.get_caller_identity()["Arn"].endswith(":root")
    jar = CookieJar()
    async with httpx.AsyncClient(base_url=cluster.a.url, follow_redirects=False, cookies=jar) as on_a, \
            httpx.AsyncClient(base_url=cluster.b.url, follow_redirects=False, cookies=jar) as on_b:
        await sign_in_iam(on_a, "multi-node", "alice")
        assert (await on_b.get("/console")).status_code == 200

        assert '"suspended"' in _operator(cluster, "account", "suspend", "--account", account_id,
                                          "--contact", "ops@example.com")
        assert _refused(sts_b) == "InvalidClientTokenId"
        assert _refused(root_b) == "InvalidClientTokenId"
        assert (await on_b.get("/console")).status_code == 303

        assert '"active"' in _operator(cluster, "account", "reinstate", "--account", account_id)
    assert sts_b.get_caller_identity()["Arn"].endswith(":user/alice"), "reinstating reaches B at once too"
