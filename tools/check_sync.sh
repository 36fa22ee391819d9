#!/usr/bin/env bash
# Fail when the notebooks are not clean or mlzoo_nb/ is not what the notebooks export.
set -euo pipefail
snapshot() { find nbs gallery mlzoo_nb README.md -type f \( -name '*.ipynb' -o -name '*.py' -o -name '*.md' \) \
             -not -path '*/__pycache__/*' -not -path '*/.ipynb_checkpoints/*' -not -path 'gallery/_executed/*' | sort | xargs md5sum; }
before=$(snapshot)
nbdev_clean
nbdev_clean --fname gallery
after_clean=$(snapshot)
if [ "$before" != "$after_clean" ]; then
  echo "nbdev_clean changed these notebooks (run nbdev_clean and commit):"
  diff <(echo "$before") <(echo "$after_clean") | grep '^>' | awk '{print "  " $3}'
  exit 1
fi
nbdev_export
after_export=$(snapshot)
if [ "$after_clean" != "$after_export" ]; then
  echo "nbdev_export changed the library (the notebooks are the source; run nbdev_export and commit):"
  diff <(echo "$after_clean") <(echo "$after_export") | grep '^>' | awk '{print "  " $3}'
  exit 1
fi
python tools/make_readme.py
after_readme=$(snapshot)
if [ "$after_export" != "$after_readme" ]; then
  echo "README.md is out of date with nbs/index.ipynb (run python tools/make_readme.py and commit)"
  exit 1
fi
echo "sync-check: notebooks clean, library and README in sync"
