"""Staff sign-in, sign-out, password change, and the guard on every other /admin route."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from admin import sessions
from public_site.rendering import page, request_lang
from registry import roles
from registry.services import staff as staff_service
from registry.services.actors import require
from registry.services.errors import ServiceError

LOGIN_PATH = "/admin/login"


class LoginRequired(NotAuthorizedException):
    """No (or an expired) staff session: pages redirect to sign-in, API calls get 401."""

    def __init__(self, reason: str | None = None):
        super().__init__(detail="Staff sign-in required")
        self.reason = reason


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/admin/api/") or (
        "application/json" in accept and "text/html" not in accept
    )


def handle_login_required(request: Request, exc: LoginRequired) -> Response:
    if wants_json(request):
        return Response(
            {
                "status_code": 401,
                "detail": "Staff sign-in required",
                "message_zh": "请先登录工作人员账号。",
                "message_en": "Please sign in with a staff account.",
            },
            status_code=401,
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": target}
    if exc.reason == "expired":
        query["expired"] = "1"
    if request.query_params.get("lang"):
        query["lang"] = request.query_params["lang"]
    return Redirect(f"{LOGIN_PATH}?{urlencode(query)}", status_code=303)


async def staff_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Every /admin route but sign-in: a live session and the route's permission."""
    staff, reason = await sessions.current(connection)  # type: ignore[arg-type]
    if staff is None:
        raise LoginRequired(reason)
    connection.state.staff = staff
    require(staff.actor(client_addr(connection)), handler.opt.get("permission", "admin.view"))


def client_addr(connection: ASGIConnection) -> str:
    return connection.client.host if connection.client else ""


def current_actor(request: Request):
    return request.state.staff.actor(client_addr(request))


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return "/admin/"


@dataclass
class LoginForm:
    username: str = ""
    password: str = ""
    otp: str = ""
    next: str = ""


@dataclass
class PasswordForm:
    current: str = ""
    new: str = ""
    again: str = ""


Form = Body(media_type=RequestEncodingType.URL_ENCODED)


class LoginController(Controller):
    path = LOGIN_PATH
    include_in_schema = False

    @get("/", name="admin.login")
    async def login_form(
        self,
        request: Request,
        next: FromQuery[str | None] = None,
        expired: FromQuery[str | None] = None,
    ) -> Template:
        return page(
            request,
            "admin/login.html",
            next=_safe_next(next),
            error=None,
            expired=bool(expired),
            username="",
        )

    @post("/", name="admin.login.submit")
    async def login(
        self, request: Request, data: Annotated[LoginForm, Form]
    ) -> Template | Redirect:
        try:
            staff = await staff_service.authenticate(
                data.username, data.password, data.otp, client_addr(request)
            )
        except ServiceError as exc:
            return page(
                request,
                "admin/login.html",
                status_code=401,
                next=_safe_next(data.next),
                error=exc.message(request_lang(request)),
                expired=False,
                username=data.username,
            )
        response = Redirect(_safe_next(data.next), status_code=303)
        await sessions.start(request, response, staff)
        return response


class AccountController(Controller):
    path = "/admin/account"
    include_in_schema = False
    guards = [staff_guard]

    @post("/logout", name="admin.logout")
    async def logout(self, request: Request) -> Redirect:
        response = Redirect(LOGIN_PATH, status_code=303)
        await sessions.end(request, response)
        return response

    @get("/password", name="admin.password")
    async def password_form(self, request: Request) -> Template:
        return page(request, "admin/password.html", error=None, done=False)

    @post("/password", name="admin.password.submit")
    async def change_password(
        self, request: Request, data: Annotated[PasswordForm, Form]
    ) -> Template:
        lang = request_lang(request)
        if data.new != data.again:
            error = "两次输入的新密码不一致。" if lang == "zh" else "The new passwords differ."
            return page(request, "admin/password.html", status_code=400, error=error, done=False)
        try:
            await staff_service.change_password(
                request.state.staff.id, data.current, data.new, current_actor(request)
            )
        except ServiceError as exc:
            return page(
                request,
                "admin/password.html",
                status_code=400,
                error=exc.message(lang),
                done=False,
            )
        return page(request, "admin/password.html", error=None, done=True)


def role_name(role: str, lang: str) -> str:
    return roles.role_label(role, lang)
