#!/usr/bin/env bash
# Reproduces every table of docs/scaling.md (release build; the h100 and ipu runs are
# timing-only, the teach runs compute values). Usage: bash examples/scaling_tables.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
B=.build/release/fp8sim
L="examples/linear_amax.isa examples/linear_cscale.isa examples/linear_delayed.isa"
F="examples/ffn_amax.isa examples/ffn_cscale.isa examples/ffn_delayed.isa"
# The block-scaled successors (OCP MX, DeepSeek-V3's 1 × 128 tiles), and FP4 on b200.
LB="$L examples/linear_mxfp8.isa examples/linear_1x128.isa"
FB="$F examples/ffn_mxfp8.isa examples/ffn_1x128.isa"
L4="examples/linear_fp4.isa examples/linear_mxfp4.isa examples/linear_nvfp4.isa"
F4="examples/ffn_fp4.isa examples/ffn_mxfp4.isa examples/ffn_nvfp4.isa"
run() { echo; echo "\$ fp8sim compare $*" | sed "s#examples/##g"; $B compare "$@"; }

echo "## teach: linear layer, X fits (M=256) and spills (M=1024)"
run $LB
run $LB --set M=1024
echo "## teach: FFN block, H fits (M=256) and spills (M=1024)"
run $FB
run $FB --set M=1024
echo "## teach: CSCALE bias sweeps"
run examples/linear_cscale.isa --sweep bias=-8..8
run examples/ffn_cscale.isa --sweep bias=-8..8
echo "## h100"
run $LB --device h100 --timing-only --set RB=64 --set RESB=8 --set M=33792
run $LB --device h100 --timing-only --set RB=64 --set RESB=8 --set M=135168
run $LB --device h100 --timing-only --set RB=64 --set RESB=8 --set M=540672
run $FB --device h100 --timing-only --set RB=64 --set RESB=7 --set M=33792
run $FB --device h100 --timing-only --set RB=64 --set RESB=7 --set M=135168
echo "## ipu"
run $L --device ipu --timing-only --set RESB=8 --set M=94208
run $L --device ipu --timing-only --set RESB=8 --set M=376832
run $F --device ipu --timing-only --set RESB=8 --set M=94208
run $F --device ipu --timing-only --set RESB=8 --set M=376832
echo "## b200: FP4 (per-tensor E2M1 with a bias, MXFP4, NVFP4) next to FP8, values at the defaults"
run $LB $L4 --device b200
run $FB $F4 --device b200
echo "## b200: the device filled, X fits (4 blocks of 64 rows a tile) and spills (16)"
run $LB $L4 --device b200 --timing-only --set RB=64 --set RESB=8 --set M=37888
run $LB $L4 --device b200 --timing-only --set RB=64 --set RESB=8 --set M=151552
run $FB $F4 --device b200 --timing-only --set RB=64 --set RESB=7 --set M=37888
run $FB $F4 --device b200 --timing-only --set RB=64 --set RESB=7 --set M=151552
