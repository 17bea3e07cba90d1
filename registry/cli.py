"""The ``registry`` command: migrate, demo, serve."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from registry.services.errors import ServiceError


def _run(coro):
    return asyncio.run(coro)


def cmd_migrate(args: argparse.Namespace) -> int:
    from registry.db import describe_database
    from registry.services.schema import migrate

    seeded = _run(migrate(verbose=args.verbose))
    print(f"数据库已是最新 / Database up to date: {describe_database()}")
    if seeded:
        print(f"已写入 {seeded} 条名录定义 / Seeded {seeded} register definitions")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from registry.services.demo import load_demo
    from registry.services.schema import migrate

    async def go():
        await migrate()
        return await load_demo()

    result = _run(go())
    print(
        f"演示数据：新增 {result.entries_created} 条登记、{result.users_created} 个地理标志使用人；"
        f"共 {result.entries_total} 条登记。\n"
        f"Demo data: {result.entries_created} entries and {result.users_created} GI users "
        f"added; {result.entries_total} entries in total."
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if "REGISTRY_BASE_URL" not in os.environ:
        shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        os.environ["REGISTRY_BASE_URL"] = f"http://{shown_host}:{args.port}"
    from registry.settings import get_settings

    get_settings.cache_clear()
    from registry.db import describe_database
    from registry.services.schema import migrate

    async def prepare() -> str | None:
        await migrate()
        return await _sample_verify_url()

    sample = _run(prepare())
    base = get_settings().base_url
    print("天津市品牌与认证名录 / Brand and certification registry")
    print(f"  数据库 / database:        {describe_database()}")
    print(f"  首页 / home:              {base}/")
    print(f"  接口文档 / API docs:      {base}/schema")
    print(f"  登记列表 / entries (API): {base}/api/v1/entries")
    if sample:
        print(f"  验证示例 / sample code:   {sample}")
    else:
        print("  尚无登记：运行 `registry demo` 载入演示数据 / no entries yet: run `registry demo`")
    print("  按 Ctrl+C 停止 / press Ctrl+C to stop", flush=True)

    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "registry.app:create_app",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=args.workers,
        factory=True,
        log_access=args.access_log,
    ).serve()
    return 0


async def _sample_verify_url() -> str | None:
    from registry.services.codes import token_for_entry, verify_url
    from registry.services.entries import today
    from registry.tables import Entry

    # A listing that is valid today, so the newcomer sees the green verdict first.
    row = await (
        Entry.select(Entry.id)
        .where(Entry.status == "active")
        .where(Entry.valid_until.is_null() | (Entry.valid_until >= today()))
        .order_by(Entry.id)
        .first()
    )
    return verify_url(token_for_entry(row["id"])) if row else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="registry",
        description="天津市品牌与认证名录 / Brand and certification registry",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("migrate", help="create or update the database schema")
    p.add_argument("--verbose", action="store_true", help="show Piccolo's migration output")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("demo", help="load demo data (idempotent)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="migrate, then serve the registry")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--access-log", action="store_true")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ServiceError as exc:
        print(f"错误：{exc.zh}\nError: {exc.en}", file=sys.stderr)
        return 2
    except ValueError as exc:  # settings: a malformed URL, key or number
        print(f"配置错误 / Configuration error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the database server cannot be reached, a file cannot be written
        print(
            f"无法连接数据库或写入文件 / Cannot reach the database or write a file: {exc}",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
