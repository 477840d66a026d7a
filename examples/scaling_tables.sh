#!/usr/bin/env bash
# Reproduces every table of docs/scaling.md (release build; the h100 and ipu runs are
# timing-only, the teach runs compute values). Usage: bash examples/scaling_tables.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
B=.build/release/fp8sim
L="examples/linear_amax.isa examples/linear_cscale.isa examples/linear_delayed.isa"
F="examples/ffn_amax.isa examples/ffn_cscale.isa examples/ffn_delayed.isa"
run() { echo; echo "\$ fp8sim compare $*" | sed "s#examples/##g"; $B compare "$@"; }

echo "## teach: linear layer, X fits (M=256) and spills (M=1024)"
run $L
run $L --set M=1024
echo "## teach: FFN block, H fits (M=256) and spills (M=1024)"
run $F
run $F --set M=1024
echo "## teach: CSCALE bias sweeps"
run examples/linear_cscale.isa --sweep bias=-8..8
run examples/ffn_cscale.isa --sweep bias=-8..8
echo "## h100"
run $L --device h100 --timing-only --set RB=64 --set RESB=8 --set M=33792
run $L --device h100 --timing-only --set RB=64 --set RESB=8 --set M=135168
run $L --device h100 --timing-only --set RB=64 --set RESB=8 --set M=540672
run $F --device h100 --timing-only --set RB=64 --set RESB=7 --set M=33792
run $F --device h100 --timing-only --set RB=64 --set RESB=7 --set M=135168
echo "## ipu"
run $L --device ipu --timing-only --set RESB=8 --set M=94208
run $L --device ipu --timing-only --set RESB=8 --set M=376832
run $F --device ipu --timing-only --set RESB=8 --set M=94208
run $F --device ipu --timing-only --set RESB=8 --set M=376832
