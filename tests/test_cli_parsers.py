"""The command line is built in one place (cli.build_parser from the modules in cli.GROUPS, each with
`add_parsers(sub)`), every command names its handler with argparse's set_defaults, no group reaches into another's
parsers through a module global, and the migrations are checked once per process and database (issue 17 item 5).
The contract itself (every command of the README's "Command line") is unchanged."""
import argparse
import importlib
import re
from pathlib import Path

import pytest

from klimainnkjop import cli
from tests.conftest import run_cli

README = Path(__file__).resolve().parents[1] / "README.md"


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _leaves(parser: argparse.ArgumentParser, path=(), handler=None):
    """(command words, handler in force) of every command that takes no further sub-command."""
    handler = parser._defaults.get("handler", handler)
    sub = _subparsers(parser)
    if sub is None:
        yield path, handler
        return
    for name, child in sub.choices.items():
        yield from _leaves(child, (*path, name), handler)


def test_every_command_has_a_handler():
    leaves = list(_leaves(cli.build_parser()))
    assert len(leaves) > 60
    missing = [" ".join(path) for path, handler in leaves if not callable(handler)]
    assert not missing, missing


def test_the_import_kinds_are_built_in_one_place_each_with_its_own_handler():
    from klimainnkjop.cli import data, invoices, suppliers

    imports = _subparsers(cli.build_parser())
    kinds = _subparsers(imports.choices["import"])
    assert list(kinds.choices) == ["ledger", "kostra", "ehf", "saft", "supplier-stats"]
    handlers = {name: parser._defaults["handler"] for name, parser in kinds.choices.items()}
    assert handlers == {"ledger": data.cmd_import, "kostra": data.cmd_import, "ehf": invoices.cmd_import_ehf,
                        "saft": invoices.cmd_import_saft, "supplier-stats": suppliers.cmd_import_stats}


def test_groups_expose_add_parsers_and_keep_no_parsers_in_module_globals():
    for name in cli.GROUPS:
        module = importlib.import_module(name)
        assert callable(getattr(module, "add_parsers", None)), name
        cli.build_parser()
        held = [attr for attr, value in vars(module).items()
                if isinstance(value, (argparse.ArgumentParser, argparse.Action))]
        assert not held, (name, held)


def test_two_builds_are_independent_and_equal():
    first, second = cli.build_parser(), cli.build_parser()
    assert first is not second
    assert [p for p, _ in _leaves(first)] == [p for p, _ in _leaves(second)]


def _readme_commands() -> list[tuple[str, ...]]:
    """The command words of every `klimainnkjop ...` line in the README's code blocks (up to the first argument)."""
    commands, in_block = [], False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_block = not in_block
            continue
        if in_block and line.startswith("klimainnkjop "):
            words = re.sub(r"\[--data-dir DIR\]\s*", "", line[len("klimainnkjop "):]).split()
            path = []
            for word in words:
                if not re.fullmatch(r"[a-z][a-z-]*(\|[a-z][a-z-]*)*", word):
                    break
                path.append(word.split("|")[0])
            commands.append(tuple(path))
    return commands


def test_every_command_of_the_readme_parses_to_a_command_with_a_handler():
    parser = cli.build_parser()
    commands = _readme_commands()
    assert len(commands) > 40
    for words in commands:
        node, handler = parser, None
        for word in words:
            sub = _subparsers(node)
            if sub is None or word not in sub.choices:
                break
            node = sub.choices[word]
            handler = node._defaults.get("handler", handler)
        assert callable(handler), words


@pytest.mark.django_db
def test_the_migrations_are_checked_once_per_process_and_database(tmp_path):
    assert run_cli("--data-dir", tmp_path, "org", "list").returncode == 0
    before = cli._migrate_database.cache_info()
    for _ in range(3):
        assert run_cli("--data-dir", tmp_path, "org", "list", "--format", "json").returncode == 0
    after = cli._migrate_database.cache_info()
    assert after.misses == before.misses and after.hits == before.hits + 3
