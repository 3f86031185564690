"""When the grid refreshes its listing by itself again: soon while images change, less and less
often while nothing changes or the listing fails, not at all once no image is left to finish.

After a refresh that changed what is shown the next one comes `first` seconds later; after one that
changed nothing, or failed, the wait doubles (`growth`), up to `maximum`; after a failure, up to
`failed_maximum` only (10 s): a failed listing costs the server nothing (no body comes back) and the
designer is looking at an old one, so the return of the server is seen within seconds. (The client
retries each listing itself for 15 s first: with waits of up to 30 s, a server back on its port went
unnoticed for ~45 s.) A refresh the user asked
for (F5) starts the waits from `first` again, and after a new filter the first listing counts as a
change. While no image is queued or processing there is nothing to follow: no next refresh.

Pure bookkeeping, like `poll_schedule.py`: no clock, no I/O, no waiting. The caller starts its own
timer with the delay it is given.
"""

from __future__ import annotations

FIRST_DELAY = 3.0
MAX_DELAY = 30.0
FAILED_MAX_DELAY = 10.0
GROWTH = 2.0


class RefreshBackoff:
    def __init__(
        self,
        *,
        first: float = FIRST_DELAY,
        maximum: float = MAX_DELAY,
        growth: float = GROWTH,
        failed_maximum: float = FAILED_MAX_DELAY,
    ) -> None:
        if not 0 < first <= maximum:
            raise ValueError("need 0 < first <= maximum")
        if not growth >= 1:
            raise ValueError("growth must be at least 1")
        self.first = float(first)
        self.maximum = float(maximum)
        self.growth = float(growth)
        self.failed_maximum = max(self.first, min(float(failed_maximum), self.maximum))
        self._delay = self.first
        self._last_revision: int | None = None

    @property
    def delay(self) -> float:
        """The current wait: what the next refresh that changes nothing grows from."""
        return self._delay

    def user_refreshed(self) -> None:
        """The user asked for a refresh: the waits start from `first` again."""
        self._delay = self.first

    def query_changed(self) -> None:
        """A new filter: its first listing counts as a change, whatever its revision."""
        self._last_revision = None

    def next_delay(self, revision: int, *, failed: bool, unfinished: bool) -> float | None:
        """A refresh ended: the library now shows `revision` (it bumps whenever the shown images
        change), the listing `failed` or not, and some image is `unfinished` or none is.
        Returns the seconds to wait before the next refresh, None for no next refresh."""
        changed = not failed and revision != self._last_revision
        self._last_revision = revision
        if changed:
            self._delay = self.first
        else:
            ceiling = self.failed_maximum if failed else self.maximum
            self._delay = min(ceiling, self._delay * self.growth)
        return self._delay if unfinished else None
