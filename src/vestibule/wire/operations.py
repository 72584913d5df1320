"""Operation rows: a handler, the IAM action that authorizes it, the audit event it records, its input
members. A service module builds its table with `OperationTable.operation`, one row per handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .members import Member

Request = TypeVar("Request")
Reply = TypeVar("Reply")


@dataclass(frozen=True)
class Operation(Generic[Request, Reply]):
    name: str
    handler: Callable[[Request], Awaitable[Reply]]
    action: str | None  # the IAM action that authorizes the call; None: being authenticated is enough
    audit: str | None  # the audit event a successful call records; None: a read
    inputs: tuple[Member, ...] = ()
    signed: bool = True
    http: tuple[str, str] | None = None  # rest-json: method and path

    def member(self, name: str) -> Member:
        for member in self.inputs:
            if member.name == name:
                return member
        raise KeyError(f"{self.name} does not declare the input member {name}")


@dataclass
class OperationTable(Generic[Request, Reply]):
    rows: dict[str, Operation[Request, Reply]] = field(default_factory=dict)

    def operation(self, name: str, *, action: str | None, audit: str | None = None,
                  inputs: tuple[Member, ...] = (), signed: bool = True, http: tuple[str, str] | None = None,
                  ) -> Callable[[Callable[[Request], Awaitable[Reply]]], Callable[[Request], Awaitable[Reply]]]:
        def register(handler: Callable[[Request], Awaitable[Reply]]) -> Callable[[Request], Awaitable[Reply]]:
            assert name not in self.rows, f"operation {name} registered twice"
            self.rows[name] = Operation(name, handler, action, audit, inputs, signed, http)
            return handler

        return register

    def get(self, name: str) -> Operation[Request, Reply] | None:
        return self.rows.get(name)


AnyOperation = Operation[Any, Any]
