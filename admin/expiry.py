"""The expiry dashboard: what ends soon, conditional passes near their deadline, and
what expired recently.  The queries are in registry.services.expiry."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from admin.auth import staff_guard
from public_site.rendering import page
from registry.services.expiry import (
    CONDITION_WARNING_DAYS,
    RECENTLY_EXPIRED_DAYS,
    expiry_report,
)
from registry.services.registers import get_catalog


class ExpiryController(Controller):
    path = "/admin/expiry"
    include_in_schema = False
    guards = [staff_guard]

    @get("/", name="admin.expiry")
    async def dashboard(self, request: Request) -> Template:
        report = await expiry_report()
        return page(
            request,
            "admin/expiry.html",
            report=report,
            catalog=await get_catalog(),
            condition_days=CONDITION_WARNING_DAYS,
            expired_days=RECENTLY_EXPIRED_DAYS,
        )
