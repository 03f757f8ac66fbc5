#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Training images/s: 1 process x 2 threads (batch 8) against 2 MPI ranks x 1 thread (batch 4
# each, the same 8 patches a step), alternating in one run so both see the same load.
# Usage: bench/mpi-train.sh BUILD_DIR [ROUNDS] [STEPS]
set -eu
B=$1/src/cli
ROUNDS=${2:-3}
STEPS=${3:-40}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$B/metalmark-cli" phantom "$T/ph" --size 256 --slices 24 >/dev/null
"$B/metalmark-cli" segment "$T/ph/ct" --out "$T/masks" >/dev/null
COMMON="--data $T/ph/ct --masks $T/masks --patch 128 --depth 3 --width 8 --epochs 1
        --steps-per-epoch $STEPS --seed 1 --val-split none"
ips () { tail -1 "$1" | cut -d, -f7; }
r=1
while [ "$r" -le "$ROUNDS" ]; do
  "$B/metalmark-cli" train $COMMON --batch 8 --threads 2 --out "$T/a$r/m" >/dev/null 2>&1
  OMP_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe -np 2 "$B/metalmark-cli-nn" \
    train $COMMON --batch 4 --threads 1 --out "$T/b$r/m" >/dev/null 2>&1
  echo "round $r: 1 process x 2 threads $(ips "$T/a$r/m.csv") img/s," \
       "2 ranks x 1 thread $(ips "$T/b$r/m.csv") img/s"
  r=$((r + 1))
done
