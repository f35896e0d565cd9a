"""The `csi` command. Snakemake rules call these subcommands; so can a researcher."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import CSIError


def _read_options(a):
    from . import exports

    return exports.Options.of(encoding=a.encoding, sheet=a.sheet, header_row=a.header_row,
                              separator=a.separator, footer_rows=a.footer_rows)


def _add_read_options(sub) -> None:
    sub.add_argument("--encoding", default=None, help="text encoding of a CSV export (default UTF-8, or its BOM)")
    sub.add_argument("--sheet", default=None, help="xlsx sheet name or number (default: the first)")
    sub.add_argument("--header-row", default=None,
                     help="row of the question texts (default 1); two rows as 2,3 are joined 'upper：lower'")
    sub.add_argument("--separator", default=None, help="CSV field separator (default: detected)")
    sub.add_argument("--footer-rows", type=int, default=0,
                     help="rows at the end that are not responses (a totals row)")


def _validate(a) -> None:
    from . import codebook, exports, io, privacy, validate

    cb = codebook.load(a.codebook)
    export = exports.read(a.raw, _read_options(a))
    if "note" in export.info:
        print(f"note: {export.info['note']}", file=sys.stderr)
    salt = privacy.load_salt(a.salt_file)
    v = validate.validate(export, cb, salt=salt, out_of_range=a.out_of_range)
    report = {
        "raw_file": Path(a.raw).as_posix(),
        "raw_sha256": io.sha256(a.raw),
        "codebook": Path(a.codebook).as_posix(),
        "questionnaire": cb.name,
        "rows": v.n_rows,
        "columns": len(export.frame.columns),
        "problems": 0,
        "cells_set_missing": len(v.recoded),
        "read": export.info,
    }
    with io.atomic_outputs(a.coded, a.recoded, a.report) as (coded, recoded, rep):
        io.write_parquet(v.coded, coded)
        io.write_csv(v.recoded, recoded)
        io.write_json(report, rep)
    skipped = [f"{len(export.info[k])} {what}" for k, what in (
        ("rows_above_header", "row(s) above the header"), ("blank_rows", "blank row(s)"),
        ("footer_rows", "footer row(s)"), ("empty_columns", "empty column(s)")) if export.info.get(k)]
    print(f"validated {a.raw}: {v.n_rows} response rows{' (skipped: ' + ', '.join(skipped) + ')' if skipped else ''}, "
          f"{len(v.recoded)} cell(s) set to missing (recoded_cells.csv)", file=sys.stderr)


def _clean(a) -> None:
    import json

    import pandas as pd

    from . import clean, codebook, io

    cb = codebook.load(a.codebook)
    coded = pd.read_parquet(a.coded)
    rules = {"min_duration_seconds": a.min_duration,
             "straightlining": {"min_items": a.straightline_min_items,
                                "require_reversed": not a.straightline_any},
             "max_item_missing": a.max_item_missing}
    c = clean.clean(coded, cb, rules)
    report = json.loads(Path(a.validation).read_text("utf-8"))
    flow = {"raw_file": report["raw_file"], "raw_sha256": report["raw_sha256"],
            "cells_set_missing": report["cells_set_missing"], **c.flow}
    with io.atomic_outputs(a.data, a.exclusions, a.flow) as (data, excl, fl):
        io.write_parquet(c.data, data)
        io.write_csv(c.exclusions, excl)
        io.write_json(flow, fl)
    print(f"cleaned: {flow['raw_rows']} raw rows -> {flow['kept']} kept", file=sys.stderr)


def _simulate(a) -> None:
    from . import simulate

    spec = simulate.load_spec(a.spec)
    for d in a.district or list(spec["districts"]):
        if d not in spec["districts"]:
            raise CSIError(f"district {d!r} is not in the simulation spec", file=a.spec,
                           hint=f"choose one of: {', '.join(spec['districts'])}.")
        truth = simulate.write_district(spec, d, Path(a.out) / d, root=a.root)
        print(f"{d}: {sum(truth['planted_counts'].values())} rows -> {Path(a.out) / d}", file=sys.stderr)


def _fit(a) -> None:
    from . import io, sem

    text = Path(a.model).read_text("utf-8")
    data = sem.read_data(a.data)
    sem.check_data(text, data, a.model, a.data, missing="fiml" if a.missing == "auto" else a.missing)
    model = sem.Model(text, data)
    extra = spec = cb = None
    categorical = None
    if a.codebook:
        from . import codebook, index

        cb = codebook.load(a.codebook)
        spec = index.spec(model, text, cb, target=a.target)
        extra = index.statistic(spec)
        categorical = cb.ordered_items(model.observed)
    result = sem.estimate(text, data, estimator=a.estimator, missing=a.missing, bootstrap=a.bootstrap, seed=a.seed,
                          stream=a.stream, ordered=(a.ordered if a.ordered in (None, "all") else a.ordered.split(",")),
                          categorical=categorical,
                          jobs=a.jobs, progress=False if a.quiet else a.out, extra=extra, model=model, source=a.data)
    m = result.measures
    tables = {}
    if spec is not None:
        if m["admissible"]:
            idx, ipma = index.tables(result, spec, result.data.to_numpy(float), result.extra_draws)
            w = index.weights(result.model, result.fit.x, spec)
            prio = index.priorities(ipma, w, result.data, cb)
        else:       # an improper solution is not a basis for indices or priorities
            idx, ipma, w, prio = index.withheld(spec)
        tables = {"index.csv": idx, "ipma.csv": ipma, "index_weights.csv": w, "priorities.csv": prio}
        tables.update(index.draw_tables(spec, result.extra_draws))   # index_draws.csv, priority_ranks.csv
        tables["sensitivity.csv"] = sem.sensitivity(result, text, data, categorical, source=a.data)
    io.write_tables(a.out, tables)
    sem.write_result(result, a.out)
    sc = "_scaled" if m.get("chisq_scaled") is not None else ""     # robust estimators: the scaled test
    print(f"fitted {a.model} to {a.data} by {m['estimator']} (n = {m['n']}): chisq{sc.replace('_', ' ')} "
          f"{m['chisq' + sc]:.3f}, df {m['df']}, CFI {m['cfi' + sc]:.3f}, RMSEA {m['rmsea' + sc]:.3f}, "
          f"SRMR {m['srmr']:.3f}; "
          f"{'admissible' if m['admissible'] else 'NOT ADMISSIBLE'}", file=sys.stderr)
    if not m["admissible"]:
        print("  The solution is not a basis for findings: bootstrap, indices and priorities are withheld.",
              file=sys.stderr)
    for w_ in m["diagnosis"]:
        print(f"  cause: {w_}", file=sys.stderr)
    for w_ in m["warnings"]:
        print(f"  warning: {w_}", file=sys.stderr)


def _describe(a) -> None:
    import pandas as pd

    from . import codebook, describe, io

    cb = codebook.load(a.codebook)
    data = pd.read_parquet(a.data)
    io.write_tables(a.out, {
        "top_box.csv": describe.top_box(data, cb), "distribution.csv": describe.distribution(data, cb),
        "options.csv": describe.options(data, cb), "item_stats.csv": describe.item_stats(data, cb),
        "profile.csv": describe.profile(data, cb)})
    print(f"described {a.data}: {len(data)} respondents -> {a.out}", file=sys.stderr)


def _measurement(a) -> None:
    import pandas as pd

    from . import io, psychometrics as pm, sem

    text = Path(a.model).read_text("utf-8")
    cfa_text = pm.measurement_model(text)
    data = sem.read_data(a.data)
    cb = None
    if a.codebook:
        from . import codebook

        cb = codebook.load(a.codebook)
    items = sem.observed_variables(cfa_text, a.model)
    # ordered items (the codebook's): the CFA by WLSMV, with ordinal omega and AVE (semTools');
    # otherwise ML on the complete cases
    ordinal = cb is not None and items and set(items) <= set(cb.ordered_items(items))
    sem.check_data(cfa_text, data, a.model, a.data, missing="auto" if ordinal else "listwise")
    cfa = (sem.estimate(cfa_text, data, source=a.data, estimator="WLSMV", missing="auto", ordered="all") if ordinal
           else sem.estimate(cfa_text, data, source=a.data))
    rel = pm.reliability(cfa, data, cfa_text)
    constructs = list(rel["construct"])
    fl = pm.fornell_larcker(cfa, rel, constructs)
    h, h2 = pm.htmt(data, cfa_text), pm.htmt(data, cfa_text, geometric=True)
    if a.drivers:
        drivers = a.drivers.split(",")
    elif cb is not None:
        drivers = pm.drivers(text, cb)
    else:
        drivers = pm.drivers(text)
    tables = {"reliability.csv": rel, "fornell_larcker.csv": fl.reset_index(names="construct"),
              "htmt.csv": h.reset_index(names="construct"), "htmt_verdicts.csv": pm.htmt_verdicts(h, h2),
              "vif.csv": pm.vif(cfa, data, cfa_text, drivers) if len(drivers) > 1 else
              pd.DataFrame(columns=["construct", "vif_latent", "vif_composite", "below_3"])}
    sem.write_result(cfa, a.cfa_out)
    io.write_tables(a.out, tables)
    print(f"measurement model of {a.model}: CFI {cfa.measures['cfi']:.3f}, "
          f"{'admissible' if cfa.measures['admissible'] else 'NOT ADMISSIBLE'}", file=sys.stderr)


def _group_column(a, cb, data) -> str:
    """--group, else the codebook's respondent_type column; it must be in the data."""
    group = a.group
    if group is None:
        if not cb:
            raise CSIError("give --group COLUMN, or --codebook to use its respondent_type column")
        kinds = cb.role("respondent_type")
        if not kinds:
            raise CSIError("the codebook has no respondent_type column", file=a.codebook,
                           hint="give --group COLUMN instead.")
        group = kinds[0].code
    if group not in data.columns:
        raise CSIError(f"grouping column {group!r} is not in the data", file=a.data, column=group,
                       hint=f"choose one of: {', '.join(map(str, data.columns[:40]))}.")
    return group


def _invariance(a) -> None:
    from . import invariance, io, sem

    from . import codebook, psychometrics

    text = Path(a.model).read_text("utf-8")
    if a.cfa:
        text = psychometrics.measurement_model(text)
    data = sem.read_data(a.data)
    cb = codebook.load(a.codebook) if a.codebook else None
    a.group = _group_column(a, cb, data)
    sem.check_data(text, data, a.model, a.data)
    sem.check_groups(data, a.group, a.data)
    ordered = cb.ordered_items(sem.observed_variables(text)) if cb else None
    result = invariance.analyse(text, data, a.group, a.estimator, partial=not a.no_partial, ordered=ordered)
    table = result.table
    io.write_tables(a.out, {"invariance.csv": table, "latent_means.csv": result.latent_means,
                            "invariance_score_tests.csv": result.score_tests})
    kind = "scaled" if "cfi_scaled" in table else "robust" if "chisq_scaled" in table else ""
    if "note" in table and table["note"].iloc[0]:
        print(table["note"].iloc[0], file=sys.stderr)
    for r in table.itertuples():
        fit = (f"scaled chisq {r.chisq_scaled:9.3f} df {r.df:4d} {kind} CFI {getattr(r, 'cfi_' + kind):.3f} "
               f"RMSEA {getattr(r, 'rmsea_' + kind):.3f}") if kind else \
            f"chisq {r.chisq:9.3f} df {r.df:4d} CFI {r.cfi:.3f} RMSEA {r.rmsea:.3f}"
        print(f"{r.model:16s} {fit} SRMR {r.srmr:.3f}  {r.verdict}", file=sys.stderr)


def _groups(a) -> None:
    from . import codebook, groups, io, sem

    text = Path(a.model).read_text("utf-8")
    data = sem.read_data(a.data)
    cb = codebook.load(a.codebook)
    a.group = _group_column(a, cb, data)
    tables = groups.analyse(text, data, a.group, cb, a.target, estimator=a.estimator, missing=a.missing,
                            bootstrap=a.bootstrap, seed=a.seed, stream=a.stream, jobs=a.jobs, source=a.data)
    io.write_tables(a.out, tables)
    for r in tables["fit_by_group.csv"].itertuples():
        what = f"{r.estimator}, {'admissible' if r.admissible else 'NOT ADMISSIBLE'}" if r.estimator else "not fitted"
        print(f"{a.group} = {r.group} (n = {r.n}): {what}{': ' + r.reason if r.reason else ''}", file=sys.stderr)


def _mix_arg(text: str) -> dict:
    """--mix unit=0.7,individual=0.3 -> {'unit': 0.7, 'individual': 0.3}."""
    try:
        return {k.strip(): float(v) for k, v in (x.split("=") for x in text.split(","))}
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give TYPE=SHARE pairs separated by commas, "
                                         "e.g. unit=0.7,individual=0.3") from None


def _compare(a) -> None:
    import pandas as pd

    from . import codebook, compare, io

    text = Path(a.model).read_text("utf-8")
    districts = {name: Path(folder) for name, folder in a.district or []}
    names = dict(a.title or [])
    if a.districts:
        listed, titles = compare.read_district_list(a.districts)
        districts.update(listed)
        names.update(titles)
    if len(districts) < 2:
        raise CSIError(f"{len(districts)} district(s) to compare: at least 2 are needed",
                       file=a.districts, hint="list the districts (--districts FILE or --district NAME RESULTS).")
    from . import psychometrics, sem

    cb = codebook.load(a.codebook)
    drivers = {k for k, v in cb.constructs.items() if v.get("kind") == "driver"}
    ordered = cb.ordered_items(sem.observed_variables(psychometrics.measurement_model(text)))
    lg, crit, inv, means = compare.run(text, districts, names, a.criterion, drivers, a.estimator, ordered)
    lg, ranks, diffs = compare.rank_uncertainty(districts, lg)
    from . import standardize

    kinds = cb.role("respondent_type")
    mix = standardize.mix(districts, names, kinds[0].code, a.mix) if kinds else \
        pd.DataFrame(columns=standardize.MIX_COLUMNS)
    std = standardize.rates(districts, names, mix, drivers) if len(mix) else \
        pd.DataFrame(columns=standardize.RATE_COLUMNS)
    io.write_tables(a.out, {"league.csv": lg, "league_ranks.csv": ranks, "league_differences.csv": diffs,
                            "criterion.csv": crit,
                            "criterion_summary.csv": compare.summary(crit), "invariance_districts.csv": inv,
                            "latent_means_districts.csv": means, "mix.csv": mix, "standardized.csv": std})
    print(f"compared {len(districts)} districts: {lg['note'].iloc[0]}", file=sys.stderr)


def _plan(a) -> None:
    import numpy as np
    import pandas as pd

    from . import io, plan, plots, sem

    text = Path(a.model).read_text("utf-8")
    if a.source:                       # a fitted district: its estimates and its clean data
        a.estimates = a.estimates or str(Path(a.source) / "model/estimates.csv")
        a.data = a.data or str(Path(a.source) / "data/clean.parquet")
    if not a.estimates:
        raise CSIError("say where the population values come from",
                       hint="--from results/<district> (a fitted district) or --estimates FILE.")
    est = pd.read_csv(a.estimates)
    try:
        model, x, layout, sigma = plan.population(text, est)
    except ValueError as e:
        raise CSIError(str(e), file=a.estimates, hint="give an estimates.csv of this model "
                       "(results/<district>/model/estimates.csv) or write population values in that format.") from None
    ns = sorted({int(v) for v in a.n.split(",")})
    index_fn = means = values = None
    th = plan.thresholds(est, model.observed)      # an ordinal (WLSMV) solution: ordered answers
    data = sem.read_data(a.data) if a.data else None
    if th is not None and data is not None:        # the answer values, where the data has them all
        found = [np.unique(pd.to_numeric(data[v], errors="coerce").dropna()) for v in model.observed]
        values = [f if len(f) == len(t) + 1 else np.arange(1.0, len(t) + 2) for f, t in zip(found, th)]
    if data is not None and a.codebook:
        from . import codebook, index

        spec = index.spec(model, text, codebook.load(a.codebook), target=a.target)
        means = sem.complete_cases(data, model.observed).mean().to_numpy()
        k = spec.constructs.index(a.target)
        index_fn = lambda m, xx, X, ordinal=False: index.statistic(spec)(m, xx, X, ordinal=ordinal)[k]  # noqa: E731
    power, width = plan.run(model, x, layout, sigma, ns, a.reps, a.seed, jobs=a.jobs, index_fn=index_fn,
                            means=means, progress=not a.quiet, thresholds=th, values=values)
    io.write_tables(a.out, {"power.csv": power, **({"index_ci_width.csv": width} if len(width) else {})})
    plots.save(plots.power_curves(power, width), a.out, "power")
    print(power.pivot_table(index="path", columns="n", values="power").round(2).to_string(), file=sys.stderr)


def _scaffold(a) -> None:
    from . import exports, scaffold

    if Path(a.out).exists() and not a.force:
        raise CSIError("the codebook exists already", file=a.out, hint="choose another --out or add --force.")
    raw = exports.read(a.raw, _read_options(a)).frame
    todos = scaffold.write(scaffold.draft(raw), a.out)
    print(f"drafted {a.out} from {a.raw}: {len(raw.columns)} columns, {todos} TODO(s) to fill in", file=sys.stderr)


def _report(a) -> None:
    from . import codebook, report

    config = {"seed": a.seed, "satisfaction": a.satisfaction, "language": a.language,
              "min_cell": a.min_cell, "frame": a.frame, "fieldwork": a.fieldwork,
              "comparison": a.comparison, "criterion": a.criterion, "bootstrap": a.bootstrap}
    if a.names:
        from . import compare

        config["names"] = compare.read_district_list(a.names)[1]
    cb = codebook.load(a.codebook)
    if a.kind == "comparison":
        pdf = report.comparison(a.results, a.out, cb, config)
    else:
        pdf = report.district(a.results, a.out, cb, a.title, config)
    print(f"report: {pdf}", file=sys.stderr)


def _calibration(a) -> None:
    from . import calibration, codebook, io

    spec = codebook.read_yaml(Path(a.spec), "simulation spec", "give the spec that holds the published figures "
                              "(`targets:`, `channels:`), e.g. config/simulation.yaml.")
    io.write_tables(Path(a.out).parent, {Path(a.out).name: calibration.table(spec, Path(a.tables))})


def _strip_notebook(a) -> None:
    from . import notebook

    for path in a.notebooks:
        notebook.strip(path)


def _check_codebook(a) -> None:
    from . import codebook

    cb = codebook.load(a.codebook)
    print(f"{a.codebook}: valid ({len(cb.columns)} columns, {len(cb.items)} items)")


def _ev_simulate(a) -> None:
    from .evaluations import simulate

    over = {k: v for k, v in (("seed", a.seed), ("ratings_per_day", a.ratings_per_day)) if v is not None}
    truth = simulate.write_from_spec(a.spec, a.root, scale=a.scale, out=a.out, truth=a.truth, **over)
    print(f"simulated {truth['n_raw']} rating records ({truth['n_genuine']} genuine) -> "
          f"{a.out or truth['spec']['out']}", file=sys.stderr)


def _ev_check(a) -> None:
    from .evaluations import codebook

    cb = codebook.load(a.codebook)
    print(f"{a.codebook}: valid ({len(cb.columns)} columns, {len(cb.reasons)} reasons, {len(cb.topics)} topics)")


def _ev_months(a) -> None:
    from .evaluations import analysis, codebook

    info = analysis.months(a.export, codebook.load(a.codebook), encoding=a.encoding)
    analysis.months_json(info, a.out)
    print(f"{a.export}: {sum(info['rows'].values())} records in {len(info['months'])} partition(s)", file=sys.stderr)


def _ev_partition(a) -> None:
    from . import privacy
    from .evaluations import analysis, codebook

    cb = codebook.load(a.codebook)
    salt = privacy.load_salt(a.salt_file)
    (part,) = analysis.partition_stream(a.export, cb, salt, [a.month], encoding=a.encoding, threads=a.threads,
                                        memory_limit=a.memory_limit)
    part.write(a.out)
    print(f"{a.month}: {part.flow['raw_rows']} records, {part.flow['kept']} kept", file=sys.stderr)


def _ev_tables(a) -> None:
    from .evaluations import analysis, codebook

    cb = codebook.load(a.codebook)
    flow = analysis.combine(a.export, cb, analysis.read_partitions(a.partitions), a.out, min_n=a.min_n,
                            deadline_days=a.deadline_days, survey_top_box=a.survey, survey_period=a.survey_period)
    print(f"evaluations: {flow['raw_rows']} records -> {flow['kept']} kept ratings; tables in {a.out}", file=sys.stderr)


def _ev_analyse(a) -> None:
    from . import privacy
    from .evaluations import analysis, codebook

    cb = codebook.load(a.codebook)
    flow = analysis.analyse(a.export, cb, privacy.load_salt(a.salt_file), a.out, encoding=a.encoding,
                            threads=a.threads, memory_limit=a.memory_limit, min_n=a.min_n,
                            deadline_days=a.deadline_days, survey_top_box=a.survey, survey_period=a.survey_period)
    print(f"evaluations: {flow['raw_rows']} records -> {flow['kept']} kept ratings; tables in {a.out}", file=sys.stderr)


def _evaluations_parser(sub) -> None:
    """`csi evaluations ...`: the per-transaction rating stream (好差评), issue 13."""
    ev = sub.add_parser("evaluations", help="the per-transaction rating stream: simulate, check, partition, tables")
    es = ev.add_subparsers(dest="action", required=True)

    def export_args(x, salt=False):
        x.add_argument("export", help="rating export (.parquet, .csv or .xlsx), never modified")
        x.add_argument("--codebook", required=True, help="evaluation codebook (data/codebooks/haochaping_2021.yaml)")
        x.add_argument("--encoding", default=None, help="text encoding of a CSV export (default UTF-8 or its BOM)")
        if salt:
            x.add_argument("--salt-file", default=".secrets/pseudonym-salt")
            x.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: every core)")
            x.add_argument("--memory-limit", default="1GB", help="DuckDB memory before it spills to disk")

    def table_args(x):
        x.add_argument("--min-n", type=int, default=10, help="withhold rates of fewer ratings than this")
        x.add_argument("--deadline-days", type=int, default=3,
                       help="the declaration deadline: the last N working days of each month")
        x.add_argument("--survey", help="the district's survey top_box.csv, to set beside the stream")
        x.add_argument("--survey-period", default="", help="the survey's fieldwork, as the table states it")
        x.add_argument("--out", required=True, help="output folder (flow.json, exclusions.csv, tables/)")

    s = es.add_parser("simulate", help="write the simulated rating stream and its truth file")
    s.add_argument("--spec", default="config/evaluations_simulation.yaml")
    s.add_argument("--root", default=".", help="folder the spec's paths are relative to")
    s.add_argument("--scale", type=float, default=1.0, help="multiply the ratings per day (benchmarks)")
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--ratings-per-day", type=float, default=None)
    s.add_argument("--out", default=None, help="stream file (default: the spec's `out`)")
    s.add_argument("--truth", default=None, help="truth file (default: the spec's `truth`)")
    s.set_defaults(func=_ev_simulate)

    k = es.add_parser("check-codebook", help="check an evaluation codebook against its schema")
    k.add_argument("codebook")
    k.set_defaults(func=_ev_check)

    m = es.add_parser("months", help="list the stream's partitions (months) into a JSON file")
    export_args(m)
    m.add_argument("--out", required=True)
    m.set_defaults(func=_ev_months)

    p = es.add_parser("partition", help="classify and count one month (a partition) of the stream")
    export_args(p, salt=True)
    p.add_argument("--month", required=True, help="YYYY-MM, or 'none' for records without a readable time")
    p.add_argument("--out", required=True, help="output folder of the partition's counts")
    p.set_defaults(func=_ev_partition)

    t = es.add_parser("tables", help="add the partitions up and write every table")
    export_args(t)
    t.add_argument("--partitions", nargs="+", required=True, help="folders written by `csi evaluations partition`")
    table_args(t)
    t.set_defaults(func=_ev_tables)

    a = es.add_parser("analyse", help="the whole analysis in one process (the stream in one pass)")
    export_args(a, salt=True)
    table_args(a)
    a.set_defaults(func=_ev_analyse)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="csi", description=__doc__,
                                epilog="`csi A ... --then B ...` runs several commands in one process.")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a raw export against its codebook; write coded data")
    v.add_argument("raw")
    v.add_argument("--codebook", required=True)
    v.add_argument("--coded", required=True, help="output: coded.parquet (no personal data)")
    v.add_argument("--recoded", required=True, help="output: CSV of stray cells set to missing")
    v.add_argument("--report", required=True, help="output: validation.json")
    _add_read_options(v)
    v.add_argument("--salt-file", default=".secrets/pseudonym-salt")
    v.add_argument("--out-of-range", choices=["missing", "error"], default="missing")
    v.set_defaults(func=_validate)

    c = sub.add_parser("clean", help="apply the cleaning rules; write clean data and the exclusion flow")
    c.add_argument("coded")
    c.add_argument("--codebook", required=True)
    c.add_argument("--validation", required=True, help="validation.json from `csi validate`")
    c.add_argument("--data", required=True, help="output: clean.parquet")
    c.add_argument("--exclusions", required=True, help="output: exclusions.csv")
    c.add_argument("--flow", required=True, help="output: flow.json")
    c.add_argument("--min-duration", type=float, default=90)
    c.add_argument("--straightline-min-items", type=int, default=8)
    c.add_argument("--straightline-any", action="store_true",
                   help="flag identical grid answers even without a reverse-worded item")
    c.add_argument("--max-item-missing", type=float, default=0.2)
    c.set_defaults(func=_clean)

    s = sub.add_parser("simulate", help="write simulated raw exports (and their truth files)")
    s.add_argument("--spec", default="config/simulation.yaml")
    s.add_argument("--district", action="append")
    s.add_argument("--out", default="data/raw")
    s.add_argument("--root", default=".", help="folder the spec's paths are relative to")
    s.set_defaults(func=_simulate)

    f = sub.add_parser("fit", help="fit a lavaan-syntax SEM (ML, MLR, MLM, WLSMV); write estimates.csv and fit.json")
    f.add_argument("model", help="model file in lavaan syntax")
    f.add_argument("data", help="CSV or parquet with numeric columns")
    f.add_argument("--out", required=True, help="output folder")
    f.add_argument("--estimator", choices=["ML", "MLR", "MLM", "WLSMV", "auto"], default="ML",
                   help="lavaan's estimator: ML; MLR (robust Huber-White SEs, Yuan-Bentler scaled chi-square); "
                        "MLM (robust SEs, Satorra-Bentler scaled chi-square; complete data only); WLSMV "
                        "(ordinal items: DWLS on polychoric correlations); auto: WLSMV when the codebook "
                        "makes every model item ordered (scales of at most 7 categories), else MLR when "
                        "Mardia's test rejects multivariate normality, else ML")
    f.add_argument("--ordered", help="with WLSMV: 'all', or the comma-separated ordered items (all the "
                                     "model's items, for now); default: the codebook's ordered items")
    f.add_argument("--missing", choices=["listwise", "fiml", "pairwise", "auto"], default="listwise",
                   help="missing values: listwise deletion; full-information ML (lavaan's missing = \"ml\"; "
                        "ML/MLR); pairwise (WLSMV); auto: FIML (pairwise with WLSMV) when some rows are "
                        "incomplete")
    f.add_argument("--bootstrap", type=int, default=0, metavar="B",
                   help="bootstrap draws for percentile CIs (0: normal-theory CIs)")
    f.add_argument("--seed", type=int, default=20211122)
    f.add_argument("--stream", help="name of the bootstrap's seed stream (the pipeline: the district), so "
                                    "analyses sharing a seed do not share their draws")
    f.add_argument("--jobs", type=int, default=1, help="worker processes for the bootstrap")
    f.add_argument("--quiet", action="store_true", help="no progress bar")
    f.add_argument("--codebook", help="codebook of the data: adds CSI indices and IPMA (index.csv, ipma.csv)")
    f.add_argument("--target", help="with --codebook: the satisfaction construct (target of the IPMA)")
    f.set_defaults(func=_fit)

    d = sub.add_parser("describe", help="descriptive tables: top-box rates with CIs, items, profile")
    d.add_argument("data", help="clean.parquet")
    d.add_argument("--codebook", required=True)
    d.add_argument("--out", required=True, help="output folder for the tables")
    d.set_defaults(func=_describe)

    m = sub.add_parser("measurement", help="CFA of the model's =~ part: reliability, AVE, HTMT, VIF")
    m.add_argument("model")
    m.add_argument("data")
    m.add_argument("--out", required=True, help="output folder for the tables")
    m.add_argument("--cfa-out", required=True, help="output folder for the CFA estimates and fit")
    m.add_argument("--drivers", default="",
                   help="comma-separated driver constructs for VIF (default: the codebook's `kind: driver` "
                        "constructs, else the exogenous latents of the model)")
    m.add_argument("--codebook", help="codebook of the data: its `kind: driver` constructs are the drivers")
    m.set_defaults(func=_measurement)

    v2 = sub.add_parser("invariance", help="configural / metric / scalar invariance across groups")
    v2.add_argument("model")
    v2.add_argument("data")
    v2.add_argument("--group", help="grouping column (default: the codebook's respondent_type column)")
    v2.add_argument("--codebook")
    v2.add_argument("--cfa", action="store_true", help="test the measurement model (the =~ part) only")
    v2.add_argument("--estimator", default="ML", type=str.upper, choices=["ML", "MLR", "MLM", "WLSMV", "AUTO"],
                    help="ML, or robust MLR / MLM: scaled chi-square, Satorra-Bentler (2001) scaled "
                         "differences, robust CFI/RMSEA and sandwich SEs (default ML); WLSMV: ordered items, "
                         "steps configural / thresholds / metric / scalar (Wu & Estabrook 2016), Satorra "
                         "(2000) differences; auto: WLSMV when the codebook makes every item ordered, else "
                         "MLR when Mardia's test rejects multivariate normality, else ML")
    v2.add_argument("--no-partial", action="store_true",
                    help="do not search for partial invariance where a step fails")
    v2.add_argument("--out", required=True,
                    help="output folder: invariance.csv, latent_means.csv, invariance_score_tests.csv")
    v2.set_defaults(func=_invariance)

    g = sub.add_parser("groups", help="the CSI model refitted within each respondent group: indices, IPMA and "
                                      "priorities per group")
    g.add_argument("model")
    g.add_argument("data")
    g.add_argument("--codebook", required=True)
    g.add_argument("--group", help="grouping column (default: the codebook's respondent_type column)")
    g.add_argument("--target", help="the satisfaction construct (target of the IPMA)")
    g.add_argument("--estimator", choices=["ML", "MLR", "MLM", "WLSMV", "auto"], default="auto")
    g.add_argument("--missing", choices=["listwise", "fiml", "pairwise", "auto"], default="auto")
    g.add_argument("--bootstrap", type=int, default=0, metavar="B", help="bootstrap draws per group")
    g.add_argument("--seed", type=int, default=20211122)
    g.add_argument("--stream", help="name of the bootstrap's seed stream (the pipeline: the district)")
    g.add_argument("--jobs", type=int, default=1, help="worker processes for the bootstrap")
    g.add_argument("--out", required=True, help="output folder: fit_by_group.csv, index_by_group.csv, "
                                                "ipma_by_group.csv, priorities_by_group.csv")
    g.set_defaults(func=_groups)

    c2 = sub.add_parser("compare", help="league table, criterion table and invariance across districts")
    c2.add_argument("--model", required=True)
    c2.add_argument("--codebook", required=True, help="codebook shared by the districts")
    c2.add_argument("--districts", metavar="FILE",
                    help="tab-separated file: district, results folder, title (header row; any number of lines)")
    c2.add_argument("--district", nargs=2, action="append", metavar=("NAME", "RESULTS"),
                    help="a district and its results folder (repeat; or --districts FILE)")
    c2.add_argument("--title", nargs=2, action="append", metavar=("NAME", "TEXT"))
    c2.add_argument("--criterion", type=float, default=0.9, help="top-box share a district should reach")
    c2.add_argument("--mix", type=_mix_arg,
                    metavar="TYPE=SHARE,...", help="standard respondent mix for standardized rates, e.g. "
                    "unit=0.7,individual=0.3 (default: the districts' pooled mix)")
    c2.add_argument("--estimator", default="ML", type=str.upper, choices=["ML", "MLR", "MLM", "WLSMV", "AUTO"],
                    help="estimator of the invariance tests across districts (as `csi invariance`)")
    c2.add_argument("--out", required=True)
    c2.set_defaults(func=_compare)

    pl = sub.add_parser("plan", help="Monte Carlo power of each path and index CI width versus n")
    pl.add_argument("model")
    pl.add_argument("--from", dest="source", metavar="RESULTS",
                    help="a fitted district's results folder: population values and item means from it")
    pl.add_argument("--estimates", help="population values in estimates.csv format (lhs, op, rhs, est)")
    pl.add_argument("--n", required=True, help="sample sizes, e.g. 200,400,800")
    pl.add_argument("--reps", type=int, default=500)
    pl.add_argument("--seed", type=int, default=20211122)
    pl.add_argument("--jobs", type=int, default=1)
    pl.add_argument("--data", help="clean data of the district: item means for the index")
    pl.add_argument("--codebook", help="with --data: also the expected CI width of the index")
    pl.add_argument("--target", help="with --codebook: construct whose index CI width is planned")
    pl.add_argument("--out", required=True)
    pl.add_argument("--quiet", action="store_true")
    pl.set_defaults(func=_plan)

    sc = sub.add_parser("scaffold-codebook", help="draft a codebook from a raw export (fill in the TODOs)")
    sc.add_argument("raw")
    sc.add_argument("--out", required=True)
    _add_read_options(sc)
    sc.add_argument("--force", action="store_true", help="overwrite an existing file")
    sc.set_defaults(func=_scaffold)

    rp = sub.add_parser("report", help="paper-style PDF + HTML report of a district (or the comparison)")
    rp.add_argument("kind", nargs="?", choices=["district", "comparison"], default="district")
    rp.add_argument("--results", required=True, help="results/<district> (or results/comparison)")
    rp.add_argument("--codebook", required=True)
    rp.add_argument("--title", default="")
    rp.add_argument("--seed", type=int, required=True)
    rp.add_argument("--satisfaction", required=True, help="the satisfaction construct (config `satisfaction:`)")
    rp.add_argument("--language", choices=["en", "zh"], default="en")
    rp.add_argument("--min-cell", type=int, default=10, help="suppress published cells with n below this")
    rp.add_argument("--frame", default="", help="sampling frame, as the report states it")
    rp.add_argument("--fieldwork", default="", help="fieldwork dates, as the report states them")
    rp.add_argument("--comparison", help="results/comparison: adds the league table (district report)")
    rp.add_argument("--criterion", type=float, default=0.9, help="top-box criterion (comparison report)")
    rp.add_argument("--bootstrap", type=int, help="bootstrap B (comparison report byline)")
    rp.add_argument("--names", help="district list (district, results, title) whose titles name the compared "
                                    "districts in this report's language")
    rp.add_argument("--out", required=True, help="report folder")
    rp.set_defaults(func=_report)

    cl = sub.add_parser("calibration", help="the published figures a district reproduces against its estimates "
                                            "(tables/calibration.csv)")
    cl.add_argument("--spec", required=True, help="the simulation spec with the published figures and their sources")
    cl.add_argument("--tables", required=True, help="the district's tables folder (describe's outputs)")
    cl.add_argument("--out", required=True, help="the CSV to write")
    cl.set_defaults(func=_calibration)

    sn = sub.add_parser("strip-notebook", help="remove the run's timings from executed notebooks (in place), so "
                                               "that the same inputs give the same bytes")
    sn.add_argument("notebooks", nargs="+")
    sn.set_defaults(func=_strip_notebook)

    k = sub.add_parser("check-codebook", help="check a codebook against the schema")
    k.add_argument("codebook")
    k.set_defaults(func=_check_codebook)
    _evaluations_parser(sub)
    return p


class _Tee:
    """stderr that also goes to a log file: Snakemake shows the console, the log keeps a copy."""

    def __init__(self, stream, path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.stream, self.file = stream, open(path, "w", encoding="utf-8")

    def write(self, text):
        self.stream.write(text)
        self.file.write(text)
        return len(text)

    def flush(self):
        self.stream.flush()
        self.file.flush()

    def isatty(self):
        return False


def main(argv=None) -> int:
    """`csi A ... --then B ...` runs the commands in order in one process (one set of imports).
    `csi --log FILE ...` copies every message (progress, errors) to FILE as well as the console."""
    argv = list(sys.argv[1:] if argv is None else argv)
    log = None
    if argv[:1] == ["--log"] and len(argv) > 1:
        log, argv = argv[1], argv[2:]
    commands = [[]]
    for token in argv:
        if token == "--then":
            commands.append([])
        else:
            commands[-1].append(token)
    parsed = [parser().parse_args(c) for c in commands]  # all parsed before any runs
    import numpy  # noqa: F401  (loads the BLAS library that threadpool_limits then limits)
    from threadpoolctl import threadpool_limits

    # One BLAS thread: a multi-threaded BLAS sums in an order that depends on the thread count
    # (Snakemake sets it to a rule's threads), which changed the 10th digit of every estimate.
    # The matrices here are small; parallel work uses processes (bootstrap workers).
    threadpool_limits(limits=1)
    saved = sys.stderr
    if log:
        sys.stderr = _Tee(saved, log)
    try:
        for args in parsed:
            try:
                args.func(args)
            except CSIError as e:
                print(f"csi {args.command}: error: {e}", file=sys.stderr)
                return 1
            except Exception:
                import traceback

                traceback.print_exc(file=sys.stderr)
                print(f"csi {args.command}: internal error (a bug, not your data): please report it with "
                      "the traceback above.", file=sys.stderr)
                return 2
        return 0
    finally:
        if log:
            sys.stderr.flush()
            sys.stderr.file.close()
            sys.stderr = saved


if __name__ == "__main__":
    sys.exit(main())
