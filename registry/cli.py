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


def cli_actor():
    import getpass

    from registry.services.actors import Actor

    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = "unknown"
    return Actor.system(f"cli:{user}", client_addr="local")


def _read_password(args: argparse.Namespace, prompt: str) -> str:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"{prompt}: ")
    if getpass.getpass("再输入一次 / again: ") != first:
        raise ValueError("两次输入的密码不一致 / the passwords differ")
    return first


def cmd_staff_create(args: argparse.Namespace) -> int:
    from registry.roles import role_label
    from registry.services import staff
    from registry.services.schema import migrate

    password = _read_password(args, "密码 / password")

    async def go():
        await migrate()
        return await staff.create_staff(
            args.username, args.role, password, cli_actor(), display_name=args.display_name
        )

    info = _run(go())
    print(
        f"已创建工作人员账号 {info.username}（{role_label(info.role, 'zh')}）/ "
        f"created staff account {info.username} ({role_label(info.role, 'en')})"
    )
    return 0


def cmd_staff_list(args: argparse.Namespace) -> int:
    from registry.roles import role_label
    from registry.services import staff
    from registry.services.schema import migrate

    async def go():
        await migrate()
        return await staff.list_staff()

    rows = _run(go())
    if not rows:
        print(
            "尚无工作人员账号 / no staff accounts yet: registry staff create --username U --role R"
        )
    for info in rows:
        flags = []
        if info.totp_enabled:
            flags.append("TOTP")
        if not info.is_active:
            flags.append("停用/disabled")
        print(
            f"{info.username:<24} {role_label(info.role, 'en'):<14} {info.display_name}"
            + (f"  [{', '.join(flags)}]" if flags else "")
        )
    return 0


def cmd_staff_password(args: argparse.Namespace) -> int:
    from registry.services import staff

    password = _read_password(args, "新密码 / new password")
    _run(staff.set_password(args.username, password, cli_actor()))
    print(f"已重设 {args.username} 的密码 / password reset for {args.username}")
    return 0


def cmd_staff_totp(args: argparse.Namespace) -> int:
    from registry import totp
    from registry.services import staff
    from registry.settings import get_settings

    secret = _run(staff.enable_totp(args.username, cli_actor()))
    issuer = get_settings().city_name_en + " brand registry"
    print("动态验证码已启用；请在验证器应用中添加（只显示一次）/ TOTP enabled; add it to an")
    print("authenticator app (shown once):")
    print(f"  secret: {secret}")
    print(f"  uri:    {totp.provisioning_uri(secret, args.username, issuer)}")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from registry.services import audit

    check = _run(audit.verify_chain())
    if check.ok:
        print(
            f"审计日志完整：{check.events} 条事件，链头 {check.head_hash}\n"
            f"Audit log intact: {check.events} events, head {check.head_hash}"
        )
        return 0
    print(
        f"审计日志被改动：第 {check.bad_seq} 条事件（id {check.bad_id}）不符：{check.problem}\n"
        f"Audit log BROKEN at event seq {check.bad_seq} (id {check.bad_id}): {check.problem}",
        file=sys.stderr,
    )
    return 1


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

    staff_parser = sub.add_parser("staff", help="staff accounts")
    staff_sub = staff_parser.add_subparsers(dest="staff_command", required=True)
    from registry.roles import ROLES

    p = staff_sub.add_parser("create", help="create a staff account")
    p.add_argument("--username", required=True)
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--display-name", default="", help="the name shown as signer")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(func=cmd_staff_create)
    p = staff_sub.add_parser("list", help="list staff accounts")
    p.set_defaults(func=cmd_staff_list)
    p = staff_sub.add_parser("set-password", help="reset a staff member's password")
    p.add_argument("--username", required=True)
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_staff_password)
    p = staff_sub.add_parser("totp", help="enable a TOTP second factor for an account")
    p.add_argument("--username", required=True)
    p.set_defaults(func=cmd_staff_totp)

    audit_parser = sub.add_parser("audit", help="the tamper-evident audit log")
    audit_sub = audit_parser.add_subparsers(dest="audit_command", required=True)
    p = audit_sub.add_parser(
        "verify", help="check the hash chain; exit 1 naming the first bad event"
    )
    p.set_defaults(func=cmd_audit_verify)

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
