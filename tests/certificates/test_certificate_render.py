"""The certificate as the insurer reads it: PDF text in French and English, from a month of real and recorded runs."""

from __future__ import annotations

import json

import pytest

from tests.certificates.conftest import DB_FAILURE_INDEX, ORGANISATION, World, pdf_text

pytestmark = pytest.mark.e2e

WORDS = {
    "fr": {"title": "Attestation de test de restauration", "failures": "Échecs de la période",
           "passed_again": "réussi à nouveau le", "no_runs": "Aucun test de restauration n'a été exécuté pour ce système",
           "failed": "échoué", "protection": "Non enregistré", "runs": "Tests exécutés"},
    "en": {"title": "Restore-test certificate", "failures": "Failures in the period",
           "passed_again": "passed again on", "no_runs": "No restore test was run for this system during the period",
           "failed": "failed", "protection": "Not recorded", "runs": "Tests run"},
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_pdf_states_jobs_snapshots_counts_and_key_fingerprint(world: World, language: str) -> None:
    text = pdf_text(world.outputs[language] / f"certificate-{world.month}.pdf")
    evidence = json.loads((world.outputs[language] / f"evidence-{world.month}.json").read_text())
    words = WORDS[language]
    assert words["title"] in text and ORGANISATION in text
    for job in ("web", "db", "mail"):
        assert job in text
    assert world.web_snapshot in text, "the real run's full snapshot id"
    for spec in world.db_runs:
        assert spec.snapshot_id in text and spec.snapshot_id[:8] in text
    assert evidence["signing_key"]["fingerprint"] in text
    assert world.web_repository_id in text
    summary = evidence["summary"]
    passed, failed = 5 + world.web_passed, 2 - world.web_passed
    assert (summary["runs"], summary["passed"], summary["failed"], summary["systems_without_runs"]) == (7, passed, failed, 1)
    # The figures on the summary page: 3 systems, 7 tests, then passed and failed.
    assert f"3 {_label(language, 'systems')} 7 {words['runs']} {passed}" in text
    assert f"{failed} {_label(language, 'failed')}" in text


def _label(language: str, key: str) -> str:
    return {"fr": {"systems": "Systèmes couverts", "failed": "Échoués"},
            "en": {"systems": "Systems covered", "failed": "Failed"}}[language][key]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_failure_is_shown_plainly_with_when_the_job_passed_again(world: World, language: str) -> None:
    text = pdf_text(world.outputs[language] / f"certificate-{world.month}.pdf")
    words = WORDS[language]
    assert words["failures"] in text
    assert "ciphertext verification failed" in text
    assert words["passed_again"] in text
    assert words["no_runs"] in text, "the job without a run says so"
    assert words["protection"] in text, "the job without runs has no offline/off-site facts: said so"
    evidence = json.loads((world.outputs[language] / f"evidence-{world.month}.json").read_text())
    db = next(job for job in evidence["jobs"] if job["name"] == "db")
    [failure] = db["failures"]
    recovered = world.db_runs[DB_FAILURE_INDEX + 1].started_at
    assert failure["passed_again_at"] == recovered.isoformat().replace("+00:00", "Z")
    assert failure["passed_again_within_period"] is True
    assert db["summary"]["status"] == "recovered"


def test_dates_and_numbers_follow_the_language(world: World) -> None:
    french = pdf_text(world.outputs["fr"] / f"certificate-{world.month}.pdf")
    english = pdf_text(world.outputs["en"] / f"certificate-{world.month}.pdf")
    # 219,550,000 bytes: 209,4 Mio in French, 209.4 MiB in English (db runs' restored size).
    assert "209,4 Mio" in french and "209.4 MiB" in english
    assert "PDMA" in french and "instantané" in french.lower() and "Dépôt" in french
    assert "RPO" in english and "Snapshot" in english and "Repository" in english


def test_html_is_the_same_certificate_with_inline_charts(world: World) -> None:
    html = (world.outputs["en"] / f"certificate-{world.month}.html").read_text()
    assert html.count("<svg") == 4, "a calendar strip and a duration chart for each of the two jobs that ran"
    assert "Acme Logistique &amp; Fils SAS" in html, "autoescaped"
    assert world.web_snapshot in html


def test_control_matrix_in_certificate_and_evidence(world: World) -> None:
    evidence = json.loads((world.outputs["en"] / f"evidence-{world.month}.json").read_text())
    matrix = {control["id"]: control for control in evidence["controls"]}
    assert set(matrix) == {"ANSSI-37", "ISO27001-A.8.13", "NIST-CP-9"}
    anssi = matrix["ANSSI-37"]
    assert [row["job"] for row in anssi["jobs"]] == ["db", "mail", "web"]
    assert (anssi["runs"], anssi["passed"], anssi["not_passed"]) == (7, 5 + world.web_passed, 2 - world.web_passed)
    assert anssi["status"] == "failures"
    assert matrix["ISO27001-A.8.13"]["status"] == ("passed" if world.web_passed else "failures")
    assert matrix["NIST-CP-9"]["jobs"][0]["rto"] == {"met": 5, "missed": 1, "unknown": 0}
    text = pdf_text(world.outputs["en"] / f"certificate-{world.month}.pdf")
    assert "ISO/IEC 27001:2022, A.8.13: information backup" in text
    assert "ANSSI IT hygiene guide, measure 37" in text


def test_real_run_is_sealed_and_listed_with_its_record_hash(world: World) -> None:
    from orchestrator.certificates.chain import record_hash
    from orchestrator.db.certificates_store import CertificateStore

    evidence = json.loads((world.outputs["fr"] / f"evidence-{world.month}.json").read_text())
    [web] = [job for job in evidence["jobs"] if job["name"] == "web"]
    [run] = web["runs"]
    stored = CertificateStore(world.database()).runs_by_uid([run["uid"]])[run["uid"]]
    assert run["record_hash"] == stored.chain_hash == record_hash(stored)
    assert [check["name"] for check in run["checks"]] == ["tree"]
    assert run["status"] == ("passed" if world.web_passed else "failed")
    assert run["repository"]["id"] == world.web_repository_id
    assert web["sandbox"]["hardening"]["network"] == "none"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_offline_and_offsite_facts_are_marked_measured_or_declared(world: World, language: str) -> None:
    text = pdf_text(world.outputs[language] / f"certificate-{world.month}.pdf")
    measured, declared = {"fr": ("mesuré", "déclaratif"), "en": ("measured", "declared")}[language]
    assert "S3 Object Lock" in text and "AWS Paris" in text and "eu-west-3" in text
    assert "weekly copy on tape, kept in the Lyon office safe" in text
    evidence = json.loads((world.outputs[language] / f"evidence-{world.month}.json").read_text())
    facts = {job["name"]: job["protection"] for job in evidence["jobs"]}
    assert {(fact["property"], fact["holds"], fact["basis"]) for fact in facts["db"]} == {
        ("immutability", True, "measured"), ("offsite", True, "measured"), ("offsite", True, "declared")}
    assert ("offline", None, "declared") in {(fact["property"], fact["holds"], fact["basis"]) for fact in facts["web"]}
    assert facts["mail"] == []
    assert measured in text and declared in text
