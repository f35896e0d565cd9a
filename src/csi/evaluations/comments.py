"""Comments: personal data scrubbed, words counted (jieba), topics from the codebook's word lists.

Phone and ID numbers (and any other run of 6 or more digits) are replaced before the text is
grouped, so what is segmented and counted holds none; words jieba tags as person names (nr, nrfg,
nrt) are dropped, and a word is published only when at least `min_n` comments use it. The raw text
is never written.
"""

from __future__ import annotations

import pandas as pd

from .codebook import NOT_RECORDED

# RE2 (DuckDB) and Python patterns alike: an ID number (18 or 15 digits), a mobile number, then any
# other long run of digits (bank cards, landlines, case numbers) so that no number survives.
PATTERNS = [(r"\d{17}[\dXx]|\d{15}", "[证件号]"), (r"1[3-9]\d{9}", "[电话]"), (r"\d{6,}", "[数字]")]
# Parts of speech that are not content words: punctuation, numerals, measure words, person names,
# pronouns, particles, prepositions, conjunctions, adverbs, modal and other function words.
DROP_POS = {"x", "m", "mq", "q", "nr", "nrfg", "nrt", "r", "u", "uj", "ul", "uz", "ug", "uv", "ud", "p", "c", "d",
            "y", "e", "o", "zg"}
STOPWORDS = {"了", "的", "很", "太", "也", "都", "还", "就", "我", "你", "有点", "一直", "一些", "没有", "没", "是",
             "有", "在", "要", "来", "去", "再", "又", "请", "希望", "证件号", "电话", "数字"}


def scrub_sql(col: str) -> str:
    """The same scrubbing as a DuckDB expression."""
    expr = col
    for pattern, token in PATTERNS:
        expr = f"regexp_replace({expr}, '{pattern}', '{token}', 'g')"
    return expr


_jieba = None
_CACHE: dict = {}


def _segmenter():
    global _jieba
    if _jieba is None:
        import logging

        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)
        _jieba = jieba.posseg
    return _jieba


def words(text: str, keep: set[str] = frozenset()) -> list[str]:
    """Content words of a (scrubbed) comment, each once."""
    out = []
    for w, flag in _segmenter().cut(text):
        w = w.strip()
        if not w or w in STOPWORDS or (flag in DROP_POS and w not in keep) or flag.startswith("nr"):
            continue
        if len(w) < 2 and w not in keep:
            continue
        if w not in out:
            out.append(w)
    return out


def count(texts: pd.DataFrame, topics: dict) -> pd.DataFrame:
    """(service, kind 'word'|'topic', key, n comments) from distinct scrubbed texts with counts
    (columns service, text, n)."""
    keep = {w for t in topics.values() for w in t["words"]}
    rows: dict[tuple, int] = {}
    cache = _CACHE.setdefault(frozenset(keep), {})      # repeated texts (within a run) segmented once
    for service, text, n in texts[["service", "text", "n"]].itertuples(index=False):
        ws = cache.get(text)
        if ws is None:
            ws = cache[text] = words(text, keep)
        service = NOT_RECORDED if service is None or service != service else service
        for w in ws:
            rows[(service, "word", w)] = rows.get((service, "word", w), 0) + int(n)
        for name, t in topics.items():
            if any(w in t["words"] for w in ws):
                rows[(service, "topic", name)] = rows.get((service, "topic", name), 0) + int(n)
        rows[(service, "all", "comments")] = rows.get((service, "all", "comments"), 0) + int(n)
    return pd.DataFrame([(*k, v) for k, v in rows.items()], columns=["service", "kind", "key", "n"])


def tables(parts: pd.DataFrame, topics: dict, min_n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keywords overall (n >= min_n) and topics overall and by service (topic shares of comments)."""
    total = parts[parts["kind"] == "all"].groupby("service")["n"].sum()
    n_all = int(total.sum())
    w = parts[parts["kind"] == "word"].groupby("key")["n"].sum().astype("int64").sort_values(ascending=False,
                                                                                          kind="stable")
    w = w[w >= min_n]
    topic_of = {}
    for name, t in topics.items():
        for word in t["words"]:
            topic_of.setdefault(word, name)
    keywords = pd.DataFrame({"word": w.index, "comments": w.to_numpy(),
                             "share": w.to_numpy(float) / n_all if n_all else float("nan"),
                             "topic": [topic_of.get(x, "") for x in w.index]})
    keywords.insert(0, "rank", range(1, len(keywords) + 1))
    t = parts[parts["kind"] == "topic"].groupby(["service", "key"])["n"].sum()
    rows = []
    for service in ["(all)"] + sorted(total.index):
        base = n_all if service == "(all)" else int(total[service])
        for name, topic in topics.items():
            k = int(t[t.index.get_level_values("key") == name].sum()) if service == "(all)" else int(t.get((service, name), 0))
            suppressed = base < min_n
            rows.append({"service": service, "topic": name, "label_en": topic["label"]["en"],
                         "label_zh": topic["label"]["zh"], "comments": base,
                         "topic_comments": None if suppressed else k,
                         "share": None if suppressed or not base else k / base, "suppressed": suppressed})
    return keywords, pd.DataFrame(rows)
