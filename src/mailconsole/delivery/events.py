"""In-process publish/subscribe of engine events that never blocks the engine.

Each subscriber has a bounded queue. ``publish`` uses ``put_nowait``: when a subscriber's
queue is full the event is dropped *for that subscriber only* and its ``dropped`` counter
goes up, so a frozen console can never slow delivery. Consumers that must not miss state
(the console panes) re-read aggregates on a timer and use events only to refresh sooner.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MessageEvent:
    """A message changed state (sending, sent, deferred, failed, suppressed, queued…)."""

    message_id: int
    state: str
    server_id: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class ServerEvent:
    """Counters of one server after a batch of outcomes, or a change of its state."""

    server_id: int
    name: str
    state: str
    sent: int = 0  # accepted since the engine started
    failed: int = 0  # transient + permanent since the engine started
    in_flight: int = 0
    reason: str = ""


Event = MessageEvent | ServerEvent


@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue[Event]
    dropped: int = 0
    _bus: EventBus | None = field(default=None, repr=False)

    async def get(self) -> Event:
        return await self.queue.get()

    def get_nowait(self) -> Event | None:
        try:
            return self.queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def drain(self) -> list[Event]:
        out: list[Event] = []
        while (item := self.get_nowait()) is not None:
            out.append(item)
        return out

    def close(self) -> None:
        if self._bus is not None:
            self._bus.unsubscribe(self)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscription] = []
        self.published = 0

    def subscribe(self, maxsize: int = 1000) -> Subscription:
        sub = Subscription(asyncio.Queue(maxsize=maxsize), _bus=self)
        self._subscribers.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)

    @property
    def dropped(self) -> int:
        """Events lost by all current subscribers together."""
        return sum(s.dropped for s in self._subscribers)

    def publish(self, event: Any) -> None:
        self.published += 1
        for sub in self._subscribers:
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.dropped += 1
