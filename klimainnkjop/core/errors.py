"""The exceptions and error messages of every layer, in one module (below everything that raises them).

RowError/ImportRejected: a file refused with its rows and columns; InvalidInput: bad input from a user;
OutsideScope: an organisation outside the person's scope; NoResults: no compute run to read yet.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUOTED = 60    # characters of a value from the file that a message quotes
MAX_REASON = 500   # characters of one error's reason, whatever it quotes
MAX_WHERE = 120    # characters of a file or column name in a message


def quoted(value: object, limit: int = MAX_QUOTED) -> str:
    """`value` as a message quotes it (repr), cut to `limit` characters with its full length said, so that a
    megabyte-long field never ends up in a message, log or page."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)".replace(",", " ")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)".replace(",", " ")


def listing(names: list, limit: int = 40, most: int = 30) -> str:
    """Names from the file (header columns, settings) joined for a message, each and their number bounded."""
    shown = ", ".join(_cut(str(n), limit) for n in names[:most])
    return shown + (f", … ({len(names)} in all)" if len(names) > most else "")


def is_reader_panic(exc: BaseException) -> bool:
    """A Rust panic inside a native reader (python-calamine): pyo3 raises it as `pyo3_runtime.PanicException`,
    a BaseException that passes `except Exception`; it is the one BaseException we treat as bad input."""
    kind = type(exc)
    return kind.__name__ == "PanicException" and kind.__module__ == "pyo3_runtime"


REASON_CONTEXT = "reason"  # the msgctxt of a refused row's reason in django.po


def reason(template: str, **params: object) -> str:
    """A refused row's reason, in English: `reason("not a date: %(value)s", value=quoted(text))`. The template is a
    msgid of django.po in the context "reason"; a page shows the reason in its language by matching it against the
    templates (web/reasons.py), so that the importers, the CLI, the API and the stored errors of an upload keep one
    English text. Named placeholders only (%(name)s, or %(name)r for a value to quote)."""
    return template % params if params else template


@dataclass(frozen=True)
class RowError:
    file: str
    row: int | None
    column: str | None
    reason: str

    def __post_init__(self) -> None:
        # a reason or column name built from the file's own text stays readable however long that text is
        object.__setattr__(self, "file", _cut(str(self.file), MAX_WHERE))
        if self.column is not None:
            object.__setattr__(self, "column", _cut(str(self.column), MAX_WHERE))
        object.__setattr__(self, "reason", _cut(str(self.reason), MAX_REASON))

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return ", ".join(where) + f": {self.reason}"

    def as_dict(self) -> dict:
        return {"file": self.file, "row": self.row, "column": self.column, "reason": self.reason}


class ImportRejected(Exception):
    """The file is refused as a whole; nothing was written."""

    MAX_SHOWN = 50

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        shown = "\n".join(str(e) for e in errors[: self.MAX_SHOWN])
        more = len(errors) - self.MAX_SHOWN
        if more > 0:
            shown += f"\n… and {more} more errors"
        super().__init__(f"{len(errors)} error(s), nothing imported:\n{shown}")


_FIELD_KEY = re.compile(r"(--)?[a-z][a-z0-9_-]*")


class InvalidInput(ValueError):
    """Bad input from a user; the message says what and where.

    The message is `field: text` where the input is one field (`name: must not be empty`), else just the text.
    The field is the input's own name, never translated: the web shows the text at that field of its form, the CLI
    the whole message. The text is in the language of the face that asked (services mark it with gettext; the web
    runs in the person's language, bokmål by default, the CLI in English).
    """

    @classmethod
    def at(cls, field: str | None, text: str, **params: object) -> InvalidInput:
        """`InvalidInput.at("name", gettext("a measure named %(name)r exists already"), name=name)`: the text
        (translated by the caller, so that the msgid is found) with its parameters, at the field."""
        text = text % params if params else text
        return cls(f"{field}: {text}" if field else text)

    @property
    def field(self) -> str | None:
        key, sep, _text = str(self).partition(": ")
        return key if sep and _FIELD_KEY.fullmatch(key) else None

    @property
    def text(self) -> str:
        """The message without its field, as a page shows it beside or above the field."""
        message = str(self)
        return message.partition(": ")[2] if self.field else message


class OutsideScope(PermissionError):
    pass


NOTHING_COMPUTED = "nothing computed yet; run `klimainnkjop compute`"


class NoResults(LookupError):
    """No computed results to read. Raised without a message it means that nothing has been computed yet
    (`nothing_computed`): the CLI says so with the command that computes, the web in the person's language (it
    computes after each import by itself)."""

    def __init__(self, message: str = NOTHING_COMPUTED):
        super().__init__(message)

    @property
    def nothing_computed(self) -> bool:
        return self.args == (NOTHING_COMPUTED,)
