"""Where the company data comes from and how its files are written (the scenario's ``data`` key).

``data`` is a folder (as before), or a mapping that names the source and declares the
dialect of its files: a folder or a workbook (``path``) or a database (``url``), the
separator, encoding, decimal and thousands marks, the date format, and labels of rows to
skip (the ``TOTAL`` line an export appends). Nothing is guessed: a value that fails in a
way a dialect would explain gets a message naming the key (:mod:`quotaopt.io._hints`).

Pure configuration: no disk or network access here.
"""

from __future__ import annotations

import codecs
import datetime as dt
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

__all__ = ["TABLES", "DataSource", "Dialect", "TableSource", "hide_password"]

#: The tables a company source may hold, in reading order.
TABLES = ("teams", "reps", "bookings", "accounts", "territories", "capacity")
Table = Literal["teams", "reps", "bookings", "accounts", "territories", "capacity"]


def hide_password(url: str) -> str:
    """A database URL as manifests and messages show it: the password replaced by ``***``.

    Examples
    --------
    >>> hide_password("postgresql://ops:secret@db.example.com/crm")
    'postgresql://ops:***@db.example.com/crm'
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(not a database URL)"


class Dialect(BaseModel):
    """How the files are written; every key defaults to plain UTF-8 CSV with ISO dates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sep: str | None = Field(None, min_length=1, max_length=1,
                            description="Column separator of CSV files: ',' (default), ';', '|' or a tab.")
    encoding: str | None = Field(None, description="Text encoding of CSV files, e.g. 'cp1252' or 'latin-1' "
                                 "(default utf-8; a UTF-8 byte-order mark is always accepted).")
    decimal: str | None = Field(None, min_length=1, max_length=1,
                                description="Decimal mark of numbers written as text: '.' (default) or ','.")
    thousands: str | None = Field(None, min_length=1, max_length=1,
                                  description="Thousands separator of numbers written as text, e.g. ',' in "
                                  "'2,400,000' or '.' in '2.400.000' (default: none allowed).")
    date_format: str | None = Field(None, description="strftime format of dates written as text, e.g. "
                                    "'%m/%d/%Y' or '%d.%m.%Y' (default ISO '%Y-%m-%d').")
    skip_rows_labelled: tuple[str, ...] | None = Field(
        None, description="Rows whose first non-empty cell is one of these labels (any case) are skipped, "
        "e.g. ['TOTAL'] for the totals line an export appends; the manifest counts them.")
    header_row: int | None = Field(None, ge=1, le=1000, description="Line (CSV) or row (Excel) of the header; "
                                   "lines above it are skipped (default 1).")

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r} (expected e.g. utf-8, cp1252, latin-1)") from None
        return value

    @field_validator("date_format")
    @classmethod
    def _formats_a_date(cls, value: str | None) -> str | None:
        if value is not None:
            probe = dt.date(2031, 11, 23).strftime(value)
            try:
                if dt.datetime.strptime(probe, value).date() != dt.date(2031, 11, 23):
                    raise ValueError
            except ValueError:
                raise ValueError(f"date_format {value!r} does not write and read back a whole date (expected "
                                 "day, month and year, e.g. '%m/%d/%Y')") from None
        return value

    @model_validator(mode="after")
    def _distinct_marks(self) -> Dialect:
        if self.thousands is not None and self.thousands == (self.decimal or "."):
            raise ValueError(f"thousands and decimal are both {self.thousands!r} (expected two different marks)")
        return self

    def merged(self, override: Dialect | None) -> Dialect:
        """This dialect with the keys ``override`` sets replacing its own."""
        if override is None:
            return self
        keys = {k: v for k, v in override.model_dump().items() if k in Dialect.model_fields and v is not None}
        return Dialect(**{**{k: getattr(self, k) for k in Dialect.model_fields}, **keys})

    def effective(self) -> dict[str, Any]:
        """Every dialect key with its default filled (what the reader uses)."""
        return {"sep": self.sep or ",", "encoding": self.encoding or "utf-8", "decimal": self.decimal or ".",
                "thousands": self.thousands, "date_format": self.date_format or "%Y-%m-%d",
                "skip_rows_labelled": tuple(self.skip_rows_labelled or ()), "header_row": self.header_row or 1}


class TableSource(Dialect):
    """One table's own source and dialect keys (``data.tables.<table>``), over the shared ones."""

    name: str | None = Field(None, min_length=1, max_length=200,
                             description="The file in the data folder, the sheet of the workbook, or the "
                             "database table (schema.table) holding this table.")
    query: str | None = Field(None, min_length=1, description="SQL that returns the table's columns (databases "
                              "only; instead of name).")

    @model_validator(mode="after")
    def _one_of(self) -> TableSource:
        if self.name is not None and self.query is not None:
            raise ValueError("give name or query, not both")
        return self


class DataSource(Dialect):
    """The scenario's ``data`` mapping: one source (``path`` or ``url``) and the dialect of its files.

    Examples
    --------
    >>> source = DataSource(path="crm/", sep=";", date_format="%m/%d/%Y", tables={"reps": {"encoding": "cp1252"}})
    >>> source.dialect_of("reps").effective()["encoding"], source.dialect_of("teams").effective()["sep"]
    ('cp1252', ';')
    """

    path: str | None = Field(None, min_length=1, description="Data folder, or one .xlsx workbook with a sheet "
                             "per table, relative to the scenario file.")
    url: str | None = Field(None, min_length=1, description="SQLAlchemy database URL, e.g. "
                            "'postgresql://ops@db/crm' (the password from PGPASSWORD or ~/.pgpass, never the "
                            "scenario; a password in the URL is hidden in every output).")
    tables: dict[Table, str | TableSource] = Field(
        default_factory=dict, description="Per table: the file, sheet or database table holding it (a name), or "
        "a mapping with name or query and its own dialect keys.")
    queries: dict[Table, str] = Field(default_factory=dict, description="Per table: SQL returning its columns "
                                      "(databases only).")

    @model_validator(mode="after")
    def _one_source(self) -> DataSource:
        if (self.path is None) == (self.url is None):
            raise ValueError("data needs exactly one of path (a folder or workbook) or url (a database)")
        if self.url is None and (self.queries or any(isinstance(t, TableSource) and t.query
                                                     for t in self.tables.values())):
            raise ValueError("queries need a database (data.url), not files")
        overlap = sorted(set(self.queries) & set(self.tables))
        if overlap:
            raise ValueError(f"table {overlap[0]} is in both data.tables and data.queries (expected one)")
        return self

    @field_serializer("url")
    def _url_shown(self, url: str | None) -> str | None:
        return None if url is None else hide_password(url)

    def table(self, stem: str) -> TableSource:
        """Where table ``stem`` is read from and its own keys (defaults: the table's own name)."""
        if stem in self.queries:
            return TableSource(query=self.queries[stem])  # type: ignore[index]
        entry = self.tables.get(stem)  # type: ignore[call-overload]
        if isinstance(entry, TableSource):
            return entry
        return TableSource(name=entry)

    def dialect_of(self, stem: str) -> Dialect:
        """The shared dialect with table ``stem``'s own keys over it."""
        return Dialect(**{k: getattr(self, k) for k in Dialect.model_fields}).merged(self.table(stem))
