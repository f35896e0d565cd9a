"""Paper-style district report (typst -> PDF), assembled from the pipeline's result files.

Nothing is computed here that a results file does not hold: every number is read from a
table or JSON under results/<district>/, and every table and figure names its source file.
Each table is also written as CSV and LaTeX (booktabs) for authors' own manuscripts.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pandas as pd

from .codebook import Codebook

CUTOFFS = {"cfi": (">=", 0.95), "tli": (">=", 0.95), "rmsea": ("<=", 0.06), "srmr": ("<=", 0.08)}
REFERENCES = [
    "Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement invariance. "
    "Structural Equation Modeling, 14(3), 464–504.",
    "Cheung, G. W., & Rensvold, R. B. (2002). Evaluating goodness-of-fit indexes for testing "
    "measurement invariance. Structural Equation Modeling, 9(2), 233–255.",
    "Fornell, C., Johnson, M. D., Anderson, E. W., Cha, J., & Bryant, B. E. (1996). The American "
    "Customer Satisfaction Index: Nature, purpose, and findings. Journal of Marketing, 60(4), 7–18.",
    "Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with unobservable "
    "variables and measurement error. Journal of Marketing Research, 18(1), 39–50.",
    "Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing discriminant "
    "validity in variance-based structural equation modeling. JAMS, 43(1), 115–135.",
    "Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure "
    "analysis. Structural Equation Modeling, 6(1), 1–55.",
    "Li, W., & Mao, N. (2021). The status quo and thinking of social security agency service "
    "satisfaction. Proceedings of ERMM 2021.",
    "Ringle, C. M., & Sarstedt, M. (2016). Gain more insight from your PLS-SEM results: The "
    "importance-performance map analysis. Industrial Management & Data Systems, 116(9), 1865–1886.",
]


def esc(text) -> str:
    """Text safe inside typst markup."""
    s = str(text)
    for ch in "\\#$*_`<>@[]":
        s = s.replace(ch, "\\" + ch)
    return s


def fmt(v, digits=3) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "–"
    if isinstance(v, (int,)) or (isinstance(v, float) and float(v).is_integer() and abs(v) >= 100):
        return f"{int(v):,}"
    return f"{v:.{digits}f}"


class Report:
    def __init__(self, results: Path, out: Path, cb: Codebook, title: str):
        self.results, self.out, self.cb, self.title = Path(results), Path(out), cb, title
        self.parts: list[str] = []
        (self.out / "tables").mkdir(parents=True, exist_ok=True)

    def label(self, code: str) -> str:
        try:
            return self.cb.label(code, "en")
        except KeyError:
            return code

    def read_csv(self, rel: str) -> pd.DataFrame:
        return pd.read_csv(self.results / rel)

    def read_json(self, rel: str) -> dict:
        return json.loads((self.results / rel).read_text("utf-8"))

    def add(self, text: str) -> None:
        self.parts.append(text)

    def table(self, frame: pd.DataFrame, caption: str, source: str, name: str, note: str = "") -> None:
        """An APA-style table (rules above and below the header and at the end), with CSV and
        LaTeX copies in report/tables/."""
        frame.to_csv(self.out / "tables" / f"{name}.csv", index=False, lineterminator="\n")
        latex = frame.style.hide(axis="index").format(precision=3, na_rep="–").to_latex(hrules=True)
        (self.out / "tables" / f"{name}.tex").write_text(latex, "utf-8")
        cols = len(frame.columns)
        header = ", ".join(f"[*{esc(c)}*]" for c in frame.columns)
        cells = ", ".join(f"[{esc(fmt(v) if not isinstance(v, str) else v)}]"
                          for row in frame.itertuples(index=False) for v in row)
        align = ", ".join("left" if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])
                          else "right" for c in frame.columns)
        self.add(f"""
#figure(
  kind: table,
  caption: figure.caption(position: top)[{esc(caption)}],
  table(columns: {cols}, align: ({align},), stroke: none, inset: (x: 4pt, y: 2.5pt),
    table.header(table.hline(stroke: 0.8pt), {header}, table.hline(stroke: 0.5pt)), {cells},
    table.hline(stroke: 0.8pt)),
) <tab-{name}>
#text(size: 8pt)[_Note._ {esc(note + " " if note else "")}Source: `{source}`.]
""")

    def figure(self, rel: str, caption: str, name: str, width: str = "90%") -> None:
        self.add(f"""
#figure(image("{Path("..") / rel}", width: {width}), caption: [{esc(caption)} Source: `{rel}`.]) <fig-{name}>
""")

    def write(self, timestamp) -> Path:
        import typst

        head = f"""#set document(title: "{esc(self.title)}")
#set page(paper: "a4", margin: 2.2cm, numbering: "1")
#set text(size: 10pt, lang: "en")
#set par(justify: true)
#set heading(numbering: "1.")
#show figure: set block(breakable: true)
#show figure.caption: set text(size: 9pt)
"""
        source = self.out / "report.typ"
        source.write_text(head + "\n".join(self.parts), "utf-8")
        pdf = self.out / "report.pdf"
        typst.compile(str(source), output=str(pdf), root=str(self.results), timestamp=timestamp)
        # the same source as HTML (figures embedded), for reading in a browser
        typst.compile(str(source), output=str(self.out / "report.html"), root=str(self.results),
                      format="html", timestamp=timestamp)
        return pdf


def district(results, out, cb: Codebook, title: str, config: dict, timestamp: int = 0) -> Path:
    r = Report(results, out, cb, title)
    flow = r.read_json("data/flow.json")
    fit = r.read_json("model/fit.json")
    idx = r.read_csv("model/index.csv").set_index("construct")
    ipma = r.read_csv("model/ipma.csv")
    rel = r.read_csv("tables/reliability.csv")
    top = r.read_csv("tables/top_box.csv")
    sat = config.get("satisfaction", "SAT")
    first = ipma.iloc[0]
    simulated = "simulated" in title.lower()

    heading = f"{esc(title)}: public satisfaction with social-security agency services"
    byline = (f"Report generated by the csi pipeline from `results/` (seed {config['seed']}, "
              f"bootstrap B = {fit.get('bootstrap', {}).get('B', 0)})")
    # HTML export drops aligned blocks: the title is a heading there, a centred block in the PDF
    r.add(f"""#context if target() == "html" [#heading(level: 1, numbering: none)[{heading}] {byline}] else [
#align(center)[#text(size: 15pt, weight: "bold")[{heading}]
#v(0.3em) #text(size: 9pt)[{byline}]]
#v(0.6em)]

*Abstract.* {"The data are *simulated*; the analysis is real. " if simulated else ""}Of {flow['raw_rows']:,} submitted questionnaires, {flow['kept']:,} were kept after removing duplicates, speeders, straight-liners, failed attention checks and incomplete responses. A customer-satisfaction-index structural equation model (maximum likelihood) fits {"well" if fit['cfi'] >= .95 and fit['rmsea'] <= .06 else "with reservations"} (CFI = {fit['cfi']:.3f}, RMSEA = {fit['rmsea']:.3f}, SRMR = {fit['srmr']:.3f}){"" if fit['admissible'] else " but the solution is NOT admissible"}. The satisfaction index is {idx.loc[sat, 'index']:.1f} (95% CI {idx.loc[sat, 'ci_lower']:.1f}–{idx.loc[sat, 'ci_upper']:.1f}) on a 0–100 scale. The first improvement priority is {esc(r.label(first['driver']))}: raising its index to 100 would add an expected {first['potential']:.1f} points of satisfaction.
""")
    r.add("= Data and method")
    steps = pd.DataFrame(flow["steps"])
    steps.columns = ["Step", "Excluded", "Remaining"]
    r.add(f"Raw export: `{flow['raw_file']}` ({flow['raw_rows']:,} rows; SHA-256 `{flow['raw_sha256'][:16]}…`). "
          f"Exclusion rules were applied in order; each row counts once, at the first rule it fails. "
          f"{flow['cells_set_missing']} stray answer codes were set to missing.")
    r.table(steps, "Exclusion flow", "data/flow.json", "flow")
    dims = ", ".join(f"{esc(v['label']['en'])} ({len(cb.construct_items(k))} items)" for k, v in cb.constructs.items())
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("semopy", "pandas", "statsmodels", "snakemake"))
    r.add(f"Constructs: {dims}. Estimation: maximum likelihood on complete cases (n = {fit['n']:,}), "
          f"standard errors from the expected information, confidence intervals of paths, effects and "
          f"indices from a nonparametric bootstrap (B = {fit.get('bootstrap', {}).get('B', 0)}, percentile). "
          f"Software: csi {metadata.version('csi')}, {versions}.")
    r.add("= Results")
    r.add("== Satisfaction rates")
    cols = ["item", "n", "rate", "ci_lower", "ci_upper"] + [c for c in top.columns if c.startswith("rate_")]
    cols += [c for c in ("p_value",) if c in top]
    t = top[cols].copy()
    t["item"] = t["item"].map(r.label)
    by_type = any(c.startswith("rate_") for c in cols)
    r.table(t, "Top-box share per item with Wilson 95% CIs", "tables/top_box.csv", "top_box",
            "rate_<type>: share by respondent type; p_value: score test of the difference." if by_type else "")
    r.figure("figures/top_box_by_type.png", "Top-box share by respondent type (Wilson 95% CIs).", "top")
    r.add("== Reliability and validity")
    t = rel[["construct", "items", "alpha", "omega", "ave"]].copy()
    t["construct"] = t["construct"].map(r.label)
    r.table(t, "Reliability and convergent validity", "tables/reliability.csv", "reliability",
            "Cutoffs: α and ω ≥ .70, AVE ≥ .50 (Fornell & Larcker, 1981).")
    r.add("== Model fit")
    ft = pd.DataFrame([{"measure": k.upper(), "value": fit[k], "cutoff": f"{op} {v}",
                        "met": "yes" if (fit[k] >= v if op == ">=" else fit[k] <= v) else "no"}
                       for k, (op, v) in CUTOFFS.items()])
    r.table(ft, f"Fit of the CSI model (χ²({fit['df']}) = {fit['chisq']:.2f})", "model/fit.json", "fit",
            "Cutoffs after Hu & Bentler (1999).")
    r.add("== Structural paths and CSI indices")
    boot = r.read_csv("model/bootstrap.csv")
    paths = boot[boot["op"] == "~"][["lhs", "rhs", "est", "ci_lower", "ci_upper", "std_all"]].copy()
    paths["lhs"], paths["rhs"] = paths["lhs"].map(r.label), paths["rhs"].map(r.label)
    r.table(paths, "Structural paths with bootstrap 95% CIs", "model/bootstrap.csv", "paths")
    r.figure("figures/path_diagram.png", "Standardized path coefficients.", "path")
    t = idx.reset_index()
    t["construct"] = t["construct"].map(r.label)
    r.table(t, "CSI indices (0–100) with bootstrap 95% CIs", "model/index.csv", "index")
    r.add("== Importance–performance and priorities")
    r.figure("figures/ipma.png", "Importance–performance map (Ringle & Sarstedt, 2016).", "ipma", "70%")
    t = ipma[["priority", "driver", "importance", "performance", "potential"]].copy()
    t["driver"] = t["driver"].map(r.label)
    r.table(t, "Improvement priorities", "model/ipma.csv", "priorities",
            "potential: satisfaction-index gain if the driver's index reached 100.")
    r.add("= Limitations")
    limits = [esc(w) for w in fit["warnings"]]
    weak = rel[~rel["ave_ok"] | ~rel["alpha_ok"]]["construct"].map(r.label).tolist()
    if weak:
        limits.append(f"Weak reliability or convergent validity for: {esc(', '.join(weak))}.")
    if simulated:
        limits.append("The data are simulated; the numbers illustrate the method, not a real district.")
    r.add("\n".join(f"- {x}" for x in limits) or "None flagged by the diagnostics.")
    r.add("= References\n" + "\n".join(f"- {esc(x)}" for x in REFERENCES))
    return r.write(timestamp)
