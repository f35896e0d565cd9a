"""Errors that speak to a survey researcher: file, column, row, value, and what to do."""

from __future__ import annotations


class CSIError(Exception):
    """A problem with the user's input. The CLI prints it and exits non-zero."""

    def __init__(self, message: str, *, file=None, column=None, row=None, value=None,
                 hint: str | None = None, problems: list[str] | None = None,
                 hints: list[str] | None = None):
        self.message = message
        self.file = None if file is None else str(file)
        self.column = column
        self.row = row
        self.value = value
        self.hint = hint
        self.hints = hints or []      # several fixes, one per kind of problem
        self.problems = problems or []
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [p for p in (
            self.file,
            None if self.column is None else f"column {self.column!r}",
            None if self.row is None else f"row {self.row}",
            None if self.value is None else f"value {self.value!r}",
        ) if p]
        text = (", ".join(where) + ": " if where else "") + self.message
        shown = self.problems[:MAX_LISTED]
        if shown:
            text += "\n" + "\n".join(f"  - {p}" for p in shown)
            if len(self.problems) > len(shown):
                text += f"\n  ... and {len(self.problems) - len(shown)} more"
        if self.hint:
            text += f"\nWhat to do: {self.hint}"
        elif self.hints:
            text += "\nWhat to do:" + "".join(f"\n  - {h}" for h in self.hints)
        return text


MAX_LISTED = 25
