"""Settings: environment variables ``ANJIAN_*`` over an optional TOML file over defaults."""

from __future__ import annotations

import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

NODE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


class Settings(BaseSettings):
    """Node configuration. Every field can be set as ``ANJIAN_<FIELD>`` or in the TOML file
    named by ``ANJIAN_CONFIG`` (default ``<data dir>/anjian.toml`` when present)."""

    model_config = SettingsConfigDict(env_prefix="ANJIAN_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="where SQLite, keys and uploads live")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty = SQLite in data_dir")
    node_division: str = Field(default="000000", description="GB/T 2260 code of this node")
    node_id: str = Field(default="", description="origin-node name; empty = node-<division>")
    host: str = "127.0.0.1"
    # A request body larger than this is refused (413) before any of it is parsed; the sync
    # endpoint reads its own body, with its own limit (64 MB) and per-sender refusal count.
    max_request_bytes: int = Field(default=32 * 1024 * 1024, ge=1024 * 1024)
    # A request the database failed before anything of it was committed (a failover of the
    # 一主两备) is sent through again for up to this many seconds before the client gets its
    # 503; 0 answers 503 at once. Patroni's takeover here takes about 10 s.
    db_retry_seconds: float = Field(default=20.0, ge=0, le=120)
    port: int = 8000
    # 等保 level 3 (GB/T 22239-2019 8.1.4.1): login-failure handling and idle logout.
    lockout_threshold: int = 5
    lockout_window_minutes: int = 15
    lockout_minutes: int = 30
    session_idle_minutes: int = 30
    # Login throttling on top of the lockout (HTTP 429 with Retry-After): attempts per minute
    # from one client address (an office behind one NAT address logs in through it, so keep it
    # generous) and for one user name (known or not).
    login_rate_per_ip: int = Field(default=60, ge=1)
    login_rate_per_account: int = Field(default=10, ge=1)
    # The public page of random draws (双随机一公开, no login): requests a minute from one client
    # address before 429.
    public_rate_per_ip: int = Field(default=60, ge=1)
    session_max_hours: int = 12
    password_min_length: int = 8
    password_max_age_days: int = 90  # 等保: credentials changed periodically
    # argon2id cost (defaults: the library's recommendation, ~0.2 s per hash on one core);
    # lower only where hashing speed matters more than resistance (test suites).
    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_memory_kib: int = Field(default=65536, ge=8)
    mfa_required_roles: list[str] = Field(default_factory=lambda: ["admin", "official"])
    # Cybersecurity Law Art. 21(3): keep logs ≥ six months; 184 days covers any six months.
    audit_retention_days: int = 184
    # Minutes between seals of the audit chain's head made inside `anjian serve` (a cut chain
    # is found down to the last seal: records newer than it are not covered).
    audit_seal_minutes: float = Field(default=10.0, gt=0)
    # Console cookies: "auto" = Secure when the request came over HTTPS (TLS here, or
    # X-Forwarded-Proto: https from a trusted proxy), so a node opened over plain HTTP on an
    # intranet address can still log in; true/false force it.
    cookie_secure: Literal["auto"] | bool = "auto"
    # Reverse proxies (addresses or networks, e.g. ["10.0.0.2", "10.1.0.0/24"]) whose
    # X-Forwarded-Proto is believed; anyone else's is ignored. Empty = no proxy is trusted.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Tiered nodes: the forwarder thread inside `anjian serve` and its idle interval.
    sync_forwarder: bool = True
    sync_interval_s: float = 1.0
    sync_max_backoff_s: float = 30.0  # retry interval ceiling while the parent is unreachable
    # Refused node-to-node messages per minute from one client address or one claimed node
    # before the answer is 429; refusals are audited as one record per claimed node and
    # interval (the first in full, the rest as a count).
    sync_refusals_per_minute: int = Field(default=10, ge=1)
    sync_refusal_summary_s: int = Field(default=300, ge=1)
    # outbox rows the parent has stored are deleted after this many days (0: kept for ever)
    outbox_retention_days: int = Field(default=90, ge=0)
    # Scheduled work inside `anjian serve` (overdue hidden hazards flagged and escalated).
    background_jobs: bool = True
    # Base map: an intranet tile server or 天地图 URL template ({z}/{x}/{y}); empty = no tiles.
    # The major-accident-hazard criteria (重大事故隐患判定标准) used as enforcement checklists:
    # empty = the packaged file (its wording is not verified against the official texts).
    enforcement_criteria_file: Path | None = None
    # The legal bases and fine ranges of penalties (处罚依据): empty = the packaged file.
    enforcement_penalty_bases_file: Path | None = None
    # Enforcement documents' number prefixes by agency division (e.g. {"140622": "应县应急"}):
    # a division not listed uses its name and 应急.
    enforcement_document_prefixes: dict[str, str] = Field(default_factory=dict)
    # The browser that prints enforcement documents as PDF (headless Chromium): a command or a
    # path; empty = chromium, chromium-browser or google-chrome when on the PATH; "off" = none.
    pdf_renderer: str = ""
    # Lists count their matches exactly up to this many; past it the total is an estimate
    # (PostgreSQL's planner) or a lower bound, and the page says 约 — a count of a million rows
    # is most of a list's time at a national node.
    list_count_limit: int = Field(default=10_000, ge=1)
    map_tile_url: str = ""
    map_attribution: str = ""
    # 风险分级 (risk grading): which published thresholds grade LEC scores D and risk-matrix
    # scores R (REFERENCE §4.2–4.3); LS convention B is the sourced one, A is unverified.
    risk_lec_convention: Literal["A", "B"] = "A"
    risk_ls_convention: Literal["A", "B"] = "B"
    # 在线监测 (online monitoring): the MQTT broker gateways publish to (e.g.
    # mqtt://user:pass@host:1883); empty = an embedded broker on mqtt_embedded_port.
    mqtt_url: str = ""
    mqtt_embedded_port: int = 1883
    mqtt_ingest: bool = True  # run the MQTT ingest worker inside `anjian serve`
    mqtt_client_id: str = ""  # a persistent session per worker; empty = anjian-ingest-<node>
    mqtt_shared_group: str = "anjian-ingest"  # shared subscription group on an external broker
    monitoring_retention_days: int = Field(default=180, ge=30)  # Order No. 40: ≥ 30 days
    # A finished day's readings are packed (PostgreSQL) once this many whole days have followed it.
    monitoring_pack_after_days: int = Field(default=1, ge=0)
    # Where days leaving the retention are archived before they are dropped; empty = dropped.
    monitoring_archive_dir: str = ""
    # Scheduled backups (anjian.ops): where, under which key file (the operator's, kept apart
    # from the node), how often and how many are kept; an empty directory = none.
    # Who may read GET /metrics: with a token, whoever sends it as a bearer token; without one,
    # the machine itself (loopback) only.
    metrics_token: str = ""
    backup_dir: str = ""
    backup_key_file: str = ""
    backup_every_hours: float = Field(default=24.0, gt=0)
    backup_keep: int = Field(default=7, ge=1)
    # The service desk's (服务台) clocks by priority 1 紧急, 2 高, 3 中, 4 低, in minutes: time to
    # own (受理) and time to resolve (解决). ITIL-style defaults (GLPI and iTop ship similar
    # ones), not figures from a regulation: each operator sets its own.
    desk_own_minutes: list[int] = Field(default_factory=lambda: [15, 30, 240, 1440])
    desk_resolve_minutes: list[int] = Field(default_factory=lambda: [240, 480, 4320, 14400])
    # minute summaries (the trends every tier draws): a year, for comparing with last year
    monitoring_minutes_retention_days: int = Field(default=366, ge=30)
    monitoring_max_future_s: float = 300.0  # readings later than this ahead of us are refused
    # Minutes an alarm may stay unacknowledged before it is escalated to the upper tier's duty
    # desk, for 一级 and 二级 alarms. The MEM handling time limits were not found (REFERENCE
    # §5.4, unverified): set them from the provincial rule.
    alarm_ack_minutes_level1: float = Field(default=10.0, gt=0)
    alarm_ack_minutes_level2: float = Field(default=30.0, gt=0)
    # 应急预案与演练: a plan is due for assessment and revision this many years after it was
    # issued or last revised, flagged this many days before; a plan not drilled for this many
    # months is flagged. 《生产安全事故应急预案管理办法》 (2019) is read as 3 years and a yearly
    # drill; not yet verified in REFERENCE.md, so set them from the provincial rule.
    plan_revision_years: int = Field(default=3, ge=1, le=10)
    plan_revision_warn_days: int = Field(default=90, ge=0, le=365)
    drill_interval_months: int = Field(default=12, ge=1, le=60)
    # 值班值守: minutes a duty desk has to pass a receipt on (转报) before it shows overdue; the
    # national timing rule is not verified in REFERENCE.md: set it from the provincial rule.
    duty_pass_on_minutes: int = Field(default=30, ge=1, le=1440)
    # 事故分级: missing persons count as deaths for a report's provisional grade (Order 493
    # grades by deaths; statistics count a person missing 30 days as dead).
    accident_missing_as_deaths: bool = True

    @field_validator("node_division")
    @classmethod
    def _six_digits(cls, v: str) -> str:
        if len(v) != 6 or not v.isdigit():
            raise ValueError("node_division must be a six-digit GB/T 2260 code")
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, v: list[str]) -> list[str]:
        import ipaddress

        for entry in v:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: not an address or network: {entry!r}") from None
        return v

    @field_validator("node_id")
    @classmethod
    def _node_id_charset(cls, v: str) -> str:
        # What a parent accepts as a sender (see anjian.core.sync.protocol.check_header).
        if v and not NODE_ID.fullmatch(v):
            raise ValueError("node_id: up to 64 of A-Z a-z 0-9 . _ : - (starting alphanumeric)")
        return v

    @field_validator("desk_own_minutes", "desk_resolve_minutes")
    @classmethod
    def _four_clocks(cls, v: list[int]) -> list[int]:
        if len(v) != 4 or not all(1 <= m <= 366 * 24 * 60 for m in v):
            raise ValueError("four clocks in minutes (priority 1 to 4), each 1 to 527040")
        return v

    @model_validator(mode="after")
    def _owned_before_resolved(self) -> Settings:
        for priority, (own, resolve) in enumerate(
            zip(self.desk_own_minutes, self.desk_resolve_minutes, strict=True), 1
        ):
            if own > resolve:
                raise ValueError(
                    f"desk_own_minutes[{priority - 1}] ({own}) is past "
                    f"desk_resolve_minutes[{priority - 1}] ({resolve})"
                )
        return self

    @field_validator("audit_retention_days")
    @classmethod
    def _retention_floor(cls, v: int) -> int:
        if v < 180:
            raise ValueError("audit_retention_days must be at least 180 (Cybersecurity Law)")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = config_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if Path(toml_path).is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or SQLite under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'anjian.db').resolve()}"

    @property
    def effective_node_id(self) -> str:
        return self.node_id or f"node-{self.node_division}"

    def key_file(self, name: str) -> bytes:
        """A 32-byte secret kept in ``data_dir/keys/<name>.key``, created on first use.

        Keys live outside the database so that a copy of the database alone cannot forge
        audit records or decrypt personal data."""
        path = self.data_dir / "keys" / f"{name}.key"
        if not path.exists():
            private_dir(path.parent)
            tmp = path.with_suffix(f".{secrets.token_hex(8)}.tmp")
            tmp.write_bytes(secrets.token_bytes(32))
            os.chmod(tmp, 0o600)
            # link() fails if another process won the race: both then read the winner's key.
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_bytes()


def private_dir(path: Path) -> Path:
    """``path`` as a directory, each folder this creates (missing parents too) open to this
    user only (0700, whatever the umask): the data directory holds the database, its keys and
    uploads. An existing folder is left as it is (its owner chose its mode)."""
    missing: list[Path] = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # another process made it first
            continue
        os.chmod(folder, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty and readable by this user only (0600) unless it exists. SQLite
    gives its -wal and -shm files the mode of the database file, so they follow."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    os.close(fd)
    os.chmod(path, 0o600)
    return path


def config_path() -> Path:
    """The TOML file settings are read from (and ``anjian node init`` writes)."""
    return Path(
        os.environ.get("ANJIAN_CONFIG")
        or Path(os.environ.get("ANJIAN_DATA_DIR", "data")) / "anjian.toml"
    )


def write_config(values: dict[str, str | int | float | bool | list[str]]) -> Path:
    """Merge ``values`` into the TOML file (flat keys only), atomically."""
    import json
    import tomllib

    path = config_path()
    current: dict[str, object] = {}
    if path.is_file():
        current = tomllib.loads(path.read_text(encoding="utf-8"))
    current.update(values)
    lines = ["# Anjian Cloud node settings (environment variables ANJIAN_* override these)"]
    for key, value in current.items():
        rendered = (
            ("true" if value else "false")
            if isinstance(value, bool)
            else json.dumps(value, ensure_ascii=False)
        )
        lines.append(f"{key} = {rendered}")
    private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests clear the cache to change them)."""
    return Settings()
