"""The ``registry`` command: migrate, demo, serve, staff, audit, import, export."""

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
    print(
        f"  工作人员后台 / staff:     {base}/admin/  "
        "(registry staff create --username U --role admin)"
    )
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
        f"审计日志被改动：第 {check.bad_seq} 条事件（id {check.bad_id}）：{check.problem_zh}\n"
        f"Audit log BROKEN at event seq {check.bad_seq} (id {check.bad_id}): {check.problem}",
        file=sys.stderr,
    )
    return 1


class ProgressBar:
    """A text progress bar on stderr, redrawn in place on a terminal; otherwise one line
    every quarter so logs stay readable."""

    def __init__(self, label: str, stream=None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.shown = -1
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        percent = done * 100 // total if total else 100
        if self.tty:
            if percent == self.shown and done != total:
                return
            filled = self.width * done // total if total else self.width
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {percent:3d}% {done}/{total}")
            self.drawn = True
        else:
            step = percent // 25 * 25
            if step <= max(self.shown, 0):
                return
            percent = step
            self.stream.write(f"{self.label} {step}% ({done}/{total})\n")
        self.shown = percent
        self.stream.flush()

    def finish(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
        self.drawn = False


def _print_issues(issues, kind_zh: str, kind_en: str) -> None:
    for issue in issues:
        print(f"{kind_zh} 行 {issue.row}，列 {issue.column}：{issue.zh}")
        print(f"    {kind_en} row {issue.row}, column {issue.column}: {issue.en}")


def cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from registry.services import spreadsheets
    from registry.services.schema import migrate

    path = Path(args.file)
    if not path.is_file():
        print(f"错误：找不到文件 {path}\nError: no such file: {path}", file=sys.stderr)
        return 2
    sheet = spreadsheets.read_rows(path)

    async def go() -> int:
        await migrate()
        checking = ProgressBar("校验 / checking")
        report = await spreadsheets.validate_import(sheet, args.register, progress=checking)
        checking.finish()
        counts = report.counts
        _print_issues(report.errors, "错误", "error")
        _print_issues(report.warnings, "提示", "warning")
        print(
            f"共 {len(report.rows)} 行：新增 {counts['create']}，更新 {counts['update']}，"
            f"未变 {counts['unchanged']}，有错误 {counts['error']}\n"
            f"{len(report.rows)} rows: to create {counts['create']}, to update "
            f"{counts['update']}, unchanged {counts['unchanged']}, errors {counts['error']}"
        )
        if report.file_errors or (counts["error"] and not args.valid_only):
            print(
                "有错误，未写入任何数据。请按上面的行号和列名修改后重新导入"
                "（或用 --valid-only 只导入无误的行）。\n"
                "Errors found: nothing was written. Fix the rows and columns listed above and "
                "import again (or use --valid-only to import the valid rows only).",
                file=sys.stderr,
            )
            return 1
        if args.dry_run:
            print("试运行：未写入任何数据 / dry run: nothing was written")
            return 0
        if counts["error"] and not report.writable:
            print("没有无误的行可写入 / no valid rows to write", file=sys.stderr)
            return 1
        writing = ProgressBar("写入 / writing")
        try:
            result = await spreadsheets.apply_import(
                report, cli_actor(), valid_only=args.valid_only, progress=writing
            )
        except spreadsheets.ImportFailed as exc:
            writing.finish()
            print(f"错误：{exc.zh}\nError: {exc.en}", file=sys.stderr)
            return 1
        writing.finish()
        print(
            f"已导入：新增 {result.created} 条，更新 {result.updated} 条，"
            f"未变 {result.unchanged} 条，跳过有错误的 {result.skipped} 行，"
            f"新登记企业 {result.enterprises_created} 家。\n"
            f"Imported: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged, {result.skipped} rows with errors skipped, "
            f"{result.enterprises_created} enterprises registered."
        )
        return 0

    return _run(go())


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from registry.services import spreadsheets
    from registry.services.entries import EntryFilters
    from registry.services.schema import migrate

    output = Path(args.output)
    fmt = args.format or output.suffix.lower().lstrip(".")
    if fmt not in spreadsheets.FORMATS:
        print(
            "错误：请用 --format xlsx|csv 指定格式，或让输出文件以 .xlsx/.csv 结尾。\n"
            "Error: give --format xlsx|csv or an output file ending in .xlsx or .csv.",
            file=sys.stderr,
        )
        return 2
    district = spreadsheets.parse_district(args.district) if args.district else None
    filters = EntryFilters(
        register=args.register,
        subtype=args.subtype,
        district=district,
        status=args.status,
        industry=args.industry,
        q=args.q,
    )

    async def go():
        await migrate()
        return await spreadsheets.export_file(filters, fmt)

    exported = _run(go())
    output.write_bytes(exported.data)
    print(
        f"已导出 {exported.count} 条登记到 {output}\nExported {exported.count} entries to {output}"
    )
    return 0


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

    p = sub.add_parser(
        "import",
        help="import entries from an .xlsx or .csv file (all or nothing)",
        description="Import entries into one register. Nothing is written unless every row "
        "is valid (or --valid-only). Exit 0: imported (or dry run clean); 1: errors, nothing "
        "written; 2: bad usage. See docs/spreadsheets.md for the columns.",
    )
    p.add_argument("file", help=".xlsx, or .csv in UTF-8 or GBK")
    p.add_argument("--register", required=True, help="register code, e.g. jinnong")
    p.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    p.add_argument(
        "--valid-only", action="store_true", help="write the valid rows, skip rows with errors"
    )
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export a register's entries to .xlsx or .csv")
    p.add_argument("--register", required=True, help="register code, e.g. jinnong")
    p.add_argument("--status", help="active, conditional, suspended, revoked, expired, ...")
    p.add_argument("--subtype", help="subtype code, e.g. jinnong_product")
    p.add_argument("--district", help="district code or name: 120101 or 和平区")
    p.add_argument("--industry", help="industry code, e.g. grain")
    p.add_argument("--q", help="name, number, enterprise or credit code contains")
    p.add_argument("--format", choices=("xlsx", "csv"), help="default: from -o's extension")
    p.add_argument("-o", "--output", required=True, help="the file to write")
    p.set_defaults(func=cmd_export)

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
