"""Configuration: defaults, TOML file, environment over file, bad values refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from anjian.config import Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for key in (
        "ANJIAN_DATABASE_URL",
        "ANJIAN_NODE_DIVISION",
        "ANJIAN_CONFIG",
        "ANJIAN_MFA_REQUIRED_ROLES",
        "ANJIAN_SESSION_IDLE_MINUTES",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ANJIAN_DATA_DIR", str(tmp_path))


def test_defaults_use_sqlite_in_data_dir(tmp_path) -> None:
    s = Settings()
    assert s.effective_database_url == f"sqlite:///{(tmp_path / 'anjian.db').resolve()}"
    assert s.node_division == "000000"
    assert s.mfa_required_roles == ["admin", "official"]
    assert s.audit_retention_days >= 180


def test_toml_file_then_environment(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "anjian.toml").write_text(
        'node_division = "140600"\nsession_idle_minutes = 15\n'
        'database_url = "postgresql+psycopg://postgres@127.0.0.1/x"\n',
        encoding="utf-8",
    )
    s = Settings()
    assert s.node_division == "140600"
    assert s.session_idle_minutes == 15
    assert s.effective_node_id == "node-140600"
    monkeypatch.setenv("ANJIAN_SESSION_IDLE_MINUTES", "10")
    assert Settings().session_idle_minutes == 10


def test_explicit_config_path(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text('node_division = "140622"\n', encoding="utf-8")
    monkeypatch.setenv("ANJIAN_CONFIG", str(path))
    assert Settings().node_division == "140622"


@pytest.mark.parametrize(
    ("key", "value"), [("ANJIAN_NODE_DIVISION", "14"), ("ANJIAN_AUDIT_RETENTION_DAYS", "90")]
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, key: str, value: str) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError):
        Settings()
