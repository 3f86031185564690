"""Compare's arithmetic, Qt-free: how many panes, which of the selected images each pane shows
as the designer steps and keeps panes (`PaneOrder`), and in how many columns the panes show their
images the largest (`arrange`). The window itself is ui/compare_dialog.py."""

from __future__ import annotations

import math
from typing import Final, NamedTuple

PANES: Final = 4


class Arrangement(NamedTuple):
    columns: int
    image_width: float
    image_height: float


def arrange(
    count: int, width: float, height: float, aspect: float, extra: tuple[float, float]
) -> Arrangement:
    """The number of columns in which `count` panes show images of `aspect` (width / height) the
    largest in an area of `width` x `height`, and the size of each image then. Each pane takes
    `extra` (width, height) beside its image: its frame and caption. Fewer columns on a tie."""
    best = Arrangement(1, 0.0, 0.0)
    for columns in range(1, count + 1):
        room_w = width / columns - extra[0]
        room_h = height / math.ceil(count / columns) - extra[1]
        image_w = min(room_w, room_h * aspect)
        if image_w > 0 and image_w * image_w / aspect > best.image_width * best.image_height:
            best = Arrangement(columns, image_w, image_w / aspect)
    return best


class PaneOrder:
    """Which of `count` selected images (by index, in the grid's order) each pane shows: at first
    the first ones; a kept pane stays; `step` shows the next (or previous) images that no kept
    pane shows in the other panes, the last page ending on the last image."""

    def __init__(self, count: int, panes: int = PANES) -> None:
        self.count = count
        self.slots = list(range(min(count, panes)))
        """The image index each pane shows."""
        self.kept: set[int] = set()
        """The panes kept in place."""

    def toggle_keep(self, pane: int) -> bool:
        """Keep `pane` (or let it go again); whether it is kept now."""
        self.kept ^= {pane}
        return pane in self.kept

    def after_step(self, direction: int) -> list[int] | None:
        """What the panes not kept would show after a step (None: nothing would change)."""
        free = [pane for pane in range(len(self.slots)) if pane not in self.kept]
        if not free:
            return None
        kept_images = {self.slots[pane] for pane in self.kept}
        rest = [i for i in range(self.count) if i not in kept_images]
        shown = sorted(rest.index(self.slots[pane]) for pane in free)
        start = shown[0] + len(free) if direction > 0 else shown[0] - len(free)
        start = max(0, min(start, len(rest) - len(free)))
        after = rest[start : start + len(free)]
        return None if after == [rest[i] for i in shown] else after

    def step(self, direction: int) -> bool:
        """Show the next (direction > 0) or previous images in the panes not kept; whether the
        panes changed."""
        after = self.after_step(direction)
        if after is None:
            return False
        free = [pane for pane in range(len(self.slots)) if pane not in self.kept]
        for pane, image in zip(free, after, strict=True):
            self.slots[pane] = image
        return True

    def span_text(self) -> str:
        """Which images are shown, for people: "1-4" or "1, 5-7"."""
        shown = sorted(i + 1 for i in self.slots)
        runs: list[list[int]] = []
        for n in shown:
            if runs and runs[-1][-1] == n - 1:
                runs[-1].append(n)
            else:
                runs.append([n])
        return ", ".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
