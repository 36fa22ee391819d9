#!/usr/bin/env python3
"""Write README.md from nbs/index.ipynb without Quarto: markdown cells as they are, code cells as python blocks.

nbdev directives (`#| ...`) are dropped, and cells marked `#| hide` are left out, as nbdev_readme would.
"""
import json, pathlib, sys

def cell_text(cell):
    src = "".join(cell["source"])
    lines = src.split("\n")
    directives = [l for l in lines if l.startswith("#|")]
    if any(d.replace(" ", "") in ("#|hide", "#|export", "#|exporti") for d in directives): return None
    body = "\n".join(l for l in lines if not l.startswith("#|")).strip()
    if not body: return None
    if cell["cell_type"] == "markdown": return body
    out = [f"```python\n{body}\n```"]
    for o in cell.get("outputs", []):
        text = o.get("text") or o.get("data", {}).get("text/plain")
        if text: out.append("```\n" + "".join(text).rstrip() + "\n```")
    return "\n\n".join(out)

def main(root="."):
    root = pathlib.Path(root)
    nb = json.loads((root / "nbs" / "index.ipynb").read_text())
    parts = [t for t in map(cell_text, nb["cells"]) if t]
    header = "<!-- generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file -->\n\n"
    (root / "README.md").write_text(header + "\n\n".join(parts) + "\n")

if __name__ == "__main__": main(*sys.argv[1:])
