"""The unit of work: one session, one transaction, committed once by the service."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from fiberdesk.db.engine import WRITE_OPTION


class UnitOfWork:
    """``with uow: ...; uow.commit()``; leaving the block without a commit rolls back.

    ``write=True`` (the default) tells SQLite to take its write lock when the transaction
    begins; read-only work passes ``write=False`` and never waits for writers. On
    PostgreSQL read-only work runs without a transaction of its own (autocommit): each
    statement reads the latest committed data, as it would inside a READ COMMITTED
    transaction, and the BEGIN and ROLLBACK round trips are saved. A read-only unit of work
    refuses to commit.
    """

    def __init__(self, session_factory: sessionmaker[Session], *, write: bool = True) -> None:
        self._factory = session_factory
        self._write = write
        self._session: Session | None = None
        self._after_commit: list[Callable[[], Any]] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its with-block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        self._after_commit = []
        options: dict[str, Any] = {WRITE_OPTION: self._write}
        if not self._write and self._session.get_bind().dialect.name == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        self._session.connection(execution_options=options)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back anything uncommitted and detaches the objects without
        # expiring them, so values read inside the block stay readable after it
        self.session.close()
        self._session = None

    def commit(self) -> None:
        if not self._write:
            raise RuntimeError("a read-only unit of work (write=False) cannot commit")
        self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def flush(self) -> None:
        self.session.flush()

    def on_commit(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` after a successful commit (e.g. wake the outbox worker)."""
        self._after_commit.append(callback)


class UowFactory(Protocol):
    """Opens units of work; given to services that must call an outside system between a
    read and a write (a remote call never runs inside a database transaction)."""

    def __call__(self, *, write: bool = True) -> UnitOfWork: ...
