"""Run llama.cpp's OpenAI-compatible server (xllamacpp) on the local test model.

Used by the real-model test tier and by bench/bench_llm.py. The server runs in a
CHILD process: xllamacpp serves from a background thread of whichever process
created it, and a native crash there must not take pytest down with it.

    python -m tests.llm.real_server --port 8099      # serves until SIGTERM / Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL_PATH = ROOT / ".models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
MODEL_ALIAS = "local-model"


def model_available() -> bool:
    if not MODEL_PATH.is_file():
        return False
    try:
        import importlib.util

        return importlib.util.find_spec("xllamacpp") is not None
    except ValueError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(
    *, n_parallel: int = 1, ctx: int = 4096, cache_prompt: bool = True, ready_timeout_s: float = 60
) -> Iterator[str]:
    """Start the server in a child process; yield its OpenAI base URL; stop it after."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "tests.llm.real_server", "--port", str(port),
        "--parallel", str(n_parallel), "--ctx", str(ctx),
    ]  # fmt: skip
    if not cache_prompt:
        cmd.append("--no-cache-prompt")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + ready_timeout_s
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
                raise RuntimeError(f"llama server exited with {proc.returncode}: {err}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("llama server did not become ready")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _serve(port: int, n_parallel: int, ctx: int, cache_prompt: bool) -> None:
    import xllamacpp

    p = xllamacpp.CommonParams()
    p.model.path = str(MODEL_PATH)
    p.hostnames = ["127.0.0.1"]
    p.port = port
    p.n_ctx = ctx
    p.n_parallel = n_parallel
    p.cpuparams.n_threads = 2
    p.cpuparams_batch.n_threads = 2
    p.model_alias = {MODEL_ALIAS}
    p.ui = False
    p.cache_prompt = cache_prompt
    server = xllamacpp.Server(p)  # serves from a background thread  # noqa: F841
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    os._exit(0)  # skip native teardown: the process ends here anyway


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--no-cache-prompt", action="store_true")
    a = ap.parse_args()
    _serve(a.port, a.parallel, a.ctx, not a.no_cache_prompt)
