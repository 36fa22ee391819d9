"""The notebooks are the source: every exported name is documented and exercised where it is defined."""
import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "nbs").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
EXPORT = re.compile(r"^#\|\s*export\s*$", re.M)


def cells(nb_path):
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return [("".join(c["source"]), c["cell_type"]) for c in nb["cells"]]


def exported_definitions(nb_path):
    """Public top-level functions and classes of the notebook's exported cells, as AST nodes."""
    defs = []
    for src, kind in cells(nb_path):
        if kind == "code" and EXPORT.search(src):
            tree = ast.parse(src)
            defs += [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")]
    return defs


def test_some_notebooks_export_code():
    assert sum(len(exported_definitions(p)) for p in NOTEBOOKS) > 50


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "nbs")))
def test_exported_names_have_docstrings(nb_path):
    missing = [d.name for d in exported_definitions(nb_path) if not ast.get_docstring(d)]
    assert not missing, f"{nb_path.name}: exported names without a docstring: {missing}"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "nbs")))
def test_exported_names_are_used_in_their_notebook(nb_path):
    """Each exported function or class appears in a non-exported code cell (a test or an example) of its notebook."""
    other = "\n".join(src for src, kind in cells(nb_path) if kind == "code" and not EXPORT.search(src))
    exported = "\n".join(src for src, kind in cells(nb_path) if kind == "code" and EXPORT.search(src))
    unused = []
    for d in exported_definitions(nb_path):
        used_directly = re.search(rf"\b{re.escape(d.name)}\b", other)
        # methods attached to a class (`Pipeline.fit = fit`) are exercised through the class: `pipe.fit(...)`
        attached = re.search(rf"^\w+\.(\w+)(?:,\s*\w+\.\w+)*\s*=.*\b{re.escape(d.name)}\b", exported, re.M)
        used_as_method = attached and re.search(rf"\.{re.escape(d.name)}\(", other)
        if not (used_directly or used_as_method): unused.append(d.name)
    assert not unused, f"{nb_path.name}: exported names with no test or example in the notebook: {unused}"


def test_library_never_imports_nbdev_tooling_at_module_level():
    """A function may import nbdev behind `require(..., extra="dev")` (the site builder); a module never does."""
    offenders = []
    for py in (ROOT / "mlzoo_nb").rglob("*.py"):
        if py.name == "_modidx.py": continue
        for line in py.read_text(encoding="utf-8").splitlines():
            if re.match(r"(import|from)\s+(nbdev|fastcore|execnb)\b", line): offenders.append(f"{py.name}: {line.strip()}")
    assert not offenders, offenders
