"""What a failing value says about the file's dialect: the ``data`` key that would read it.

Nothing here changes what is read. When a value fails in a way a dialect explains (a
US date, a thousands separator, a decimal comma, a totals line, Windows text, a
semicolon file), the message names the key and the value that would fix it, e.g.
``it looks like month/day/year: set data.date_format: '%m/%d/%Y'``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from quotaopt.errors import Problem

__all__ = ["TOTAL_LABEL", "date_hint", "file_kind", "not_decodable", "number_hint", "sep_hint", "total_label"]

_SEPARATORS = (";", "\t", "|", ",")
#: First cells of the totals lines exports append: 'TOTAL', 'Grand total', 'Subtotal 2024', 'Sum'.
TOTAL_LABEL = re.compile(r"^(grand\s+|sub\s*)?totals?(\s.*)?$|^sum$", re.IGNORECASE)


def _shown(sep: str) -> str:
    return "'\\t'" if sep == "\t" else repr(sep)


def sep_hint(header: list[str], sep: str) -> str:
    """``; ...: set data.sep: ';'`` when a one-column header holds another separator, else ''.

    Examples
    --------
    >>> sep_hint(["rep_id;team_id;role"], ",")
    "; the header looks separated by ';': set data.sep: ';'"
    """
    if len(header) != 1:
        return ""
    for candidate in _SEPARATORS:
        if candidate != sep and candidate in header[0]:
            return f"; the header looks separated by {_shown(candidate)}: set data.sep: {_shown(candidate)}"
    return ""


def bom_hint(header: list[str], encoding: str) -> str:
    """A UTF-8 byte-order mark read as Windows text ('ï»¿rep_id'): the file is UTF-8."""
    if header and header[0].startswith(("ï»¿", "\ufeff")):
        return (f"; the file starts with a UTF-8 byte-order mark, so it is UTF-8, not {encoding}: set data.encoding: "
                "utf-8 (or data.tables.<table>.encoding for this file only)")
    return ""


def not_decodable(path: Path, label: str, encoding: str, exc: UnicodeDecodeError | None) -> Problem:
    """The first line that is not ``encoding`` text, with the encoding it looks like."""
    data = path.read_bytes()
    position = exc.start if exc is not None else _first_bad_utf8(data)
    row = data.count(b"\n", 0, position) + 1 if position is not None else None
    guess = ""
    for candidate in ("utf-8", "cp1252", "latin-1"):
        if candidate == encoding.lower().replace("_", "-"):
            continue
        try:
            data.decode(candidate)
        except UnicodeDecodeError:
            continue
        name = {"cp1252": "Windows Western (cp1252)", "utf-8": "UTF-8", "latin-1": "Latin-1"}[candidate]
        guess = f"; it looks like {name} text: set data.encoding: {candidate}"
        break
    shown = "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    return Problem(label, f"is not {shown} text{guess}", row=row, expected=f"{shown} text")


def _first_bad_utf8(data: bytes) -> int | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return None


_DATE_SHAPES: tuple[tuple[str, str, str | None], ...] = (
    # pattern, separator, format when the year comes first
    (r"^\d{1,2}/\d{1,2}/\d{4}$", "/", None),
    (r"^\d{1,2}\.\d{1,2}\.\d{4}$", ".", None),
    (r"^\d{1,2}-\d{1,2}-\d{4}$", "-", None),
    (r"^\d{4}/\d{1,2}/\d{1,2}$", "/", "%Y/%m/%d"),
    (r"^\d{4}\.\d{1,2}\.\d{1,2}$", ".", "%Y.%m.%d"),
    (r"^\d{8}$", "", "%Y%m%d"),
    (r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}$", "", "%Y-%m-%d %H:%M:%S"),
)


def date_hint(failed: Iterable[str], date_format: str) -> str:
    """The ``date_format`` that reads dates which failed ``date_format``, as a message tail, or ''.

    Month and day are told apart by values above 12; when none is, both readings are named.

    Examples
    --------
    >>> date_hint(["03/15/2018", "04/01/2019"], "%Y-%m-%d")
    "; it looks like month/day/year: set data.date_format: '%m/%d/%Y'"
    >>> date_hint(["15.03.2018"], "%Y-%m-%d")
    "; it looks like day.month.year: set data.date_format: '%d.%m.%Y'"
    """
    values = [str(v).strip() for v in failed][:1000]
    for pattern, sep, year_first in _DATE_SHAPES:
        shaped = [v for v in values if re.match(pattern, v)]
        if not shaped or len(shaped) < len(values) / 2:
            continue
        if year_first is not None:
            if "T" in shaped[0]:
                year_first = "%Y-%m-%dT%H:%M:%S"
            return _suggest(year_first, date_format, "year first")
        first = [int(v.split(sep)[0]) for v in shaped]
        second = [int(v.split(sep)[1]) for v in shaped]
        words = sep if sep != "-" else "-"
        month_day = f"%m{sep}%d{sep}%Y"
        day_month = f"%d{sep}%m{sep}%Y"
        if max(first) > 12 >= max(second):
            return _suggest(day_month, date_format, f"day{words}month{words}year")
        if max(second) > 12 >= max(first):
            return _suggest(month_day, date_format, f"month{words}day{words}year")
        if sep == ".":
            return _suggest(day_month, date_format, "day.month.year")
        return (f"; it looks like month{words}day{words}year or day{words}month{words}year (no day above 12 tells "
                f"which): set data.date_format: '{month_day}' or '{day_month}'")
    if date_format != "%Y-%m-%d" and any(re.match(r"^\d{4}-\d{2}-\d{2}$", v) for v in values):
        return f"; it looks like YYYY-MM-DD, not data.date_format {date_format!r}: set data.date_format: '%Y-%m-%d'"
    return ""


def _suggest(fmt: str, current: str, words: str) -> str:
    if fmt == current:
        return ""
    return f"; it looks like {words}: set data.date_format: '{fmt}'"


#: Thousands and decimal marks tried, in order, on numbers that failed (US first, then European).
_NUMBER_DIALECTS: tuple[tuple[str | None, str], ...] = (
    (",", "."), (None, ","), (".", ","), (" ", ","), ("\u00a0", ","), ("\u202f", ","), ("'", "."), (" ", "."))


def _reads_as(value: str, thousands: str | None, decimal: str) -> bool:
    dec = rf"(\{decimal}\d+)?"
    if thousands is None:
        return re.match(rf"^[+-]?\d+{dec}$", value) is not None
    return re.match(rf"^[+-]?\d{{1,3}}({re.escape(thousands)}\d{{3}})*{dec}$", value) is not None


def number_hint(failed: Iterable[str], thousands: str | None, decimal: str) -> str:
    """The ``thousands`` / ``decimal`` keys that read numbers which failed, as a message tail, or ''.

    Examples
    --------
    >>> number_hint(["2,400,000", "1,250"], None, ".")
    "; it looks like ',' separates thousands: set data.thousands: ','"
    >>> number_hint(["1.234,56"], None, ".")
    "; it looks like '.' separates thousands and ',' marks decimals: set data.thousands: '.' and data.decimal: ','"
    >>> number_hint(["12,5"], None, ".")
    "; it looks like ',' marks decimals: set data.decimal: ','"
    """
    values = [str(v).strip() for v in failed][:1000]
    if not values:
        return ""
    if any(re.match(r"^[+-]?[$€£¥]|[$€£¥]$", v) for v in values):
        return "; amounts are plain numbers in one currency (remove the currency sign in the export)"
    for marks, dec in _NUMBER_DIALECTS:
        if (marks, dec) == (thousands, decimal) or not all(_reads_as(v, marks, dec) for v in values):
            continue
        words, keys = [], []
        if marks != thousands:
            words.append(f"{_shown(marks)} separates thousands" if marks else "no thousands separator is used")
            keys.append(f"data.thousands: {_shown(marks)}" if marks else "no data.thousands")
        if dec != decimal:
            words.append(f"{_shown(dec)} marks decimals")
            keys.append(f"data.decimal: {_shown(dec)}")
        return f"; it looks like {' and '.join(words)}: set {' and '.join(keys)}"
    return ""


def total_label(value: object) -> bool:
    """Whether a first cell reads like the label of a totals line ('TOTAL', 'Grand total', 'Sum').

    Examples
    --------
    >>> total_label("TOTAL"), total_label("Grand Total"), total_label("RP000001")
    (True, True, False)
    """
    return isinstance(value, str) and bool(TOTAL_LABEL.match(value.strip()))


def file_kind(path: Path) -> str | None:
    """'xlsx' or 'xls' when a file is an Excel workbook whatever its name says, else None."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    return None
