"""``/unsubscribe/{token}``: the target of the List-Unsubscribe header the relay adds to
broadcast mail.

``POST`` is RFC 8058 one-click (the mailbox provider posts ``List-Unsubscribe=One-Click``
without the user seeing a page). ``GET`` is a person following the link: it shows a page with a
button, and only the ``POST`` unsubscribes — link scanners and prefetchers issue GETs, and they
must not unsubscribe anyone.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from mailconsole.contacts.unsubscribe import unsubscribe
from mailconsole.intake.unsubscribe import read_token
from mailconsole.runtime import Runtime

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 3rem auto">
<h1>{title}</h1><p>{text}</p>{form}</body></html>"""

_INVALID = "This unsubscribe link is not valid. It may have been cut short by your mail program."


def _page(title: str, text: str, form: str = "", status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=title, text=html.escape(text), form=form), status_code=status)


async def unsubscribe_page(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    found = read_token(runtime, request.path_params["token"])
    if found is None:
        return _page("Link not valid", _INVALID, status=404)
    _, recipient = found
    form = (
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return _page("Unsubscribe", f"Stop newsletters and other broadcast mail to {recipient}?", form)


async def unsubscribe_post(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    found = read_token(runtime, request.path_params["token"])
    if found is None:
        return _page("Link not valid", _INVALID, status=404)
    account_id, recipient = found
    await unsubscribe(runtime, account_id=account_id, recipient=recipient)
    return _page(
        "Unsubscribed",
        f"{recipient} will get no more broadcast mail from this sender. "
        "Messages you asked for, such as receipts and password resets, still arrive.",
    )
