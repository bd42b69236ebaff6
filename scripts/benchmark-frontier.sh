#!/usr/bin/env bash
# The forgetting benchmark's frontier (README, "The forgetting benchmark"): every method over five training lengths
# (1, 2, 3, 6 and 10 epochs), LfU-LoRA over lambda x alpha and LfU-RepS over lambda x reps-alpha at the headline
# length (6 epochs), three seeds at every point: 124 runs.
# Resumable: rerun the same command and it keeps every finished run of the output folder's results.csv.
#   scripts/benchmark-frontier.sh [THREADS] [METHODS] [OUTPUT]
# Parallel on a machine with cores to spare: run disjoint METHODS into separate OUTPUT folders (each with a copy of
# data/benchmark/frontier), then merge them with scripts/benchmark-merge.py.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
lfu=${LFU:-"dotnet run --project src/LfU.Cli -c Release --"}
$lfu benchmark --model data/models/mini-world --data data/mini-world --output "${3:-data/benchmark/frontier}" \
  --methods "${2:-base,sft,lfu-lora,lfu-reps,neftune,l2}" --seeds 3 --epochs 6 --lr 3e-3 --batch 16 \
  --sweep epochs=1,2,3,10 --grid lambda=1,5,20 --grid alpha=0.05,0.1,0.3 --grid reps-alpha=0.3,1,3 \
  --test-limit 100 --ood-limit 100 --paraphrase-limit 25 --precision fp32 --attention sdpa \
  --threads "${1:-$(nproc)}" --resume ${REPORT_ONLY:+--report-only}
