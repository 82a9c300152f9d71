"""Tickets from e-mail (邮件受理): a mail relay posts each message it receives (RFC 5322, as it
arrived) and the desk reads from it what a form would ask. The subject is the title; tags in
square brackets set the category (``[网络]``, ``[账号]``…), the priority (``[紧急]``, ``[高]``…)
and the place (``[140622]``, else the posting account's division); the first text part is the
description; the sender is the requester. Attachments are not read. Pure: no I/O."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage

from anjian.core.inputs import storable
from anjian.ops.desk.rules import CATEGORIES, PRIORITIES

MAX_MESSAGE_BYTES = 1 << 20  # a message past this is refused before it is parsed
MAX_DESCRIPTION = 5000
_TAG = re.compile(r"[\[【]([^\]】]{1,20})[\]】]")
_BY_LABEL = {label: code for code, label in CATEGORIES.items()}
_PRIORITY_BY_LABEL = {label: number for number, label in PRIORITIES.items()}


class MailRefused(ValueError):
    """A message the desk cannot read as a ticket (the reason is for the relay's log)."""


@dataclass(frozen=True)
class MailTicket:
    """What a message asks for, as the fields of a ticket (the place None: the poster's)."""

    title: str
    description: str
    requester: str
    category: str
    priority: int
    division_code: str | None


def read_mail(raw: bytes) -> MailTicket:
    """The ticket a message asks for."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MailRefused(f"邮件超过 {MAX_MESSAGE_BYTES} 字节 (message too large)")
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        subject = str(msg.get("subject") or "")
        sender = str(msg.get("from") or "")
    except (ValueError, TypeError, LookupError, IndexError) as exc:
        raise MailRefused(f"邮件头无法解析 (unreadable headers): {exc}") from None
    tags = _TAG.findall(subject)
    title = storable(_TAG.sub("", subject)).strip()[:200]
    if not title:
        raise MailRefused("邮件没有主题 (the subject is the ticket's title)")
    category = next((_BY_LABEL[t] for t in tags if t in _BY_LABEL), "other")
    priority = next((_PRIORITY_BY_LABEL[t] for t in tags if t in _PRIORITY_BY_LABEL), 3)
    place = next((t for t in tags if re.fullmatch(r"\d{6}", t)), None)
    return MailTicket(
        title=title,
        description=storable(_text_of(msg))[:MAX_DESCRIPTION],
        requester=storable(sender)[:100],
        category=category,
        priority=priority,
        division_code=place,
    )


def _text_of(msg: EmailMessage) -> str:
    """The first text/plain part, decoded (an unknown charset read with replacements)."""
    part = msg.get_body(preferencelist=("plain",)) if msg.is_multipart() else msg
    if part is None or part.get_content_type() != "text/plain":
        return ""
    try:
        return str(part.get_content()).strip()
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        return (
            payload.decode("utf-8", errors="replace").strip() if isinstance(payload, bytes) else ""
        )
