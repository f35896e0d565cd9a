"""How the report states the estimation: the estimator and missing-data method with the reason
they were chosen (fit.json's `choice`, see sem/choice.py), and which version of each fit index
it reports (robust where the estimator has one: Brosseau-Liard & Savalei's robust CFI/TLI/RMSEA,
as lavaan's cfi.robust etc.; plain otherwise)."""

from __future__ import annotations

from .sem.choice import p_text as _p

REFERENCES = {
    "Mardia, 1970": "Mardia, K. V. (1970). Measures of multivariate skewness and kurtosis with applications. "
                    "Biometrika, 57(3), 519–530.",
    "Yuan & Bentler, 2000": "Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and "
                            "covariance structure analysis with nonnormal missing data. Sociological Methodology, "
                            "30, 165–200.",
    "Satorra & Bentler, 1994": "Satorra, A., & Bentler, P. M. (1994). Corrections to test statistics and standard "
                               "errors in covariance structure analysis. In A. von Eye & C. C. Clogg (Eds.), "
                               "Latent variables analysis (pp. 399–419). Sage.",
    "Brosseau-Liard & Savalei, 2014": "Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit "
                                      "indices for nonnormality. Multivariate Behavioral Research, 49(5), 460–470.",
    "Enders, 2010": "Enders, C. K. (2010). Applied missing data analysis. Guilford Press.",
    "Muthén et al., 1997": "Muthén, B. O., du Toit, S. H. C., & Spisic, D. (1997). Robust inference using weighted "
                           "least squares and quadratic estimating equations in latent variable modeling with "
                           "categorical and continuous outcomes. Unpublished technical report.",
    "Savalei, 2021": "Savalei, V. (2021). Improving fit indices in structural equation modeling with categorical "
                     "data. Multivariate Behavioral Research, 56(3), 390–407.",
    "Rhemtulla et al., 2012": "Rhemtulla, M., Brosseau-Liard, P. É., & Savalei, V. (2012). When can categorical "
                              "variables be treated as continuous? Psychological Methods, 17(3), 354–373.",
}

NAMES = {"ML": ("maximum likelihood (ML)", "最大似然估计（ML）"),
         "MLR": ("robust maximum likelihood (MLR)", "稳健最大似然估计（MLR）"),
         "MLM": ("robust maximum likelihood (MLM)", "稳健最大似然估计（MLM）"),
         "WLSMV": ("diagonally weighted least squares on polychoric correlations (WLSMV)",
                   "基于多分格相关的对角加权最小二乘估计（WLSMV）")}


def short_name(fit: dict, zh: bool = False) -> str:
    return NAMES.get(fit.get("estimator", "ML"), NAMES["ML"])[zh]


def robust(fit: dict) -> bool:
    """Does fit.json carry robust versions of CFI, TLI and RMSEA?"""
    return fit.get("cfi_robust") is not None


def value(fit: dict, key: str) -> float:
    """The fit index the report uses: its robust version where there is one."""
    v = fit.get(f"{key}_robust")
    return fit[key] if v is None else v


def estimation(fit: dict, zh: bool = False) -> str:
    """One or two sentences: what was estimated how, and why."""
    est, mis = fit.get("estimator", "ML"), fit.get("missing", "listwise")
    c = fit.get("choice") or {}
    m = c.get("mardia") or {}
    rule, mrule = c.get("estimator_rule", "given"), c.get("missing_rule", "given")
    name = short_name(fit, zh)
    n, k = fit["n"], c.get("incomplete", 0)
    if zh:
        se = {"ML": "标准误基于信息矩阵", "MLR": "稳健（Huber–White）标准误与 Yuan–Bentler 校正 χ²（Yuan & Bentler, 2000）",
              "MLM": "稳健标准误与 Satorra–Bentler 校正 χ²（Satorra & Bentler, 1994）",
              "WLSMV": "稳健标准误与均值方差校正（scaled-shifted）χ²（Muthén et al., 1997）"}[est]
        why = {"ordinal": f"全部 {len(fit.get('ordered') or [])} 个模型题项均为有序分类（不超过 7 个等级），"
                          "对类别编码用 ML 会低估载荷、可能错排驱动因素并过度拒绝正确模型（Rhemtulla et al., 2012）",
               "nonnormal": f"题项不服从多元正态分布（Mardia 偏度检验 {_p(m.get('skew_p', 1))}，峰度 z = "
                            f"{m.get('kurtosis_z', float('nan')):.1f}；Mardia, 1970），正态理论标准误偏小、χ² 检验过度拒绝",
               "normal": f"Mardia 检验未拒绝多元正态（偏度 {_p(m.get('skew_p', 1))}，峰度 {_p(m.get('kurtosis_p', 1))}；"
                         "Mardia, 1970）",
               "few_rows": "完整个案太少，无法检验正态性，故采用稳健估计",
               "given": "按配置文件指定"}[rule]
        if c.get("ordered_mixed"):
            why += "；模型同时含有序题项与连续变量，WLSMV 暂不支持，题项按连续变量分析"
        miss = {"skipped": f"全信息最大似然（FIML）处理缺失：{k} 名受访者（{100 * k / max(n, 1):.1f}%）跳过了部分模型题项，"
                           "FIML 利用其全部已答题项（在随机缺失 MAR 假定下无偏；Enders, 2010），n = "
                           f"{n:,}",
                "complete": f"所有受访者均回答了全部模型题项（n = {n:,}）",
                "exogenous": f"完整个案分析（n = {n:,}）：模型含外生观测协变量，FIML 不适用",
                "mlm": f"完整个案分析（n = {n:,}）：MLM 需要完整数据",
                "pairwise": f"成对删除处理缺失：{k} 名受访者（{100 * k / max(n, 1):.1f}%）跳过了部分模型题项，每个阈值用回答该题的全部受访者、"
                            f"每个多分格相关用同时回答两题的全部受访者（假定缺失与作答无关，MCAR），n = {n:,}",
                "given": f"{_MISSING_ZH.get(mis, mis)}（按配置文件指定，n = {n:,}）"}[mrule]
        return f"估计方法：{name}，{se}；选择理由：{why}。{miss}。"
    se = {"ML": "standard errors from the information matrix",
          "MLR": "robust (Huber–White) standard errors and the Yuan–Bentler scaled χ² (Yuan & Bentler, 2000)",
          "MLM": "robust standard errors and the Satorra–Bentler scaled χ² (Satorra & Bentler, 1994)",
          "WLSMV": "robust standard errors and the mean- and variance-adjusted (scaled-shifted) χ² "
                   "(Muthén et al., 1997)"}[est]
    why = {"ordinal": f"all {len(fit.get('ordered') or [])} model variables are ordered categories (at most 7), for which "
                      "ML on the category codes understates the loadings, can misrank the drivers and rejects correct "
                      "models too often (Rhemtulla et al., 2012)",
           "nonnormal": f"the items are not multivariate normal (Mardia's skewness {_p(m.get('skew_p', 1))}, kurtosis "
                        f"z = {m.get('kurtosis_z', float('nan')):.1f}; Mardia, 1970), so normal-theory standard errors "
                        "are too small and the ML χ² rejects correct models too often",
           "normal": f"Mardia's tests do not reject multivariate normality (skewness {_p(m.get('skew_p', 1))}, kurtosis "
                     f"{_p(m.get('kurtosis_p', 1))}; Mardia, 1970)",
           "few_rows": "too few complete rows to test normality, so robust inference was chosen",
           "given": "as set in the configuration"}[rule]
    if c.get("ordered_mixed"):
        why += ("; the model mixes ordered items with continuous variables, which WLSMV does not support here, so "
                "the items are analysed as continuous")
    miss = {"skipped": f"Missing answers: full-information ML (FIML), since {k:,} respondents "
                       f"({100 * k / max(n, 1):.1f}%) skipped some model items; FIML uses every answer they gave "
                       f"(unbiased when skipping depends on observed answers, MAR; Enders, 2010), n = {n:,}",
            "complete": f"Every respondent answered every model item (n = {n:,})",
            "exogenous": f"Complete cases (n = {n:,}): FIML is not available with exogenous observed covariates",
            "mlm": f"Complete cases (n = {n:,}): MLM needs complete data",
            "pairwise": f"Missing answers: pairwise deletion, since {k:,} respondents ({100 * k / max(n, 1):.1f}%) "
                        "skipped some model items; each threshold uses everyone who answered its item and each "
                        "polychoric correlation everyone who answered both items (valid when skipping is unrelated "
                        f"to the answers, MCAR), n = {n:,}",
            "given": f"{_MISSING_EN.get(mis, mis)} as set in the configuration (n = {n:,})"}[mrule]
    return f"Estimation: {name}, with {se}; chosen because {why}. {miss}."


_MISSING_EN = {"fiml": "FIML", "listwise": "Complete cases", "pairwise": "Pairwise deletion"}
_MISSING_ZH = {"fiml": "FIML", "listwise": "完整个案分析", "pairwise": "成对删除"}


def fit_caption_chisq(fit: dict) -> str:
    """χ² as the report's fit table states it: scaled, with its scaling factor, where there is one."""
    if fit.get("chisq_shift") is not None:
        return (f"scaled-shifted χ²({fit['df']}) = {fit['chisq_scaled']:.2f} (scaling factor "
                f"{fit['chisq_scaling_factor']:.3f}, shift {fit['chisq_shift']:.2f}); DWLS χ² = {fit['chisq']:.2f}")
    if fit.get("chisq_scaled") is not None:
        return (f"scaled χ²({fit['df']}) = {fit['chisq_scaled']:.2f}, scaling factor "
                f"{fit['chisq_scaling_factor']:.3f}; ML χ² = {fit['chisq']:.2f}")
    return f"χ²({fit['df']}) = {fit['chisq']:.2f}"


def design_limitations(frame: str | None, types: bool, zh: bool = False) -> list[str]:
    """Limitations that come from the study's design, whatever the diagnostics say: the sample is
    not a probability sample and is not weighted, answers are self-reports, the data are
    cross-sectional (paths and priorities are associations), and (types) respondent types are pooled
    in one model."""
    if zh:
        out = [f"样本（{frame}）不是按已知概率抽取的样本，也未加权：比率描述的是受访者，而非全部服务对象。" if frame else
               "未说明抽样设计（config 的 `frame:`）；样本未加权：比率描述的是受访者，而非全部服务对象。",
               "所有答案均为自我报告，可能受社会期望与现场作答环境影响。",
               "数据为横断面数据：结构路径、重要性与改进优先级表示关联，不能证明因果。"]
        if types:
            out.append("主模型将不同类型的受访者合并估计；其差异见分类型的满意率、改进优先级与测量不变性。")
        return out
    out = [f"The sample ({frame}) is not a probability sample and is not weighted: rates describe the respondents, "
           "not every service user." if frame else
           "The sampling design is not stated (config `frame:`), and the sample is not weighted: rates describe the "
           "respondents, not every service user.",
           "Every answer is a self-report, open to social desirability and to the setting in which it was given.",
           "The data are cross-sectional: paths, importance and priorities are associations, not proven causes."]
    if types:
        out.append("The main model pools the respondent types; how they differ is shown in the rates, the "
                   "priorities by type and the invariance tests.")
    return out
