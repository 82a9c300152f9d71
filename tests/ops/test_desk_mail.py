"""Tickets from e-mail: a message posted by the mail relay becomes a ticket — the subject the
title, bracket tags the category, priority and place, the first text part the description, the
sender the requester — and hostile messages (oversized, without a subject, with NUL bytes,
unknown charsets, undecodable bodies, attachments, a place outside the poster's jurisdiction)
are refused with a message or read safely, never a 500."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest

from anjian.ops.desk.mail import MAX_MESSAGE_BYTES, MailRefused, read_mail

API = "/api/v1/ops/tickets/mail"


def _message(subject: str, body: str = "现象说明", sender: str = "王伟 <wang@yx.gov.cn>") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "desk@sx.gov.cn", subject
    msg.set_content(body)
    return bytes(msg)


def test_a_message_is_read_as_a_ticket() -> None:
    got = read_mail(_message("[网络][紧急][140622] 应县节点链路中断", "中心机房到应县的链路中断"))
    assert (got.title, got.category, got.priority, got.division_code) == (
        "应县节点链路中断",
        "network",
        1,
        "140622",
    )
    assert got.description == "中心机房到应县的链路中断" and "wang@yx.gov.cn" in got.requester
    plain = read_mail(_message("申请新账号"))
    assert (plain.category, plain.priority, plain.division_code) == ("other", 3, None)
    full_width = read_mail(_message("【账号】【低】重置密码"))
    assert (full_width.category, full_width.priority, full_width.title) == (
        "account",
        4,
        "重置密码",
    )
    # a multipart message: the text part is read, the attachment is not
    msg = EmailMessage()
    msg["Subject"] = "[数据] 台账导出失败"
    msg.set_content("导出时报错")
    msg.add_attachment(b"\x00" * 1000, maintype="application", subtype="octet-stream")
    assert read_mail(bytes(msg)).description == "导出时报错"


@pytest.mark.parametrize(
    "raw, refused",
    [
        (b"x" * (MAX_MESSAGE_BYTES + 1), "too large"),
        (_message(""), "subject"),
        (_message("[网络][紧急]"), "subject"),
        (b"", "subject"),
        (b"\x00\x01\x02 not a message", "subject"),
    ],
)
def test_messages_that_are_not_tickets_are_refused(raw: bytes, refused: str) -> None:
    with pytest.raises(MailRefused, match=refused):
        read_mail(raw)


def test_hostile_parts_are_read_safely() -> None:
    nul = read_mail(b"Subject: a\x00b\r\n\r\nbody\x00end")
    assert "\x00" not in nul.title and "\x00" not in nul.description
    odd = read_mail(
        b"Subject: =?x-unknown?B?5Lit5paH?=\r\nContent-Type: text/plain; charset=x-unknown\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!"
    )
    assert odd.title and isinstance(odd.description, str)
    gbk = read_mail(
        "Subject: [网络] 断网\r\nContent-Type: text/plain; charset=gbk\r\n\r\n".encode()
        + "机房断网".encode("gbk")
    )
    assert gbk.description == "机房断网"
    long = read_mail(_message("x" * 5000, "y" * 100_000))
    assert len(long.title) == 200 and len(long.description) == 5000


def test_the_relay_posts_a_message_and_gets_a_ticket(personas: Any) -> None:
    node = personas
    county = node.login("yingxian") | {"Content-Type": "message/rfc822"}
    r = node.client.post(API, content=_message("[网络][高] 应县节点无法访问"), headers=county)
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["source"], got["category"], got["priority"], got["division_code"]) == (
        "email",
        "network",
        2,
        "140622",
    )
    outside = node.client.post(API, content=_message("[140621] 山阴县的问题"), headers=county)
    assert outside.status_code == 403
    empty = node.client.post(API, content=b"", headers=county)
    assert empty.status_code == 422 and "body" in empty.text
    huge = node.client.post(API, content=b"x" * (MAX_MESSAGE_BYTES + 10), headers=county)
    assert huge.status_code in (400, 422) and "too large" in huge.text
    assert [a.detail["source"] for a in node.audits("ticket.open")] == ["email"]
