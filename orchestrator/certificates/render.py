"""Evidence -> HTML (Jinja2 templates in templates/certificate/, StrictUndefined, autoescaped) -> PDF (WeasyPrint)."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from orchestrator.certificates.charts import calendar_strip, duration_chart
from orchestrator.certificates.formatting import Formatter, as_datetime
from orchestrator.certificates.period import Month
from orchestrator.resources import resource_dir

LANGUAGES = ("fr", "en")


class PdfFailed(Exception):
    """WeasyPrint could not turn the HTML into a PDF (missing system libraries, for instance)."""


class MessageMissing(Exception):
    """A template asked for a word that messages.yml lacks in this language."""


class Messages:
    """The certificate's words in one language: `t("key", name=value)`; a missing key is an error."""

    def __init__(self, table: dict[str, dict[str, str]], language: str) -> None:
        self.table = table
        self.language = language

    def __call__(self, key: str, **values: Any) -> str:
        entry = self.table.get(key)
        if entry is None or self.language not in entry:
            raise MessageMissing(f"templates/certificate/messages.yml has no '{key}' in '{self.language}'")
        return entry[self.language].format(**values) if values else entry[self.language]

    def optional(self, key: str, default: str) -> str:
        """Given a key that exists only for known names (a check, a property), return its word or the default."""
        entry = self.table.get(key)
        return entry[self.language] if entry and self.language in entry else default


def template_dir() -> Path:
    return resource_dir("templates") / "certificate"


@lru_cache(maxsize=1)
def environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(str(template_dir())), undefined=StrictUndefined,
                              autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
                              trim_blocks=True, lstrip_blocks=True)
    environment.filters["css_string"] = css_string
    return environment


def css_string(text: str) -> Markup:
    """Given any text, return it as a quoted CSS string; every character but letters, digits and spaces is
    hex-escaped, so nothing in it can close the string or the <style> element. (CSS swallows one space after
    an escape, hence the space after each.)"""
    escaped = "".join(char if char.isascii() and (char.isalnum() or char == " ") else f"\\{ord(char):06X} "
                      for char in text)
    return Markup(f'"{escaped}"')


@lru_cache(maxsize=1)
def message_table() -> dict[str, dict[str, str]]:
    return dict(yaml.safe_load((template_dir() / "messages.yml").read_text(encoding="utf-8")))


def messages(language: str) -> Messages:
    return Messages(message_table(), language)


def render_html(evidence: dict[str, Any], files: dict[str, str]) -> str:
    """Given the evidence and the certificate's file names, return the certificate as one self-contained HTML page."""
    language = evidence["certificate"]["language"]
    month = Month.parse(evidence["certificate"]["month"])
    formatter = Formatter(language)
    charts = {job["name"]: {"duration": duration_chart(month, job["runs"], job["rto_seconds"]),
                            "calendar": calendar_strip(month, job["runs"])} for job in evidence["jobs"]}
    return environment().get_template("certificate.html").render(
        ev=evidence, t=messages(language), f=formatter, charts=charts, files=files,
        month_label=formatter.month(month.start.date()),
        footer=" · ".join((evidence["certificate"]["organisation"], messages(language)("title"),
                           formatter.month(month.start.date()),
                           f'{messages(language)("certificate_number")} {evidence["certificate"]["sequence"]}')),
        last_day=as_datetime(evidence["certificate"]["period_end"]) - timedelta(days=1),
    )


def write_pdf(html_path: Path, pdf_path: Path) -> None:
    """Given the certificate's HTML file, write it as a PDF (WeasyPrint; needs Pango and a font, see docs).

    WeasyPrint runs in a child process: a month of 200 systems takes about 2 GB while it lays out 600 pages,
    and the daemon that issues certificates should not keep that. Raise PdfFailed if the child fails."""
    result = subprocess.run([sys.executable, "-m", "orchestrator.certificates.render", str(html_path), str(pdf_path)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit code {result.returncode}"
        raise PdfFailed(f"the PDF could not be rendered: {detail}")


def _render_pdf(html_path: Path, pdf_path: Path) -> None:
    from weasyprint import HTML  # imported here: only the child process that renders needs Pango

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    HTML(filename=str(html_path), base_url=str(template_dir()), encoding="utf-8").write_pdf(str(pdf_path))


def render_email(name: str, values: dict[str, Any], language: str) -> str:
    """Given 'email-body.txt' or 'email-body.html' and its values, return the rendered e-mail part."""
    return environment().get_template(name).render(t=messages(language), **values)


if __name__ == "__main__":
    _render_pdf(Path(sys.argv[1]), Path(sys.argv[2]))
