"""Personal data: salted pseudonyms and repeated-submission detection without keeping the data.

The salt lives outside results/ (default .secrets/pseudonym-salt, gitignored) so pseudonyms in
results cannot be reversed by hashing candidate ids or phone numbers.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pandas as pd

from .codebook import Codebook


def load_salt(path) -> bytes:
    """Read the project's salt, creating it (random, 32 bytes) on first use.

    Several validate jobs may start at once: the salt is written to a file of this process's own
    and linked into place only if none exists (atomic), so every job reads the same salt."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(os.urandom(32).hex() + "\n")
        try:
            os.link(tmp, path)            # fails if another job created it first: then use theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    salt = path.read_bytes().strip()      # the hex text written above, or any bytes a project supplies
    if len(salt) < 16:
        from .errors import CSIError

        raise CSIError(f"the pseudonym salt is too short ({len(salt)} bytes)", file=path,
                       hint="delete the file to have a new random salt made (pseudonyms then change), or put "
                            "the study's salt of at least 16 characters in it.")
    return salt


def pseudonym(value, salt: bytes, length: int = 16) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(salt + b"|" + str(value).encode("utf-8")).hexdigest()[:length]


def _normalize(v) -> str | None:
    """An identity value compared across rows: no spaces, dashes or brackets, upper case."""
    if not isinstance(v, str):    # blank (None or NaN) is no identity
        return None
    v = re.sub(r"[\s\-()]", "", v).upper()
    return v or None


def repeated_submissions(text: pd.DataFrame, cb: Codebook, coded: pd.DataFrame,
                         salt: bytes) -> pd.Series:
    """For each row, the raw row of the same person's earliest submission (NA if none earlier).

    Same person = same value in any identity column (e.g. mobile or ID number, normalized; `text`
    holds None for blank and missing codes).
    Rows with no identity data are matched on identical answers in every non-paradata column.
    Order is by submission time, then raw row.
    """
    order = coded.index.to_series()
    ts = coded.get("submitted_at")
    if ts is not None:
        order = pd.DataFrame({"t": ts, "r": coded.index}).sort_values(["t", "r"]).index.to_series()
    ident_cols = [c.header for c in cb.columns if c.role == "pii" and c.identity]
    answer_cols = [c.header for c in cb.columns
                   if c.role not in ("id", "timestamp", "duration", "paradata", "pii")]
    ident = {h: [_normalize(v) for v in text[h]] for h in ident_cols}
    answers = ["\x1f".join(v if isinstance(v, str) else "" for v in row)
               for row in text[answer_cols].itertuples(index=False)]
    position = {row: k for k, row in enumerate(text.index)}
    first_seen: dict[str, tuple[int, int]] = {}  # key -> (position in time order, raw row)
    result = pd.Series(pd.NA, index=coded.index, dtype="Int64")
    for rank, row in enumerate(order):
        i = position[row]
        keys = [pseudonym(f"{h}={ident[h][i]}", salt, 32) for h in ident_cols if ident[h][i] is not None]
        if not keys:
            keys = [pseudonym("answers=" + answers[i], salt, 32)]
        earlier = [first_seen[k] for k in keys if k in first_seen]
        if earlier:
            result[row] = min(earlier)[1]
        for k in keys:
            first_seen.setdefault(k, (rank, row))
    return result
