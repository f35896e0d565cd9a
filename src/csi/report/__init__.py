"""Paper-style reports (typst -> PDF and HTML), assembled from the pipeline's result files: one per
district and one for the comparison of districts.

Nothing is estimated here: every number is read from a table or JSON under results/, and every
table and figure names its source file. Each table is also written as CSV and LaTeX (booktabs) for
authors' own manuscripts. Published cross-tabs suppress cells with n below a threshold. English by
default; Chinese (`language="zh"`) uses the codebook's zh labels and Noto CJK SC.

Python writes the typst markup (rather than typst templates reading the files themselves, which was
considered): most sentences depend on the results (which priority, whether invariance holds, what was
suppressed, which limitations the diagnostics call for) in two languages, and here that logic is
tested against the result files. The markup is kept as report.typ beside the PDF for authors to edit.

- document.py    Report (typst markup, tables with CSV/LaTeX copies, figures, compiling), the text
                 in two languages, number formats, small-cell suppression
- tables.py      tables both reports share: invariance, latent means, league table
- sections.py    sections of the district report (gaps, multiple choice, published figures,
                 sensitivity, priorities by respondent type, the abstract's findings)
- summary.py     the summary for managers, definitions, recommendations
- evaluations.py the rating stream's section
- district.py    the district report
- comparison.py  the comparison report
- html.py        the HTML page's stylesheet, image aspect and alt text, embedded CJK font
"""

from .comparison import comparison
from .district import district
from .document import Report, ci, esc, fmt, pct_ci, readable, suppress, suppress_complement, to_latex

__all__ = ["Report", "ci", "comparison", "district", "esc", "fmt", "pct_ci", "readable", "suppress",
           "suppress_complement", "to_latex"]
