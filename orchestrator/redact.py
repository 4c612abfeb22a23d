"""Hide secrets in any text before it is logged, stored or shown."""

from __future__ import annotations

import re
from pathlib import Path

MASK = "[redacted]"
# Short values (a port, "1") would mask unrelated text; passwords that short are not worth hiding.
_MINIMUM_SECRET_LENGTH = 4


class Redactor:
    """Collects secret values and replaces each occurrence of them with a mask."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self._secrets: set[str] = set()
        for secret in secrets or []:
            self.add(secret)

    def add(self, secret: str) -> None:
        secret = secret.strip()
        if len(secret) >= _MINIMUM_SECRET_LENGTH:
            self._secrets.add(secret)

    def add_file_contents(self, path: Path) -> None:
        """Given a secret file (e.g. a password file), hide its content; an unreadable file adds nothing."""
        try:
            self.add(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            pass

    def add_url_credentials(self, url: str) -> None:
        """Given a URL such as rest:https://user:pass@host/, hide its user-info part."""
        match = re.search(r"//([^/@\s]+)@", url)
        if match:
            self.add(match.group(1))
            self.add(match.group(1).split(":", 1)[-1])

    def redact(self, text: str) -> str:
        """Given any text, return it with every known secret and any URL credentials masked."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return re.sub(r"//[^/@\s]+@", f"//{MASK}@", text)
