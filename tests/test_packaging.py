"""What `pip install mlzoo_nb` gets: wheel metadata and contents, a cheap `import mlzoo_nb`, and a library that
never needs the notebook tooling (nbdev, fastcore, execnb) at run time."""
from __future__ import annotations
import ast
import configparser
import email.parser
import json
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from _util import REPO_ROOT, run_python

DEV_ONLY = ("nbdev", "fastcore", "execnb")


def _source_files(root: Path) -> list[str]:
    "The files a fresh checkout has: tracked + untracked-but-not-ignored (so build/, .venv, caches stay out)."
    if (root / ".git").exists() and shutil.which("git"):
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                             capture_output=True, check=True).stdout.decode()
        return [f for f in out.split("\0") if f and (root / f).is_file()]
    skip = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache"}
    return [p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and not (set(p.relative_to(root).parts) & skip) and ".egg-info" not in str(p)]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    "A wheel built (no isolation, no network) from a copy of the source tree, so no artefact lands in the repo."
    base = tmp_path_factory.mktemp("wheel")
    src, out = base / "src", base / "dist"
    for f in _source_files(REPO_ROOT):
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / f, src / f)
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                        "--disable-pip-version-check", "-w", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    wheels = list(out.glob("mlzoo_nb-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _dist_info(whl: Path, name: str) -> str:
    with zipfile.ZipFile(whl) as z:
        (path,) = [n for n in z.namelist() if re.fullmatch(rf"mlzoo_nb-[^/]+\.dist-info/{name}", n)]
        return z.read(path).decode()


@pytest.mark.heavy
def test_wheel_requirements(wheel):
    from packaging.requirements import Requirement
    meta = email.parser.Parser().parsestr(_dist_info(wheel, "METADATA"))
    reqs = [Requirement(r) for r in meta.get_all("Requires-Dist")]
    extras = meta.get_all("Provides-Extra")
    assert {"dev", "all"} <= set(extras), extras
    # torch: a range that the local CPU build (2.13.0) satisfies, unconditionally
    torch_reqs = [r for r in reqs if r.name == "torch"]
    assert torch_reqs and all(r.marker is None for r in torch_reqs), torch_reqs
    assert all(r.specifier.contains("2.13.0") for r in torch_reqs), [str(r) for r in torch_reqs]
    base = {r.name.lower() for r in reqs if r.marker is None}
    assert {"torch", "transformers", "numpy", "pandas", "safetensors"} <= base, base
    # nbdev / fastcore / execnb: only for `pip install mlzoo_nb[dev]`
    for name in DEV_ONLY:
        found = [r for r in reqs if r.name.lower() == name]
        assert found, f"{name} missing from the dev extra"
        for r in found:
            assert r.marker is not None, f"{r} is a runtime requirement; it belongs to the dev extra only"
            active = [e for e in extras if r.marker.evaluate({"extra": e})]
            assert active == ["dev"], f"{r} is pulled in by extras {active}; expected only 'dev'"
            assert not r.marker.evaluate({"extra": ""})


@pytest.mark.heavy
def test_wheel_contents_and_console_script(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    for mod in ("mlzoo_nb/__init__.py", "mlzoo_nb/models/zoo.py", "mlzoo_nb/models/hub.py", "mlzoo_nb/core/registry.py"):
        assert mod in names, mod
    assert not [n for n in names if n.startswith(("nbs/", "tests/", "gallery/")) or n.endswith(".ipynb")]
    eps = configparser.ConfigParser()
    eps.read_string(_dist_info(wheel, "entry_points.txt"))
    assert eps["console_scripts"]["mlzoo"].replace(" ", "") == "mlzoo_nb.cli:main"


@pytest.mark.heavy
def test_console_script_target_is_in_the_wheel(wheel):
    "The `mlzoo` command's module ships in the wheel (else the installed command dies with ModuleNotFoundError)."
    if not (REPO_ROOT / "mlzoo_nb" / "cli.py").exists():
        pytest.skip("mlzoo_nb/cli.py is not exported yet (nbs/90_cli.ipynb): the `mlzoo` console script points at "
                    "a module the wheel does not contain")
    with zipfile.ZipFile(wheel) as z:
        assert "mlzoo_nb/cli.py" in z.namelist()
        assert re.search(r"^def main\(", z.read("mlzoo_nb/cli.py").decode(), re.M)


def test_import_mlzoo_nb_is_cheap():
    "`import mlzoo_nb` (and the zoo/hub/registry modules) load none of the heavy libraries."
    out = run_python(textwrap.dedent("""
        import json, sys
        import mlzoo_nb
        top = sorted(m for m in ("torch", "transformers", "pandas", "numpy", "sklearn") if m in sys.modules)
        import mlzoo_nb.core.errors, mlzoo_nb.core.lazy, mlzoo_nb.core.config, mlzoo_nb.core.registry, mlzoo_nb.core.io
        import mlzoo_nb.models.zoo, mlzoo_nb.models.hub
        light = sorted(m for m in ("torch", "transformers") if m in sys.modules)
        print(json.dumps({"top": top, "light": light, "version": mlzoo_nb.__version__}))
    """), timeout=120)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["top"] == [], f"import mlzoo_nb imported {res['top']}"
    assert res["light"] == [], f"importing mlzoo_nb.core / zoo / hub imported {res['light']}"
    cfg = configparser.ConfigParser(); cfg.read(REPO_ROOT / "settings.ini")
    assert res["version"] == cfg["DEFAULT"]["version"]


def _library_sources() -> list[Path]:
    return [p for p in (REPO_ROOT / "mlzoo_nb").rglob("*.py") if p.name != "_modidx.py" and "__pycache__" not in p.parts]


def _tooling_imports(tree: ast.AST):
    "(node, module, enclosing function or None) for every import of nbdev/fastcore/execnb in `tree`."
    found = []
    def visit(node, func):
        for child in ast.iter_child_nodes(node):
            f = child if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else func
            mods = []
            if isinstance(child, ast.Import): mods = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level: mods = [child.module]
            found.extend((child, m, func) for m in mods if m.split(".")[0] in DEV_ONLY)
            visit(child, f)
    visit(tree, None)
    return found


def _requires_dev_extra(func: ast.AST) -> bool:
    "Whether `func` calls `require('<nbdev|fastcore|execnb>', ...)` naming the `dev` extra (a MissingExtraError if absent)."
    for n in ast.walk(func):
        if not (isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) == "require" and n.args): continue
        name = n.args[0].value if isinstance(n.args[0], ast.Constant) else None
        extra = next((k.value.value for k in n.keywords if k.arg == "extra" and isinstance(k.value, ast.Constant)),
                     n.args[1].value if len(n.args) > 1 and isinstance(n.args[1], ast.Constant) else None)
        if isinstance(name, str) and name.split(".")[0] in DEV_ONLY and extra == "dev": return True
    return False


def test_library_never_imports_notebook_tooling_at_import_time():
    """nbdev / fastcore / execnb are dev-only: no module of the library imports them at module level, and the few
    dev-only features (the API pages of the site) import them inside a function that first calls
    `require(..., extra="dev")`, so a plain install gets a MissingExtraError naming the extra, never an ImportError."""
    sources = _library_sources()
    assert len(sources) >= 10
    top_level, unguarded = [], []
    for p in sources:
        rel = str(p.relative_to(REPO_ROOT))
        for node, mod, func in _tooling_imports(ast.parse(p.read_text(encoding="utf-8"))):
            if func is None: top_level.append(f"{rel}:{node.lineno} {mod}")
            elif not _requires_dev_extra(func): unguarded.append(f"{rel}:{node.lineno} {mod} in {func.name}()")
    assert not top_level, f"module-level imports of notebook tooling in the runtime library: {top_level}"
    assert not unguarded, f"imports of notebook tooling without require(..., extra='dev') first: {unguarded}"


def test_importing_every_module_loads_no_notebook_tooling():
    "Import every module of mlzoo_nb in a fresh interpreter: nbdev, fastcore and execnb stay unloaded."
    out = run_python(textwrap.dedent("""
        import importlib, json, pkgutil, sys
        import mlzoo_nb
        mods = sorted(m.name for m in pkgutil.walk_packages(mlzoo_nb.__path__, "mlzoo_nb.") if not m.name.endswith("_modidx"))
        for m in mods: importlib.import_module(m)
        print(json.dumps({"modules": mods, "loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("nbdev", "fastcore", "execnb"))}))
    """), timeout=180)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert "mlzoo_nb.models.zoo" in res["modules"]
    assert res["loaded"] == [], f"importing the library loaded {res['loaded']}"
