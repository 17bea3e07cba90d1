"""The audit log, read-only: browse and filter events, and check the hash chain.

There is deliberately no route that edits or deletes an event."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter
from litestar.response import Template

from admin.auth import staff_guard
from admin.forms import parse_date
from public_site.rendering import page, query_with, request_lang
from registry.services import audit
from registry.services.audit import AuditFilters
from registry.services.errors import ServiceError

PAGE_SIZE = 50
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def local_time(value: dt.datetime) -> str:
    if value.tzinfo is None:  # a driver that hands back naive UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def compact(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def changes(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """(field, before, after) rows for the small diff table of one event."""
    if isinstance(before, dict) or isinstance(after, dict):
        old = before if isinstance(before, dict) else {}
        new = after if isinstance(after, dict) else {}
        keys = sorted(set(old) | set(new))
        return [(k, compact(old.get(k)), compact(new.get(k))) for k in keys]
    if before is None and after is None:
        return []
    return [("", compact(before), compact(after))]


class AuditLogController(Controller):
    path = "/admin/audit"
    include_in_schema = False
    guards = [staff_guard]

    @get("/", name="admin.audit", opt={"permission": "audit.view"})
    async def browse(
        self,
        request: Request,
        action: FromQuery[str | None] = None,
        actor: FromQuery[str | None] = None,
        target: FromQuery[str | None] = None,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        verify: FromQuery[str | None] = None,
        page_no: Annotated[int, QueryParameter(name="page", ge=1)] = 1,
    ) -> Template:
        raw = {"since": since or "", "until": until or ""}
        error = None
        events: list[dict[str, Any]] = []
        total = 0
        try:
            filters = AuditFilters(
                action=(action or "").strip() or None,
                actor=(actor or "").strip() or None,
                target_id=(target or "").strip() or None,
                since=parse_date(raw, "since", "起始日期", "From"),
                until=parse_date(raw, "until", "截止日期", "Until"),
            )
            events, total = await audit.list_events(filters, page_no, PAGE_SIZE)
        except ServiceError as exc:
            error = exc.message(request_lang(request))
        chain = await audit.verify_chain() if verify else None
        return page(
            request,
            "admin/audit.html",
            status_code=400 if error else 200,
            events=events,
            total=total,
            page_no=page_no,
            pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
            filters={
                "action": action or "",
                "actor": actor or "",
                "target": target or "",
                "since": since or "",
                "until": until or "",
            },
            error=error,
            chain=chain,
            local_time=local_time,
            changes=changes,
            query_with=lambda **kw: query_with(request, **kw),
        )
