"""Progress of long steps as plain lines on stderr (readable in the Snakemake console and in logs,
where a redrawn progress bar would be noise)."""

from __future__ import annotations

import sys
import time


class Progress:
    """`label: 300/1000 draws (2 failed), 4 s` at every tenth of the work (and at the end)."""

    def __init__(self, label: str, total: int, unit: str = "draws", enabled: bool = True):
        self.label, self.total, self.unit, self.enabled = label, total, unit, enabled and total > 0
        self.done = self.failed = 0
        self.start = time.monotonic()
        self.next = max(1, total // 10)

    def update(self, n: int = 1, failed: int = 0) -> None:
        self.done += n
        self.failed += failed
        if self.enabled and (self.done >= self.next or self.done == self.total):
            while self.next <= self.done:
                self.next += max(1, self.total // 10)
            self.say()

    def say(self, note: str = "") -> None:
        failed = f" ({self.failed} failed)" if self.failed else ""
        print(f"{self.label}: {self.done}/{self.total} {self.unit}{failed}, {time.monotonic() - self.start:.0f} s"
              f"{note}", file=sys.stderr, flush=True)
