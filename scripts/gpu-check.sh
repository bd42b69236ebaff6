#!/usr/bin/env bash
# The GPU check in one call (issue 12). Builds `lfu`, stages it with everything `lfu gpu-check` reads, and either
# packs it for the GPU machine or runs the same steps here on the CPU.
#
#   scripts/gpu-check.sh                      build, stage and pack into .gpu/ (then run it on the GPU machine, below)
#   scripts/gpu-check.sh --cpu-dry-run OUTDIR build, stage and run every step on the CPU with tiny shapes (no GPU, no
#                                             PyTorch); writes OUTDIR/report.md and OUTDIR/report.json; exit 0 = all pass
#
# On the GPU machine (the device tool's `run`, from the repository root; about 3–6 minutes, at most 8):
#   command:   bash .gpu/gpu-run.sh lfu.dll gpu-check --output $OUT
#   carry:     [".gpu"]
#   timeout_s: 540   (8 min of step budgets + start-up; leaves room in the 15-minute lease for a rerun with --only)
# A rerun of some steps: append e.g. `--only b,e2`. The report lands in $OUT (report.md, report.json); commit it
# under docs/gpu/ with the date and the card.
#
# Environment: LFU_SHARED (default: ../shared next to the repository) holds device/pack.sh and bench/pt_lfu_bench.py.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${LFU_SHARED:-$repo/../shared}
stage=$repo/artifacts/gpu-check/app
payload=$stage/gpu-check           # GpuCheckCommand.PayloadFolder: laid out like the repository

mode=pack; out=
case "${1:-}" in
  "") ;;
  --cpu-dry-run)
    [ $# -eq 2 ] || { echo "usage: scripts/gpu-check.sh [--cpu-dry-run OUTDIR]" >&2; exit 2; }
    mode=dry; out=$2 ;;
  *) echo "usage: scripts/gpu-check.sh [--cpu-dry-run OUTDIR]" >&2; exit 2 ;;
esac
for f in "$shared/device/pack.sh" "$shared/bench/pt_lfu_bench.py"; do
  [ -f "$f" ] || { echo "gpu-check.sh: $f is missing; set LFU_SHARED to the folder holding device/pack.sh and bench/pt_lfu_bench.py." >&2; exit 2; }
done

echo "== build and publish lfu"
rm -rf "$stage"
dotnet publish "$repo/src/LfU.Cli/LfU.Cli.csproj" -c Release -o "$stage" -m:1 --nologo -v quiet
# Both machines are Linux x64: other platforms' natives (SkiaSharp alone ships ~10 MB for each) and debug symbols would
# only eat into the 64 MiB carry limit.
find "$stage/runtimes" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
find "$stage" -name '*.dbg' -delete

echo "== stage the payload (fixtures, bundled model, data, configs, PyTorch reference)"
mkdir -p "$payload/tests/LfU.MLNet.Tests/Fixtures" "$payload/data/mini-world" "$payload/data/models"
cp -r "$repo/tests/LfU.MLNet.Tests/Fixtures/models" "$repo/tests/LfU.MLNet.Tests/Fixtures/lfu" "$payload/tests/LfU.MLNet.Tests/Fixtures/"
cp -r "$repo/data/models/mini-world" "$payload/data/models/"
cp -r "$repo/data/configs" "$payload/data/"
for f in finetune_train.jsonl finetune_test.jsonl finetune_test_paraphrased.jsonl ood_knowledge.jsonl ood_math.jsonl ood_reasoning.jsonl; do
  cp "$repo/data/mini-world/$f" "$payload/data/mini-world/"
done
cp "$shared/bench/pt_lfu_bench.py" "$payload/"

if [ "$mode" = dry ]; then
  echo "== CPU dry run into $out"
  exec dotnet "$stage/lfu.dll" gpu-check --cpu-dry-run --output "$out"
fi

echo "== pack into .gpu/"
bash "$shared/device/pack.sh" "$stage" "$repo/.gpu"
size=$(du -sm "$repo/.gpu" | cut -f1)
echo "== .gpu/ holds ${size} MiB (the carry limit is 64 MiB)"
[ "$size" -lt 64 ] || { echo "gpu-check.sh: .gpu/ is ${size} MiB, over the 64 MiB carry limit." >&2; exit 1; }
cat <<'RUN'
== ready. The device tool copies tracked files as well, and data/ + tests/ (40 MiB) with .gpu/ pass its 64 MiB; leave
   them out of the index for the call (the files stay on disk):
   before:    git rm -r -q --cached data tests && printf 'data/\ntests/\n' >> .git/info/exclude
   after:     git reset -q && sed -i '/^data\/$/d;/^tests\/$/d' .git/info/exclude
== On the GPU machine (device tool `run`, from the repository root):
   command:   bash .gpu/gpu-run.sh lfu.dll gpu-check --output $OUT
   carry:     [".gpu"]
   timeout_s: 540
RUN
