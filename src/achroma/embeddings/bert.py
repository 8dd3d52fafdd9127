"""A BERT encoder forward pass in numpy, float32, for inference only.

It reproduces Hugging Face's ``BertModel`` (post-layer-norm, exact erf GELU, absolute
position embeddings) closely enough that sentence embeddings match torch's to ~1e-6.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]

# Eigen's float32 rational approximation of erf on [-4, 4] (|error| < 5e-7); outside that
# range erf is +/-1 in float32. numpy has no erf, and scipy is not worth a dependency.
_ERF_NUM = (
    -2.72614225801306e-10,
    2.77068142495902e-08,
    -2.10102402082508e-06,
    -5.69250639462346e-05,
    -7.34990630326855e-04,
    -2.95459980854025e-03,
    -1.60960333262415e-02,
)
_ERF_DEN = (
    -1.45660718464996e-05,
    -2.13374055278905e-04,
    -1.68282697438203e-03,
    -7.37332916720468e-03,
    -1.42647390514189e-02,
)
# Added to the attention scores of padding; exp() of it is 0 in float32.
_MASKED = np.float32(-1e9)
# Rows (tokens) per block of the feed-forward network: its (rows, 1536) activations then
# stay in the CPU cache through GELU's ~20 elementwise passes, about twice as fast overall.
_FFN_ROWS = 128


def erf(x: F32) -> F32:
    """The error function, elementwise, in float32."""
    x = np.clip(x, -4.0, 4.0).astype(np.float32)
    return _erf_inplace(x)


def _erf_inplace(x: F32) -> F32:
    """erf of `x` (already within [-4, 4]), overwriting `x` as scratch space."""
    x2 = x * x
    num = x2 * np.float32(_ERF_NUM[0])
    num += np.float32(_ERF_NUM[1])
    for c in _ERF_NUM[2:]:
        num *= x2
        num += np.float32(c)
    den = x2 * np.float32(_ERF_DEN[0])
    den += np.float32(_ERF_DEN[1])
    for c in _ERF_DEN[2:]:
        den *= x2
        den += np.float32(c)
    num *= x
    num /= den
    result: F32 = num
    return result


def gelu(x: F32) -> F32:
    """GELU with the exact erf, as BERT's ``hidden_act="gelu"``."""
    scaled = x * np.float32(2**-0.5)
    np.clip(scaled, -4.0, 4.0, out=scaled)
    result = _erf_inplace(scaled)
    result += np.float32(1.0)
    result *= x
    result *= np.float32(0.5)
    return result


def layer_norm(x: F32, weight: F32, bias: F32, eps: float) -> F32:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    result: F32 = centred / np.sqrt(var + np.float32(eps)) * weight + bias
    return result


def _f32(array: npt.NDArray[Any]) -> F32:
    return np.ascontiguousarray(array, dtype=np.float32)


@dataclass(frozen=True)
class _Layer:
    qkv_w: F32  # (hidden, 3 * hidden): query, key and value fused into one matmul
    qkv_b: F32
    out_w: F32
    out_b: F32
    ln1_w: F32
    ln1_b: F32
    ffn_in_w: F32
    ffn_in_b: F32
    ffn_out_w: F32
    ffn_out_b: F32
    ln2_w: F32
    ln2_b: F32


class BertEncoder:
    """BERT's embeddings and encoder stack; ``forward`` gives the last hidden state."""

    def __init__(self, tensors: dict[str, npt.NDArray[Any]], config: dict[str, Any]) -> None:
        """Build from a ``BertModel`` state dict (names with or without a ``bert.`` prefix)
        and its ``config.json``."""
        t = {k.removeprefix("bert."): v for k, v in tensors.items()}
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        if config.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"Unsupported hidden_act {config.get('hidden_act')!r}")
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("Only absolute position embeddings are supported")
        # Word embeddings stay memory-mapped: only the looked-up rows are read.
        self.word = t["embeddings.word_embeddings.weight"]
        self.position = _f32(t["embeddings.position_embeddings.weight"])
        self.token_type = _f32(t["embeddings.token_type_embeddings.weight"])
        self.ln_w = _f32(t["embeddings.LayerNorm.weight"])
        self.ln_b = _f32(t["embeddings.LayerNorm.bias"])
        self.layers = [
            self._layer(t, f"encoder.layer.{i}.") for i in range(int(config["num_hidden_layers"]))
        ]

    @staticmethod
    def _layer(t: dict[str, npt.NDArray[Any]], p: str) -> _Layer:
        def dense(name: str) -> tuple[F32, F32]:
            # torch stores Linear weights as (out, in); transpose once for x @ W.
            return _f32(t[f"{p}{name}.weight"].T), _f32(t[f"{p}{name}.bias"])

        q, k, v = (dense(f"attention.self.{n}") for n in ("query", "key", "value"))
        out_w, out_b = dense("attention.output.dense")
        ffn_in_w, ffn_in_b = dense("intermediate.dense")
        ffn_out_w, ffn_out_b = dense("output.dense")
        return _Layer(
            qkv_w=_f32(np.concatenate([q[0], k[0], v[0]], axis=1)),
            qkv_b=_f32(np.concatenate([q[1], k[1], v[1]])),
            out_w=out_w,
            out_b=out_b,
            ln1_w=_f32(t[f"{p}attention.output.LayerNorm.weight"]),
            ln1_b=_f32(t[f"{p}attention.output.LayerNorm.bias"]),
            ffn_in_w=ffn_in_w,
            ffn_in_b=ffn_in_b,
            ffn_out_w=ffn_out_w,
            ffn_out_b=ffn_out_b,
            ln2_w=_f32(t[f"{p}output.LayerNorm.weight"]),
            ln2_b=_f32(t[f"{p}output.LayerNorm.bias"]),
        )

    def forward(self, input_ids: npt.NDArray[np.int64], attention_mask: npt.NDArray[Any]) -> F32:
        """Last hidden state, shape (batch, length, hidden), for token type 0 everywhere."""
        batch, length = input_ids.shape
        if length > self.position.shape[0]:
            raise ValueError(f"Sequence length {length} exceeds {self.position.shape[0]}")
        x = np.asarray(self.word[input_ids], dtype=np.float32)
        x = x + self.position[:length] + self.token_type[0]
        x = layer_norm(x, self.ln_w, self.ln_b, self.eps).reshape(batch * length, self.hidden)
        bias = np.where(attention_mask[:, None, None, :] > 0, np.float32(0), _MASKED)
        for layer in self.layers:
            x = self._layer_forward(layer, x, bias, batch, length)
        return x.reshape(batch, length, self.hidden)

    def _layer_forward(self, w: _Layer, x: F32, bias: F32, batch: int, length: int) -> F32:
        head_dim = self.hidden // self.heads
        qkv = x @ w.qkv_w
        qkv += w.qkv_b
        qkv = qkv.reshape(batch, length, 3, self.heads, head_dim)
        q, k, v = qkv.transpose(2, 0, 3, 1, 4)  # each (batch, heads, length, head_dim)
        scores = (q @ k.transpose(0, 1, 3, 2)) * np.float32(head_dim**-0.5) + bias
        scores -= scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores, out=scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch * length, self.hidden)
        attended = context @ w.out_w
        attended += w.out_b
        attended += x
        x = layer_norm(attended, w.ln1_w, w.ln1_b, self.eps)
        out = np.empty_like(x)
        for start in range(0, x.shape[0], _FFN_ROWS):
            rows = x[start : start + _FFN_ROWS]
            hidden = rows @ w.ffn_in_w
            hidden += w.ffn_in_b
            out[start : start + _FFN_ROWS] = gelu(hidden) @ w.ffn_out_w
        out += w.ffn_out_b
        out += x
        return layer_norm(out, w.ln2_w, w.ln2_b, self.eps)


def mean_pool(hidden: F32, attention_mask: npt.NDArray[Any]) -> F32:
    """Average of the hidden states of real (unmasked) tokens, as sentence-transformers."""
    mask = attention_mask.astype(np.float32)[:, :, None]
    summed = (hidden * mask).sum(axis=1)
    result: F32 = (summed / np.clip(mask.sum(axis=1), 1e-9, None)).astype(np.float32)
    return result


def l2_normalize(x: F32) -> F32:
    """Rows scaled to unit length (torch's ``F.normalize``: norms clamped at 1e-12)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    result: F32 = (x / np.maximum(norms, np.float32(1e-12))).astype(np.float32)
    return result
