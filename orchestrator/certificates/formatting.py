"""Dates, numbers, durations and sizes in the certificate's language (Babel's CLDR data), always in UTC."""

from __future__ import annotations

from datetime import date, datetime, timezone

from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import format_decimal

LOCALES = {"fr": "fr_FR", "en": "en_GB"}
_UNITS = {"fr": {"day": "j", "hour": "h", "minute": "min", "second": "s", "bytes": ("o", "Kio", "Mio", "Gio", "Tio")},
          "en": {"day": "d", "hour": "h", "minute": "min", "second": "s", "bytes": ("B", "KiB", "MiB", "GiB", "TiB")}}


def as_datetime(value: datetime | str) -> datetime:
    """Given an aware datetime or an ISO 8601 string (as in the evidence JSON), return an aware datetime."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class Formatter:
    """Given 'fr' or 'en', format values the way that language writes them."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = LOCALES[language]
        self.units = _UNITS[language]

    def month(self, first_day: date) -> str:
        return format_date(first_day, "LLLL y", locale=self.locale)

    def short_date(self, value: datetime | str) -> str:
        return format_date(as_datetime(value).astimezone(timezone.utc).date(), "medium", locale=self.locale)

    def long_date(self, value: datetime | str) -> str:
        return format_date(as_datetime(value).astimezone(timezone.utc).date(), "long", locale=self.locale)

    def timestamp(self, value: datetime | str | None) -> str:
        if value is None:
            return "–"
        return format_datetime(as_datetime(value), "short", tzinfo=timezone.utc, locale=self.locale)

    def day_time(self, value: datetime | str | None) -> str:
        """A compact 'weekday day month, HH:MM' for tables within one month."""
        if value is None:
            return "–"
        moment = as_datetime(value).astimezone(timezone.utc)
        return (format_skeleton("MMMEd", moment, locale=self.locale) + " "
                + format_skeleton("Hm", moment, tzinfo=timezone.utc, locale=self.locale))

    def number(self, value: float | int | None, decimals: int = 0) -> str:
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(value, pattern, locale=self.locale)

    def duration(self, seconds: float | None) -> str:
        """Given seconds, return '12.3 s', '4 min 05 s', '1 h 02 min', '1 h' or '2 d 03 h' (French units in French)."""
        if seconds is None:
            return "–"
        units = self.units
        if seconds < 60:
            return f"{self.number(seconds, 1)} {units['second']}"
        whole = int(round(seconds))
        days, rest = divmod(whole, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        if days:
            return f"{days} {units['day']}" + (f" {hours:02d} {units['hour']}" if hours else "")
        if hours:
            return f"{hours} {units['hour']}" + (f" {minutes:02d} {units['minute']}" if minutes else "")
        return f"{minutes} {units['minute']}" + (f" {secs:02d} {units['second']}" if secs else "")

    def size(self, count: int | None) -> str:
        if count is None:
            return "–"
        value, names = float(count), self.units["bytes"]
        for name in names:
            if value < 1024 or name == names[-1]:
                return f"{self.number(value, 0 if name == names[0] else 1)} {name}"
            value /= 1024
        return str(count)
