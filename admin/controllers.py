"""Staff back office.  For now only a placeholder page; accounts and roles come next."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from public_site.rendering import page


class AdminController(Controller):
    path = "/admin"
    include_in_schema = False

    @get("/", name="admin.home")
    async def home(self, request: Request) -> Template:
        return page(request, "admin/home.html")
