"""Prometheus metrics and the `/healthz` + `/metrics` HTTP endpoint of `slipstream run`.

One `Metrics` per process with its own `CollectorRegistry` (no global default
registry, so tests and several services in one process never collide).
Counters that other areas already keep are read at scrape time instead of
being pushed: the LLM client's `LLMStats`, and the outbox tables in the store
(highlights delivered, backlog, delivery lag), which also makes the figures
right when another process is the leader doing the delivering.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine

from bot.model import Incoming, Responder
from storage.stats import outbox_figures, ping

log = logging.getLogger(__name__)


class Metrics:
    """The service's metrics. Pass it around; never import a global one."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.questions = Counter(
            "slipstream_questions_total", "Incoming questions and commands handled",
            ["platform", "outcome"], registry=r,
        )
        self.latency = Histogram(
            "slipstream_question_latency_seconds", "Time from receipt to the answer being sent",
            ["platform"], registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 40),
        )
        self.ingestion_runs = Counter(
            "slipstream_ingestion_runs_total", "Scheduled ingestion attempts", ["outcome"], registry=r
        )
        self.jobs = Counter(
            "slipstream_jobs_total", "Scheduled jobs run by this process", ["kind", "status"], registry=r
        )
        self.leader = Gauge("slipstream_leader", "1 when this process runs the scheduler", registry=r)
        self.started = Gauge("slipstream_start_time_seconds", "Process start (UNIX)", registry=r)
        self.started.set(time.time())

    def watch_llm(self, llm: Any) -> None:
        """Export the LLM client's counters (calls, failures, fallbacks...) at scrape time."""
        if llm is not None and hasattr(llm, "stats"):
            self.registry.register(_LLMCollector(llm))

    def watch_store(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        """Export outbox figures (highlights delivered, backlog, lag) read from the store."""
        self.registry.register(_OutboxCollector(engine, clock))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _LLMCollector:
    def __init__(self, llm: Any) -> None:
        self.llm = llm

    def collect(self) -> Iterator[Any]:
        stats = self.llm.stats.snapshot()
        for name, help_ in (
            ("calls", "LLM requests sent"),
            ("failures", "LLM requests that failed"),
            ("timeouts", "LLM requests that timed out"),
            ("fallbacks", "Answers that fell back to the deterministic text"),
            ("guard_rejections", "Model attempts the claim guard refused"),
            ("answers", "Answers shown that came from the model"),
        ):
            if name in stats:
                yield CounterMetricFamily(f"slipstream_llm_{name}", help_, value=stats[name])
        guard = CounterMetricFamily(
            "slipstream_llm_guard", "Answers by claim-guard outcome (accepted, fresh_attempt, fallback, skipped)",
            labels=["outcome"])
        for outcome in ("accepted", "fresh_attempt", "fallback", "skipped"):
            guard.add_metric([outcome], stats.get("guard", {}).get(outcome, 0))
        yield guard
        rejected = CounterMetricFamily(
            "slipstream_llm_guard_rejected", "Model attempts the claim guard refused, by claim kind", labels=["kind"])
        for kind, n in sorted(stats.get("rejected", {}).items()):
            rejected.add_metric([kind], n)
        yield rejected


class _OutboxCollector:
    def __init__(self, engine: Engine, clock: Callable[[], float]) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Any]:
        try:
            figures = self._read()
        except Exception as exc:  # tables missing (older store) or DB down: export nothing
            log.debug("outbox metrics unavailable: %s", exc)
            return
        yield CounterMetricFamily(
            "slipstream_highlights_delivered", "Highlights posted to channels", value=figures["posted"]
        )
        yield GaugeMetricFamily(
            "slipstream_delivery_backlog", "Highlight deliveries waiting to be posted", value=figures["backlog"]
        )
        yield GaugeMetricFamily(
            "slipstream_delivery_lag_seconds",
            "Age of the oldest due highlight delivery not yet posted (0 = none waiting)",
            value=figures["lag"],
        )
        yield CounterMetricFamily(
            "slipstream_reminders_sent", "Session reminders posted", value=figures["reminders"]
        )

    def _read(self) -> dict[str, float]:
        f = outbox_figures(self.engine, self.clock())
        return {"posted": f.highlights_posted, "backlog": f.delivery_backlog, "lag": f.delivery_lag_s,
                "reminders": f.reminders_sent}


class MeteredDispatcher:
    """Wraps the core's dispatcher to count questions and time them; everything else passes through."""

    def __init__(self, inner: Any, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def handle(self, incoming: Incoming, responder: Responder) -> None:
        platform = incoming.channel.platform
        outcome = "error"
        try:
            await self._inner.handle(incoming, responder)
            outcome = "ok"
        finally:
            self._metrics.questions.labels(platform=platform, outcome=outcome).inc()
            self._metrics.latency.labels(platform=platform).observe(
                max(0.0, time.perf_counter() - incoming.received_at)
            )


async def start_http(
    metrics: Metrics, host: str, port: int, *, health: Callable[[], Any]
) -> web.AppRunner:
    """Serve `/healthz` (JSON, 200 when healthy, 503 otherwise) and `/metrics`."""

    async def healthz(_: web.Request) -> web.Response:
        try:
            body = await health()
        except Exception as exc:
            body = {"status": "error", "error": str(exc)[:200]}
        status = 200 if body.get("status") == "ok" else 503
        return web.json_response(body, status=status)

    async def metrics_view(_: web.Request) -> web.Response:
        data = await asyncio.to_thread(metrics.render)  # collectors read the store
        return web.Response(body=data, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner


def db_ping(engine: Engine) -> bool:
    """The `/healthz` database check (blocking: run it in a thread)."""
    return ping(engine)
