"""The published site in a real browser: built from this repository, served on 127.0.0.1, opened with headless Chromium.

Checks that each kind of page renders what it should (landing outputs, show_doc signatures, a plotly figure, widgets
drawn from their saved state, MathJax, a sortable leaderboard) and that no request leaves 127.0.0.1. Screenshots go to
test-artifacts/site/. One test function on purpose: the site is built once (~1 minute), also under pytest-xdist.
"""
from __future__ import annotations
import json
import re
import shutil
from pathlib import Path

import pytest

from _util import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "site"
GALLERY_NB = "01_widgets_and_plots"
LOCAL_SCHEMES = ("data:", "blob:", "about:")


def _skip_reason() -> str | None:
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM}: install it with `apt-get install -y chromium`"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the `playwright` Python package is not installed (pip install playwright; never `playwright install`)"
    if shutil.which("npm") is None and not (REPO_ROOT / ".mlzoo" / "npm" / "node_modules").is_dir():
        return "npm is not installed and no cached .mlzoo/npm: the site's widget manager and require.js come from npm"
    return None


def _executed_gallery(tmp: Path) -> Path:
    "The repo's executed gallery when it has the widgets notebook; otherwise run that notebook into a temporary folder."
    executed = REPO_ROOT / "gallery" / "_executed"
    if (executed / f"{GALLERY_NB}.ipynb").is_file():
        return executed
    from mlzoo_nb.gallery.runner import run_gallery
    out = tmp / "executed"
    out.mkdir()
    if executed.is_dir():  # keep the other executed notebooks the repo already has
        for p in executed.glob("*.ipynb"): shutil.copy2(p, out / p.name)
    res = run_gallery(REPO_ROOT / "gallery", out_dir=out, only=GALLERY_NB, progress=False, timeout=600)
    assert [r.status for r in res] == ["ok"], [(r.name, r.status, r.error) for r in res]
    return out


def _results(tmp: Path, executed: Path) -> Path:
    "The repo's results store when it has runs; otherwise two runs made from the executed notebooks' figures."
    real = REPO_ROOT / "gallery" / "results"
    if real.is_dir() and any(real.glob("*.json")):
        return real
    from mlzoo_nb.gallery.leaderboard import save_run
    from mlzoo_nb.gallery.record import figures_in
    from mlzoo_nb.gallery.runner import NotebookResult
    folder = tmp / "results"
    for i, scale in enumerate([1.0, 1.1]):
        results = [NotebookResult(p.stem, "ok", 10.0 * scale, str(p), "", [{**f, "value": f["value"] * scale} for f in figures_in(p)])
                   for p in sorted(executed.glob("*.ipynb"))]
        save_run(results, "smoke", folder, commit=f"test{i}", date=f"2026-01-0{i + 1}T12:00:00+00:00")
    return folder


class Browser:
    "A Chromium page per URL, recording every request, console error and page error."
    def __init__(self, browser, base: str):
        self.browser, self.base, self.requests, self.errors = browser, base, [], []

    def open(self, path: str, wait_for: str | None = None):
        page = self.browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(f"{path}: {e}"))
        page.on("response", lambda r: r.status >= 400 and self.errors.append(f"{path}: HTTP {r.status} {r.url}"))
        page.goto(self.base + path)
        page.wait_for_load_state("networkidle")
        if wait_for: page.wait_for_selector(wait_for, state="attached", timeout=20_000)
        return page

    def outside(self) -> list[str]:
        return sorted({u for u in self.requests if not u.startswith(self.base) and not u.startswith(LOCAL_SCHEMES)})


def test_site_in_browser(tmp_path):
    reason = _skip_reason()
    if reason: pytest.skip(reason)
    from playwright.sync_api import sync_playwright
    from mlzoo_nb.gallery.site import build_site, serve_site, external_refs

    executed = _executed_gallery(tmp_path)
    site = build_site(tmp_path / "_site", root=REPO_ROOT, executed=executed, results=_results(tmp_path, executed), progress=False)

    # static checks: every page exists and no script/link (or anything else that loads) points outside the site
    pages = sorted(site.rglob("*.html"))
    names = {p.relative_to(site).as_posix() for p in pages}
    assert {"index.html", "api/index.html", "api/gallery.runner.html", "gallery/index.html", f"gallery/{GALLERY_NB}.html",
            "leaderboard.html"} <= names, names
    for p in pages:
        text = p.read_text(encoding="utf-8")
        assert not re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']\s*(?:https?:)?//", text, re.I), p
        assert external_refs(text) == [], (p, external_refs(text))
    for f in ["static/require.js", "static/plotly.min.js", "static/widgets/embed-amd.js", "static/mathjax/tex-svg.js", "static/site.css"]:
        assert (site / f).is_file(), f

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = serve_site(site, port=0, block=False)
    host, port = server.server_address
    assert host == "127.0.0.1"
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            b = Browser(chromium, f"http://127.0.0.1:{port}/")

            # landing page: nav, executed outputs (the zoo table) and no hidden cells
            page = b.open("index.html")
            assert page.locator("nav.site-nav a.active").inner_text() == "Home"
            assert page.locator("h1").first.inner_text().startswith("mlzoo_nb")
            assert page.locator(".jp-OutputArea-output table").count() >= 1, "the landing page shows no executed table"
            assert "#|" not in page.locator("main").inner_text()
            page.screenshot(path=str(ARTIFACTS / "landing.png"), full_page=True)

            # an API page: show_doc blocks with signatures
            page = b.open("api/gallery.runner.html")
            docs = page.locator(".showdoc")
            assert docs.count() >= 3, docs.count()
            sig = page.locator(".showdoc[data-name=run_gallery] pre").first.inner_text()
            assert "def run_gallery(" in sig and "mode:str='smoke'" in sig, sig
            page.locator(".showdoc[data-name=run_gallery]").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "api.png"))

            # the gallery page: a plotly figure drawn with the local plotly.js, widgets from their saved state, MathJax
            page = b.open(f"gallery/{GALLERY_NB}.html", wait_for=".widget-slider")
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=20_000)
            assert page.locator(".plot-container svg").count() >= 1
            assert page.locator(".jupyter-widgets .widget-slider").count() >= 1
            readout = page.locator(".widget-slider .widget-readout").first
            before = readout.inner_text()
            page.locator(".widget-play button").first.click()  # play and slider are jslinked: this runs in the browser
            page.wait_for_function("b => document.querySelector('.widget-slider .widget-readout').textContent.trim() !== b",
                                   arg=before.strip(), timeout=10_000)
            page.wait_for_selector("mjx-container svg", timeout=20_000)
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(ARTIFACTS / "gallery.png"), full_page=True)

            # the leaderboard: table rows, sorting by a header click, trend plots
            page = b.open("leaderboard.html", wait_for=".trend .main-svg")
            table = page.locator("table.leaderboard").first
            rows = table.locator("tbody tr")
            assert rows.count() >= 2, rows.count()
            latest = lambda: [float(v) for v in table.locator("tbody tr td:nth-child(2)").evaluate_all("cs => cs.map(c => c.dataset.value)")]
            names_before = table.locator("tbody tr td:first-child").all_inner_texts()
            table.locator("th", has_text="Latest").click()
            assert latest() == sorted(latest()), latest()
            table.locator("th", has_text="Latest").click()
            assert latest() == sorted(latest(), reverse=True), latest()
            assert table.locator("tbody tr td:first-child").all_inner_texts() != names_before
            page.screenshot(path=str(ARTIFACTS / "leaderboard.png"), full_page=True)

            for path in ["api/index.html", "gallery/index.html"]: b.open(path)
            chromium.close()
    finally:
        server.shutdown(); server.server_close()

    assert b.outside() == [], f"requests left 127.0.0.1: {b.outside()}"
    assert not b.errors, "\n".join(b.errors)
    (ARTIFACTS / "requests.json").write_text(json.dumps(sorted(set(b.requests)), indent=1))
