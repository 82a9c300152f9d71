"""Excel imports from the console: the uploaded .xlsx read (CSRF checked, its size bounded, parsed
off the event loop before the import touches the database, so a hostile file costs little and
writes nothing), imported all rows or none by the domain's import, and answered — back to the
list page with the number imported, or the report page: the file refused with its message, or
every problem of the sheet by row and column."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from anjian.core.downloads import upload_bytes
from anjian.core.errors import Invalid
from anjian.core.iam.deps import Context
from anjian.core.xlsx import ImportOutcome, ImportProblem
from anjian.core.xlsx_reader import Sheet
from anjian.web.layout import page
from anjian.web.render import zh
from anjian.web.session import check_csrf

NO_FILE = "请选择要导入的 Excel 文件 (choose a file)"


@dataclass(frozen=True)
class ImportPage:
    """The Excel import of a list page: ``read_file`` reads the upload (at most ``max_bytes``),
    ``back`` is the list page (``?imported=N`` added on success, linked from the report),
    ``what`` names what is imported (防护目标: "防护目标导入结果", "返回防护目标"),
    ``active`` the navigation's section; ``template_href`` the import template offered again on
    the report, ``tabs`` a template included above it with ``tab`` as its ``active``."""

    read_file: Callable[[bytes], Sheet]
    max_bytes: int
    back: str
    what: str
    active: str
    heading: str = ""
    template_href: str = ""
    tabs: str = ""
    tab: str = ""

    async def __call__(
        self,
        request: Request,
        ctx: Context,
        run: Callable[[Sheet, str], ImportOutcome],
    ) -> Response:
        """Read the posted file and ``run(sheet, file name)`` the domain's import on it."""
        form = await request.form()
        csrf = form.get("csrf")
        check_csrf(request, csrf if isinstance(csrf, str) else None)
        upload = form.get("file")
        source = (upload.filename or "") if isinstance(upload, UploadFile) else ""
        try:
            if not isinstance(upload, UploadFile) or not source:
                raise Invalid(NO_FILE, field="file")
            data = upload_bytes(await upload.read(self.max_bytes + 1), self.max_bytes)
            sheet = await run_in_threadpool(self.read_file, data)
        except Invalid as exc:
            # The file itself refused (none, too large, no workbook, a bomb): nothing written.
            return self.report(request, ctx, zh(exc.message), [], source)
        outcome = run(sheet, source)
        if not outcome.ok:
            # Rendered, not raised: the refused attempt's audit record commits with the request.
            return self.report(request, ctx, zh(outcome.detail), outcome.errors, source)
        return RedirectResponse(f"{self.back}?imported={len(outcome.ids)}", 303)

    def report(
        self,
        request: Request,
        ctx: Context,
        detail: str,
        errors: list[ImportProblem],
        source: str,
    ) -> Response:
        """The refused import: what was wrong, the problems row by row, the way back."""
        context: dict[str, Any] = {
            "heading": self.heading or f"{self.what}导入结果",
            "detail": detail,
            "errors": errors,
            "source": source,
            "back": self.back,
            "back_label": f"返回{self.what}",
            "template_href": self.template_href,
            "tabs": self.tabs,
            "tab": self.tab,
        }
        return page(
            request, ctx, "import_result.html", context, active=self.active, status_code=422
        )
