"""What is signed and how: an in-toto Statement (subjects = SHA-256 of the PDF, HTML and evidence JSON)
carried in a DSSE envelope signed with Ed25519.

Both are written so standard tools can check them: the envelope is indented JSON with the payload and
the signature each on one line, and each subject of the statement is one line of the form
`{"name": FILE, "digest": {"sha256": HEX}}` (see docs/certificates.md for the openssl commands).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.certificates.canonical import sha256_hex
from orchestrator.certificates.keys import PublicKey, SigningKey

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "urn:restoreproof:restore-test-certificate:v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"


class EnvelopeInvalid(Exception):
    """The envelope or its statement cannot be read."""


@dataclass(frozen=True)
class Subject:
    name: str
    sha256: str


@dataclass(frozen=True)
class Statement:
    subjects: list[Subject]
    predicate: dict[str, Any]
    payload: bytes

    @property
    def sha256(self) -> str:
        """The certificate's own hash: what the next certificate names as its predecessor."""
        return sha256_hex(self.payload)


@dataclass(frozen=True)
class Envelope:
    statement: Statement
    signatures: list[tuple[str, bytes]]


def subject_for(path: Path) -> Subject:
    """Given a file, return its subject: file name and SHA-256, hashed in chunks."""
    return Subject(path.name, file_sha256(path))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def statement_bytes(subjects: list[Subject], predicate: dict[str, Any]) -> bytes:
    """Given subjects and a predicate, return the statement as UTF-8 JSON, one subject per line."""
    subject_lines = ",\n".join("    " + json.dumps({"name": subject.name, "digest": {"sha256": subject.sha256}})
                               for subject in subjects)
    predicate_text = json.dumps(predicate, indent=2, sort_keys=True, ensure_ascii=False).replace("\n", "\n  ")
    text = (f'{{\n  "_type": {json.dumps(STATEMENT_TYPE)},\n  "subject": [\n{subject_lines}\n  ],\n'
            f'  "predicateType": {json.dumps(PREDICATE_TYPE)},\n  "predicate": {predicate_text}\n}}\n')
    return text.encode("utf-8")


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: `DSSEv1 LEN(type) type LEN(payload) payload`, lengths in bytes."""
    encoded_type = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(encoded_type), encoded_type, len(payload), payload)


def sign_envelope(payload: bytes, key: SigningKey) -> bytes:
    """Given a statement's bytes and the signing key, return the DSSE envelope as indented JSON bytes."""
    signature = key.sign(pae(PAYLOAD_TYPE, payload))
    envelope = {"payloadType": PAYLOAD_TYPE, "payload": base64.b64encode(payload).decode("ascii"),
                "signatures": [{"keyid": key.public.fingerprint, "sig": base64.b64encode(signature).decode("ascii")}]}
    return (json.dumps(envelope, indent=2) + "\n").encode("ascii")


def read_envelope(data: bytes) -> Envelope:
    """Given an envelope file's bytes, return its statement and signatures; raise EnvelopeInvalid otherwise."""
    try:
        envelope = json.loads(data)
        if envelope.get("payloadType") != PAYLOAD_TYPE:
            raise EnvelopeInvalid(f"the envelope's payloadType is not {PAYLOAD_TYPE}")
        payload = base64.b64decode(envelope["payload"], validate=True)
        signatures = [(str(entry.get("keyid", "")), base64.b64decode(entry["sig"], validate=True))
                      for entry in envelope["signatures"]]
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
        raise EnvelopeInvalid(f"the signature envelope is not valid DSSE JSON ({error})") from None
    return Envelope(read_statement(payload), signatures)


def read_statement(payload: bytes) -> Statement:
    """Given the envelope's payload, return the statement; raise EnvelopeInvalid if it is no certificate statement."""
    try:
        statement = json.loads(payload)
        if statement.get("_type") != STATEMENT_TYPE or statement.get("predicateType") != PREDICATE_TYPE:
            raise EnvelopeInvalid("the signed statement is not a restoreproof certificate statement")
        subjects = [Subject(str(entry["name"]), str(entry["digest"]["sha256"])) for entry in statement["subject"]]
        predicate = dict(statement["predicate"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise EnvelopeInvalid(f"the signed statement cannot be read ({error})") from None
    return Statement(subjects, predicate, payload)


def signed_by(envelope: Envelope, key: PublicKey) -> bool:
    """Given an envelope and a pinned public key, return whether any of its signatures is that key's."""
    message = pae(PAYLOAD_TYPE, envelope.statement.payload)
    return any(key.verifies(signature, message) for _, signature in envelope.signatures)
