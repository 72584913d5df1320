"""The Prometheus metrics (`/metrics`): their definitions, the one-line `record_*` calls the use cases make,
and the exposition.

Label values come from code only (user types, method names, operation names of the services table, error
codes), never from what a client typed, so every label has a small, fixed set of values.

With several worker processes (`vestibule serve --workers N`) `PROMETHEUS_MULTIPROC_DIR` is set before the
workers start: each process writes its counts to files there and the scrape adds them up (prometheus_client's
multiprocess mode)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from ..core.principals import PrincipalKind

disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated upstream; no `_created` series: half as many
REGISTRY = CollectorRegistry(auto_describe=True)

SIGNIN_ATTEMPTS = Counter(
    "vestibule_signin_attempts", "Sign-in attempts: each failed step, and each completed sign-in.",
    ["user_type", "method", "result"], registry=REGISTRY)
THROTTLE_DECISIONS = Counter(
    "vestibule_throttle_decisions", "Guesses and request budgets as the throttle decided them.",
    ["kind", "decision"], registry=REGISTRY)
MFA_FAILURES = Counter(
    "vestibule_mfa_failures", "MFA codes refused (wrong or reused), by the audit event of the check.",
    ["event"], registry=REGISTRY)
AWS_REQUESTS = Counter(
    "vestibule_aws_requests", "AWS API requests answered, by service, operation and error code.",
    ["service", "operation", "error_code"], registry=REGISTRY)
AWS_LATENCY = Histogram(
    "vestibule_aws_request_duration_seconds", "Time to answer an AWS API request, once its body was read.",
    ["service", "operation"], registry=REGISTRY)
MAIL_SENT = Counter("vestibule_mail_sent", "Mail the mail server accepted.", registry=REGISTRY)
MAIL_FAILURES = Counter(
    "vestibule_mail_send_failures", "Failed mail deliveries: tried again later (retry) or given up.",
    ["outcome"], registry=REGISTRY)
POOL_CHECKED_OUT = Gauge(
    "vestibule_db_pool_checked_out", "Database connections lent out by the pool now.",
    registry=REGISTRY, multiprocess_mode="livesum")
POOL_SIZE = Gauge(
    "vestibule_db_pool_size", "Database connections the pool keeps (without its overflow).",
    registry=REGISTRY, multiprocess_mode="livesum")

for _kind in ("password", "code", "token", "request"):  # fixed label sets start at 0: rate() sees a first rise
    for _decision in ("allowed", "captcha", "delayed") if _kind == "password" else ("allowed", "delayed"):
        THROTTLE_DECISIONS.labels(_kind, _decision)
for _outcome in ("retry", "given_up"):
    MAIL_FAILURES.labels(_outcome)

# PrincipalKind's stored prefixes -> the label's words
_USER_TYPES = {PrincipalKind.ROOT.value: "root", PrincipalKind.IAM_USER.value: "iam_user",
               PrincipalKind.DIRECTORY_USER.value: "directory_user", PrincipalKind.PROFILE.value: "profile",
               PrincipalKind.FEDERATED.value: "federated", PrincipalKind.ROLE.value: "role"}
NO_ERROR = "none"
UNKNOWN = "unknown"


def user_type(kind: PrincipalKind | str) -> str:
    """The `user_type` label of a principal kind (`PrincipalKind` or its stored prefix)."""
    return _USER_TYPES.get(str(kind), UNKNOWN)


def record_sign_in(kind: PrincipalKind | str, method: str, success: bool) -> None:
    SIGNIN_ATTEMPTS.labels(user_type(kind), method, "success" if success else "failure").inc()


def record_throttle(kind: str, decision: str) -> None:
    """`kind`: password (sign-in), code (mailed, MFA and device user codes), token (SCIM bearer tokens), request
    (the per-address budgets of anonymous requests that store a row); `decision`: allowed | captcha | delayed."""
    THROTTLE_DECISIONS.labels(kind, decision).inc()


def record_mfa_failure(event: str) -> None:
    MFA_FAILURES.labels(event).inc()


@dataclass
class AwsRequestSeen:
    """What an AWS endpoint learns of a request as it goes: the labels of `record_aws_request`. `operation`
    only ever names an operation of the services table (anything else stays `unknown`)."""

    service: str = UNKNOWN
    operation: str = UNKNOWN
    error_code: str = ""


def record_aws_request(seen: AwsRequestSeen, seconds: float) -> None:
    AWS_REQUESTS.labels(seen.service, seen.operation, seen.error_code or NO_ERROR).inc()
    AWS_LATENCY.labels(seen.service, seen.operation).observe(seconds)


def record_mail(sent: bool, *, given_up: bool = False) -> None:
    if sent:
        MAIL_SENT.inc()
    else:
        MAIL_FAILURES.labels("given_up" if given_up else "retry").inc()


def pool_checked_out(change: int) -> None:
    POOL_CHECKED_OUT.inc(change)


def pool_size(size: int) -> None:
    POOL_SIZE.set(size)


@dataclass(frozen=True)
class Snapshot:
    """What a scrape reads from the database (shared by every process and node): absent when it did not answer."""

    sessions: Mapping[str, int] | None = None
    outbox: Mapping[str, int] | None = None


class _Scrape:
    """One scrape's metrics: the process's (or every worker's) and the snapshot's gauges."""

    def __init__(self, counted: CollectorRegistry, snapshot: Snapshot) -> None:
        self._counted = counted
        self._snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        yield from self._counted.collect()
        if self._snapshot.sessions is not None:
            sessions = GaugeMetricFamily("vestibule_sessions_active",
                                         "Sessions neither ended nor expired, by kind (console, cli).",
                                         labels=["kind"])
            for kind in sorted({"console", "cli", *self._snapshot.sessions}):
                sessions.add_metric([kind], self._snapshot.sessions.get(kind, 0))
            yield sessions
        if self._snapshot.outbox is not None:
            outbox = GaugeMetricFamily("vestibule_mail_outbox_messages",
                                       "Messages in the mail outbox, by status.", labels=["status"])
            for status, n in sorted(self._snapshot.outbox.items()):
                outbox.add_metric([status], n)
            yield outbox


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def _forget_dead_workers(directory: Path) -> None:
    """A worker that died (and was replaced) keeps its counts, but its live gauges (the pool's) no longer count."""
    for path in directory.glob("gauge_live*_*.db"):
        pid = path.stem.rpartition("_")[2]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            mark_process_dead(int(pid), str(directory))  # type: ignore[no-untyped-call]  # unannotated upstream
        except PermissionError:  # alive, someone else's
            pass


def use_multiprocess_dir(data_dir: Path) -> Path:
    """Before `vestibule serve` starts its workers: the directory where each worker writes its counts, so that a
    scrape, whichever worker answers it, adds up all of them. `PROMETHEUS_MULTIPROC_DIR` when the operator set
    it (emptied by the operator between runs), else a fresh directory under the data directory, removed when
    this process exits."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        return Path(given)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    made = Path(tempfile.mkdtemp(prefix="metrics-", dir=data_dir))
    atexit.register(shutil.rmtree, made, True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(made)
    return made


def exposition(snapshot: Snapshot, accept: str = "") -> tuple[bytes, str]:
    """The metrics in the format the `Accept` header asks for (OpenMetrics, or the Prometheus text format 0.0.4
    by default), and its content type."""
    if multiprocess():
        _forget_dead_workers(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
        counted = CollectorRegistry()
        MultiProcessCollector(counted)  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated
    else:
        counted = REGISTRY
    scrape = CollectorRegistry()
    scrape.register(_Scrape(counted, snapshot))
    try:
        encode, content_type = choose_encoder(_understood(accept))
    except Exception:  # prometheus_client parsing a header it did not expect: the text format, never a 500
        encode, content_type = choose_encoder("")
    return encode(scrape), content_type


OPENMETRICS_VERSION = "1.0.0"  # the OpenMetrics version prometheus_client writes


def _understood(accept: str) -> str:
    """The Accept header reduced to what is answered: OpenMetrics 1.0.0 when a range asks for it with no version or
    that one, else "" (the Prometheus text format 0.0.4). Nothing of the client's header reaches the answer's
    content type (a `version=9.9.9` is not echoed), and no malformed parameter reaches prometheus_client."""
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if media.lower() != "application/openmetrics-text":
            continue
        version = ""
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "version":
                version = value.strip().strip('"')
        if version in ("", OPENMETRICS_VERSION):
            return f"application/openmetrics-text; version={OPENMETRICS_VERSION}"
    return ""
