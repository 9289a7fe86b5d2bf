"""A refused row's reason in the page's language.

The importers write a reason once, in English, through `core.errors.reason(template, **params)`; the CLI, the API and
an upload's stored errors keep that text. A page matches it against the templates of django.po's "reason" context and
shows the translation with the same values: "not a date: '31.02.2026'" becomes "ikke en dato: '31.02.2026'". A
reason no template matches (a validator's own message, say) is shown as it is; a value named `reason` is a reason
itself and is translated too.
"""
from __future__ import annotations

import functools
import re

from django.utils import translation
from django.utils.translation import trans_real

from klimainnkjop.core.errors import REASON_CONTEXT, RowError

_PLACEHOLDER = re.compile(r"%\((\w+)\)([sr])|%%")
_KEY = REASON_CONTEXT + "\x04"


def _pattern(template: str) -> re.Pattern:
    """The regular expression that a reason made from `template` matches, a named group per placeholder."""
    parts, end, seen = [], 0, set()
    for m in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[end:m.start()]))
        if m.group(0) == "%%":
            parts.append("%")
        elif m.group(1) in seen:
            parts.append(f"(?P={m.group(1)})")
        else:
            seen.add(m.group(1))
            parts.append(f"(?P<{m.group(1)}>.+?)")
        end = m.end()
    parts.append(re.escape(template[end:]))
    return re.compile("".join(parts), re.DOTALL)


@functools.cache
def _templates(language: str) -> tuple[tuple[re.Pattern, str], ...]:
    """(pattern, translation) of every reason template translated into `language`; the templates with the most
    fixed text first, so that "not a date: %(value)s (expected format %(format)s)" wins over "not a date: %(value)s".
    A translation's %(name)r becomes %(name)s: the value matched is quoted already."""
    catalog = trans_real.translation(language)._catalog
    found = []
    for key in list(catalog.keys()):
        if isinstance(key, str) and key.startswith(_KEY):
            template = key[len(_KEY):]
            fixed = len(_PLACEHOLDER.sub("", template))
            found.append((fixed, _pattern(template), re.sub(r"%\((\w+)\)r", r"%(\1)s", catalog[key])))
    found.sort(key=lambda item: -item[0])
    return tuple((pattern, text) for _fixed, pattern, text in found)


def translated_reason(text: str) -> str:
    """`text` (a reason as core.errors.reason wrote it) in the active language, or as it is when no template fits."""
    language = translation.get_language() or "en"
    if language.startswith("en") or not text:
        return text
    for pattern, translated in _templates(language):
        if m := pattern.fullmatch(text):
            values = m.groupdict()
            if "reason" in values:  # a reason wrapping another row's reason (core.errors.reason)
                values["reason"] = translated_reason(values["reason"])
            return translated % values
    return text


def row_error_text(error: RowError | dict | str) -> str:
    """A refused row as a page writes it: file, row and column in the active language, and the reason translated
    (a message that is no row's, as it is)."""
    if isinstance(error, str):
        return translated_reason(error)
    if isinstance(error, dict):
        error = RowError(error.get("file") or "", error.get("row"), error.get("column"), error.get("reason") or "")
    where = [error.file]
    if error.row is not None:
        where.append(translation.gettext("row %(row)s") % {"row": error.row})
    if error.column:
        where.append(translation.gettext("column '%(column)s'") % {"column": error.column})
    return ", ".join(w for w in where if w) + f": {translated_reason(error.reason)}"
