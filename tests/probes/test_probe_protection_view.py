"""The 3-2-1-1-0 view over recorded runs: copies counted by repository, media, off-site and immutability
measured or declared, zero errors in each copy's last verified restore."""

from __future__ import annotations

import io
from pathlib import Path

from orchestrator.config import load_config
from orchestrator.db import Database
from orchestrator.probes.protection import three_two_one_view, write_protection

JOBS = {
    "erp-disk": "repository:\n  url: /srv/restic/erp\n  password_file: /etc/pw\n"
                "protection:\n  system: erp\n  media: disk\n",
    "erp-sample": "repository:\n  url: /srv/restic/erp\n  password_file: /etc/pw\n"
                  "protection:\n  system: erp\n  media: disk\n",
    "erp-cloud": "repository:\n  url: s3:s3.eu-west-3.amazonaws.com/erp\n  password_file: /etc/pw\n"
                 "protection:\n  system: erp\n  offsite: true\n  immutable: object-lock\n",
    "mail": "repository:\n  url: sftp:backup@vault:/srv/mail\n  password_file: /etc/pw\n"
            "protection:\n  offsite: true\n  immutable: declared\n  offline: USB disk unplugged after the backup\n",
}


def config_with_jobs(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "jobs").mkdir()
    (tmp_path / "restoreproof.yml").write_text(f"state_dir: {tmp_path / 'state'}\n")
    for name, text in JOBS.items():
        (tmp_path / "jobs" / f"{name}.yml").write_text(text)
    config = load_config(tmp_path)
    database = Database(config.database_url)
    database.migrate()
    return config, database


def record_run(database: Database, job: str, status: str, repository_id: str, backend: str, offsite: bool | None,
               immutability: dict | None = None) -> int:
    run_id = database.start_run(f"{job}-{status}-{repository_id}-{offsite}", job, "test:1:1")
    database.update_run(run_id, repository_id=repository_id, repository_backend=backend,
                        repository_location=f"{backend}-location", repository_offsite=offsite,
                        repository_facts={"offsite": {"measured": offsite, "basis": f"measured {offsite}"}})
    if immutability is not None:
        database.add_check(run_id, 0, "immutability", "passed", "probe", immutability)
    database.finish_run(run_id, status, None, None)
    return run_id


def test_two_repositories_on_two_media_one_offsite_and_locked_meet_the_rule(tmp_path: Path) -> None:
    config, database = config_with_jobs(tmp_path)
    record_run(database, "erp-disk", "failed", "repo-disk", "local", False)
    newest_disk = record_run(database, "erp-sample", "passed", "repo-disk", "local", False)
    record_run(database, "erp-cloud", "passed", "repo-cloud", "s3", True,
               {"measured": True, "verdict": "protected", "method": "s3-object-lock", "summary": "locked"})

    erp, mail = three_two_one_view(config, database)

    assert (erp.system, erp.copies, erp.backup_copies, erp.media) == ("erp", 3, 2, ["disk", "object-storage"])
    assert erp.rules == {"three_copies": True, "two_media": True, "one_offsite": True,
                         "one_offline_or_immutable": True, "zero_errors": True}
    assert erp.met and erp.offline_or_immutable_measured
    disk = next(copy for copy in erp.copy_details if copy.repository_id == "repo-disk")
    assert disk.jobs == ["erp-disk", "erp-sample"] and disk.last_verified_run_id == newest_disk
    cloud = next(copy for copy in erp.copy_details if copy.repository_id == "repo-cloud")
    assert (cloud.offsite, cloud.offsite_source) == (True, "measured and declared")
    assert (cloud.immutable, cloud.immutable_source, cloud.immutable_method) == (True, "measured", "s3-object-lock")
    assert (mail.system, mail.copies, mail.zero_errors, mail.met) == ("mail", 2, None, False)
    [copy] = mail.copy_details
    assert (copy.immutable, copy.immutable_source, copy.immutable_detail) == (
        True, "declared", "USB disk unplugged after the backup")
    assert (copy.offsite, copy.offsite_source, copy.media) == (True, "declared", "remote-server")
    assert erp.to_dict()["copy_details"][0]["jobs"]


def test_a_measurement_overrules_a_declaration(tmp_path: Path) -> None:
    config, database = config_with_jobs(tmp_path)
    record_run(database, "erp-cloud", "failed", "repo-cloud", "s3", False,
               {"measured": True, "verdict": "unprotected", "method": "s3-object-lock", "summary": "no lock"})

    erp = three_two_one_view(config, database)[0]

    cloud = next(copy for copy in erp.copy_details if copy.repository_id == "repo-cloud")
    assert (cloud.offsite, cloud.offsite_source, cloud.offsite_declared) == (False, "measured", True)
    assert (cloud.immutable, cloud.immutable_source) == (False, "measured")
    assert erp.rules["zero_errors"] is False and not erp.met
    text = io.StringIO()
    write_protection([erp], text)
    assert "erp: 3-2-1-1-0 NOT MET" in text.getvalue() and "[NO] off-site" in text.getvalue()
