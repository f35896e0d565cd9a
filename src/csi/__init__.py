"""csi: a reproducible customer-satisfaction-index (CSI) pipeline for service-satisfaction surveys."""

__version__ = "0.1.0"


def cjk_fonts():
    """The folder with Noto Sans/Serif CJK SC regular (SIL OFL), from the PyPI package mplfonts."""
    from importlib import resources

    return resources.files("mplfonts") / "fonts"


def cjk_serif():
    """The folder with Noto Serif SC Regular and Bold (SIL OFL; scripts/fetch_fonts.py, run by
    `make setup`), or None where it was not fetched: Chinese reports then have no bold CJK."""
    import sys
    from pathlib import Path

    folder = Path(sys.prefix) / "share/fonts/noto-serif-sc"
    return folder if (folder / "NotoSerifSC-Bold.ttf").exists() else None


def project_root(start=None):
    """The folder holding the Snakefile, searched upwards from `start` (default: cwd).

    Notebooks use it so their paths work under papermill and when opened in JupyterLab."""
    from pathlib import Path

    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Snakefile").exists():
            return folder
    raise FileNotFoundError(f"no Snakefile in {here} or above: open the notebook inside the project")
