"""The user interface is in bokmål with English through Django's i18n: every text the code marks for translation has
its bokmål in django.po with the same placeholders, and a service's refusal reaches each face in its language
(core/errors.InvalidInput: the field's name untranslated, the text in bokmål on the web and in English on the CLI)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.utils.translation import trans_real

from klimainnkjop.core.errors import REASON_CONTEXT, InvalidInput

PACKAGE = Path(__file__).resolve().parents[1] / "klimainnkjop"
MARKERS = {"_", "gettext", "gettext_lazy", "gettext_noop", "_lazy"}
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[srdfi%]")


def marked_messages(markers=MARKERS) -> list[tuple[str, int, str]]:
    """(file, line, msgid) of every literal the code hands to gettext and its kin (not the migrations), or with
    `markers={"reason"}` to core.errors.reason (a refused row's reason, msgctxt "reason")."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else \
                node.func.attr if isinstance(node.func, ast.Attribute) else None
            first = node.args[0]
            if name in markers and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((str(path.relative_to(PACKAGE.parent)), node.lineno, first.value))
    return found


def placeholders(text: str) -> list[str]:
    return sorted(m.group(0) for m in PLACEHOLDER.finditer(text) if m.group(0) != "%%")


def test_every_message_marked_for_translation_has_its_bokmal_with_the_same_placeholders():
    catalog = trans_real.translation("nb")._catalog
    messages = marked_messages()
    assert len(messages) > 1000  # the scan finds the code's messages (the services' refusals among them)
    assert any(path.endswith("services/users.py") for path, _line, _msgid in messages)
    missing = [f"{path}:{line}: {msgid!r}" for path, line, msgid in messages if msgid not in catalog]
    assert not missing, "no bokmål in django.po for:\n" + "\n".join(missing)
    differing = [f"{path}:{line}: {msgid!r} -> {catalog[msgid]!r}" for path, line, msgid in messages
                 if placeholders(msgid) != placeholders(catalog[msgid])]
    assert not differing, "placeholders differ:\n" + "\n".join(differing)


def test_every_reason_a_row_is_refused_for_has_its_bokmal_with_the_same_placeholders():
    catalog = trans_real.translation("nb")._catalog
    reasons = marked_messages({"reason"})
    assert len(reasons) > 100
    key = f"{REASON_CONTEXT}\x04"
    missing = [f"{path}:{line}: {msgid!r}" for path, line, msgid in reasons if key + msgid not in catalog]
    assert not missing, "no bokmål (msgctxt \"reason\") in django.po for:\n" + "\n".join(missing)
    differing = [f"{path}:{line}: {msgid!r}" for path, line, msgid in reasons
                 if placeholders(msgid) != placeholders(catalog[key + msgid])]
    assert not differing, "placeholders differ:\n" + "\n".join(differing)
    bare = [f"{path}:{line}: {msgid!r}" for path, line, msgid in reasons if re.search(r"%[^(%]", msgid)]
    assert not bare, "a reason's placeholders are named (web/reasons.py matches them by name):\n" + "\n".join(bare)


@pytest.mark.parametrize("language, shown", [
    ("nb", "lines.csv, rad 7, kolonne 'Dato': ikke en dato: '31.02.2026'"),
    ("en", "lines.csv, row 7, column 'Dato': not a date: '31.02.2026'"),
])
def test_a_refused_row_is_shown_in_the_pages_language_and_kept_in_english(language, shown):
    from django.utils import translation

    from klimainnkjop.core.errors import RowError, quoted, reason
    from klimainnkjop.web.reasons import row_error_text

    error = RowError("lines.csv", 7, "Dato", reason("not a date: %(value)s", value=quoted("31.02.2026")))
    assert error.reason == "not a date: '31.02.2026'"  # what the CLI, the API and an upload's record keep
    with translation.override(language):
        assert row_error_text(error) == shown
        assert row_error_text(error.as_dict()) == shown  # an upload's stored errors


def test_a_reason_no_template_fits_is_shown_as_it_is_and_a_value_from_the_file_is_never_translated():
    from django.utils import translation

    from klimainnkjop.core.errors import quoted, reason
    from klimainnkjop.web.reasons import translated_reason

    with translation.override("nb"):
        assert translated_reason("cvc-complex-type.2.4: element 'Foo' is not expected") == \
            "cvc-complex-type.2.4: element 'Foo' is not expected"  # a validator's own words
        assert translated_reason(reason("not a date: %(value)s", value=quoted("x: not a date: y"))) == \
            "ikke en dato: 'x: not a date: y'"  # the value from the file is never translated


def test_a_refusal_keeps_its_fields_name_apart_from_its_text():
    error = InvalidInput.at("name", "a measure named %(name)r exists already", name="Mat")
    assert str(error) == "name: a measure named 'Mat' exists already"
    assert (error.field, error.text) == ("name", "a measure named 'Mat' exists already")
    option = InvalidInput.at("--profile", "no profile named %(name)s", name="x")
    assert (option.field, option.text) == ("--profile", "no profile named x")
    plain = InvalidInput.at(None, "options and the estimated value must not be negative")
    assert (plain.field, plain.text) == (None, "options and the estimated value must not be negative")
    # a message whose text holds a colon is not taken for a field
    for message in ("Sum: 3 lines", "2025: no compute run", "the file a.csv, row 3: not a date"):
        assert InvalidInput(message).field is None and InvalidInput(message).text == message


def test_a_services_refusal_is_in_bokmal_by_default_and_in_english_when_asked():
    from django.utils import translation

    from klimainnkjop.services.users import normalise_email

    for language, text in (("nb", "'ikke en adresse' er ikke en e-postadresse"),
                           ("en", "'ikke en adresse' is not an e-mail address")):
        with translation.override(language), pytest.raises(InvalidInput) as caught:
            normalise_email("ikke en adresse")
        assert (caught.value.field, caught.value.text) == ("email", text)
