"""Where the time of one answered message goes, as the bot sees it (no message text: the command's name only).

The bot keeps the latest :data:`KEPT` timings in :attr:`MatrixBot.timings` and logs each at DEBUG as a line
:func:`parse` reads back (``assistant matrix --debug``; the load benchmark reads them from the bot's log).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KEPT = 2000
"""Timings a bot keeps in memory (the oldest is dropped)."""

LINE = re.compile(
    r"timing (?P<command>\w+): delivered (?P<delivered>[\d.-]+) ms, queued (?P<queued>[\d.]+) ms, "
    r"worked (?P<worked>[\d.]+) ms, sent (?P<sent>[\d.]+) ms"
)


@dataclass(frozen=True)
class CommandTiming:
    """One message, from the homeserver's timestamp to the bot's reply accepted by the homeserver (times in ms,
    to 0.1 ms)."""

    command: str
    """The command's name (``suggest``, ...), ``message`` for a plain message, ``other`` for an unknown one."""
    delivered_ms: float
    """From the homeserver's timestamp of the message to the sync that brought it returning (homeserver time
    and sync; both clocks are this machine's when the homeserver is local)."""
    queued_ms: float
    """From the sync returning to a worker thread starting on it (the sender's earlier messages, busy workers)."""
    worked_ms: float
    """The answer's work on the worker thread (the predictor, for ``suggest``)."""
    sent_ms: float
    """Sending the reply until the homeserver accepted it (0 when there was nothing to send)."""

    @property
    def bot_ms(self) -> float:
        """The bot's share: queued, worked and sent."""
        return self.queued_ms + self.worked_ms + self.sent_ms

    def line(self) -> str:
        """The log line (:func:`parse` reads it)."""
        return (
            f"timing {self.command}: delivered {self.delivered_ms:.1f} ms, queued {self.queued_ms:.1f} ms, "
            f"worked {self.worked_ms:.1f} ms, sent {self.sent_ms:.1f} ms"
        )


def parse(text: str) -> list[CommandTiming]:
    """Every timing line in a log's ``text``, in order."""
    return [
        CommandTiming(m["command"], float(m["delivered"]), float(m["queued"]), float(m["worked"]), float(m["sent"]))
        for m in LINE.finditer(text)
    ]
