"""Collection, tenant and database management: chromadb 1.5.9 and achroma give the same outcome.

Every case runs the same calls against chromadb (`chromadb.EphemeralClient()`) and against achroma
(`achroma.EphemeralClient()`). A success must give equal results (names, metadata with value
types, counts, HNSW configuration); a failure must raise an exception of the same class name with
the same message (UUIDs in messages are masked, collection ids being random). Each test gets a
fresh tenant and database of its own on both sides, so that listings and counts see only what the
test made (chromadb's ephemeral clients share one store per process, and its clients here use
default settings, as in tests/test_compat_records.py, which chromadb requires within a process).
Collections are always created with `embedding_function=None`: chromadb's default downloads a
model.

Deliberately left out, because chromadb's behaviour there is a bug or nondeterministic:
- The order of list_collections: chromadb orders collections by their random UUID. Membership is
  compared, and each page of limit/offset must be the matching slice of the full listing.
  (list_databases is ordered by name in chromadb, and that order is compared.)
- The key order of collection metadata (chromadb returns a Rust HashMap): dicts compare unordered;
  likewise the parameters in chromadb's Rust validation messages, and the fields of a validation
  error naming several (e.g. a bad name and empty metadata), are sorted before comparing.
- NaN in collection metadata: chromadb silently drops the key when the collection is read back.
- List values in collection metadata (create and modify), mixed int/float or int/bool lists, and
  sparse vectors: chromadb panics (pyo3 PanicException "Array metadata values are written to
  embedding_metadata_array" / "Sparse vector is not yet supported for local").
- HNSW ef_search, max_neighbors or resize_factor of 0: chromadb accepts them (no validation);
  achroma refusing them is better.
- modify(configuration={"hnsw": {"ef_search": None}}): chromadb's handle then caches None (the
  stored value is unchanged, as here; achroma's handle keeps its value, which its index uses).
- modify(name=..., configuration={"spann": ...}): chromadb renames, then raises; achroma raises
  before writing anything.
- modify(metadata=...) of a deleted collection: chromadb silently succeeds (a rename of the same
  deleted collection raises NotFoundError).
- create_database in a tenant that does not exist: chromadb creates an orphan database.
- AdminClient.list_tenants (chromadb's AdminClient has none), Collection.fork (chromadb's local
  client raises NotImplementedError; achroma forks on purpose), Collection equality (chromadb
  has no __eq__), get_version, and configuration_json["embedding_function"] (embedding functions
  are out of scope here).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

chromadb = pytest.importorskip("chromadb")

import achroma  # noqa: E402
from side_by_side import typed, typed_outcome  # noqa: E402

# --------------------------------------------------------------------------------------------
# Both sides, and the comparison
# --------------------------------------------------------------------------------------------


THIS_TENANT = "<the test's own tenant>"


@dataclass
class Side:
    """One library's clients, scoped to the tenant and database of the current test."""

    lib: Any
    admin: Any
    tenant: str
    database: str
    client: Any = None
    _made: list[Any] = field(default_factory=list)

    def new_client(self, **kw: Any) -> Any:
        """Another EphemeralClient (closed after the test when it is achroma's)."""
        made = self.lib.EphemeralClient(**kw)
        self._made.append(made)
        return made

    def resolve(self, tenant: str) -> str:
        return self.tenant if tenant == THIS_TENANT else tenant

    def create(self, name: str, **kw: Any) -> Any:
        return self.client.create_collection(name, embedding_function=None, **kw)

    def get(self, name: str) -> Any:
        return self.client.get_collection(name, embedding_function=None)

    def get_or_create(self, name: str, **kw: Any) -> Any:
        return self.client.get_or_create_collection(name, embedding_function=None, **kw)

    def names(self, client: Any = None) -> list[str]:
        """The collection names of the client's database, sorted (chromadb orders by UUID)."""
        return sorted(c.name for c in (client or self.client).list_collections())


@dataclass
class Pair:
    chroma: Side
    ours: Side


@pytest.fixture(scope="module")
def admins() -> Iterator[tuple[Any, Any]]:
    # A default client on each side keeps each side's shared ephemeral store alive.
    base = (chromadb.EphemeralClient(), achroma.EphemeralClient())
    admin = (chromadb.AdminClient(), achroma.AdminClient())
    yield admin
    admin[1].close()
    base[1].close()


@pytest.fixture
def pair(admins: tuple[Any, Any]) -> Iterator[Pair]:
    tenant, database = f"tenant-{uuid.uuid4().hex[:12]}", "main"
    sides = []
    for lib, admin in zip((chromadb, achroma), admins, strict=True):
        admin.create_tenant(tenant)
        admin.create_database(database, tenant)
        side = Side(lib, admin, tenant, database)
        side.client = side.new_client(tenant=tenant, database=database)
        sides.append(side)
    yield Pair(*sides)
    # Only achroma's clients are closed (each holds a reference to achroma's shared store).
    # chromadb's stay open, as in tests/test_compat_records.py: close() there counts references
    # to the process-wide System and stops it at zero.
    for made in sides[1]._made:
        made.close()


def assert_same(pair: Pair, action: Callable[[Side], Any]) -> None:
    """Runs `action` on chromadb's side, then on achroma's; both must have the same outcome."""
    expected = typed_outcome(lambda: action(pair.chroma))
    actual = typed_outcome(lambda: action(pair.ours))
    assert actual == expected, f"\n  chromadb: {expected!r}\n  achroma:  {actual!r}"


def unique(prefix: str = "col") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# --------------------------------------------------------------------------------------------
# Collection names
# --------------------------------------------------------------------------------------------

COLLECTION_NAMES = [
    pytest.param("abc", id="3-chars"),
    pytest.param("a" * 512, id="512-chars"),
    pytest.param("ab", id="2-chars"),
    pytest.param("", id="empty"),
    pytest.param("a" * 513, id="513-chars"),
    pytest.param("ABC", id="upper-case"),
    pytest.param("123", id="digits-only"),
    pytest.param("a-b_c.d", id="all-allowed-punctuation"),
    pytest.param("a__b--c", id="repeated-dash-underscore"),
    pytest.param("a.-b", id="period-then-dash"),
    pytest.param("a.b", id="single-period"),
    pytest.param("a..b", id="two-periods"),
    pytest.param("-abc", id="starts-with-dash"),
    pytest.param("abc-", id="ends-with-dash"),
    pytest.param("_abc", id="starts-with-underscore"),
    pytest.param("abc_", id="ends-with-underscore"),
    pytest.param(".abc", id="starts-with-period"),
    pytest.param("abc.", id="ends-with-period"),
    pytest.param("a b c", id="space"),
    pytest.param(" abc", id="leading-space"),
    pytest.param("ab$c", id="dollar"),
    pytest.param("äbc", id="non-ascii-letter"),
    pytest.param("abc\n", id="trailing-newline"),
    pytest.param("\nabc", id="leading-newline"),
    pytest.param("ab\nc", id="inner-newline"),
    pytest.param("abc\t", id="trailing-tab"),
    pytest.param("192.168.1.1", id="ipv4-address"),
    pytest.param("0.0.0.0", id="ipv4-zero-address"),
    pytest.param("1.2.3", id="three-octets"),
    pytest.param("1.2.3.4.5", id="five-octets"),
    pytest.param("255.255.255.256", id="octet-out-of-range"),
    pytest.param("01.2.3.4", id="octet-with-leading-zero"),
    pytest.param("1.2.3.4a", id="ipv4-then-letter"),
    pytest.param(None, id="None"),
    pytest.param(123, id="int"),
]


@pytest.mark.parametrize("name", COLLECTION_NAMES)
def test_create_collection_applies_chroma_name_rules(pair: Pair, name: Any) -> None:
    assert_same(pair, lambda s: (s.create(name), s.names()))


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("ab", id="2-chars"),
        pytest.param("a..b", id="two-periods"),
        pytest.param("1.2.3.4", id="ipv4-address"),
        pytest.param("abc\n", id="trailing-newline"),
    ],
)
def test_get_or_create_collection_applies_chroma_name_rules(pair: Pair, name: str) -> None:
    assert_same(pair, lambda s: s.get_or_create(name))


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("nothing-here", id="valid-name"),
        pytest.param("a", id="invalid-name"),
        pytest.param("1.2.3.4", id="ipv4-address"),
        pytest.param("", id="empty"),
        pytest.param(None, id="None"),
        pytest.param(5, id="int"),
    ],
)
@pytest.mark.parametrize("method", ["get_collection", "delete_collection"])
def test_missing_collection_is_not_found(pair: Pair, method: str, name: Any) -> None:
    assert_same(pair, lambda s: getattr(s.client, method)(name))


# --------------------------------------------------------------------------------------------
# Collection metadata and configuration on create
# --------------------------------------------------------------------------------------------

CREATE_METADATA = [
    pytest.param({"k": "v"}, id="str"),
    pytest.param({"k": 1}, id="int"),
    pytest.param({"k": -(2**63)}, id="int-min-i64"),
    pytest.param({"k": 2**63}, id="int-beyond-i64"),
    pytest.param({"k": 2**64}, id="int-beyond-u64"),
    pytest.param({"k": 1.5}, id="float"),
    pytest.param({"k": float("inf")}, id="inf"),
    pytest.param({"k": True}, id="bool"),
    pytest.param({"a": 1, "b": "x", "c": 2.5, "d": False}, id="several-types"),
    pytest.param({"ключ": "значение"}, id="unicode"),
    pytest.param({"chroma:document": "x"}, id="chroma-prefixed-key"),
    pytest.param({"k": None}, id="None-value"),
    pytest.param({"k": []}, id="empty-list"),
    pytest.param({"k": [1, "a"]}, id="mixed-list"),
    pytest.param({"k": [None]}, id="list-of-None"),
    pytest.param({"k": [[1]]}, id="nested-list"),
    pytest.param({"k": {"a": 1}}, id="dict-value"),
    pytest.param({"k": {}}, id="empty-dict-value"),
    pytest.param({"k": (1, 2)}, id="tuple-value"),
    pytest.param({"k": {1}}, id="set-value"),
    pytest.param({"k": b"x"}, id="bytes-value"),
    pytest.param({}, id="empty"),
    pytest.param({"": 1}, id="empty-key"),
    pytest.param({1: "a"}, id="int-key"),
    pytest.param(["a"], id="list-instead-of-dict"),
    pytest.param("abc", id="str-instead-of-dict"),
    pytest.param({"hnsw:space": None}, id="hnsw-space-None"),
    pytest.param({"hnsw:space": "ip", "x": None}, id="None-beside-hnsw-key"),
    pytest.param({"k": -(2**63) - 1}, id="int-below-i64"),
    pytest.param({"#a": 1}, id="hash-key"),
    pytest.param({"$a": 1}, id="dollar-key"),
    pytest.param({"a#": 1, "a$": 2}, id="hash-and-dollar-inside-keys"),
    pytest.param({"k": [], "j": None}, id="empty-list-before-None"),
    pytest.param({"j": None, "k": []}, id="None-before-empty-list"),
]


@pytest.mark.parametrize("metadata", CREATE_METADATA)
def test_create_collection_metadata_types(pair: Pair, metadata: Any) -> None:
    def create_and_read_back(s: Side) -> Any:
        s.create("meta", metadata=metadata)
        return s.get("meta")

    assert_same(pair, create_and_read_back)


LEGACY_HNSW_METADATA = [
    pytest.param({"hnsw:space": "cosine"}, id="space-cosine"),
    pytest.param({"hnsw:space": "ip", "hnsw:M": 4}, id="space-ip-and-M"),
    pytest.param({"hnsw:construction_ef": 50, "hnsw:search_ef": 20}, id="ef-values"),
    pytest.param(
        {
            "hnsw:batch_size": 4,
            "hnsw:num_threads": 2,
            "hnsw:sync_threshold": 5,
            "hnsw:resize_factor": 2.0,
        },
        id="threads-batch-sync-resize",
    ),
    pytest.param({"hnsw:resize_factor": 2}, id="int-resize-factor"),
    pytest.param({"hnsw:space": "foo"}, id="unknown-space"),
    pytest.param({"hnsw:M": "x"}, id="str-M"),
    pytest.param({"hnsw:search_ef": 1.5}, id="float-search-ef"),
    pytest.param({"hnsw:foo": 1}, id="unknown-hnsw-key"),
    pytest.param({"hnsw:num_threads": 3, "hnsw:batch_size": 7}, id="threads-and-batch"),
    pytest.param({"hnsw:M": True}, id="bool-M"),
    pytest.param({"hnsw:search_ef": -1}, id="negative-search-ef"),
    pytest.param({"hnsw:M": 2**63}, id="M-beyond-i64"),
    pytest.param({"hnsw:resize_factor": float("nan")}, id="nan-resize-factor"),
    pytest.param({"hnsw:": 1}, id="bare-prefix"),
]


@pytest.mark.parametrize("metadata", LEGACY_HNSW_METADATA)
def test_create_collection_reads_legacy_hnsw_metadata(pair: Pair, metadata: Any) -> None:
    def create_and_read_back(s: Side) -> Any:
        return s.create("legacy", metadata=metadata), s.get("legacy")

    assert_same(pair, create_and_read_back)


CREATE_CONFIGURATION = [
    pytest.param({}, None, id="empty"),
    pytest.param({"hnsw": {}}, None, id="empty-hnsw"),
    pytest.param({"hnsw": None}, None, id="hnsw-None"),
    pytest.param({"hnsw": {"space": "cosine"}}, None, id="space-cosine"),
    pytest.param(
        {
            "hnsw": {
                "space": "ip",
                "ef_construction": 7,
                "ef_search": 9,
                "max_neighbors": 4,
                "resize_factor": 1.5,
                "sync_threshold": 10,
            }
        },
        None,
        id="every-stored-field",
    ),
    pytest.param({"hnsw": {"num_threads": 2, "batch_size": 50}}, None, id="threads-and-batch"),
    pytest.param({"hnsw": {"space": "cosine"}}, {"hnsw:space": "ip"}, id="wins-over-metadata"),
    pytest.param({"hnsw": {"space": "cosine"}}, {"a": 1}, id="beside-metadata"),
    pytest.param({"spann": {"search_nprobe": 5}}, None, id="spann-ignored"),
    pytest.param({"foo": 1}, None, id="unknown-top-level-key"),
    pytest.param({"hnsw": {"space": "foo"}}, None, id="unknown-space"),
    pytest.param({"hnsw": {"ef_search": -1}}, None, id="negative-ef-search"),
    pytest.param({"hnsw": {"ef_search": 1.5}}, None, id="float-ef-search"),
    pytest.param({"hnsw": {"ef_search": "x"}}, None, id="str-ef-search"),
    pytest.param({"hnsw": {"foo": 1}}, None, id="unknown-hnsw-field"),
    pytest.param({"hnsw": 5}, None, id="hnsw-not-a-dict"),
    pytest.param({"hnsw": {"space": "l2"}}, {"hnsw:M": 8}, id="defaults-leave-legacy-metadata"),
    pytest.param({"hnsw": {"ef_search": 5}}, {"hnsw:M": 8}, id="non-default-ignores-legacy"),
    pytest.param({"hnsw": {"ef_search": 5}}, {"hnsw:M": "x"}, id="bad-legacy-beside-config"),
    pytest.param({"spann": {}}, {"hnsw:M": 8}, id="spann-ignores-legacy"),
    pytest.param({"spann": {"space": "cosine", "ef_search": 7}}, None, id="spann-space-kept"),
    pytest.param({"hnsw": {"space": "ip"}, "spann": {}}, None, id="hnsw-and-spann"),
    pytest.param({"hnsw": {"ef_search": 2**64}}, None, id="ef-search-beyond-u64"),
    pytest.param({"hnsw": {"ef_search": 1e-7}}, None, id="small-float-ef-search"),
    pytest.param({"hnsw": {"ef_search": float("nan")}}, None, id="nan-ef-search"),
    pytest.param({"hnsw": {"ef_search": {"a": 1}}}, None, id="map-ef-search"),
    pytest.param({"hnsw": {"ef_search": None}}, None, id="None-ef-search"),
    pytest.param({"hnsw": {"resize_factor": 2}}, None, id="int-resize-factor"),
    pytest.param({"hnsw": {"resize_factor": "x"}}, None, id="str-resize-factor"),
    pytest.param({"hnsw": {"space": 5}}, None, id="int-space"),
    pytest.param({"hnsw": {"space": 'a"b'}}, None, id="quoted-space"),
    pytest.param({"hnsw": {"ef_search": 5, 1: 2}}, None, id="int-hnsw-key"),
    pytest.param({"hnsw": ["l2", 100]}, None, id="short-hnsw-list"),
    pytest.param({"hnsw": ["ip", 1, 2, 3, 4, 1.5, 6, 7]}, None, id="full-hnsw-list"),
    pytest.param({"hnsw": ["l2", 1, 2, 3, 4, 1.5, 6, 7, 8]}, None, id="long-hnsw-list"),
    pytest.param({"hnsw": {"ef_search": {1}}}, None, id="unserializable-value"),
    pytest.param({"spann": {"search_nprobe": 2**40}}, None, id="spann-u32-overflow"),
    pytest.param({"spann": {"foo": 1}}, None, id="unknown-spann-field"),
    pytest.param("abc", None, id="str-instead-of-dict"),
]


@pytest.mark.parametrize(("configuration", "metadata"), CREATE_CONFIGURATION)
def test_create_collection_configuration(pair: Pair, configuration: Any, metadata: Any) -> None:
    def create_and_read_back(s: Side) -> Any:
        created = s.create("configured", configuration=configuration, metadata=metadata)
        return created, s.get("configured")

    assert_same(pair, create_and_read_back)


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        pytest.param("a", {"metadata": {}}, id="bad-name-and-empty-metadata"),
        pytest.param("a", {"metadata": {"x": None}}, id="bad-name-and-None-metadata-value"),
        pytest.param("a", {"configuration": {"hnsw": {"space": "foo"}}}, id="bad-name-and-space"),
        pytest.param(
            "good-name",
            {"configuration": {"hnsw": {"space": "foo"}}, "metadata": {"x": {}}},
            id="bad-space-and-dict-metadata-value",
        ),
        pytest.param("a", {"metadata": {"#a": 1}}, id="bad-name-and-hash-key"),
        pytest.param("a", {"metadata": {"hnsw:M": "x"}}, id="bad-name-and-bad-legacy"),
        pytest.param(None, {"configuration": "abc"}, id="None-name-and-str-configuration"),
        pytest.param(None, {"metadata": ["x"]}, id="None-name-and-list-metadata"),
        pytest.param("good-name", {"get_or_create": 1}, id="int-get-or-create"),
    ],
)
def test_create_collection_reports_the_same_error_first(pair: Pair, name: str, kw: Any) -> None:
    assert_same(pair, lambda s: s.create(name, **kw))


def test_collection_handle_properties(pair: Pair) -> None:
    def properties(s: Side) -> Any:
        col = s.create("props", configuration={"hnsw": {"space": "ip"}})
        return (
            type(col.id).__name__,
            col.name,
            col.tenant == s.tenant,
            col.database == s.database,
            type(col.configuration).__name__,
            typed(dict(col.configuration)["hnsw"]),
            col.count(),
        )

    assert_same(pair, properties)


# --------------------------------------------------------------------------------------------
# Duplicates and get_or_create
# --------------------------------------------------------------------------------------------


def test_create_existing_collection_is_internal_error(pair: Pair) -> None:
    assert_same(pair, lambda s: (s.create("twice"), s.create("twice")))


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({"configuration": {"hnsw": {"space": "foo"}}}, id="bad-configuration"),
        pytest.param({"metadata": {}}, id="empty-metadata"),
    ],
)
def test_create_existing_collection_validates_before_the_duplicate_check(
    pair: Pair, kw: Any
) -> None:
    assert_same(pair, lambda s: (s.create("twice"), s.create("twice", **kw)))


def test_create_with_get_or_create_returns_the_existing_collection(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        first = s.create("again", metadata={"a": 1})
        second = s.create("again", metadata={"b": 2}, get_or_create=True)
        return second, second.id == first.id, s.names()

    assert_same(pair, scenario)


def test_get_or_create_creates_a_missing_collection(pair: Pair) -> None:
    assert_same(pair, lambda s: (s.get_or_create("fresh", metadata={"b": 2}), s.get("fresh")))


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({"metadata": {"b": 2}}, id="other-metadata"),
        pytest.param({"metadata": {"hnsw:space": "ip"}}, id="legacy-space"),
        pytest.param({"configuration": {"hnsw": {"space": "cosine"}}}, id="other-configuration"),
    ],
)
def test_get_or_create_ignores_metadata_and_configuration_of_existing(pair: Pair, kw: Any) -> None:
    def scenario(s: Side) -> Any:
        first = s.create("kept", metadata={"a": 1}, configuration={"hnsw": {"space": "ip"}})
        second = s.get_or_create("kept", **kw)
        return second, second.id == first.id, s.get("kept")

    assert_same(pair, scenario)


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({"metadata": {}}, id="empty-metadata"),
        pytest.param({"metadata": {"a": {}}}, id="dict-metadata-value"),
        pytest.param({"metadata": {"a": None}}, id="None-metadata-value"),
        pytest.param({"configuration": {"hnsw": {"space": "foo"}}}, id="bad-space"),
    ],
)
def test_get_or_create_validates_arguments_even_when_the_collection_exists(
    pair: Pair, kw: Any
) -> None:
    assert_same(
        pair, lambda s: (s.create("kept", metadata={"a": 1}), s.get_or_create("kept", **kw))
    )


# --------------------------------------------------------------------------------------------
# Delete
# --------------------------------------------------------------------------------------------


def test_deleted_collection_is_gone(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        s.create("doomed", metadata={"a": 1})
        s.create("kept")
        s.client.delete_collection("doomed")
        return (
            s.names(),
            s.client.count_collections(),
            typed_outcome(lambda: s.get("doomed")),
            typed_outcome(lambda: s.client.delete_collection("doomed")),
        )

    assert_same(pair, scenario)


def test_recreated_collection_starts_without_old_metadata(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        s.create("reborn", metadata={"a": 1}, configuration={"hnsw": {"space": "ip"}})
        s.client.delete_collection("reborn")
        return s.create("reborn"), s.get_or_create("reborn")

    assert_same(pair, scenario)


def test_get_or_create_after_delete_makes_a_new_collection(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        old = s.create("reborn", metadata={"a": 1})
        s.client.delete_collection("reborn")
        new = s.get_or_create("reborn", metadata={"b": 2})
        return new, new.id == old.id

    assert_same(pair, scenario)


# --------------------------------------------------------------------------------------------
# Modify: name
# --------------------------------------------------------------------------------------------


def test_rename_moves_the_collection_to_the_new_name(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        col = s.create("before", metadata={"a": 1})
        col.modify(name="after")
        return col.name, s.names(), typed_outcome(lambda: s.get("before")), s.get("after")

    assert_same(pair, scenario)


def test_rename_to_its_own_name_changes_nothing(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        col = s.create("same")
        col.modify(name="same")
        return col.name, s.names()

    assert_same(pair, scenario)


def test_rename_to_an_existing_name_fails_and_keeps_both(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        col = s.create("first")
        s.create("second")
        return typed_outcome(lambda: col.modify(name="second")), col.name, s.names()

    assert_same(pair, scenario)


def test_rename_to_a_name_used_in_another_database_succeeds(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        s.admin.create_database("other", s.tenant)
        s.new_client(tenant=s.tenant, database="other").create_collection(
            "taken", embedding_function=None
        )
        s.create("mine").modify(name="taken")
        return s.names()

    assert_same(pair, scenario)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a", id="1-char"),
        pytest.param("", id="empty"),
        pytest.param("a..b", id="two-periods"),
        pytest.param("10.0.0.1", id="ipv4-address"),
        pytest.param("-abc", id="starts-with-dash"),
        pytest.param(5, id="int"),
    ],
)
def test_rename_applies_chroma_name_rules(pair: Pair, name: Any) -> None:
    def scenario(s: Side) -> Any:
        col = s.create("named")
        return typed_outcome(lambda: col.modify(name=name)), s.names()

    assert_same(pair, scenario)


def test_rename_of_a_deleted_collection_is_not_found(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        col = s.create("ghost")
        s.client.delete_collection("ghost")
        return col.modify(name="ghost2")

    assert_same(pair, scenario)


# --------------------------------------------------------------------------------------------
# Modify: metadata
# --------------------------------------------------------------------------------------------

MODIFY_METADATA = [
    pytest.param({"a": 1}, {"b": 2}, id="replaces-whole-metadata"),
    pytest.param(None, {"x": "y"}, id="sets-metadata-on-collection-without"),
    pytest.param({"a": 1}, {"a": True}, id="changes-value-type"),
    pytest.param({"hnsw:space": "cosine", "a": 1}, {"b": 2}, id="drops-legacy-keys"),
    pytest.param({"a": 1}, {"a": None, "b": 2}, id="None-value-removes-key"),
    pytest.param(None, {"a": None}, id="only-None-values"),
    pytest.param({"a": 1}, {"a": 2**64}, id="int-beyond-u64"),
    pytest.param({"a": 1}, {}, id="empty"),
    pytest.param({"a": 1}, {"": 2}, id="empty-key"),
    pytest.param({"a": 1}, {1: 2}, id="int-key"),
    pytest.param({"a": 1}, [1], id="list-instead-of-dict"),
    pytest.param({"a": 1}, {"a": {}}, id="dict-value"),
    pytest.param({"a": 1}, {"a": [], "b": 1}, id="empty-list-value"),
    pytest.param({"a": 1}, {"a": [1, "x"]}, id="mixed-list-value"),
    pytest.param({"a": 1}, {"hnsw:space": "ip"}, id="hnsw-space"),
    pytest.param({"hnsw:space": "l2"}, {"hnsw:space": "l2"}, id="same-hnsw-space"),
    pytest.param({"a": 1}, {"hnsw:search_ef": 5}, id="other-legacy-hnsw-key"),
    pytest.param({"a": 1}, {"hnsw:M": "x"}, id="bad-legacy-hnsw-value"),
    pytest.param({"a": 1}, {"#a": 1}, id="hash-key"),
    pytest.param({"a": 1}, {"chroma:document": 1}, id="reserved-key"),
    pytest.param({"a": 1}, {"a": [1, 2.0]}, id="int-and-float-list"),
    pytest.param({"a": 1}, {"a": 1, 1: 2}, id="int-key-after-str"),
]


@pytest.mark.parametrize(("before", "after"), MODIFY_METADATA)
def test_modify_metadata(pair: Pair, before: Any, after: Any) -> None:
    def scenario(s: Side) -> Any:
        col = s.create("meta", metadata=before)
        return typed_outcome(lambda: col.modify(metadata=after)), s.get("meta")

    assert_same(pair, scenario)


def test_modify_without_arguments_changes_nothing(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        col = s.create("still", metadata={"a": 1})
        col.modify()
        return col, s.get("still")

    assert_same(pair, scenario)


def test_modify_name_and_metadata_together(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        col = s.create("both", metadata={"a": 1})
        col.modify(name="both2", metadata={"q": 1})
        return col, s.get("both2"), s.names()

    assert_same(pair, scenario)


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({"metadata": {"a": None, "b": 2**70}}, id="raw-metadata"),
        pytest.param({"configuration": {"hnsw": {"num_threads": 3, "ef_search": 9}}}, id="threads"),
        pytest.param({"configuration": {"hnsw": {"resize_factor": 3}}}, id="int-resize-factor"),
        pytest.param({"configuration": {"hnsw": {"max_neighbors": 5}}}, id="max-neighbors"),
    ],
)
def test_modified_handle_caches_what_was_asked(pair: Pair, kw: Any) -> None:
    def scenario(s: Side) -> Any:
        col = s.create("cached", metadata={"a": 1})
        col.modify(**kw)
        return col, s.get("cached")

    assert_same(pair, scenario)


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        pytest.param("a", {"configuration": {"hnsw": {"space": "ip"}}}, id="bad-name-and-space"),
        pytest.param("a", {"metadata": {"": 1}}, id="bad-name-and-empty-key"),
        pytest.param(5, {"metadata": {"k": {}}}, id="int-name-and-dict-value"),
        pytest.param(5, {"configuration": {"hnsw": {"space": "ip"}}}, id="int-name-and-space"),
        pytest.param(5, {"configuration": "abc"}, id="int-name-and-str-configuration"),
        pytest.param(
            "a",
            {"configuration": {"hnsw": {"ef_search": 5}, "spann": {"search_nprobe": 5}}},
            id="bad-name-and-hnsw-and-spann",
        ),
    ],
)
def test_modify_reports_the_same_error_first(pair: Pair, name: Any, kw: Any) -> None:
    def scenario(s: Side) -> Any:
        col = s.create("first", metadata={"a": 1})
        return typed_outcome(lambda: col.modify(name=name, **kw)), s.get("first")

    assert_same(pair, scenario)


def test_other_handle_keeps_its_cached_metadata(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        col = s.create("cached", metadata={"a": 1})
        other = s.get("cached")
        col.modify(metadata={"b": 1})
        return other.metadata, s.get("cached").metadata

    assert_same(pair, scenario)


# --------------------------------------------------------------------------------------------
# Modify: configuration
# --------------------------------------------------------------------------------------------

MODIFY_CONFIGURATION = [
    pytest.param({}, id="empty"),
    pytest.param({"foo": {}}, id="unknown-top-level-key"),
    pytest.param({"hnsw": {"ef_search": 7}}, id="ef-search"),
    pytest.param({"hnsw": {"sync_threshold": 5}}, id="sync-threshold"),
    pytest.param({"hnsw": {"resize_factor": 2.0}}, id="resize-factor"),
    pytest.param({"hnsw": {"num_threads": 2}}, id="num-threads"),
    pytest.param({"hnsw": {"batch_size": 5}}, id="batch-size"),
    pytest.param({"hnsw": {"space": "ip"}}, id="space"),
    pytest.param({"hnsw": {"ef_construction": 7}}, id="ef-construction"),
    pytest.param({"hnsw": {"ef_search": -1}}, id="negative-ef-search"),
    pytest.param({"hnsw": {"ef_search": 1.5}}, id="float-ef-search"),
    pytest.param({"hnsw": {"ef_search": "x"}}, id="str-ef-search"),
    pytest.param({"hnsw": {"ef_search": True}}, id="bool-ef-search"),
    pytest.param({"hnsw": 5}, id="hnsw-not-a-dict"),
    pytest.param({"spann": {"search_nprobe": 5}}, id="spann-on-hnsw-collection"),
    pytest.param({"spann": {}}, id="empty-spann"),
    pytest.param({"hnsw": {"max_neighbors": 5}}, id="max-neighbors"),
    pytest.param({"hnsw": {"resize_factor": 3}}, id="int-resize-factor"),
    pytest.param({"hnsw": {"ef_search": None}}, id="None-ef-search"),
    pytest.param({"hnsw": {"num_threads": -1}}, id="negative-num-threads"),
    pytest.param({"hnsw": {"ef_search": 5}, "spann": {"search_nprobe": 5}}, id="hnsw-and-spann"),
    pytest.param({"spann": {"foo": 5}}, id="unknown-spann-field"),
    pytest.param({"hnsw": []}, id="empty-hnsw-list"),
    pytest.param({"hnsw": [None] * 6}, id="full-hnsw-list"),
    pytest.param("abc", id="str-instead-of-dict"),
    pytest.param("", id="empty-str"),
]


@pytest.mark.parametrize("configuration", MODIFY_CONFIGURATION)
def test_modify_configuration(pair: Pair, configuration: Any) -> None:
    def scenario(s: Side) -> Any:
        col = s.create("tuned")
        return typed_outcome(lambda: col.modify(configuration=configuration)), s.get("tuned")

    assert_same(pair, scenario)


# --------------------------------------------------------------------------------------------
# Listing and counting collections
# --------------------------------------------------------------------------------------------

LISTED = ["zeta", "alpha", "mid", "Beta", "10x", "2xx"]


def test_list_and_count_collections_of_a_new_database(pair: Pair) -> None:
    assert_same(pair, lambda s: (s.client.list_collections(), s.client.count_collections()))


def test_list_collections_returns_every_collection_with_its_metadata(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        for i, name in enumerate(LISTED):
            s.create(name, metadata={"i": i})
        listed = s.client.list_collections()
        return (
            sorted((c.name, c.metadata["i"], type(c).__name__) for c in listed),
            s.client.count_collections(),
        )

    assert_same(pair, scenario)


@pytest.mark.parametrize(
    ("limit", "offset"),
    [
        pytest.param(2, None, id="limit"),
        pytest.param(None, 2, id="offset"),
        pytest.param(2, 1, id="limit-and-offset"),
        pytest.param(0, None, id="limit-0"),
        pytest.param(None, 0, id="offset-0"),
        pytest.param(10, 4, id="limit-past-the-end"),
        pytest.param(None, 6, id="offset-at-the-end"),
        pytest.param(None, 10, id="offset-past-the-end"),
        pytest.param(True, None, id="bool-limit"),
    ],
)
def test_list_collections_pages_are_slices_of_the_full_listing(
    pair: Pair, limit: Any, offset: Any
) -> None:
    def scenario(s: Side) -> Any:
        for name in LISTED:
            s.create(name)
        full = [c.name for c in s.client.list_collections()]
        page = [c.name for c in s.client.list_collections(limit=limit, offset=offset)]
        start = offset or 0
        end = None if limit is None else start + limit
        return len(page), page == full[start:end]

    assert_same(pair, scenario)


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({"limit": -1}, id="negative-limit"),
        pytest.param({"offset": -1}, id="negative-offset"),
        pytest.param({"limit": 1.5}, id="float-limit"),
        pytest.param({"limit": "2"}, id="str-limit"),
        pytest.param({"offset": 1.5}, id="float-offset"),
    ],
)
def test_list_collections_rejects_bad_limit_or_offset(pair: Pair, kw: Any) -> None:
    assert_same(pair, lambda s: s.client.list_collections(**kw))


def test_count_collections_follows_creates_renames_and_deletes(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        counts = [s.client.count_collections()]
        for name in ("one", "two", "three"):
            s.create(name)
            counts.append(s.client.count_collections())
        s.get("two").modify(name="deux")
        counts.append(s.client.count_collections())
        s.client.delete_collection("one")
        counts.append(s.client.count_collections())
        return counts, s.names()

    assert_same(pair, scenario)


# --------------------------------------------------------------------------------------------
# Tenants
# --------------------------------------------------------------------------------------------


def test_created_tenant_can_be_read_back(pair: Pair) -> None:
    name = unique("tenant")
    assert_same(pair, lambda s: (s.admin.create_tenant(name), s.admin.get_tenant(name)))


def test_default_tenant_exists(pair: Pair) -> None:
    assert_same(pair, lambda s: s.admin.get_tenant("default_tenant"))


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(THIS_TENANT, id="existing"),
        pytest.param("default_tenant", id="default"),
    ],
)
def test_create_existing_tenant_is_internal_error(pair: Pair, name: str) -> None:
    assert_same(
        pair,
        lambda s: s.admin.create_tenant(s.resolve(name)),
    )


TENANT_NAMES = [
    pytest.param("{u}", id="ordinary"),
    pytest.param("ab", id="2-chars"),
    pytest.param("a", id="1-char"),
    pytest.param("", id="empty"),
    pytest.param("a b {u}", id="space"),
    pytest.param("-{u}", id="starts-with-dash"),
    pytest.param("1.2.3.4.{u}", id="dotted-digits"),
    pytest.param("a..b{u}", id="two-periods"),
    pytest.param("$${u}", id="dollar"),
    pytest.param("{u}" + "a" * 300, id="300-chars"),
    pytest.param("äb", id="2-chars-3-bytes"),
    pytest.param(None, id="None"),
    pytest.param(5, id="int"),
]


@pytest.mark.parametrize("template", TENANT_NAMES)
def test_create_tenant_name_rules(pair: Pair, template: Any) -> None:
    # Tenants are global to the process: valid names get a unique part ({u}).
    name = template.format(u=uuid.uuid4().hex[:8]) if isinstance(template, str) else template
    assert_same(pair, lambda s: (s.admin.create_tenant(name), s.admin.get_tenant(name)))


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("no-such-tenant", id="valid-name"),
        pytest.param("a", id="short-name"),
        pytest.param(None, id="None"),
    ],
)
def test_get_missing_tenant_is_not_found(pair: Pair, name: Any) -> None:
    assert_same(pair, lambda s: s.admin.get_tenant(name))


# --------------------------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------------------------


def test_created_database_can_be_read_back(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        s.admin.create_database("second", s.tenant)
        db = s.admin.get_database("second", s.tenant)
        return db, db["tenant"] == s.tenant

    assert_same(pair, scenario)


def test_default_database_has_the_nil_uuid(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        db = s.admin.get_database("default_database")
        return db["name"], db["tenant"], str(db["id"])

    assert_same(pair, scenario)


DATABASE_NAMES = [
    pytest.param("abc", id="3-chars"),
    pytest.param("ab", id="2-chars"),
    pytest.param("", id="empty"),
    pytest.param("a b", id="space"),
    pytest.param("-ab", id="starts-with-dash"),
    pytest.param("1.2.3.4", id="ipv4-address"),
    pytest.param("a..b", id="two-periods"),
    pytest.param("ab$", id="dollar"),
    pytest.param("a" * 600, id="600-chars"),
    pytest.param("default_database", id="default-name-in-another-tenant"),
    pytest.param("äb", id="3-bytes-2-chars"),
    pytest.param("ä", id="2-bytes"),
    pytest.param(None, id="None"),
    pytest.param(5, id="int"),
]


@pytest.mark.parametrize("name", DATABASE_NAMES)
def test_create_database_name_rules(pair: Pair, name: Any) -> None:
    def scenario(s: Side) -> Any:
        s.admin.create_database(name, s.tenant)
        db = s.admin.get_database(name, s.tenant)
        return db["name"], db["tenant"] == s.tenant

    assert_same(pair, scenario)


@pytest.mark.parametrize(
    ("name", "tenant"),
    [
        pytest.param("main", THIS_TENANT, id="existing"),
        pytest.param("default_database", "default_tenant", id="default"),
    ],
)
def test_create_existing_database_is_internal_error(pair: Pair, name: str, tenant: str) -> None:
    assert_same(
        pair,
        lambda s: s.admin.create_database(name, s.resolve(tenant)),
    )


@pytest.mark.parametrize(
    ("name", "tenant"),
    [
        pytest.param("nothing", THIS_TENANT, id="missing-database"),
        pytest.param("main", "no-such-tenant", id="missing-tenant"),
        pytest.param("ab", THIS_TENANT, id="short-name"),
        pytest.param(None, THIS_TENANT, id="None"),
    ],
)
def test_get_missing_database_is_not_found(pair: Pair, name: Any, tenant: str) -> None:
    assert_same(
        pair,
        lambda s: s.admin.get_database(name, s.resolve(tenant)),
    )


def test_list_databases_is_ordered_by_name(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        for name in ("db-b", "db-c", "db-a", "Zeta", "0db"):
            s.admin.create_database(name, s.tenant)
        return [db["name"] for db in s.admin.list_databases(tenant=s.tenant)]

    assert_same(pair, scenario)


def test_list_databases_of_default_tenant_includes_default_database(pair: Pair) -> None:
    assert_same(
        pair,
        lambda s: "default_database" in [db["name"] for db in s.admin.list_databases()],
    )


@pytest.mark.parametrize(
    ("limit", "offset"),
    [
        pytest.param(2, None, id="limit"),
        pytest.param(None, 2, id="offset"),
        pytest.param(1, 1, id="limit-and-offset"),
        pytest.param(0, None, id="limit-0"),
        pytest.param(None, 9, id="offset-past-the-end"),
    ],
)
def test_list_databases_pages(pair: Pair, limit: Any, offset: Any) -> None:
    def scenario(s: Side) -> Any:
        for name in ("db-b", "db-a"):
            s.admin.create_database(name, s.tenant)
        return s.admin.list_databases(limit=limit, offset=offset, tenant=s.tenant)

    assert_same(pair, scenario)


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({"limit": -1}, id="negative-limit"),
        pytest.param({"offset": -1}, id="negative-offset"),
        pytest.param({"limit": 1.5}, id="float-limit"),
    ],
)
def test_list_databases_rejects_bad_limit_or_offset(pair: Pair, kw: Any) -> None:
    assert_same(pair, lambda s: s.admin.list_databases(tenant=s.tenant, **kw))


def test_list_databases_of_missing_tenant_is_empty(pair: Pair) -> None:
    assert_same(pair, lambda s: s.admin.list_databases(tenant="no-such-tenant"))


def test_deleted_database_is_gone(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        s.admin.create_database("doomed", s.tenant)
        s.admin.delete_database("doomed", s.tenant)
        return (
            [db["name"] for db in s.admin.list_databases(tenant=s.tenant)],
            typed_outcome(lambda: s.admin.get_database("doomed", s.tenant)),
            typed_outcome(lambda: s.admin.delete_database("doomed", s.tenant)),
        )

    assert_same(pair, scenario)


@pytest.mark.parametrize(
    ("name", "tenant"),
    [
        pytest.param("nothing", THIS_TENANT, id="missing-database"),
        pytest.param("main", "no-such-tenant", id="missing-tenant"),
        pytest.param("a", THIS_TENANT, id="short-name"),
    ],
)
def test_delete_missing_database_is_not_found(pair: Pair, name: str, tenant: str) -> None:
    assert_same(
        pair,
        lambda s: s.admin.delete_database(name, s.resolve(tenant)),
    )


def test_deleting_a_database_deletes_its_collections(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        s.admin.create_database("temp", s.tenant)
        s.new_client(tenant=s.tenant, database="temp").create_collection(
            "inside", embedding_function=None
        )
        s.admin.delete_database("temp", s.tenant)
        s.admin.create_database("temp", s.tenant)
        again = s.new_client(tenant=s.tenant, database="temp")
        return again.list_collections(), again.count_collections()

    assert_same(pair, scenario)


def test_client_of_a_deleted_database(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        s.admin.create_database("temp", s.tenant)
        stale = s.new_client(tenant=s.tenant, database="temp")
        stale.create_collection("inside", embedding_function=None)
        s.admin.delete_database("temp", s.tenant)
        return (
            typed_outcome(lambda: stale.list_collections()),
            typed_outcome(lambda: stale.count_collections()),
            typed_outcome(lambda: stale.create_collection("new", embedding_function=None)),
            typed_outcome(lambda: stale.get_collection("inside", embedding_function=None)),
            typed_outcome(lambda: s.new_client(tenant=s.tenant, database="temp")),
        )

    assert_same(pair, scenario)


# --------------------------------------------------------------------------------------------
# Client scope: tenant and database
# --------------------------------------------------------------------------------------------


def test_collections_are_scoped_to_their_database(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        s.admin.create_database("other", s.tenant)
        other = s.new_client(tenant=s.tenant, database="other")
        s.create("shared-name", metadata={"db": "main"})
        other.create_collection("shared-name", metadata={"db": "other"}, embedding_function=None)
        other.create_collection("only-other", embedding_function=None)
        return (
            s.get("shared-name"),
            other.get_collection("shared-name", embedding_function=None),
            s.names(),
            s.names(other),
            s.client.count_collections(),
            other.count_collections(),
            typed_outcome(lambda: s.get("only-other")),
            (other.tenant == s.tenant, other.database),
        )

    assert_same(pair, scenario)


def test_set_tenant_and_set_database_rescope_the_client(pair: Pair) -> None:
    def scenario(s: Side) -> Any:
        s.create("in-main")
        s.admin.create_database("other", s.tenant)
        client = s.new_client()
        client.set_tenant(s.tenant, "main")
        seen_main = s.names(client), client.tenant == s.tenant, client.database
        client.set_database("other")
        return seen_main, s.names(client), client.database

    assert_same(pair, scenario)


@pytest.mark.parametrize(
    ("tenant", "database"),
    [
        pytest.param("no-such-tenant", "default_database", id="missing-tenant"),
        pytest.param("no-such-tenant", "no-such-db", id="missing-tenant-and-database"),
        pytest.param(THIS_TENANT, "no-such-db", id="missing-database"),
        pytest.param(THIS_TENANT, "default_database", id="tenant-without-default-database"),
    ],
)
def test_set_tenant_to_missing_ones_fails_and_keeps_the_scope(
    pair: Pair, tenant: str, database: str
) -> None:
    def scenario(s: Side) -> Any:
        s.create("in-main")
        return (
            typed_outcome(lambda: s.client.set_tenant(s.resolve(tenant), database)),
            s.client.tenant == s.tenant,
            s.client.database,
            s.names(),
        )

    assert_same(pair, scenario)


@pytest.mark.parametrize("database", ["no-such-db", "ab", 5])
def test_set_database_to_missing_one_fails_and_keeps_the_scope(pair: Pair, database: Any) -> None:
    def scenario(s: Side) -> Any:
        s.create("in-main")
        return typed_outcome(lambda: s.client.set_database(database)), s.client.database, s.names()

    assert_same(pair, scenario)


@pytest.mark.parametrize("tenant", [5, "a"])
def test_set_tenant_to_a_bad_name_fails_and_keeps_the_scope(pair: Pair, tenant: Any) -> None:
    def scenario(s: Side) -> Any:
        return typed_outcome(lambda: s.client.set_tenant(tenant)), s.client.tenant == s.tenant

    assert_same(pair, scenario)


@pytest.mark.parametrize(
    ("tenant", "database"),
    [
        pytest.param("no-such-tenant", "default_database", id="missing-tenant"),
        pytest.param("no-such-tenant", "no-such-db", id="missing-tenant-and-database"),
        pytest.param("default_tenant", "no-such-db", id="missing-database"),
    ],
)
def test_client_for_missing_tenant_or_database_fails(
    pair: Pair, tenant: str, database: str
) -> None:
    assert_same(pair, lambda s: s.new_client(tenant=tenant, database=database))


# --------------------------------------------------------------------------------------------
# Client utilities
# --------------------------------------------------------------------------------------------


def test_get_max_batch_size(pair: Pair) -> None:
    assert_same(pair, lambda s: s.client.get_max_batch_size())


def test_heartbeat_is_the_time_in_nanoseconds(pair: Pair) -> None:
    def heartbeat(s: Side) -> Any:
        beat = s.client.heartbeat()
        return type(beat).__name__, abs(beat - time.time_ns()) < 10 * 10**9

    assert_same(pair, heartbeat)


def test_reset_is_refused_without_allow_reset(pair: Pair, tmp_path: Path) -> None:
    # A persistent client with default settings: a reset that wrongly succeeded on the shared
    # ephemeral store would wipe the other tests' data.
    def reset(s: Side) -> Any:
        client = s.lib.PersistentClient(path=str(tmp_path / s.lib.__name__))
        try:
            return client.reset()
        finally:
            if s.lib is achroma:
                client.close()

    assert_same(pair, reset)
