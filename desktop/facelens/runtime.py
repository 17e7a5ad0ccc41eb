"""ONNX Runtime sessions: one per model, with the provider that really loaded."""

from __future__ import annotations

import os
from pathlib import Path

import onnxruntime as ort

PROVIDER_CHOICES = ("auto", "cpu", "cuda")
ort.set_default_logger_severity(4)  # keep ORT's own provider-probe noise off the console
_cuda_ok: bool | None = None


def _threads() -> int:
    return int(os.environ.get("FACELENS_THREADS", "0")) or min(os.cpu_count() or 1, 8)


def create_session(model: Path, provider: str = "auto", threads: int | None = None,
                   dynamic_shapes: bool = False, spinning: bool = True) -> ort.InferenceSession:
    """Create an inference session on CUDA when asked/available and it really loads, else CPU.

    onnxruntime-gpu lists CUDA even where its libraries are missing, so the session's own
    provider list is what counts: read it with :func:`session_provider`. With
    `dynamic_shapes` (inputs whose size changes call to call) the memory arena is off, so
    buffers sized for one input are not kept for the life of the process. Without
    `spinning` the session's worker threads sleep instead of busy-waiting between calls:
    less CPU for a model run in short bursts (the live embedder), at no cost in speed there.
    """
    if provider not in PROVIDER_CHOICES:
        raise ValueError(f"provider must be one of {PROVIDER_CHOICES}, not {provider!r}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or _threads()
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    if not spinning:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if dynamic_shapes:
        opts.enable_cpu_mem_arena = False
        opts.enable_mem_pattern = False
    global _cuda_ok
    if provider in ("auto", "cuda") and _cuda_ok is not False \
            and "CUDAExecutionProvider" in ort.get_available_providers():
        try:
            session = ort.InferenceSession(str(model), sess_options=opts,
                                           providers=["CUDAExecutionProvider",
                                                      "CPUExecutionProvider"])
            _cuda_ok = session_provider(session) == "CUDA"
            return session
        except Exception:  # CUDA libraries present but broken: fall back below
            _cuda_ok = False
    return ort.InferenceSession(str(model), sess_options=opts, providers=["CPUExecutionProvider"])


def session_provider(session: ort.InferenceSession) -> str:
    """``"CUDA"`` or ``"CPU"``: the provider the session actually runs on."""
    return "CUDA" if session.get_providers()[0] == "CUDAExecutionProvider" else "CPU"
