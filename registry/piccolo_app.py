"""The Piccolo app: its tables, and migrations kept in the top-level migrations/ folder."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

MIGRATIONS_FOLDER = Path(__file__).resolve().parent.parent / "migrations"

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=str(MIGRATIONS_FOLDER),
    table_classes=table_finder(modules=["registry.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
