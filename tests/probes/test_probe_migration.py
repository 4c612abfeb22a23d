"""Migration 0005 upgrades a database that already holds runs, keeping them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import inspect, text

from orchestrator.db import Database
from orchestrator.db.store import MIGRATIONS


def test_upgrade_keeps_old_runs_and_adds_the_location_columns(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.begin() as connection:
        alembic.attributes["connection"] = connection
        command.upgrade(alembic, "0001")
        connection.execute(text("INSERT INTO runs (uid, job, status, owner, started_at) "
                                "VALUES ('old', 'web', 'passed', 'h:1:1', '2026-01-01 00:00:00')"))

    database.migrate()

    columns = {column["name"] for column in inspect(database.engine).get_columns("runs")}
    assert {"repository_host", "repository_region", "repository_offsite", "repository_facts"} <= columns
    assert "read_data_rotations" in inspect(database.engine).get_table_names()
    [run] = database.history("web")
    assert (run.uid, run.repository_offsite, run.repository_facts) == ("old", None, None)
