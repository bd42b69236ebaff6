#!/usr/bin/env bash
# Executes examples/notebooks/*.ipynb as a user does, in Jupyter with the .NET Interactive C# kernel
# (jupyter nbconvert --execute), from this repository's packs (scripts/pack-local-feed.sh). Installs what is missing:
# Debian's jupyter-nbconvert, jupyter-client and python3-nbclient (apt-get, needs root), the Microsoft.dotnet-interactive
# tool and its Jupyter kernel. The executed notebooks land in artifacts/notebooks/.
#   scripts/run-notebooks.sh            the real run (minutes: the quick start trains for 10 epochs)
#   LFU_NOTEBOOK_QUICK=1 scripts/run-notebooks.sh   a smoke run in about a minute
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$PATH:$HOME/.dotnet/tools"
if ! command -v jupyter-nbconvert >/dev/null; then
  apt-get update -qq && apt-get install -y -qq jupyter-nbconvert jupyter-client python3-nbclient >/dev/null
fi
if ! command -v dotnet-interactive >/dev/null; then dotnet tool install -g Microsoft.dotnet-interactive >/dev/null; fi
if ! jupyter kernelspec list 2>/dev/null | grep -q '\.net-csharp'; then dotnet interactive jupyter install >/dev/null; fi
"$repo/scripts/pack-local-feed.sh"
mkdir -p "$repo/artifacts/notebooks"
for notebook in "$repo"/examples/notebooks/*.ipynb; do
  echo "== $(basename "$notebook")"
  (cd "$(dirname "$notebook")" && jupyter nbconvert --to notebook --execute "$notebook" \
     --ExecutePreprocessor.kernel_name=.net-csharp --ExecutePreprocessor.timeout=3600 \
     --output-dir "$repo/artifacts/notebooks")
done
