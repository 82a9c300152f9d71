"""What the HTTP API's endpoints share: the filters of a list as one dependency (handed to the
domain's list function as keywords), the query parameters many lists take, and the answer of an
Excel import (the imported rows, or a 422 naming every row's problems)."""

# No ``from __future__ import annotations``: FastAPI reads the fields' annotations of a
# subclass's filters from the subclass's module, where these names are not defined.

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Annotated, Any, TypeVar

from fastapi import Query, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from anjian.core.downloads import upload_bytes
from anjian.core.iam.deps import Context
from anjian.core.paging import PageQuery
from anjian.core.xlsx import ImportOutcome, ImportReport

# The query parameters of the same meaning in many lists.
EnterpriseQuery = Annotated[int | None, Query(description="企业 ID")]
DivisionQuery = Annotated[str | None, Query(description="行政区划代码，含下级")]
StatsDivisionQuery = Annotated[str | None, Query(description="统计哪一级 (默认本辖区)")]


@dataclass(frozen=True)
class ListFilters:
    """The filters of a list endpoint, taken with ``Annotated[XFilters, Depends()]``: each
    field (annotated with its ``Query``) is a query parameter, in the order declared."""

    def kwargs(self) -> dict[str, Any]:
        """The filters as the keywords of the domain's list function (same names)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class JurisdictionFilters(ListFilters):
    """The filters that open most lists: one enterprise, one division and everything below."""

    enterprise_id: EnterpriseQuery = None
    division: DivisionQuery = None


PageT = TypeVar("PageT", bound=BaseModel)


def list_page(
    page_model: type[PageT],
    lister: Callable[..., tuple[list[Any], int]],
    ctx: Context,
    filters: ListFilters,
    paging: PageQuery,
    present: Callable[[Session, list[Any]], Sequence[Any]] | None = None,
) -> PageT:
    """One page of a list endpoint: ``lister`` (the domain's list function) called in the
    caller's scope with the filters and the page, its rows shown through ``present`` (the
    domain's presenter; none when the lister gives the read models)."""
    items, total = lister(
        ctx.db, ctx.scope, **filters.kwargs(), limit=paging.size, offset=paging.offset
    )
    return page_model(total=total, items=items if present is None else present(ctx.db, items))


# The documented 422 of an import endpoint (``responses=IMPORT_REFUSED``).
IMPORT_REFUSED: dict[int | str, dict[str, Any]] = {
    422: {"model": ImportReport, "description": "每行的错误；未导入任何数据"}
}


def read_upload(file: UploadFile, max_bytes: int) -> bytes:
    """The bytes of an uploaded file, refused with a 422 on ``file`` when over ``max_bytes``
    (read with one byte to spare, never the whole of a larger one)."""
    return upload_bytes(file.file.read(max_bytes + 1), max_bytes)


def import_answer(outcome: ImportOutcome, result: Callable[[], BaseModel]) -> Any:
    """The answer of an import endpoint: ``result()`` when every row was imported, else a 422
    with the row-by-row report."""
    if not outcome.ok:
        # Returned, not raised: the refused attempt's audit record is committed with the request.
        report = ImportReport(detail=outcome.detail, errors=outcome.errors)
        return JSONResponse(report.model_dump(), status_code=422)
    return result()
