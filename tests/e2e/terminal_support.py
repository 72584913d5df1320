"""The user's computer for the end-to-end tests of the `vestibule` client commands: a subprocess whose output is
collected as it comes (so a test can wait for a prompt and type into it), and the environment it runs in."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any


def client_env(home: Path, config: Path) -> dict[str, str]:
    """No AWS_* or VESTIBULE_* from the test's environment; a server database URL that answers nothing (the
    client commands must not open it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VESTIBULE_"))}
    env.update(HOME=str(home), AWS_CONFIG_FILE=str(config), AWS_EC2_METADATA_DISABLED="true",
               VESTIBULE_DATABASE_URL="postgresql+asyncpg://nobody:none@127.0.0.1:1/nothing",
               PYTHONUNBUFFERED="1")
    return env


class Running:
    """A subprocess whose output is collected as it comes; `stdin=subprocess.PIPE` to type into it."""

    def __init__(self, args: list[str], env: dict[str, str], stdin: int = subprocess.DEVNULL) -> None:
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=stdin, text=True)
        self.out: list[str] = []
        self.err: list[str] = []
        self._changed = threading.Condition()
        self._readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: Any, into: list[str]) -> None:
        while chunk := stream.read(1):  # a prompt has no newline: read as it comes
            with self._changed:
                into.append(chunk)
                self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                match = regex.search("".join(self.out))
                if match:
                    return match
                if self.proc.poll() is not None and not any(r.is_alive() for r in self._readers):
                    raise AssertionError(f"exited {self.proc.returncode} before {pattern!r}:\n{self.text}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {pattern!r} within {timeout} s:\n{self.text}")
                self._changed.wait(min(remaining, 0.5))

    def type(self, text: str) -> None:
        assert self.proc.stdin is not None, "started without stdin=subprocess.PIPE"
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def finish(self, timeout: float = 90) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"still running after {timeout} s:\n{self.text}") from None
        for reader in self._readers:
            reader.join(5)
        return code

    @property
    def text(self) -> str:
        return "".join(self.out) + "\n--- stderr ---\n" + "".join(self.err)
