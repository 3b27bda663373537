#!/bin/sh
# Creates tests/pypush/.venv with pypush and its dependencies (pinned in requirements.txt).
# Used by tests/apns_pypush.rs (APPLESHARK_PYPUSH_PYTHON overrides the interpreter) and CI.
# Idempotent: an existing venv whose packages match is left as it is.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" - "$here/requirements.txt" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
ok = True
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, want = line.split("==")
    try:
        ok &= version(name) == want
    except PackageNotFoundError:
        ok = False
sys.exit(0 if ok else 1)
PY
then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi
"$venv/bin/python" -c 'import importlib.metadata as m, pypush.apns; print("pypush venv ready: pypush", m.version("pypush"))'
