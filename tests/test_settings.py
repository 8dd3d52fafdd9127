"""Settings: Chroma's names, environment variables, `configure` and `Client(settings)`."""

from __future__ import annotations

from pathlib import Path

import pytest

import achroma
from achroma import config


def test_defaults_match_chroma() -> None:
    s = achroma.Settings()
    assert s.allow_reset is False
    assert s.is_persistent is False
    assert s.persist_directory == "./chroma"
    assert s.anonymized_telemetry is True
    assert s.chroma_server_ssl_enabled is False


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOW_RESET", "TRUE")
    monkeypatch.setenv("CHROMA_SERVER_HTTP_PORT", "9001")
    s = achroma.Settings()
    assert s.allow_reset is True
    assert s.chroma_server_http_port == 9001


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("PERSIST_DIRECTORY=/tmp/from-dotenv\n")
    assert achroma.Settings().persist_directory == "/tmp/from-dotenv"


def test_configure_changes_global_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "_global_settings", None)
    achroma.configure(allow_reset=True, chroma_server_host="example")
    assert achroma.get_settings().allow_reset is True
    assert achroma.get_settings().chroma_server_host == "example"


def test_client_from_settings_picks_persistent_engine(tmp_path: Path) -> None:
    settings = achroma.Settings(is_persistent=True, persist_directory=str(tmp_path))
    with achroma.Client(settings) as client:
        client.create_collection("docs")
    assert (tmp_path / "achroma.sqlite3").exists()
    with achroma.PersistentClient(tmp_path) as client:
        assert client.get_collection("docs").name == "docs"


def test_rust_client_is_persistent_with_a_path(tmp_path: Path) -> None:
    with achroma.RustClient(path=str(tmp_path)) as client:
        client.create_collection("docs")
    assert (tmp_path / "achroma.sqlite3").exists()


def test_client_get_settings_returns_its_settings(tmp_path: Path) -> None:
    with achroma.PersistentClient(tmp_path, settings=achroma.Settings(allow_reset=True)) as c:
        s = c.get_settings()
        assert s.allow_reset is True and s.is_persistent is True
        assert s.persist_directory == str(tmp_path)
