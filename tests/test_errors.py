"""One exception root: everything we raise on purpose is a ``MailconsoleError``, in one of
four shallow branches, and keeps the standard base callers already catch."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import mailconsole
from mailconsole.contacts.errors import ContactError
from mailconsole.domain.errors import ConfigError, InputError, MailconsoleError, NotFound, Refused, TemporaryError
from mailconsole.domain.roles import Permission, PermissionDenied, Role

# Click's own exception type, so the CLI's one-line errors go through click's machinery.
OUTSIDE_THE_TREE = {"mailconsole.cli.common.CliError"}
# An adapter's answer already shaped for its protocol (an HTTP status and JSON body): under the
# root, outside the branches, because one class carries 4xx and 5xx answers alike.
ROOT_ONLY = {"mailconsole.api.errors.ApiError", "mailconsole.domain.errors.MailconsoleError"}
BRANCHES = (InputError, Refused, ConfigError, TemporaryError)


def our_exceptions() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(mailconsole.__path__, "mailconsole."):
        if info.name.endswith("__main__") or ".migrations" in info.name:
            continue  # running them has effects (the CLI, alembic)
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == info.name:
                found.append(obj)
    return found


def test_every_exception_of_ours_has_the_one_root_and_a_branch() -> None:
    classes = our_exceptions()
    assert len(classes) > 20  # the walk found them (it is not vacuous)
    strays = [f"{c.__module__}.{c.__qualname__}" for c in classes
              if f"{c.__module__}.{c.__qualname__}" not in OUTSIDE_THE_TREE
              and not (issubclass(c, MailconsoleError) and (c in BRANCHES or issubclass(c, BRANCHES)))
              and not (f"{c.__module__}.{c.__qualname__}" in ROOT_ONLY and issubclass(c, MailconsoleError))]
    assert strays == []


def test_branches_keep_the_standard_bases_callers_catch() -> None:
    assert issubclass(ContactError, ValueError) and issubclass(ContactError, InputError)
    assert issubclass(NotFound, InputError)
    refusal = PermissionDenied(Role.VIEWER, Permission.CONFIG)
    assert isinstance(refusal, Refused) and isinstance(refusal, MailconsoleError)
