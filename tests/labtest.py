"""A real JupyterLab in headless Chromium, for testing panels the way a person uses them.

    with jupyter_lab(folder) as lab, lab_page(lab, "panel.ipynb") as page:
        run_all(page)
        page.locator(".widget-slider").first ...        # interact; the kernel answers
        shot(page, "explain-panel")                      # test-artifacts/lab/explain-panel.png

JupyterLab binds 127.0.0.1 with an empty token (a test server only); Chromium is Debian's, driven by Playwright
(never `playwright install`). Every request the page makes is recorded in `page.requests` so a test can assert that
nothing left the machine.
"""
from __future__ import annotations
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_browser():
    "Skip the test (with the reason) when Chromium or Playwright is not installed."
    if not Path(CHROMIUM).exists():
        pytest.skip("browser test: /usr/bin/chromium is missing (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="browser test: pip install playwright")


@contextlib.contextmanager
def jupyter_lab(root_dir, timeout: float = 60):
    "Start JupyterLab on 127.0.0.1 serving `root_dir`; yields its base URL; stops it on exit."
    require_browser()
    port = free_port()
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "jupyterlab", "--ip", "127.0.0.1", f"--port={port}", "--no-browser", "--allow-root",
           "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
           "--LabApp.extension_manager=readonly", "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           f"--ServerApp.root_dir={root_dir}"]
    settings = Path(root_dir) / ".lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    cmd += [f"--LabApp.user_settings_dir={Path(root_dir) / '.lab-settings'}", "--LabApp.expose_app_in_browser=True"]
    log = open(Path(root_dir) / ".jupyterlab.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2); break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail(f"JupyterLab did not start; log:\n{(Path(root_dir) / '.jupyterlab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try: proc.wait(10)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()


@contextlib.contextmanager
def lab_page(lab_url: str, notebook: str, width: int = 1400, height: int = 1000):
    "Open `notebook` (relative to the lab root) in headless Chromium; yields the page with `page.requests` recorded."
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.requests = []
            page.on("request", lambda r: page.requests.append(r.url))
            page.goto(f"{lab_url}/lab/tree/{notebook}", wait_until="domcontentloaded")
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
            wait_idle(page)
            yield page
        finally:
            browser.close()


def wait_idle(page, timeout: float = 120):
    "Wait until the notebook's kernel is started and idle."
    page.wait_for_function(
        """() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');
                   return s && s.getAttribute('data-status') === 'idle'; }""", timeout=timeout * 1000)


def run_command(page, command: str, args: dict | None = None):
    "Execute a JupyterLab command (e.g. 'notebook:run-all-cells') in the page's app."
    page.evaluate("([c, a]) => window.jupyterapp.commands.execute(c, a)", [command, args or {}])


def run_all(page, timeout: float = 180):
    "Run every cell and wait until each code cell has an execution count and the kernel is idle."
    started = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""
    for attempt in range(3):  # the command can fire before the notebook is the app's current widget: retry
        page.locator(".jp-NotebookPanel .jp-InputPrompt").first.click()
        page.evaluate("""async () => { const w = window.jupyterapp.shell.currentWidget;
                                       if (w && w.sessionContext) await w.sessionContext.ready;
                                       await window.jupyterapp.commands.execute('notebook:run-all-cells'); }""")
        try:
            page.wait_for_function(started, timeout=10_000); break
        except Exception:
            if attempt == 2: raise
    page.wait_for_function(
        """() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');
                   const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
                   return s && s.getAttribute('data-status') === 'idle' && prompts.length > 0
                          && prompts.every(t => /\\[\\d+\\]/.test(t)); }""", timeout=timeout * 1000)


def cell_errors(page) -> list[str]:
    "Texts of error outputs in the notebook (tracebacks), empty when all cells ran cleanly."
    return page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts() + \
        [t for t in page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").all_inner_texts()]


def external_requests(page) -> list[str]:
    "Requests that left the machine (anything but 127.0.0.1, localhost, data:, blob:, about:)."
    ok = ("http://127.0.0.1", "ws://127.0.0.1", "http://localhost", "data:", "blob:", "about:")
    return [u for u in page.requests if not u.startswith(ok)]


def shot(page, name: str, folder: str = "lab") -> Path:
    "Save a full-page screenshot to test-artifacts/<folder>/<name>.png and return its path."
    out = ARTIFACTS / folder / f"{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out), full_page=True)
    return out


def copy_notebook(src, dest_dir) -> str:
    "Copy a notebook into the lab root; returns its name relative to the root."
    dest = Path(dest_dir) / Path(src).name
    shutil.copy(src, dest)
    return dest.name


def write_notebook(dest_dir, name: str, *sources: str) -> str:
    "Write a python3 notebook with one code cell per source into the lab root; returns its name."
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources],
                                  metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, Path(dest_dir) / name)
    return name
