#!/usr/bin/env bash
# Reproduces the bundled base model data/models/mini-world from scratch on a CPU.
#
#   scripts/pretrain-base.sh [OUTPUT_DIR] [THREADS]
#
# 1. generates the mini world's pretraining stream (seed 1234, the same world as data/mini-world: its test and
#    fine-tuning files come out byte-identical; only pretrain.jsonl is larger) into a scratch folder;
# 2. pretrains the model on it: packed rows of 128 tokens, bfloat16 compute where the CPU has it, float32 weights.
#
# Resumable: checkpoints go to OUTPUT_DIR.checkpoints every 200 steps; run the same command again after an
# interruption (Ctrl+C, SIGTERM, a reboot) and it continues from the newest checkpoint, bit for bit.
# Another shape (issue 16's second base): HIDDEN, LAYERS, HEADS, KV_HEADS, INTERMEDIATE (defaults: the bundled model's
# 256, 6, 4, 2, 704), e.g. HIDDEN=128 HEADS=2 KV_HEADS=1 INTERMEDIATE=352 scripts/pretrain-base.sh artifacts/base-half.
# Build the CLI once first (it runs from its own publish folder, so rebuilding the repository does not disturb it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/artifacts/base-model}")
threads=${2:-$(nproc)}
work="$out.work"
mkdir -p "$work"
if [ ! -f "$work/lfu/lfu.dll" ]; then
  dotnet publish "$root/src/LfU.Cli" -c Release -o "$work/lfu" > "$work/publish.log"
fi
lfu() { dotnet "$work/lfu/lfu.dll" "$@"; }
if [ ! -f "$work/world/pretrain.jsonl" ]; then
  lfu make-data --output "$work/world" --seed 1234 --pretrain-size 400000
fi
resume=()
if compgen -G "$out.checkpoints/checkpoint-*" > /dev/null; then resume=(--resume "$out.checkpoints"); fi
lfu pretrain --data "$work/world/pretrain.jsonl" --tokenizer "$root/data/mini-world/tokenizer" --output "$out" \
  --hidden "${HIDDEN:-256}" --layers "${LAYERS:-6}" --heads "${HEADS:-4}" --kv-heads "${KV_HEADS:-2}" --intermediate "${INTERMEDIATE:-704}" \
  --epochs 1 --batch 32 --lr 2e-3 --weight-decay 0.1 --pack 128 --precision auto --attention eager \
  --threads "$threads" --seed 0 --checkpoint-dir "$out.checkpoints" "${resume[@]}"
