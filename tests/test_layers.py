"""The layering DESIGN.md promises, checked on the source: ``domain`` imports nothing of ours.

Parsed with ``ast`` (nothing is imported), so an import hidden in a function or under
``TYPE_CHECKING`` counts too, and relative imports are resolved before they are judged.
"""

from __future__ import annotations

import ast
from pathlib import Path

import mailconsole

PACKAGE_ROOT = Path(mailconsole.__file__).resolve().parent
DOMAIN = PACKAGE_ROOT / "domain"


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """Every module ``source`` imports, as absolute dotted names with their line numbers.

    ``package`` is the package the module lives in (``mailconsole.domain``), needed to
    resolve relative imports.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            if module == "mailconsole":  # ``from mailconsole import x``: x is the module imported
                found.extend((node.lineno, f"mailconsole.{alias.name}") for alias in node.names)
            else:
                found.append((node.lineno, module))
    return sorted(found)


def outside_domain(module: str) -> bool:
    ours = module == "mailconsole" or module.startswith("mailconsole.")
    return ours and not (module == "mailconsole.domain" or module.startswith("mailconsole.domain."))


def test_domain_imports_nothing_of_ours_outside_domain() -> None:
    offenders = []
    for path in sorted(DOMAIN.rglob("*.py")):
        package = ".".join(path.parent.relative_to(PACKAGE_ROOT.parent).parts)
        offenders.extend(
            f"{path.relative_to(PACKAGE_ROOT.parent)}:{line} imports {module}"
            for line, module in imported_modules(path.read_text(), package)
            if outside_domain(module)
        )
    assert offenders == []


def test_the_layering_check_catches_absolute_relative_and_hidden_imports() -> None:
    """The rule's own test: each way of reaching outside ``domain`` is caught, siblings are not."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "import mailconsole.store.models\n"
        "from mailconsole import metrics, domain\n"
        "from ..transports.base import SendResult\n"
        "from .results import ResultKind\n"
        "from . import addresses\n"
        "from mailconsole.domain import replies\n"
        "if TYPE_CHECKING:\n"
        "    from mailconsole.runtime import Runtime\n"
        "def late():\n"
        "    from mailconsole.feedback import verp\n"
    )
    modules = [m for _, m in imported_modules(source, "mailconsole.domain")]
    assert [m for m in modules if outside_domain(m)] == [
        "mailconsole.store.models",
        "mailconsole.metrics",
        "mailconsole.transports.base",
        "mailconsole.runtime",
        "mailconsole.feedback",
    ]
    assert {"mailconsole.domain", "mailconsole.domain.results"} <= set(modules)
