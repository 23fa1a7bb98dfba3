#!/usr/bin/env bash
# Create .venv with the pinned dependencies (requirements.lock) and the callao package.
# Idempotent: reinstalls only when requirements.lock or pyproject.toml changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.callao-installed"
want="$(cat "$root/requirements.lock" "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
python="${PYTHON:-python3}"
pip() { "$venv/bin/python" -m pip --quiet --disable-pip-version-check "$@" 2> >(grep -v "^WARNING: Location" >&2); }
echo "callao: setting up $venv (first run only, about a minute)..." >&2
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
pip install --upgrade pip >&2
pip install -r "$root/requirements.lock" >&2
pip install --no-deps --no-build-isolation -e "$root" >&2
echo "$want" > "$stamp"
