"""Shared project files: one pseudonym salt however many jobs start at once, and outputs that
colleagues can read (the umask, not mkstemp's 0600)."""

import multiprocessing as mp
import os

import pandas as pd

from csi import io, privacy


def _salt(path):
    return privacy.load_salt(path)


def test_simultaneous_first_runs_share_one_salt(tmp_path):
    for trial in range(10):
        path = tmp_path / str(trial) / ".secrets/pseudonym-salt"
        with mp.get_context("fork").Pool(5) as pool:
            salts = pool.map(_salt, [path] * 5)
        assert len(set(salts)) == 1 and salts[0] == path.read_text().strip().encode()
        assert [p.name for p in path.parent.iterdir()] == [path.name]      # no temporary file left


def test_outputs_follow_the_umask(tmp_path):
    mask = os.umask(0)
    os.umask(mask)
    io.write_tables(tmp_path, {"t.csv": pd.DataFrame({"x": [1]})})
    assert (tmp_path / "t.csv").stat().st_mode & 0o777 == 0o666 & ~mask     # e.g. 0644, not 0600


def test_a_supplied_salt_is_read_as_bytes_and_a_short_one_refused(tmp_path):
    """A study may bring its own salt (any bytes); an empty or short one would make pseudonyms guessable."""
    import pytest

    from csi.errors import CSIError

    binary = tmp_path / "binary"
    binary.write_bytes(bytes(range(200, 240)))
    assert privacy.load_salt(binary) == bytes(range(200, 240))
    made = tmp_path / "made"
    assert len(privacy.load_salt(made)) == 64 and privacy.load_salt(made) == made.read_bytes().strip()
    short = tmp_path / "short"
    short.write_text("abc\n")
    with pytest.raises(CSIError, match="too short"):
        privacy.load_salt(short)
