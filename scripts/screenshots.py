"""Render every console pane to SVG in screenshots/ (used by the README).

Runs on a fresh database in a temporary directory, seeded through the services by
``console.showcase`` with a fixed clock (mail that has flowed, contacts in every status, feedback,
a pending review, domains, an API key) and no engine, so the pictures only change when the
console does. Usage: python scripts/screenshots.py [--size 80x24] [name ...]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from mailconsole.clock import FixedClock
from mailconsole.console.app import MailConsoleApp
from mailconsole.domain.roles import Role
from mailconsole.runtime import Runtime
from mailconsole.settings import Settings
from mailconsole.showcase import seed_showcase

OUT = Path(__file__).resolve().parent.parent / "screenshots"
Step = Callable[[Pilot[None], MailConsoleApp], Awaitable[None]]


def keys(*pressed: str) -> Step:
    async def step(pilot: Pilot[None], app: MailConsoleApp) -> None:
        await pilot.press(*pressed)

    return step


def config_tab(tab_id: str, *then: str) -> Step:
    async def step(pilot: Pilot[None], app: MailConsoleApp) -> None:
        app.show_config_tab(tab_id)
        await pilot.pause(0.3)
        if then:
            app.pane("config").query_one(f"#{tab_id} DataTable").focus()
            await pilot.press(*then)

    return step


SHOTS: dict[str, Step] = {
    "queue": keys("1"),
    "queue-detail": keys("1", "enter"),
    "servers": keys("2"),
    "contacts": keys("3"),
    "contacts-info": keys("3", "down", "i"),
    "reviews": keys("4"),
    "config-identity": config_tab("config-identity"),
    "config-domains": config_tab("config-domains"),
    "config-servers": config_tab("config-servers"),
    "config-servers-add": config_tab("config-servers", "a"),
    "config-api-keys": config_tab("config-api-keys"),
    "events": keys("6"),
    "palette": keys("colon", *"serv"),
    "help": keys("1", "question_mark"),
}


async def render(size: tuple[int, int], only: list[str]) -> list[Path]:
    written: list[Path] = []
    clock = FixedClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    with tempfile.TemporaryDirectory() as tmp:
        # A fixed folder name: the header shows the database's path, and a random one would
        # change every picture on every run.
        settings = Settings(data_dir=Path(tmp) / "showcase", dns_nameservers=["127.0.0.1:1"],
                            dns_timeout=0.2)
        async with Runtime.open(settings, clock=clock) as runtime:
            await seed_showcase(runtime)
            for name, step in SHOTS.items():
                if only and name not in only:
                    continue
                app = MailConsoleApp(runtime, Role.ADMIN)
                async with app.run_test(size=size) as pilot:
                    await pilot.pause(0.5)
                    await step(pilot, app)
                    await pilot.pause(0.8)
                    await pilot.pause(0.2)
                    path = OUT / f"{name}.svg"
                    app.save_screenshot(filename=path.name, path=str(OUT))
                    written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="80x24", help="terminal size, WIDTHxHEIGHT")
    parser.add_argument("only", nargs="*", help="names of screenshots to make (default: all)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    OUT.mkdir(exist_ok=True)
    for path in asyncio.run(render((width, height), args.only)):
        print(path.relative_to(OUT.parent))


if __name__ == "__main__":
    main()
