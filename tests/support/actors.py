"""Actors the tests call services as (the services check each one's role and audit it)."""

from __future__ import annotations

from mailconsole.domain.roles import SYSTEM, Actor, Interface, Role

ADA = Actor("ada", Role.ADMIN, Interface.CONSOLE)  # an admin at the console
SAM = Actor("sam", Role.SUPPORT, Interface.CONSOLE)  # a support agent at the console
VIC = Actor("vic", Role.VIEWER, Interface.CONSOLE)  # a viewer at the console

__all__ = ["ADA", "SAM", "SYSTEM", "VIC"]
