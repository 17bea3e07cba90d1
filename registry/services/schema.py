"""Bring the database schema up to date with Piccolo migrations, then seed registers."""

from __future__ import annotations

import contextlib
import io

from piccolo.apps.migrations.commands.forwards import run_forwards

from registry.services.errors import ServiceError
from registry.services.registers import seed_registers


async def migrate(verbose: bool = False) -> int:
    """Run pending migrations (the same files on SQLite and PostgreSQL).

    Returns how many register/subtype rows were seeded."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = await run_forwards(app_name="registry", migration_id="all")
    if verbose:
        print(out.getvalue(), end="")
    if not result.success:
        raise ServiceError(
            f"数据库迁移失败：{result.message}", f"Migration failed: {result.message}"
        )
    return await seed_registers()
