#!/usr/bin/env python3
"""How many test questions of a mini world also occur, verbatim, as questions of another world's pretraining set.

    scripts/test-overlap.py PRETRAIN_JSONL TEST_JSONL [TEST_JSONL ...]

A world never asks its own test questions in pretraining; a world made with another --seed can, by chance (the same
arithmetic, the same word to reverse). Prints, per test file, how many of its questions appear among the pretraining
questions under any instruction template, and writes TEST_JSONL.unseen.jsonl with the others, to score skills rather
than remembered strings.
"""
import json, sys

TEMPLATES = ["Question: ", "Answer the following. ", "Please help me with this: ", "Here is a task for you. ", "Task: ",
             "Can you work this out? ", "I have a question. ", "Try this one: "]

def question(prompt):
    for t in TEMPLATES:
        if prompt.startswith(t):
            return prompt[len(t):]
    return prompt

seen = {question(json.loads(line)["prompt"]) for line in open(sys.argv[1], encoding="utf-8") if line.strip()}
for path in sys.argv[2:]:
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    unseen = [r for r in rows if question(r["prompt"]) not in seen]
    with open(path + ".unseen.jsonl", "w", encoding="utf-8") as f:
        for r in unseen:
            f.write(json.dumps(r) + "\n")
    print(f"{path}: {len(rows) - len(unseen)} of {len(rows)} questions occur in pretraining; {len(unseen)} unseen -> {path}.unseen.jsonl")
