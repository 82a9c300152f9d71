"""Jurisdiction data scope (数据权限): what a user may see and act on.

An official sees their division and everything below it (a coal-mine inspection bureau's
officials see the bureau's area and only coal mines); an enterprise user sees only their own
enterprise. A model whose rows are judged by the scope declares the columns to judge by once
(:class:`Scoped`, ``__scope__``); queries then read ``scope.select(Model)``,
``scope.restrict(stmt, Model)`` or ``scope.one(session, Model, id)``, so scoping is never
re-implemented per query; default is deny. A function that reads scoped records for the node
itself (a background job, sync) says so with :func:`unscoped`; a test walks the code and fails
on a scoped model selected without either."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from anjian.core.divisions.rules import child_digits, is_valid_code, prefix_of, prefix_upper_bound
from anjian.core.errors import Invalid, NotFound, OutOfScope

T = TypeVar("T", bound=tuple[Any, ...])
M = TypeVar("M")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ScopeColumns:
    """The attribute names a scope judges a row by: its division, its enterprise (an enterprise
    user sees only rows whose enterprise is theirs) and its supervision category (an inspection
    bureau sees only its categories). ``None``: the row has no such column."""

    division: str | None
    enterprise: str | None = None
    category: str | None = None


class Scoped:
    """A model whose rows a user reaches only within their scope. Subclasses set ``__scope__``
    and, for :meth:`Scope.one`'s message, ``__noun__`` (its Chinese and English name); a model
    with a ``deleted`` column (a tombstone) is read without its tombstones."""

    __scope__: ClassVar[ScopeColumns]
    __noun__: ClassVar[tuple[str, str]]


def not_in_scope_message(model: type[Scoped], ident: object) -> str:
    """ "No such record in your jurisdiction", in the model's own words."""
    zh, en = model.__noun__
    return f"{zh}不存在或不在管辖范围内: {ident} (no such {en} in your jurisdiction)"


def unscoped(reason: str) -> Callable[[F], F]:
    """Mark a function that reads scoped records for the node itself, not for a user (a
    background job, the sync engine, a lookup after a scoped read): the scope check passes it.
    ``reason`` says why, for the reader."""
    if not reason.strip():
        raise ValueError("unscoped: say why")

    def mark(fn: F) -> F:
        fn.__unscoped__ = reason  # type: ignore[attr-defined]
        return fn

    return mark


def _column(model: type[Scoped], name: str | None) -> InstrumentedAttribute[Any] | None:
    return getattr(model, name) if name is not None else None


@dataclass(frozen=True)
class Scope:
    """The data a user may reach: division prefixes, or one enterprise."""

    user_id: int | None
    role: str
    prefixes: tuple[str, ...] = ()
    enterprise_id: int | None = None
    categories: tuple[str, ...] = field(default=())

    @classmethod
    def for_division(
        cls,
        user_id: int | None,
        role: str,
        codes: list[str] | tuple[str, ...],
        categories: tuple[str, ...] = (),
    ) -> Scope:
        """Scope of an official or admin over the jurisdictions of ``codes``."""
        return cls(
            user_id=user_id,
            role=role,
            prefixes=tuple(sorted({prefix_of(c) for c in codes})),
            categories=categories,
        )

    @classmethod
    def for_enterprise(cls, user_id: int | None, enterprise_id: int) -> Scope:
        """Scope of an enterprise user: their own enterprise only."""
        return cls(user_id=user_id, role="enterprise", enterprise_id=enterprise_id)

    @property
    def is_enterprise(self) -> bool:
        return self.enterprise_id is not None

    def covers_code(self, code: str) -> bool:
        """Whether a division code lies inside this scope (for checks before writes)."""
        return not self.is_enterprise and any(code.startswith(p) for p in self.prefixes)

    def overlaps(self, code: str) -> bool:
        """Whether division ``code``'s area and this scope's share any ground: the division lies
        in the scope, or holds a part of it (the province of a county official). An enterprise
        scope overlaps no division (its figures are its enterprise's, not a division's)."""
        if self.is_enterprise:
            return False
        prefix = prefix_of(code)
        return self.covers_code(code) or any(p.startswith(prefix) for p in self.prefixes)

    def covers(
        self, *, division_code: str, enterprise_id: int | None = None, category: str | None = None
    ) -> bool:
        """Whether one record (by its division, enterprise and category) is in scope."""
        if self.is_enterprise:
            return enterprise_id is not None and enterprise_id == self.enterprise_id
        if self.categories and category is not None and category not in self.categories:
            return False
        return self.covers_code(division_code)

    def apply(
        self,
        stmt: Select[T],
        *,
        division: InstrumentedAttribute[Any] | None,
        enterprise: InstrumentedAttribute[Any] | None = None,
        category: InstrumentedAttribute[Any] | None = None,
    ) -> Select[T]:
        """Restrict a query to this scope, given the record's division, enterprise and category
        columns. A record type that has no column the scope can judge by is denied."""
        if self.is_enterprise:
            return stmt.where(
                enterprise == self.enterprise_id if enterprise is not None else false()
            )
        if division is None:
            return stmt.where(false())
        stmt = stmt.where(self.within(division))
        if self.categories and category is not None:
            stmt = stmt.where(category.in_(self.categories))
        return stmt

    def condition(self, model: type[Scoped]) -> ColumnElement[bool]:
        """The condition "this row of ``model`` is in scope" by its declared columns, without
        its tombstones (for a query over several models; prefer :meth:`select`)."""
        cols = model.__scope__
        enterprise = _column(model, cols.enterprise)
        division = _column(model, cols.division)
        category = _column(model, cols.category)
        if self.is_enterprise:
            judged: ColumnElement[bool] = (
                enterprise == self.enterprise_id if enterprise is not None else false()
            )
        elif division is None:
            judged = false()
        elif self.categories and category is not None:
            judged = and_(self.within(division), category.in_(self.categories))
        else:
            judged = self.within(division)
        deleted = getattr(model, "deleted", None)
        return judged if deleted is None else and_(judged, deleted.is_(False))

    def restrict(self, stmt: Select[T], model: type[Scoped]) -> Select[T]:
        """``stmt`` restricted to the rows of ``model`` in scope (``model`` is one of the
        statement's entities, or joined into it)."""
        return stmt.where(self.condition(model))

    def select(self, model: type[Scoped], *columns: Any) -> Select[Any]:
        """``select(model)`` (or ``select(*columns)`` of it) within the scope."""
        return self.restrict(select(*columns) if columns else select(model), model)

    def one(
        self,
        session: Session,
        model: type[M],
        ident: object,
        message: str | None = None,
        *,
        key: str = "id",
        field: str | None = None,
    ) -> M:
        """The row of ``model`` whose ``key`` is ``ident``, if in scope; else the 404 of
        :func:`not_found` with ``message`` (default: :func:`not_in_scope_message`; an
        :class:`OutOfScope` when it exists, so a write that met it is audited as refused)."""
        column = getattr(model, key)
        scoped: type[Scoped] = model  # type: ignore[assignment]
        row = session.scalars(self.select(scoped).where(column == ident).limit(1)).first()
        if row is None:
            message = message or not_in_scope_message(scoped, ident)
            raise not_found(session, column, ident, message, field=field)
        return row  # type: ignore[no-any-return]

    def within(self, division: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
        """The condition "this division column lies in the scope's jurisdictions" (for queries
        that combine it with other conditions; prefer :meth:`apply`)."""
        if self.is_enterprise or not self.prefixes:
            return false()
        return or_(
            *[
                and_(division >= p, division < prefix_upper_bound(p)) if p else division.isnot(None)
                for p in self.prefixes
            ]
        )


def not_found(
    session: Session,
    key: InstrumentedAttribute[Any],
    value: object,
    message: str,
    *,
    field: str | None = None,
) -> NotFound:
    """The error to raise when a lookup in scope by ``key == value`` found nothing: the same
    404 and ``message`` whether the record is absent or out of scope, but an
    :class:`OutOfScope` when it exists, so that a write that met it is audited as refused.
    A tombstone counts as absent."""
    stmt = select(key).where(key == value)
    deleted = getattr(key.class_, "deleted", None)
    if deleted is not None:
        stmt = stmt.where(deleted.is_(False))
    exists = session.scalar(stmt.limit(1)) is not None
    return (OutOfScope if exists else NotFound)(message, field=field)


def division_filter(column: InstrumentedAttribute[Any], code: str) -> ColumnElement[bool]:
    """The condition "this division column lies in division ``code`` or below it" (a filter
    chosen by the user, on top of the scope); a malformed code is a 422 on ``division``."""
    code = code.strip()
    if not is_valid_code(code):
        raise Invalid(
            f"行政区划代码应为 6 位数字: {code} (a division code has six digits)", field="division"
        )
    prefix = prefix_of(code)
    if not prefix:
        return column.isnot(None)
    return and_(column >= prefix, column < prefix_upper_bound(prefix))


def breakdown(scope: Scope, division: str | None) -> tuple[str, int]:
    """Where a per-division breakdown (statistics by the divisions one tier below) starts: the
    division asked for, which must lie in the scope, or the scope's own jurisdiction; and how many
    leading digits of a division code name the division one tier below it."""
    if division:
        if not is_valid_code(division):
            raise Invalid(
                f"行政区划代码应为 6 位数字: {division} (a division code has six digits)",
                field="division",
            )
        if not scope.covers_code(division):
            raise NotFound(
                f"行政区划不在管辖范围内: {division} (division outside your jurisdiction)",
                field="division",
            )
        root = division
    else:
        root = scope.prefixes[0].ljust(6, "0") if len(scope.prefixes) == 1 else "000000"
    return root, child_digits(root)
