"""Fetch Noto Serif SC (Regular and Bold; SIL OFL 1.1) for Chinese reports, from the npm registry.

PyPI has no Simplified-Chinese serif with a bold weight; the npm package @expo-google-fonts/
noto-serif-sc ships the static TTFs (Google's Noto Serif SC 2.003) with no install scripts. The
tarball is checked against its published sha512 and only the two weights and the font licence are
kept, in <venv>/share/fonts/noto-serif-sc/ (csi.cjk_fonts). Run by `make setup`; does nothing when
the files are there.
"""

import base64
import hashlib
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

URL = "https://registry.npmjs.org/@expo-google-fonts/noto-serif-sc/-/noto-serif-sc-0.4.3.tgz"
SHA512 = "fSmUpiSFtSeyHV45/2xUOy5SdfExklQwwMKN3cQjAZAujITHDmSbpMHCVdCMhRqMjQtu0ZRgc29u8A+CU3akfw=="
KEEP = {"package/400Regular/NotoSerifSC_400Regular.ttf": "NotoSerifSC-Regular.ttf",
        "package/700Bold/NotoSerifSC_700Bold.ttf": "NotoSerifSC-Bold.ttf",
        "package/LICENSE_FONT": "LICENSE-OFL.txt"}


def main(dest: Path) -> int:
    if all((dest / name).exists() for name in KEEP.values()):
        return 0
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tgz = Path(tmp) / "fonts.tgz"
        try:
            urllib.request.urlretrieve(URL, tgz)
        except OSError as e:
            print(f"error: could not download the CJK fonts from {URL}: {e}. Chinese reports need them; "
                  "check the network (the npm registry) and run `make setup` again.", file=sys.stderr)
            return 1
        digest = base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
        if digest != SHA512:
            print(f"error: {URL} does not have the published checksum; not installed.", file=sys.stderr)
            return 1
        with tarfile.open(tgz) as tar:
            for member, name in KEEP.items():
                data = tar.extractfile(member).read()
                (dest / f".{name}.part").write_bytes(data)
                (dest / f".{name}.part").replace(dest / name)      # whole files only
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(sys.prefix) / "share/fonts/noto-serif-sc"))
