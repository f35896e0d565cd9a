"""Validate and clean give the same bytes as before they were made columnar (issue 14, part 4).

tests/fixtures/validate_digests.json holds the SHA-256 of what `csi validate` and `csi clean` wrote
for every default district, made by the row-by-row code they replaced (commit 470c0b3) with
`python tests/test_unchanged_outputs.py` and a fixed salt. CSV exports are read both ways: by the
strict reader and by pyarrow's parser (used for large files), forced here on small ones.
"""

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text("utf-8"))
FIXTURE = ROOT / "tests/fixtures/validate_digests.json"
OUTPUTS = ("coded.parquet", "recoded.csv", "clean.parquet", "exclusions.csv", "flow.json")


def digests(district: str, out: Path) -> dict:
    """SHA-256 of validate's and clean's outputs for one district, run from the project root."""
    import hashlib
    import os

    from csi.cli import main

    entry = CONFIG["districts"][district]
    out.mkdir(parents=True, exist_ok=True)
    (out / "salt").write_bytes(b"0123456789abcdef0123456789abcdef")
    here = os.getcwd()
    os.chdir(ROOT)                # paths in flow.json as the pipeline writes them: relative
    try:
        extra = ["--encoding", entry["encoding"]] if entry.get("encoding") else []
        assert main(["validate", entry["raw"], "--codebook", entry["codebook"], *extra,
                     "--salt-file", str(out / "salt"), "--coded", str(out / "coded.parquet"),
                     "--recoded", str(out / "recoded.csv"), "--report", str(out / "validation.json")]) in (0, None)
        assert main(["clean", str(out / "coded.parquet"), "--codebook", entry["codebook"],
                     "--validation", str(out / "validation.json"), "--data", str(out / "clean.parquet"),
                     "--exclusions", str(out / "exclusions.csv"), "--flow", str(out / "flow.json")]) in (0, None)
    finally:
        os.chdir(here)
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in OUTPUTS}


CASES = [(d, "strict") for d in CONFIG["districts"]] + \
    [(d, "pyarrow") for d, e in CONFIG["districts"].items() if e["raw"].endswith(".csv")]


@pytest.mark.parametrize(("district", "reader"), CASES)
def test_validate_and_clean_write_the_same_bytes_as_before(district, reader, tmp_path, monkeypatch):
    from csi import exports

    if reader == "pyarrow":
        monkeypatch.setattr(exports, "FAST_BYTES", 0)
        used = []
        real = exports._fast_cells
        monkeypatch.setattr(exports, "_fast_cells", lambda *a: (r := real(*a), used.append(r is not None))[0])
    expected = json.loads(FIXTURE.read_text("utf-8"))[district]
    assert digests(district, tmp_path) == expected
    if reader == "pyarrow":
        assert used and all(used), "the pyarrow reader was not used"


def odd_csvs(folder: Path) -> dict[str, bytes]:
    """County X's export rewritten as other platforms write CSV: a byte-order mark and Excel's `sep=`
    line with semicolons, blank lines between rows, quoted answers holding the separator or a line
    break or a doubled quote, padded and full-width cells, missing-value words, CRLF line ends, and
    Excel's "Unicode text" (UTF-16 with a byte-order mark, tab-separated)."""
    text = (ROOT / CONFIG["districts"]["county_x"]["raw"]).read_bytes().decode("gb18030")
    lines = text.splitlines()
    head, rows = lines[0], lines[1:]
    out = {"bom_sep_semicolon": ("\ufeffsep=;\n" + "\n".join(x.replace(",", ";") for x in lines) + "\n").encode("utf-8"),
           "blank_lines": ("\n".join([head] + [r + ("\n" if i % 50 == 7 else "") for i, r in enumerate(rows)])
                           + "\n").encode("utf-8"),
           "crlf_padded_fullwidth": ("\r\n".join([head] + [" " + r.replace(",8,", ",８ ,").replace(",5,", ", N/A,")
                                                           for r in rows]) + "\r\n").encode("utf-8")}
    quoted = [head] + [r if i % 9 else r.replace(",女,", ',"女, 本人",', 1).replace(",男,", ',"男\n(代办)",', 1)
                       for i, r in enumerate(rows)]
    quoted[3] = quoted[3].replace(",女,", ',"女""",', 1)
    out["quoted"] = ("\n".join(quoted) + "\n").encode("gb18030")
    out["utf16_tab"] = ("\r\n".join(x.replace(",", "\t") for x in lines) + "\r\n").encode("utf-16")  # Excel's "Unicode text"
    return out


@pytest.mark.parametrize("case", ["bom_sep_semicolon", "blank_lines", "crlf_padded_fullwidth", "quoted", "utf16_tab"])
def test_pyarrow_reads_odd_csvs_as_the_strict_reader_does(case, tmp_path, monkeypatch):
    from csi import exports

    path = tmp_path / f"{case}.csv"
    path.write_bytes(odd_csvs(tmp_path)[case])
    options = exports.Options.of(encoding="gb18030" if case == "quoted" else None)
    strict = exports.read(path, options)
    monkeypatch.setattr(exports, "FAST_BYTES", 0)
    monkeypatch.setattr(exports, "_quote_doubt", lambda text, sep: False)    # pyarrow even where in doubt
    used, real = [], exports._fast_cells
    monkeypatch.setattr(exports, "_fast_cells", lambda *a: (r := real(*a), used.append(r is not None))[0])
    fast = exports.read(path, options)
    assert used == [True]
    assert strict.frame.shape[0] > 400
    pd.testing.assert_frame_equal(fast.frame, strict.frame)
    assert fast.info == strict.info and fast.letters == strict.letters
    if case == "blank_lines":
        assert len(strict.info["blank_rows"]) == 11       # rows 7, 57, ..., 507 of 524
    if case == "quoted":
        assert strict.frame.iloc[:, 4].str.contains("\n").sum() > 10


@pytest.mark.parametrize(("text", "doubt"), [
    ('a,b\n1,"2"x\n', True), ('a,b\n"1" ,2\n', True), ('a,b\n1, "2"\n', True), ('a;b\n1;"2"x\n', True),
    ('a,b\n1,2"\n', False), ('"a","b"\n"1","2"\n', False), ('a,b\n1,"x,y"\n', False),
    ('a,b\n1,"say ""hi"""\n', False), ('a,b\r\n"1","x\r\ny"\r\n', False), ("a,b\n1,2\n", False)])
def test_files_whose_quotes_may_not_parse_strictly_go_to_the_strict_reader(text, doubt):
    from csi import exports

    assert exports._quote_doubt(text, ";" if ";" in text else ",") is doubt


if __name__ == "__main__":    # write the fixture (from the code at the commit named above)
    import tempfile

    sys.path.insert(0, str(ROOT / "src"))
    with tempfile.TemporaryDirectory() as tmp:
        FIXTURE.write_text(json.dumps({d: digests(d, Path(tmp) / d) for d in CONFIG["districts"]}, indent=1) + "\n",
                           "utf-8")
