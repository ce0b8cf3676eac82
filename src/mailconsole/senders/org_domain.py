"""The organisational domain of a sending domain (RFC 7489 §3.2), from the Public Suffix List.

A subdomain without a _dmarc record of its own inherits the policy of its organisational
domain: mail.acme.example -> acme.example, mail.acme.co.uk -> acme.co.uk. A hand-kept list of
suffixes would get co.uk-style suffixes wrong, so we use the list the ``publicsuffixlist``
package ships in its wheel: it is read from disk, never fetched, so checks work offline.
"""

from __future__ import annotations

import asyncio

from publicsuffixlist import PublicSuffixList

_loaded: list[PublicSuffixList] = []


def _load() -> PublicSuffixList:
    if not _loaded:
        _loaded.append(PublicSuffixList())
    return _loaded[0]


async def organisational_domain(domain: str) -> str:
    """The registered domain under the public suffix; ``domain`` itself when it is one.

    The first call parses the list (~60 ms of CPU) in a thread so the console stays live.
    """
    psl = _loaded[0] if _loaded else await asyncio.to_thread(_load)
    return psl.privatesuffix(domain.lower().rstrip(".")) or domain
