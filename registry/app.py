"""The one application factory: wires the API, the public site and the back office."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar, Request, Response
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from registry.api import controllers as api
from registry.api.schemas import ErrorBody
from registry.db import close_pool, start_pool
from registry.services.errors import ServiceError
from registry.settings import get_settings


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_page(request: Request, status_code: int, message: str | None):
    from public_site.rendering import page

    return page(request, "error.html", status_code=status_code, message=message, code=status_code)


def handle_service_error(request: Request, exc: ServiceError) -> Response:
    if _is_api(request):
        body = ErrorBody(exc.status_code, exc.en, exc.zh, exc.en, exc.field)
        return Response(body, status_code=exc.status_code)
    from public_site.rendering import request_lang

    return _error_page(request, exc.status_code, exc.message(request_lang(request)))


def handle_http_error(request: Request, exc: HTTPException) -> Response:
    if _is_api(request) or request.url.path.startswith("/schema"):
        detail = exc.detail
        zh = "请求参数有误，请检查后重试。" if exc.status_code == 400 else detail
        if isinstance(exc, ValidationException) and exc.extra:
            problems = "; ".join(
                f"{e.get('key', '?')}: {e.get('message', '')}"
                for e in exc.extra
                if isinstance(e, dict)
            )
            detail = f"Invalid query parameter(s): {problems}"
            zh = f"请求参数有误：{problems}"
        body = ErrorBody(exc.status_code, detail, zh, detail, None)
        return Response(body, status_code=exc.status_code)
    return _error_page(request, exc.status_code, None)


# Read-only hot paths: no CSRF cookie work on a scan (they have no unsafe methods).
CSRF_EXEMPT = ["^/[Vv]/", "^/qr/", "^/api/", "^/static/", "^/schema"]


def make_stores(settings) -> dict:
    """Sessions and throttling: in memory for one server, Redis for several."""
    from litestar.stores.memory import MemoryStore

    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        root = RedisStore.with_client(url=settings.redis_url)
        return {"staff_sessions": root.with_namespace("registry_staff_sessions")}
    return {"staff_sessions": MemoryStore()}


def create_app() -> Litestar:
    from admin.audit_log import AuditLogController
    from admin.auth import AccountController, LoginController, LoginRequired, handle_login_required
    from admin.controllers import AdminController
    from admin.entries import EntriesController
    from admin.expiry import ExpiryController
    from admin.imports import ExportsController, ImportsController
    from admin.registers import RegistersController
    from public_site.controllers import (
        HomeController,
        ListingController,
        VerifyController,
    )
    from public_site.rendering import make_environment

    settings = get_settings()
    static_dir = Path(__file__).resolve().parent.parent / "public_site" / "static"
    return Litestar(
        route_handlers=[
            api.RegistersController,
            api.EntriesController,
            api.VerifyController,
            HomeController,
            ListingController,
            VerifyController,
            AdminController,
            LoginController,
            AccountController,
            ImportsController,
            ExportsController,
            EntriesController,
            ExpiryController,
            AuditLogController,
            RegistersController,
            create_static_files_router(
                path="/static",
                directories=[static_dir],
                name="static",
                include_in_schema=False,
                cache_control=None,
            ),
        ],
        template_config=TemplateConfig(
            engine=JinjaTemplateEngine.from_environment(make_environment())
        ),
        openapi_config=OpenAPIConfig(
            title="天津市品牌与认证名录 API / Brand and certification registry API",
            version="1.0.0",
            description=(
                "Public, read-only API of the registry. Every entry carries its verification "
                "URL and QR code links. Errors come with a Chinese and an English message."
            ),
            path="/schema",
        ),
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="registry_csrf",
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            exclude=CSRF_EXEMPT,
        ),
        stores=make_stores(settings),
        exception_handlers={
            LoginRequired: handle_login_required,
            ServiceError: handle_service_error,
            HTTPException: handle_http_error,
            NotFoundException: handle_http_error,
        },
        compression_config=CompressionConfig(
            backend="gzip",
            minimum_size=1024,
            # Verification pages are ~2 KB: they fit the first TCP round trip anyway,
            # and gzip would cost more per scan than the whole page render.
            exclude=["^/[Vv]/"],
        ),
        on_startup=[start_pool],
        on_shutdown=[close_pool],
        debug=settings.debug,
    )
