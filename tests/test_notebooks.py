"""The notebook parameter contract: each rule passes exactly the notebook's parameters."""

import json
import re

import papermill
import pytest

from conftest import ROOT


def rules_with_notebooks():
    text = "\n".join(p.read_text() for p in sorted((ROOT / "rules").glob("*.smk")))
    for block in re.split(r"\n(?=rule )", text):
        m = re.match(r"rule (\w+):", block)
        nb = re.search(r'notebook="(notebooks/[^"]+\.ipynb)"', block)
        if not m or not nb:
            continue
        nb = nb.group(1)
        passed = set(re.findall(r"-p (\w+) ", block))
        yield m.group(1), nb, passed


RULES = list(rules_with_notebooks())


def test_every_template_has_a_rule():
    templates = {p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert {nb for _, nb, _ in RULES} == templates


@pytest.mark.parametrize("rule,notebook,passed", RULES)
def test_rule_passes_exactly_the_notebook_parameters(rule, notebook, passed):
    declared = set(papermill.inspect_notebook(str(ROOT / notebook)))
    assert passed == declared, f"{rule}: passes {sorted(passed)}, notebook declares {sorted(declared)}"


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_templates_are_stripped_with_one_literal_parameters_cell(notebook):
    nb = json.loads(notebook.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    for line in "".join(tagged[0]["source"]).splitlines():
        assert re.fullmatch(r'\w+ = ("[^"]*"|\d+(\.\d+)?|True|False)', line), line
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
