"""The log of issued certificates: each holds the hash of the one before, so a removed or replaced
certificate shows as a gap in the chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.db.models import Base


class Certificate(Base):
    """One issued certificate: its period, the hashes of its files and statement, and its place in the chain."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, unique=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    language: Mapped[str] = mapped_column(String(5))
    organisation: Mapped[str] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime]
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    statement_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    previous_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    html_sha256: Mapped[str] = mapped_column(String(64))
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    run_chain_sequence: Mapped[int | None] = mapped_column(Integer)
    run_chain_hash: Mapped[str | None] = mapped_column(String(64))
    directory: Mapped[str] = mapped_column(Text)
