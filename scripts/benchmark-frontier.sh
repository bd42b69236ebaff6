#!/usr/bin/env bash
# The forgetting benchmark's frontier (README, "The forgetting benchmark"): every method over three training lengths,
# LfU-LoRA over lambda x alpha and LfU-RepS over lambda x reps-alpha, three seeds at every point.
# Resumable: rerun the same command and it keeps every finished run of data/benchmark/frontier/results.csv.
#   scripts/benchmark-frontier.sh [THREADS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
lfu=${LFU:-"dotnet run --project src/LfU.Cli -c Release --"}
$lfu benchmark --model data/models/mini-world --data data/mini-world --output data/benchmark/frontier \
  --methods base,sft,lfu-lora,lfu-reps,neftune,l2 --seeds 3 --epochs 10 --lr 3e-3 --batch 16 \
  --sweep epochs=3,6 --grid lambda=1,5,20 --grid alpha=0.05,0.1,0.3 --grid reps-alpha=0.3,1,3 \
  --test-limit 100 --ood-limit 100 --paraphrase-limit 25 --precision fp32 --attention sdpa \
  --threads "${1:-$(nproc)}" --resume
