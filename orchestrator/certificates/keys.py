"""The Ed25519 key that signs certificates: created once, private part readable by its owner only, never
printed. Its fingerprint is the SHA-256 of the public key's DER encoding, which anyone can recompute:
`openssl pkey -pubin -in KEY.pub.pem -outform DER | sha256sum`."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyProblem(Exception):
    """A key file is missing, unreadable or not an Ed25519 key."""


@dataclass(frozen=True)
class PublicKey:
    key: Ed25519PublicKey

    @property
    def pem(self) -> str:
        return self.key.public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of the DER SubjectPublicKeyInfo, as `openssl pkey -outform DER | sha256sum` gives."""
        der = self.key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return hashlib.sha256(der).hexdigest()

    def verifies(self, signature: bytes, message: bytes) -> bool:
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    key: Ed25519PrivateKey

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.key.public_key())

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


def public_key_path(private_path: Path) -> Path:
    """Given the private key's path, return where its public half is kept (KEY.pub.pem beside it)."""
    return private_path.with_name(private_path.name + ".pub.pem")


def create_key(private_path: Path) -> SigningKey:
    """Given a path, write a new Ed25519 private key there (mode 0600) and its public half beside it;
    raise KeyProblem if a key already exists, so a key in use is never replaced by accident."""
    if private_path.exists():
        raise KeyProblem(f"a signing key already exists at {private_path}; it was left untouched")
    private_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    signing_key = SigningKey(key)
    public_key_path(private_path).write_text(signing_key.public.pem)
    return signing_key


def load_signing_key(private_path: Path) -> SigningKey:
    """Given the private key's path, return the key; raise KeyProblem if it is missing or not Ed25519."""
    try:
        data = private_path.read_bytes()
    except FileNotFoundError:
        raise KeyProblem(f"no signing key at {private_path}: create one with `restoreproof keys init`") from None
    except OSError as error:
        raise KeyProblem(f"cannot read the signing key {private_path}: {error.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise KeyProblem(f"{private_path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem(f"{private_path} is not an Ed25519 key")
    return SigningKey(key)


def load_public_key(path: Path) -> PublicKey:
    """Given a PEM public key file (or a private key file), return the public key; raise KeyProblem otherwise."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise KeyProblem(f"cannot read the public key {path}: {error.strerror}") from None
    return parse_public_key(data, str(path))


def parse_public_key(data: bytes, name: str) -> PublicKey:
    """Given PEM bytes of an Ed25519 public key, return it; raise KeyProblem otherwise."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise KeyProblem(f"{name} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyProblem(f"{name} is not an Ed25519 public key")
    return PublicKey(key)
