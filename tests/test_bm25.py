"""BM25 sparse vectors: achroma's `ChromaBm25EmbeddingFunction` gives chromadb 1.5.9's vectors
(indices, values, labels), config and errors; the sparse protocol and registry behave as
chromadb's."""

from __future__ import annotations

import sys
import threading
import types
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("chromadb")

from chromadb.utils.embedding_functions.chroma_bm25_embedding_function import (  # noqa: E402
    ChromaBm25EmbeddingFunction as TheirBm25,
)

from achroma.core.sparse import SparseVector  # noqa: E402
from achroma.embeddings import (  # noqa: E402
    Bm25EmbeddingFunction,
    ChromaBm25EmbeddingFunction,
    Documents,
    SparseEmbeddingFunction,
    SparseVectors,
    embedding_function_from_config,
    register_sparse_embedding_function,
    sparse_embedding_function_from_config,
    sparse_embedding_function_to_config,
    sparse_known_embedding_functions,
    validate_sparse_embedding_function,
)
from achroma.embeddings.bm25_tokens import DEFAULT_ENGLISH_STOPWORDS  # noqa: E402

TEXTS = [
    "",
    "   \t\n ",
    "The quick brown fox jumps over the lazy dog.",
    "the a an of and or but is are was were",  # nothing but stopwords
    "running runs ran runner RUNNING Run",  # stems and case
    "cat cat cat cat dog cat",  # repeated words
    "Hello, world! Hello... world?! (hello) [world] {hello} 'world' \"hello\"",
    "don't won't it's you're should've that'll",  # apostrophes split the stopwords
    "e-mail state-of-the-art foo_bar snake_case_word x=y+z a/b\\c",
    "1 22 333 4.5 6,7 1e10 0x1F 2024-01-01 ½ ² ٣ 一二三",
    "Ünïcödé naïve café résumé façade coöperate Ärger Straße",
    "İstanbul ΣΊΣΥΦΟΣ ǅungla ﬁsh ﬂow ǈ",  # lowercase changes length or letters
    "日本語のテキスト 中文文本 한국어 텍스트 العربية עברית हिन्दी",
    "emoji 😀 🎉🎉 ❤️ 👩‍👩‍👧 test",
    "a" * 40 + " " + "b" * 41 + " " + "supercalifragilisticexpialidocious" * 2,
    "tab\tseparated\nnew\nlines\r\nand\u00a0nbsp\u2003em\u3000ideographic",
    "zero\u200bwidth joiner\u200dtext soft\u00adhyphen",
    "generously generous generation generate generic general generalization",
    "caresses ponies ties caress cats feed agreed plastered motoring sing conflated",
    "hopping tanned falling hissing fizzed failing filing happy sky dying lying",
    "news innings outings cannings howe atlas cosmos bias andes proceed exceed succeed",
    " ".join(["word"] * 300 + ["other"] * 3),  # longer than avg_doc_length
]

PARAMS: list[dict[str, Any]] = [
    {},
    {"include_tokens": True},
    {"k": 0.9, "b": 0.4, "avg_doc_length": 12, "include_tokens": True},
    {"k": 2, "b": 1, "avg_doc_length": 1.5, "token_max_length": 5},
    {"b": 0.0, "token_max_length": 0},
    {"stopwords": ["Cat", "DOG", "quick", "running"], "include_tokens": True},
    {"stopwords": [], "include_tokens": True},
    {"stopwords": ("fox", "hello"), "token_max_length": 100},
]

WORDS = [*DEFAULT_ENGLISH_STOPWORDS[:40], "cats", "running", "generously", "Ünïcödé", "42"]
SEPARATORS = [" ", "  ", "\n", "\t", ", ", ". ", "!", "-", "_", "'", "…", "\u00a0", "\u2028"]


def assert_same(ours: list[SparseVector], theirs: list[Any]) -> None:
    assert len(ours) == len(theirs)
    for mine, other in zip(ours, theirs, strict=True):
        assert isinstance(mine, SparseVector)
        assert mine.indices == other.indices
        assert mine.values == pytest.approx(other.values, rel=1e-6, abs=1e-6)
        assert mine.labels == other.labels


def both(**params: Any) -> tuple[ChromaBm25EmbeddingFunction, Any]:
    return ChromaBm25EmbeddingFunction(**params), TheirBm25(**params)


@pytest.mark.parametrize("params", PARAMS, ids=repr)
def test_vectors_equal_chromadbs_on_hand_written_texts(params: dict[str, Any]) -> None:
    ours, theirs = both(**params)
    assert_same(ours(TEXTS), theirs(TEXTS))


def test_values_are_bit_for_bit_chromadbs() -> None:
    ours, theirs = both(k=1.7, b=0.3, avg_doc_length=7)
    for mine, other in zip(ours(TEXTS), theirs(TEXTS), strict=True):
        assert mine.values == other.values


@pytest.mark.parametrize("params", PARAMS, ids=repr)
def test_embed_query_equals_chromadbs(params: dict[str, Any]) -> None:
    ours, theirs = both(**params)
    assert_same(ours.embed_query(TEXTS), theirs.embed_query(TEXTS))
    assert_same(ours.embed_query(TEXTS), ours(TEXTS))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.text(max_size=200), min_size=1, max_size=5))
def test_vectors_equal_chromadbs_on_any_unicode_text(texts: list[str]) -> None:
    ours, theirs = both(include_tokens=True)
    assert_same(ours(texts), theirs(texts))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.sampled_from(WORDS) | st.text(min_size=1, max_size=12), max_size=60),
    separators=st.lists(st.sampled_from(SEPARATORS), min_size=1),
    k=st.floats(0.0, 5.0),
    b=st.floats(0.0, 1.0),
    avg_doc_length=st.floats(0.5, 1000.0),
    token_max_length=st.integers(0, 50),
    stopwords=st.none() | st.lists(st.sampled_from(WORDS), max_size=5),
    include_tokens=st.booleans(),
)
def test_vectors_equal_chromadbs_for_any_parameters(
    words: list[str],
    separators: list[str],
    k: float,
    b: float,
    avg_doc_length: float,
    token_max_length: int,
    stopwords: list[str] | None,
    include_tokens: bool,
) -> None:
    text = "".join(word + separators[i % len(separators)] for i, word in enumerate(words))
    params = {
        "k": k,
        "b": b,
        "avg_doc_length": avg_doc_length,
        "token_max_length": token_max_length,
        "stopwords": stopwords,
        "include_tokens": include_tokens,
    }
    ours, theirs = both(**params)
    assert_same(ours([text, text.upper()]), theirs([text, text.upper()]))


def test_a_text_without_tokens_gives_an_empty_vector_without_labels() -> None:
    [vector] = ChromaBm25EmbeddingFunction(include_tokens=True)(["the, and... of!"])
    assert vector == SparseVector(indices=[], values=[], labels=None)


def test_labels_are_the_stems_in_index_order() -> None:
    [vector] = ChromaBm25EmbeddingFunction(include_tokens=True)(["The cats sat on the mats"])
    assert sorted(vector.labels or []) == ["cat", "mat", "sat"]
    assert vector.indices == sorted(vector.indices)


def test_an_empty_input_list_is_refused_with_chromadbs_message() -> None:
    ours, theirs = both()
    with pytest.raises(ValueError) as mine:
        ours([])
    with pytest.raises(ValueError) as other:
        theirs([])
    assert str(mine.value) == str(other.value)


def test_default_stopwords_are_chromadbs() -> None:
    from chromadb.utils.embedding_functions.schemas.bm25_tokenizer import (
        DEFAULT_ENGLISH_STOPWORDS as THEIR_STOPWORDS,
    )

    assert DEFAULT_ENGLISH_STOPWORDS == THEIR_STOPWORDS


@pytest.mark.parametrize("params", PARAMS, ids=repr)
def test_get_config_equals_chromadbs(params: dict[str, Any]) -> None:
    ours, theirs = both(**params)
    assert ours.get_config() == theirs.get_config()
    assert ours.name() == theirs.name() == "chroma_bm25"


@pytest.mark.parametrize("params", PARAMS, ids=repr)
def test_build_from_config_round_trips(params: dict[str, Any]) -> None:
    ours, theirs = both(**params)
    rebuilt = ChromaBm25EmbeddingFunction.build_from_config(theirs.get_config())
    assert rebuilt.get_config() == ours.get_config()
    assert_same(rebuilt(TEXTS), theirs(TEXTS))


def test_build_from_an_empty_config_gives_the_defaults() -> None:
    assert ChromaBm25EmbeddingFunction.build_from_config({}).get_config() == (
        TheirBm25.build_from_config({}).get_config()
    )


@pytest.mark.parametrize("params", PARAMS, ids=repr)
def test_a_known_config_rebuilds_the_function(params: dict[str, Any]) -> None:
    ours = ChromaBm25EmbeddingFunction(**params)
    config = sparse_embedding_function_to_config(ours)
    assert config == {"name": "chroma_bm25", "type": "known", "config": ours.get_config()}
    rebuilt = sparse_embedding_function_from_config(config)
    assert isinstance(rebuilt, ChromaBm25EmbeddingFunction)
    assert_same(rebuilt(TEXTS), ours(TEXTS))


def test_no_sparse_function_is_recorded_as_unknown() -> None:
    assert sparse_embedding_function_to_config(None) == {"type": "unknown"}
    assert sparse_embedding_function_from_config({"type": "unknown"}) is None
    assert sparse_embedding_function_from_config(None) is None


def test_an_unregistered_sparse_name_is_refused() -> None:
    with pytest.raises(ValueError, match="nope"):
        sparse_embedding_function_from_config({"type": "known", "name": "nope", "config": {}})


def test_sparse_functions_are_not_dense_functions() -> None:
    # chroma_bm25 lives in the sparse registry only, as in chromadb.
    with pytest.raises(ValueError, match="chroma_bm25 not found"):
        embedding_function_from_config({"type": "known", "name": "chroma_bm25", "config": {}})


@pytest.mark.parametrize(
    "config",
    [
        {"k": 1, "b": 0.5, "avg_doc_length": 10, "token_max_length": 3},
        {"stopwords": ["a", "b"], "include_tokens": False},
        {},
    ],
)
def test_validate_config_accepts_what_chromadbs_schema_accepts(config: dict[str, Any]) -> None:
    TheirBm25.validate_config(config)
    ChromaBm25EmbeddingFunction.validate_config(config)


@pytest.mark.parametrize(
    "config",
    [
        {"unknown": 1},
        {"k": "1.2"},
        {"b": True},
        {"stopwords": "the"},
        {"stopwords": ["the", 3]},
        {"include_tokens": 1},
    ],
)
def test_validate_config_refuses_what_chromadbs_schema_refuses(config: dict[str, Any]) -> None:
    with pytest.raises(Exception):  # noqa: B017 (chromadb's is jsonschema's ValidationError)
        TheirBm25.validate_config(config)
    with pytest.raises(ValueError, match="Config validation failed for schema 'chroma_bm25'"):
        ChromaBm25EmbeddingFunction.validate_config(config)


def test_config_updates_allow_only_known_keys_as_chromadb() -> None:
    ours, theirs = both()
    ours.validate_config_update({}, {"k": 2.0, "stopwords": []})
    theirs.validate_config_update({}, {"k": 2.0, "stopwords": []})
    for function in (ours, theirs):
        with pytest.raises(ValueError, match="Updating 'model' is not supported for chroma_bm25"):
            function.validate_config_update({}, {"model": "x"})


def test_threads_sharing_one_function_get_the_same_vectors() -> None:
    function = ChromaBm25EmbeddingFunction(include_tokens=True)
    expected = function(TEXTS)
    results: list[SparseVectors] = []

    def work() -> None:
        for _ in range(20):
            results.append(function(TEXTS))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result == expected for result in results)


# --- the protocol and registry --------------------------------------------------------------


class Letters(SparseEmbeddingFunction[Documents]):
    """A toy sparse function: one index per distinct letter code."""

    def __init__(self, bad: bool = False) -> None:
        self.bad = bad

    def __call__(self, input: Documents) -> SparseVectors:
        if self.bad:
            return None  # type: ignore[return-value]
        return [
            SparseVector(indices=sorted({ord(c) for c in text}), values=[1.0] * len(set(text)))
            for text in input
        ]

    @staticmethod
    def name() -> str:
        return "letters_for_test"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> Letters:
        return Letters(**config)

    def get_config(self) -> dict[str, Any]:
        return {"bad": self.bad}


def test_a_sparse_function_result_is_checked() -> None:
    assert Letters()(["ab"]) == [SparseVector(indices=[97, 98], values=[1.0, 1.0])]
    with pytest.raises(ValueError, match="non-empty list"):
        Letters()([])
    with pytest.raises(ValueError, match="returned None"):
        Letters(bad=True)(["ab"])


def test_a_sparse_function_must_implement_the_persisting_methods() -> None:
    class Incomplete(SparseEmbeddingFunction[Documents]):
        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> SparseVectors:
            return []

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()  # type: ignore[abstract]


def test_sparse_protocol_is_runtime_checkable_and_signature_checked() -> None:
    assert isinstance(ChromaBm25EmbeddingFunction(), SparseEmbeddingFunction)
    validate_sparse_embedding_function(ChromaBm25EmbeddingFunction())
    validate_sparse_embedding_function(Letters())


def test_register_sparse_embedding_function_makes_a_config_rebuildable() -> None:
    sparse_known_embedding_functions.pop("letters_for_test", None)
    try:
        assert register_sparse_embedding_function(Letters) is Letters
        rebuilt = sparse_embedding_function_from_config(
            sparse_embedding_function_to_config(Letters())
        )
        assert isinstance(rebuilt, Letters)
    finally:
        sparse_known_embedding_functions.pop("letters_for_test", None)


# --- chromadb's deprecated fastembed function -----------------------------------------------


def test_fastembed_bm25_without_fastembed_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "fastembed", None)
    with (
        pytest.warns(DeprecationWarning, match="use ChromaBm25EmbeddingFunction"),
        pytest.raises(ValueError, match="pip install fastembed"),
    ):
        Bm25EmbeddingFunction()


class FakeFastembedBm25:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def embed(self, texts: list[str]) -> list[Any]:
        return [self._vector([3, 1, 2], [0.3, 0.1, 0.2]) for _ in texts]

    def query_embed(self, texts: list[str]) -> list[Any]:
        return [self._vector([5], [1.0]) for _ in texts]

    @staticmethod
    def _vector(indices: list[int], values: list[float]) -> Any:
        import numpy as np

        return types.SimpleNamespace(indices=np.array(indices), values=np.array(values))


@pytest.fixture
def fake_fastembed(monkeypatch: pytest.MonkeyPatch) -> None:
    modules = {name: types.ModuleType(name) for name in ("fastembed", "fastembed.sparse")}
    bm25 = types.ModuleType("fastembed.sparse.bm25")
    bm25.Bm25 = FakeFastembedBm25  # type: ignore[attr-defined]
    for name, module in {**modules, "fastembed.sparse.bm25": bm25}.items():
        monkeypatch.setitem(sys.modules, name, module)


@pytest.mark.usefixtures("fake_fastembed")
def test_fastembed_bm25_sorts_fastembeds_vectors_and_keeps_its_config() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        function = Bm25EmbeddingFunction(k=1.5, query_config={"task": "query"}, threads=2)
        assert function._model.kwargs == {"model_name": "Qdrant/bm25", "k": 1.5, "threads": 2}
        assert function(["x"]) == [SparseVector(indices=[1, 2, 3], values=[0.1, 0.2, 0.3])]
        assert function.embed_query(["x"]) == [SparseVector(indices=[5], values=[1.0])]
        rebuilt = Bm25EmbeddingFunction.build_from_config(function.get_config())
    assert rebuilt.get_config() == function.get_config()
    assert sparse_known_embedding_functions["bm25"] is Bm25EmbeddingFunction
