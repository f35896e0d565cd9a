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


def repeated_submissions(text: pd.DataFrame, cb: Codebook, coded: pd.DataFrame) -> pd.Series:
    """For each row, the raw row of the same person's earliest submission (NA if none earlier).

    Same person = same value in any identity column (e.g. mobile or ID number, normalized; `text`
    holds None for blank and missing codes); the same value in two different columns is no match.
    Rows with no identity data are matched on identical answers in every non-paradata column (blank
    equals blank). Order is by submission time, then raw row: each row points at the earliest row
    that shared any of its keys before it. Vectorized (a million rows in seconds); the values are
    compared in memory only, never written.
    """
    import numpy as np

    order = coded.index.to_series()
    ts = coded.get("submitted_at")
    if ts is not None:
        order = pd.DataFrame({"t": ts, "r": coded.index}).sort_values(["t", "r"], kind="stable").index.to_series()
    rank = pd.Series(np.arange(len(order)), index=order.to_numpy()).reindex(text.index).to_numpy()
    ident_cols = [c.header for c in cb.columns if c.role == "pii" and c.identity]
    answer_cols = [c.header for c in cb.columns
                   if c.role not in ("id", "timestamp", "duration", "paradata", "pii")]
    pos = np.arange(len(text))
    parts, has_id = [], np.zeros(len(text), bool)
    for k, h in enumerate(ident_cols):
        v = text[h].astype("string").str.replace(r"[\s\-()]", "", regex=True).str.upper()
        v = v.mask(v == "")
        ok = v.notna().to_numpy()
        has_id |= ok
        parts.append(pd.DataFrame({"pos": pos[ok], "key": (f"{k}=" + v[ok]).to_numpy(object)}))
    rest = ~has_id
    if rest.any():
        same = text.loc[rest, answer_cols].astype(object).where(text.loc[rest, answer_cols].notna(), "")
        group = same.groupby(answer_cols, sort=False, dropna=False).ngroup().to_numpy() if answer_cols else \
            np.zeros(rest.sum(), int)
        parts.append(pd.DataFrame({"pos": pos[rest], "key": [f"answers={g}" for g in group]}))
    pairs = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"pos": [], "key": []})
    pairs["rank"] = rank[pairs["pos"].to_numpy(int)]
    first = pairs.groupby("key", sort=False)["rank"].transform("min").to_numpy()
    earlier = first < pairs["rank"].to_numpy()
    best = pd.Series(first[earlier]).groupby(pairs["pos"].to_numpy()[earlier]).min()
    result = pd.Series(pd.NA, index=coded.index, dtype="Int64")
    by_rank = order.to_numpy()                         # rank -> raw row
    result.loc[text.index[best.index.to_numpy(int)]] = by_rank[best.to_numpy(int)]
    return result
