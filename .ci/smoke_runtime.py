"""Fresh-install smoke test: Vestibule installed with only its runtime dependencies must serve.

Builds a new virtual environment from the runtime lock (nothing from the test extras), installs the
package into it (not editable, so missing package data shows too), creates an account and an access key
with its `vestibule` command, starts `vestibule serve` on a free port with a fresh data directory, and
checks that `/` answers 200 and that a SigV4-signed GetCallerIdentity returns the account.

The server and the CLI run from the fresh environment; only the signing client (botocore) comes from
the test environment that runs this script. Exit status 0 on success, 1 with the reason on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class SmokeFailure(Exception):
    pass


def _run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SmokeFailure(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_venv(python: str, venv: Path, lock: Path) -> Path:
    if venv.exists():
        shutil.rmtree(venv)
    _run([python, "-m", "venv", str(venv)])
    pip = str(venv / "bin" / "pip")
    _run([pip, "install", "-q", "--require-hashes", "-r", str(lock)])
    _run([pip, "install", "-q", "--no-deps", str(ROOT)])
    return venv / "bin" / "vestibule"


def _wait_for(url: str, server: subprocess.Popen[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SmokeFailure(f"the server exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SmokeFailure(f"no answer from {url} within {seconds:.0f} s")


def _signed_caller_identity(endpoint: str, key_id: str, secret: str) -> dict[str, str]:
    import boto3

    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key_id,
                       aws_secret_access_key=secret)
    answer = sts.get_caller_identity()
    return {"Account": str(answer["Account"]), "Arn": str(answer["Arn"])}


def smoke(vestibule: Path, work: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VESTIBULE_", "AWS_"))}
    env.update(VESTIBULE_DATA_DIR=str(work / "data"), VESTIBULE_ARGON2_MEMORY_KIB="8192",
               PATH=f"{vestibule.parent}:{env.get('PATH', '')}")
    created = json.loads(_run([str(vestibule), "account", "create", "--email", "smoke@example.com",
                               "--password", "smoke test passphrase 1", "--alias", "smoke-test"], env))
    account_id = str(created["AccountId"])
    key = json.loads(_run([str(vestibule), "access-key", "create", "--account", account_id], env))
    port = _free_port()
    log = (work / "server.log").open("w")
    server = subprocess.Popen([str(vestibule), "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, text=True, cwd=work)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/", server, 60)
        identity = _signed_caller_identity(base, key["AccessKeyId"], key["SecretAccessKey"])
        if identity["Account"] != account_id or not identity["Arn"].endswith(":root"):
            raise SmokeFailure(f"GetCallerIdentity answered {identity}, expected the root of {account_id}")
    except Exception:
        log.flush()
        print((work / "server.log").read_text(), file=sys.stderr)
        raise
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    return f"fresh runtime-only install served / and GetCallerIdentity for account {account_id}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="python3.11", help="interpreter for the fresh environment")
    parser.add_argument("--lock", default=str(ROOT / "requirements" / "runtime.lock"))
    parser.add_argument("--venv", default=str(ROOT / "build" / "runtime-venv"))
    args = parser.parse_args()
    try:
        vestibule = build_venv(args.python, Path(args.venv), Path(args.lock))
        with tempfile.TemporaryDirectory(prefix="vestibule-smoke-") as tmp:
            print("smoke:", smoke(vestibule, Path(tmp)))
    except SmokeFailure as exc:
        print(f"smoke: FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
