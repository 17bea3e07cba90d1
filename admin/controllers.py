"""Staff back office: the dashboard.  Other areas live in their own modules."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from admin.auth import staff_guard
from public_site.rendering import page


class AdminController(Controller):
    path = "/admin"
    include_in_schema = False
    guards = [staff_guard]

    @get("/", name="admin.home")
    async def home(self, request: Request) -> Template:
        return page(request, "admin/home.html")
