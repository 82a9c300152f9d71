"""The corrective measures part of an accident's console page (整改措施): the measures with
their follow-up, and the forms to add one (the agency leading the investigation or one above,
at the node that holds it), report its progress (落实情况) and verify it done (验收)."""

from __future__ import annotations

from typing import Any

from anjian.accidents import investigations, measures
from anjian.accidents.models import CorrectiveMeasure, Investigation
from anjian.accidents.page_forms import WHOLE, DetailForm
from anjian.accidents.schemas import MeasureCreate, MeasureNoteCreate
from anjian.config import get_settings
from anjian.core.errors import Invalid
from anjian.core.iam.deps import Context
from anjian.enterprises.service import is_enterprise_user
from anjian.web.forms import validated


def measure_context(
    ctx: Context, inv: Investigation | None, found: list[CorrectiveMeasure]
) -> dict[str, Any]:
    """The measures' part of the detail page: ``found`` as users see them, and whether this
    user may add one."""
    return {
        "measures": [measures.present_measure(m) for m in found],
        "can_add_measure": not is_enterprise_user(ctx.scope)
        and inv is not None
        and inv.origin_node == get_settings().effective_node_id
        and investigations.leads_or_above(ctx.scope, inv),
    }


def _add_measure(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    body = {k: form.get(k, "") for k in ("content", "responsible")}
    data, errors = validated(MeasureCreate, {**body, "due_date": form.get("due_date") or None})
    if data is not None:
        measures.add_measure(ctx.db, ctx.actor, ctx.scope, accident_id, data)
    return errors


def _measure_id(form: dict[str, str]) -> int:
    raw = form.get("measure_id", "")
    if not WHOLE.fullmatch(raw):
        raise Invalid(f"整改措施编号无效: {raw!r} (bad measure id)", field="measure_id")
    return int(raw)


def _measure_note(
    ctx: Context, accident_id: int, form: dict[str, str], verify: bool
) -> dict[str, str]:
    data, errors = validated(MeasureNoteCreate, {"note": form.get("note", "")})
    if data is not None:
        act = measures.verify_measure if verify else measures.report_progress
        act(ctx.db, ctx.actor, ctx.scope, accident_id, _measure_id(form), data.note)
    return errors


def _measure_progress(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    return _measure_note(ctx, accident_id, form, verify=False)


def _measure_verify(ctx: Context, accident_id: int, form: dict[str, str]) -> dict[str, str]:
    return _measure_note(ctx, accident_id, form, verify=True)


FORMS = {
    "measure-add": DetailForm(
        _add_measure,
        {"content": "整改措施", "responsible": "责任单位", "due_date": "整改期限"},
        "整改措施已记录。",
        anchor="measures",
    ),
    "measure-progress": DetailForm(
        _measure_progress, {"note": "落实情况"}, "落实情况已记录。", anchor="measures"
    ),
    "measure-verify": DetailForm(
        _measure_verify, {"note": "验收意见"}, "整改措施已验收。", anchor="measures"
    ),
}
