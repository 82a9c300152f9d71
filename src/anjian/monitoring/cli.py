"""The monitoring commands: ``anjian gateway token`` (a gateway's ingest credentials),
``anjian ingest`` (MQTT ingest workers without the web server) and ``anjian simulate``
(simulated gateways), and the pieces ``anjian demo --serve`` uses to feed the demo's points."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.markup import escape

from anjian.config import get_settings
from anjian.core.cli import cli_actor, cli_errors, console, ensure_schema, err
from anjian.core.errors import AnjianError

gateway_app = typer.Typer(help="在线监测接入 (monitoring gateways)", no_args_is_help=True)
readings_app = typer.Typer(help="实时数据存储 (stored readings)", no_args_is_help=True)
# ``anjian ingest`` and ``anjian simulate``: commands of the root, added to it without a name.
monitoring_commands = typer.Typer()


@gateway_app.command("token")
@cli_errors
def gateway_token(
    uscc: Annotated[str, typer.Argument(help="企业统一社会信用代码 (the enterprise's USCC)")],
) -> None:
    """签发接入凭证 (issue the ingest token of an enterprise's gateway; an earlier one stops
    working). Prints the token: the Bearer token of HTTP ingest and the MQTT password, with
    the USCC as the MQTT username."""
    from anjian.db import unit_of_work
    from anjian.monitoring.gateways import issue_token

    ensure_schema()
    with unit_of_work() as db:
        token = issue_token(db, cli_actor(), uscc)
    err.print(
        f"[green]已签发[/green] {token.uscc}: MQTT 用户名 {token.mqtt_username}, 主题 "
        f"{token.topic_readings} / {token.topic_status}; HTTP: Authorization: Bearer <token> "
        "(shown once; only its SM3-HMAC is kept)"
    )
    print(token.token)


@monitoring_commands.command()
@cli_errors
def ingest(
    workers: Annotated[
        int,
        typer.Option(min=1, max=64, help="接入进程数 (worker processes: one core each)"),
    ] = 1,
    threads: Annotated[
        int,
        typer.Option(
            min=1,
            max=16,
            help="每个进程的接入线程数 (ingest threads per process: while one waits for the "
            "database another works)",
        ),
    ] = 1,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="在本机此端口提供 /metrics (Prometheus; worker i on port + i, 127.0.0.1 only)",
        ),
    ] = None,
) -> None:
    """运行 MQTT 接入 (run MQTT ingest workers without the web server; needs ANJIAN_MQTT_URL).
    Each worker is a process of its own with its own persistent session, sharing the load with
    `anjian serve` and other ingest processes through the broker's shared subscription. Inside
    a worker each enterprise is pinned to one of its threads, which keeps the enterprise's
    points in memory: on a small node one worker with 2–4 threads goes furthest. Stops on
    Ctrl-C or SIGTERM."""
    import multiprocessing

    from anjian.monitoring.mqtt import broker_of

    settings = get_settings()
    if not settings.mqtt_url:
        raise AnjianError(
            "须配置外部 MQTT 服务器 ANJIAN_MQTT_URL (set ANJIAN_MQTT_URL: the embedded broker "
            "lives inside anjian serve)",
            field="ANJIAN_MQTT_URL",
        )
    ensure_schema()
    base = settings.mqtt_client_id or f"anjian-ingest-{settings.effective_node_id}"
    b = broker_of(settings)
    err.print(
        f"MQTT 接入已启动 (ingest running): {workers} worker(s) × {threads} thread(s), "
        f"{b.host}:{b.port}"
    )
    if workers == 1:
        _ingest_worker(f"{base}-0", False, threads, metrics_port)
        return
    spawn = multiprocessing.get_context("spawn")
    procs = [
        spawn.Process(
            target=_ingest_worker,
            args=(f"{base}-{i}", True, threads, metrics_port + i if metrics_port else None),
            name=f"{base}-{i}",
        )
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()
    try:
        for proc in procs:
            proc.join()
    except KeyboardInterrupt:
        pass
    finally:
        for proc in procs:
            proc.terminate()  # SIGTERM: the worker stops after its current batch
        for proc in procs:
            proc.join(timeout=15)


def _ingest_worker(client_id: str, child: bool, threads: int, metrics_port: int | None) -> None:
    """One ingest worker process with ``threads`` lanes: runs until SIGTERM or Ctrl-C (a child
    process also ends when its parent is gone, so no worker outlives ``anjian ingest``); with a
    ``metrics_port``, its metrics served on 127.0.0.1 there."""
    import logging
    import os
    import signal
    import threading

    from anjian.monitoring.mqtt import IngestWorker, broker_of

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = get_settings()
    if metrics_port:
        from prometheus_client import start_http_server

        from anjian.core.metrics import REGISTRY

        start_http_server(metrics_port, addr="127.0.0.1", registry=REGISTRY)
    worker = IngestWorker(broker_of(settings), client_id, settings.mqtt_shared_group, threads)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    parent = os.getppid()
    worker.start()
    while not done.wait(1.0):
        if child and os.getppid() != parent:
            break
    worker.stop()
    worker.join(timeout=10)


def _audit_readings(action: str, detail: dict[str, Any]) -> None:
    """The operator's audit record of a change to the stored readings."""
    from anjian.core.audit.service import audit
    from anjian.db import unit_of_work

    with unit_of_work() as db:
        audit(db, cli_actor(), action, object_type="readings", detail=detail)


@readings_app.command("pack")
@cli_errors
def readings_pack(
    after_days: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="压实结束已满 N 天的日数据 (pack the days that ended N whole days ago or "
            "earlier; default ANJIAN_MONITORING_PACK_AFTER_DAYS)",
        ),
    ] = None,
) -> None:
    """压实历史数据 (pack finished days of raw readings into one row per point and hour;
    PostgreSQL: the node's upkeep does it every hour). Prints each day packed."""
    from anjian.db import get_engine
    from anjian.monitoring.batch import now_ms
    from anjian.monitoring.packing import pack_finished

    settings = get_settings()
    ensure_schema()
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        err.print("SQLite 不压实历史数据 (SQLite keeps its readings as they came): nothing to do")
        return
    days = pack_finished(
        engine, now_ms(), settings.monitoring_pack_after_days if after_days is None else after_days
    )
    for done in days:
        console.print(f"day {done.day}: {done.readings} readings → {done.rows} rows")
    _audit_readings(
        "readings.pack",
        {"days": [d.day for d in days], "readings": sum(d.readings for d in days)},
    )
    err.print(f"[green]已压实[/green] {len(days)} 天 (days packed)")


@readings_app.command("archive")
@cli_errors
def readings_archive(
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="归档目录 (the directory; default ANJIAN_MONITORING_ARCHIVE_DIR)",
        ),
    ] = None,
) -> None:
    """归档并删除超过保留期的数据 (archive the days past ANJIAN_MONITORING_RETENTION_DAYS to
    readings-YYYYMMDD.csv.xz with an SM3 digest, then drop them; PostgreSQL). Prints each day."""
    from pathlib import Path

    from anjian.db import get_engine
    from anjian.monitoring.archive import archive_expired
    from anjian.monitoring.batch import now_ms
    from anjian.monitoring.partitions import day_label, expiring_days

    settings = get_settings()
    target = to if to is not None else settings.monitoring_archive_dir
    if not target:
        raise AnjianError(
            "须指定归档目录 --to 或 ANJIAN_MONITORING_ARCHIVE_DIR (name the archive directory)",
            field="to",
        )
    directory = Path(target)
    if directory.exists() and not directory.is_dir():
        raise AnjianError(f"不是目录 (not a directory): {directory}", field="to")
    ensure_schema()
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        err.print("SQLite 不归档 (SQLite deletes expired readings): nothing to do")
        return
    try:
        days = archive_expired(engine, settings.monitoring_retention_days, now_ms(), directory)
    except OSError as exc:
        raise AnjianError(
            f"无法写入归档目录 (cannot write the archive): {exc}", field="to"
        ) from exc
    for done in days:
        console.print(f"day {done.day}: {done.readings} readings → {done.path} (SM3 {done.sm3})")
    _audit_readings(
        "readings.archive",
        {
            "days": [d.day for d in days],
            "files": [str(d.path) for d in days],
            "sm3": [d.sm3 for d in days],
        },
    )
    err.print(f"[green]已归档[/green] {len(days)} 天 (days archived and dropped)")
    with engine.connect() as conn:
        kept = expiring_days(conn, settings.monitoring_retention_days, now_ms())
    if kept:
        raise AnjianError(
            f"{len(kept)} 天未能归档，已保留 (days could not be archived and were kept; see the "
            f"log): {', '.join(day_label(d) for d in kept)}",
            field="to",
        )


# --- simulated gateways (模拟网关) ----------------------------------------------------------------

DEMO_SIMULATE_RATE = 100.0  # readings/s fed by `anjian demo --serve`: alive, yet light on SQLite
DEMO_OPENING_ALARMS = 3  # gas points of the demo that surely go past their set points at once
VIAS = ("mqtt", "http")


def _check_simulate_options(
    via: str, rate: float, seconds: float | None, enterprises: int | None, url: str | None
) -> None:
    """Refuse bad options with a message naming the option (exit 1)."""
    if via not in VIAS:
        raise AnjianError(
            f"--via 应为 mqtt 或 http: {via} (--via must be mqtt or http)", field="via"
        )
    if not 0 < rate <= 100_000:
        raise AnjianError(
            f"--rate 应在 0 与 100000 之间: {rate:g} (readings per second, 0 < rate ≤ 100000)",
            field="rate",
        )
    if seconds is not None and seconds <= 0:
        raise AnjianError(f"--seconds 应为正数: {seconds:g} (must be positive)", field="seconds")
    if enterprises is not None and enterprises < 1:
        raise AnjianError(
            f"--enterprises 至少为 1: {enterprises} (must be at least 1)", field="enterprises"
        )
    if url is not None:
        if via != "http":
            raise AnjianError("--url 仅用于 --via http (--url goes with --via http)", field="url")
        if not url.startswith(("http://", "https://")):
            raise AnjianError(
                f"--url 应形如 http://host:port: {url} (--url must look like http://host:port)",
                field="url",
            )


def _simulator(
    via: str,
    rate: float,
    enterprises: int | None,
    url: str | None,
    seed: int,
    notify: Callable[[str], None],
    opening: int = 0,
) -> Any:
    """A simulator of this node's enterprises with points, with its sender and credentials:
    fresh gateway tokens over HTTP (audited as the operator), the node's own MQTT login on
    the embedded broker, the URL's credentials on an external one."""
    from anjian.db import unit_of_work
    from anjian.monitoring.simulate import (
        HttpSender,
        Simulator,
        default_url,
        issue_tokens,
        local_gateways,
        mqtt_sender,
    )

    with unit_of_work(read_only=True) as db:
        gateways = local_gateways(db, enterprises)
    if not gateways:
        raise AnjianError(
            "本节点没有登记监测点的企业，请先运行 anjian demo 或登记监测点 (no enterprise of this "
            "node has monitoring points: run anjian demo or register points first)"
        )
    sender: Any
    if via == "http":
        with unit_of_work() as db:
            tokens = issue_tokens(db, cli_actor(), gateways)
        sender = HttpSender(url or default_url(), tokens, notify=notify)
    else:
        try:
            sender = mqtt_sender(notify=notify)
        except ValueError as exc:
            raise AnjianError(str(exc), field="ANJIAN_MQTT_URL") from None
    try:
        return Simulator(gateways, sender, rate=rate, seed=seed, notify=notify, opening=opening)
    except ValueError as exc:
        sender.close()
        raise AnjianError(
            f"速率过高，单批读数超过上限 ({exc}; lower --rate)", field="rate"
        ) from None


def _where(sim: Any, via: str) -> str:
    sender = sim.sender
    if via == "http":
        return f"HTTP {sender.base_url}/api/v1/monitoring/readings"
    whose = (
        "外部 MQTT 服务 ANJIAN_MQTT_URL (external broker)"
        if get_settings().mqtt_url
        else "本节点内置 MQTT 服务 (this node's embedded broker)"
    )
    return f"{whose} {sender.host}:{sender.port} (anjian/v1/<USCC>/readings, QoS 1)"


def _offline_warning(sim: Any) -> str | None:
    """A warning when readings come too seldom: a point silent for three sampling periods is
    marked offline by the server."""
    shortest = min(p.period_s for g in sim.gateways for p in g.points)
    if sim.pace.interval_s <= 3 * shortest:
        return None
    return (
        f"注意：每个测点每 {sim.pace.interval_s:.1f} 秒才一条读数，超过采样周期的 3 倍 "
        f"({3 * shortest} 秒)，测点会被判为离线；请提高 --rate (each point reports every "
        f"{sim.pace.interval_s:.1f} s, longer than 3 sampling periods: points will be marked "
        "offline; raise --rate)"
    )


@monitoring_commands.command()
@cli_errors
def simulate(
    via: Annotated[str, typer.Option(help="发送方式 mqtt | http (how to send)")] = "mqtt",
    rate: Annotated[float, typer.Option(help="每秒读数总数 (readings per second in all)")] = 200.0,
    seconds: Annotated[
        float | None,
        typer.Option(help="运行秒数，默认直到 Ctrl-C (run for S seconds; default until Ctrl-C)"),
    ] = None,
    enterprises: Annotated[
        int | None, typer.Option(help="最多模拟的企业数 (simulate at most N enterprises)")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            help="HTTP 接入地址，用于 --via http，默认取 ANJIAN_HOST/ANJIAN_PORT "
            "(server URL for --via http, e.g. http://127.0.0.1:8000)"
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="随机种子: 同一种子生成相同信号 (random seed)")] = 2026,
) -> None:
    """模拟网关：为本节点登记了监测点的企业发送逼真的监测数据（储罐收发料、气温日变化、
    可燃/有毒气体偶发泄漏、工作面瓦斯涌出、传感器掉线），经 MQTT 或 HTTP，按指定速率。
    经 HTTP 时为所模拟的企业签发新的接入凭证，旧凭证失效。

    (simulated gateways: realistic readings for this node's enterprises with monitoring points —
    tanks filling and emptying, daily temperature cycles, gas near zero with rare excursions,
    coal-mine methane near working faces, sensors dropping out — over MQTT (the node's broker)
    or HTTP, at a chosen rate. Over HTTP the simulated enterprises get fresh gateway tokens and
    earlier ones stop working: simulate only where no real gateway sends.)"""
    _check_simulate_options(via, rate, seconds, enterprises, url)
    ensure_schema()

    def say(message: str) -> None:
        err.print(f"[dim]{escape(message)}[/dim]")

    sim = _simulator(via, rate, enterprises, url, seed, say)
    if via == "http":
        err.print(
            f"已为 {len(sim.gateways)} 家企业签发新的接入凭证，旧凭证失效 (issued fresh gateway "
            "tokens; earlier ones stop working)"
        )
    err.print(
        f"[green]模拟网关[/green]: {len(sim.gateways)} 家企业 {sim.points} 个测点，每秒约 "
        f"{rate:g} 条读数 (每个测点每 {sim.pace.interval_s:.2f} 秒一条)，发往 {_where(sim, via)}；"
        f"Ctrl-C 停止 (simulating {sim.points} points of {len(sim.gateways)} enterprises at "
        f"{rate:g} readings/s; Ctrl-C stops)"
    )
    warning = _offline_warning(sim)
    if warning:
        err.print(f"[yellow]{escape(warning)}[/yellow]")
    try:
        stats = sim.run(seconds, report_every_s=10.0)
    except KeyboardInterrupt:
        sim.stop()
        stats = sim.stats
    finally:
        sim.sender.close()
    err.print(
        f"已发送 {stats.readings} 条读数 / {stats.batches} 批，未送达 {stats.skipped} 批 "
        f"(sent {stats.readings} readings in {stats.batches} batches; {stats.skipped} not "
        "delivered)"
    )


def start_demo_simulator(host: str | None, port: int | None, seed: int) -> None:
    """Feed the demo's points in a background thread while the server runs: over MQTT (the
    embedded broker starts with the server; the simulator waits for it), or over HTTP when
    MQTT ingest is turned off. Quietly: one summary line a minute, not a line per request, so
    the printed logins stay on the screen."""
    import logging
    import threading

    settings = get_settings()
    via = "mqtt" if settings.mqtt_ingest else "http"
    url = None
    if via == "http":
        shown = host or settings.host
        url = (
            f"http://{'127.0.0.1' if shown in ('0.0.0.0', '::') else shown}:{port or settings.port}"
        )
        # the server's access log would print every batch the simulator posts
        logging.getLogger("uvicorn.access").addFilter(NotSimulatorPosts())

    def say(message: str) -> None:
        err.print(f"[dim]模拟网关 (simulator): {escape(message)}[/dim]")

    try:
        sim = _simulator(via, DEMO_SIMULATE_RATE, None, url, seed, say, DEMO_OPENING_ALARMS)
    except AnjianError as exc:
        err.print(f"[yellow]不运行模拟网关 (no simulator): {escape(exc.message)}[/yellow]")
        return
    console.print(
        f"模拟网关 (simulated gateways): {len(sim.gateways)} 家企业 {sim.points} 个测点，"
        f"每秒约 {DEMO_SIMULATE_RATE:g} 条读数，经 {_where(sim, via)}；每分钟汇报一次；"
        "--no-simulate 关闭 (a summary line a minute; turn off with --no-simulate)"
    )

    def run() -> None:
        try:
            sim.run(report_every_s=DEMO_REPORT_S, report=minute_report(say))
        except Exception:  # the server goes on without live data
            logging.getLogger("anjian.monitoring.simulate").exception("simulator stopped")

    threading.Thread(target=run, name="anjian-simulate", daemon=True).start()


DEMO_REPORT_S = 60.0  # the demo simulator's summary line: once a minute


class NotSimulatorPosts:
    """Drops the access-log lines of reading batches posted to the ingest API."""

    def filter(self, record: Any) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (len(args) >= 3 and args[2] == "/api/v1/monitoring/readings")


def minute_report(say: Callable[[str], None]) -> Callable[[Any], None]:
    """The demo simulator's summary: readings sent and alarms raised since the last line."""
    from datetime import timedelta

    from anjian.db import unit_of_work, utcnow
    from anjian.monitoring.simulate import alarms_raised_since

    last = {"readings": 0, "skipped": 0, "at": utcnow()}

    def report(stats: Any) -> None:
        now = utcnow()
        with unit_of_work(read_only=True) as db:
            alarms = alarms_raised_since(db, last["at"])
        readings = stats.readings - last["readings"]
        skipped = stats.skipped - last["skipped"]
        minutes = max(1, round((now - last["at"]) / timedelta(minutes=1)))
        last.update(readings=stats.readings, skipped=stats.skipped, at=now)
        say(
            f"近 {minutes} 分钟发送读数 {readings} 条，未送达 {skipped} 批，新报警 {alarms} 条 "
            f"(last {minutes} min: {readings} readings sent, {skipped} batches not delivered, "
            f"{alarms} new alarms)"
        )

    return report


def demo_broker_port() -> None:
    """Move the demo's embedded MQTT broker to a free port when another process (a Mosquitto,
    say) already listens on the configured one: the broker could not start there, and the
    simulated gateways would publish into that foreign broker instead of this node's."""
    import os

    from anjian.monitoring.broker import embedded_port_for_demo

    settings = get_settings()
    if settings.mqtt_url or not settings.mqtt_ingest:
        return
    taken = settings.mqtt_embedded_port
    port = embedded_port_for_demo(settings.host, taken)
    if port == taken:
        return
    # the server (this process) and the simulator read it from the settings
    os.environ["ANJIAN_MQTT_EMBEDDED_PORT"] = str(port)
    get_settings.cache_clear()
    console.print(
        f"[yellow]端口 {taken} 已被其他程序占用[/yellow]（另一个 MQTT 服务？），本演示节点的内置 "
        f"MQTT 服务改用端口 {port} (port {taken} is taken, by another broker?: the demo's "
        f"embedded broker listens on {port}; set ANJIAN_MQTT_EMBEDDED_PORT or ANJIAN_MQTT_URL "
        "to choose)"
    )
