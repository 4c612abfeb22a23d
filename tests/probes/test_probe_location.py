"""Where a repository is: endpoints parsed from every backend's repository string, off-site measured from
addresses and mounts on this machine, declarations validated with their location in the YAML."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orchestrator.config import ConfigInvalid, load_config
from orchestrator.config.probes import Protection
from orchestrator.probes.location import Endpoint, is_local_address, location_facts, measure_offsite, parse_endpoint


@pytest.mark.parametrize(("repository", "expected"), [
    ("/srv/restic/web", Endpoint("local", path="/srv/restic/web")),
    ("local:/srv/restic", Endpoint("local", path="/srv/restic")),
    ("rest:https://user:secret@backup.example.org:8000/web/",
     Endpoint("rest", "backup.example.org", 8000, None, "/web/", "https")),
    ("s3:s3.eu-west-3.amazonaws.com/bucket/prefix/web",
     Endpoint("s3", "s3.eu-west-3.amazonaws.com", None, "bucket", "prefix/web", "https")),
    ("s3:http://127.0.0.1:9000/locked", Endpoint("s3", "127.0.0.1", 9000, "locked", "", "http")),
    ("sftp:backup@vault.example.org:/srv/restic", Endpoint("sftp", "vault.example.org", None, None, "/srv/restic")),
    ("sftp://backup@vault.example.org:2222//srv/restic",
     Endpoint("sftp", "vault.example.org", 2222, None, "//srv/restic")),
    ("b2:my-bucket:web", Endpoint("b2", "api.backblazeb2.com", None, "my-bucket", "web")),
    ("gs:my-bucket:/web", Endpoint("gs", "storage.googleapis.com", None, "my-bucket", "/web")),
    ("rclone:offsite:restic/web", Endpoint("rclone", None, None, None, "offsite:restic/web")),
])
def test_endpoint_of_each_backend(repository: str, expected: Endpoint) -> None:
    assert parse_endpoint(repository) == expected


def test_azure_host_comes_from_the_account_name() -> None:
    endpoint = parse_endpoint("azure:container:/web", {"AZURE_ACCOUNT_NAME": "acme"})

    assert endpoint.host == "acme.blob.core.windows.net"


def test_offsite_is_measured_from_addresses_and_mounts(tmp_path: Path) -> None:
    here = measure_offsite(parse_endpoint("rest:http://127.0.0.1:8000/web/"))
    elsewhere = measure_offsite(parse_endpoint("rest:http://192.0.2.10:8000/web/"))
    local = measure_offsite(parse_endpoint(str(tmp_path)))
    unknown = measure_offsite(parse_endpoint("rclone:offsite:web"))
    unresolved = measure_offsite(parse_endpoint("sftp:backup@no-such-host.invalid:/srv"), resolve_timeout=2)

    assert (here.measured, here.addresses) == (False, ["127.0.0.1"])
    assert "is this machine" in here.basis
    assert elsewhere.measured is True and "none of them this machine" in elsewhere.basis
    assert local.measured is False and local.mount is not None and "a path on this machine" in local.basis
    assert unknown.measured is None and unresolved.measured is None


def test_an_address_of_this_machine_other_than_loopback_counts_as_local() -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
        own = probe.getsockname()[0]

    assert is_local_address(own) and is_local_address("127.0.0.1") and not is_local_address("192.0.2.10")


def test_location_facts_carry_region_and_declarations_but_no_credentials() -> None:
    protection = Protection(site="Gravelines", provider="OVH", country="FR", offsite=True, immutable="object-lock")

    fields = location_facts("s3:https://s3.fr-par.example.net/bucket", {"AWS_DEFAULT_REGION": "fr-par"}, protection)
    rest = location_facts("rest:https://user:pa55word@192.0.2.10/web/", {}, Protection())

    assert fields["repository_region"] == "fr-par" and fields["repository_facts"]["region_source"] == "env AWS_DEFAULT_REGION"
    assert fields["repository_facts"]["declared"]["country"] == "FR"
    assert fields["repository_facts"]["declared"]["media"] == "object-storage"
    assert "pa55word" not in str(rest) and rest["repository_host"] == "192.0.2.10"


def write_job(directory: Path, body: str) -> Path:
    (directory / "jobs").mkdir(exist_ok=True)
    (directory / "jobs" / "web.yml").write_text(textwrap.dedent(body))
    return directory


def test_protection_and_checks_load_from_yaml(tmp_path: Path) -> None:
    config = load_config(write_job(tmp_path, """\
        repository:
          url: rest:http://192.0.2.10:8000/web/
          password_file: /etc/web.pass
        rpo: 1d
        protection:
          system: website
          site: Gravelines
          country: FR
          offsite: true
          immutable: append-only
        target:
          checks:
            - type: immutability
            - type: rpo
            - type: retention
              daily: 7
              weekly: 4
              monthly: 6
            - type: restic-check-rotation
              subsets: 30
              period: 31d
        """))

    job = config.job("web")
    assert job.protection.immutable == "append-only" and job.protection.system == "website"
    assert [check.type for check in job.target.checks] == ["immutability", "rpo", "retention", "restic-check-rotation"]


def test_declared_immutability_must_say_how_and_errors_are_located(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid) as raised:
        load_config(write_job(tmp_path, """\
            repository:
              url: /srv/restic
              password_file: /etc/web.pass
            protection:
              immutable: declared
            target:
              checks:
                - type: retention
                - type: restic-check-rotation
                  subsets: 0
            """))

    assert [str(error) for error in raised.value.errors] == [
        "jobs/web.yml:8:7: job 'web': target.checks[0]: give at least one of daily, weekly, monthly or yearly",
        "jobs/web.yml:10:7: job 'web': target.checks[1].subsets: input should be greater than or equal to 1",
        "jobs/web.yml:4:1: job 'web': protection: immutable: declared needs `offline` saying how the copy "
        "is kept offline or immutable",
    ]
