# Helpers shared by the rules (and only here).
import os
import shlex
from pathlib import Path


def _districts():
    chosen = config.get("analyse", list(config["districts"]))
    unknown = [d for d in chosen if d not in config["districts"]]
    if unknown:
        raise ValueError(
            f"config/config.yaml: `analyse` names district(s) {', '.join(unknown)} that have no "
            f"entry under `districts` (known: {', '.join(config['districts'])}). "
            "Add an entry with `raw:` and `codebook:` or fix the name."
        )
    return chosen


DISTRICTS = _districts()


wildcard_constraints:
    district="|".join(DISTRICTS),


def district(wildcards):
    return config["districts"][wildcards.district]


def raw_export(wildcards):
    return district(wildcards)["raw"]


def codebook(wildcards):
    return district(wildcards)["codebook"]


def read_options(wildcards):
    """`csi validate` options for how this district's export is laid out (config keys of the same name)."""
    entry = district(wildcards)
    opts = [f"--encoding {shlex.quote(entry['encoding'])}"]
    if "sheet" in entry:
        opts.append(f"--sheet {shlex.quote(str(entry['sheet']))}")
    if "header_row" in entry:
        rows = entry["header_row"]
        opts.append(f"--header-row {','.join(map(str, rows)) if isinstance(rows, list) else rows}")
    if "separator" in entry:
        opts.append(f"--separator {shlex.quote(entry['separator'])}")
    if entry.get("footer_rows"):
        opts.append(f"--footer-rows {entry['footer_rows']}")
    return " ".join(opts)


def model(wildcards):
    return district(wildcards).get("model", config["model"])


def satisfaction(wildcards):
    return district(wildcards).get("satisfaction", config["satisfaction"])


def estimation(wildcards):
    """`--estimator E --missing M` of this district (its entry, else the study's setting)."""
    d = district(wildcards)
    return f"--estimator {d.get('estimator', config['estimator'])} --missing {d.get('missing', config['missing'])}"


_TYPED: dict = {}


def has_respondent_type(name):
    """Does this district's codebook have a respondent_type column (for invariance by type)? Each
    codebook is read once (a thousand districts share a few codebooks)."""
    import yaml

    path = config["districts"][name]["codebook"]
    if path not in _TYPED:
        text = Path(path).read_text(encoding="utf-8")
        book = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C loader: ~50x faster
        _TYPED[path] = any(c.get("role") == "respondent_type" for c in book["columns"])
    return _TYPED[path]


def district_name(wildcards):
    return district_title(wildcards.district)


LANGUAGE = config["report"]["language"]
# each language's reports in their own folder, so English and Chinese reports coexist
REPORT = "report" if LANGUAGE == "en" else f"report_{LANGUAGE}"


def in_language(entry, key):
    """A district's text in the report language: `<key>_zh` for Chinese reports where given."""
    if config["report"]["language"] == "zh" and entry.get(f"{key}_zh"):
        return entry[f"{key}_zh"]
    return entry.get(key, "")


def district_title(name):
    """The district's name in the report language (`name_zh` for Chinese reports, if given)."""
    entry = config["districts"][name]
    if config["report"]["language"] == "zh" and entry.get("name_zh"):
        return entry["name_zh"]
    return entry.get("name", name)


def folder_of(name):
    """params helper: the folder of output `name` (commands that write several files into it)."""
    return lambda wildcards, output: str(Path(output[name]).parent)


def _same_design(d):
    first = config["districts"][DISTRICTS[0]]
    entry = config["districts"][d]
    return entry["codebook"] == first["codebook"] and entry.get("model", config["model"]) == first.get(
        "model", config["model"]
    )


COMPARED = [d for d in DISTRICTS if _same_design(d)]


def shown(path, caption, category, subcategory="{district}"):
    """An output that `snakemake --report` shows, with its caption (rules/captions/<caption>.rst)."""
    return report(path, caption=f"captions/{caption}.rst", category=category, subcategory=subcategory)


def figures(folder, names, category, subcategory="{district}"):
    """Each figure as PNG (shown in `snakemake --report`) and PDF (for print)."""
    out = []
    for name in names:
        out += [shown(f"{folder}/{name}.png", name, category, subcategory), f"{folder}/{name}.pdf"]
    return out


def comparison_tables(wildcards):
    """A compared district's report also shows the league table."""
    return rules.compare.output.league if wildcards.district in COMPARED and len(COMPARED) > 1 else []


def scaled(base, per_mb):
    """resources helper: base + per_mb x the inputs' size in MB (memory in MB, runtime in minutes),
    for steps whose cost grows with the export (validate, clean). Sizes by os.stat: asking Snakemake
    for them costs ~1 ms a job, seconds when planning a thousand districts."""
    return lambda wildcards, input: int(base + per_mb * _size_mb(input))


def _size_mb(files):
    total = 0
    for f in files:
        try:
            total += os.path.getsize(f)
        except OSError:  # not made yet (planning): counted as empty
            pass
    return total / 2**20


def bootstrap_workers():
    """Worker processes of each district's bootstrap (the model rule's threads): `threads.bootstrap`
    in the config, so the submitting side and a cluster job agree (not derived from --cores)."""
    return config["threads"]["bootstrap"]


def _imports():
    """csi module -> csi modules it imports (relative imports, anywhere in the file). Read once per
    workflow run (~20 ms)."""
    import ast

    src = Path(workflow.basedir) / "src/csi"
    graph = {}
    for path in src.rglob("*.py"):
        rel = path.relative_to(src).with_suffix("")
        name = ".".join(p for p in rel.parts if p != "__init__")
        package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - node.level + 1] if node.level > 1 else package
                if node.module:
                    deps.add(".".join(base + node.module.split(".")))
                else:
                    deps |= {".".join(base + [a.name]) for a in node.names}
        graph[name or "__init__"] = {d for d in deps if d}
    return graph


IMPORTS = _imports()


LIBRARY_SETS = {}


def library(*modules):
    """A rule's library input: one stamp file holding the checksums of the csi source files the
    given modules use (rule library_stamp), so that changing the library reruns what it affects.
    One input per job instead of ~20 source files keeps planning fast with many districts."""
    name = "+".join(sorted(set(modules))) or "csi"
    LIBRARY_SETS[name] = library_files(*modules)
    return f"results/.library/{name}.sha256"


def library_files(*modules):
    """The csi source files the given modules use, transitively (plus the command line and, with
    codebooks, their schema)."""
    todo, seen = ["__init__", *modules], set()
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        for sub in [m, *(k for k in IMPORTS if k.startswith(f"{m}."))]:   # a package: all its modules
            seen.add(sub)
            todo += [d for d in IMPORTS.get(sub, ()) if d not in seen]
    files = []
    for m in sorted(seen):
        parts = m.split(".")
        path = Path("src/csi", *parts)
        if (path / "__init__.py").exists():
            files.append(str(path / "__init__.py"))
        elif path.with_suffix(".py").exists():
            files.append(str(path.with_suffix(".py")))
        elif m == "__init__":
            files.append("src/csi/__init__.py")
    files.append("src/csi/cli.py")          # the commands (its own imports are per command)
    if "codebook" in seen:
        files.append("src/csi/schemas/codebook.schema.json")
    return sorted(set(files))
