"""Prometheus metrics of the exchange, cheap on the hot path.

Measured on these machines, one labelled counter increment plus two histogram observations
through prometheus_client cost ~2 µs per inquiry in one process and ~5 µs in multiprocess
mode (every value is an mmap write under a lock), 3-4 times that on a busy core.  So an
inquiry only adds to plain Python tallies here (~0.4 µs; docs/operations.md), and
`ExchangeMetrics.publish` moves the tallies into the prometheus_client metrics when /metrics
is scraped and, with several workers, once a second in every worker, so the aggregate lags by
at most a second.

Every metric lives on the `CollectorRegistry` made for (or given to) one `ExchangeMetrics`;
nothing is registered at import time.  With several workers prometheus_client's multiprocess
mode aggregates the per-process files of ``PROMETHEUS_MULTIPROC_DIR`` (set by
``panjereh serve --workers N`` before the workers start): gauges say how workers combine
(``multiprocess_mode``), and a worker that stops removes its live gauges.

Labels stay few: service x outcome x error type, the provider agency's code, the provider
system (``agency/system``) for breakers and bulkheads.  Never a subject, a consumer key or a
request id.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.process_collector import ProcessCollector

from panjereh.audit.records import AuditRecord
from panjereh.domain.errors import PanjerehError
from panjereh.exchange.resilience import BreakerState
from panjereh.registry.model import Service

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# Seconds; suited to 1 ms .. 1 s answers, with room for slow providers up to the 5 s default
# timeout.
BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip
CIRCUIT_VALUES: Mapping[BreakerState, int] = {
    BreakerState.CLOSED: 0,
    BreakerState.HALF_OPEN: 1,
    BreakerState.OPEN: 2,
}


class MetricsSetupError(PanjerehError):
    """Multiprocess metrics were asked for, but prometheus_client was not started for them."""


class InquiryObserver(Protocol):
    """What the inquiry pipeline tells about each inquiry, once, as it is recorded."""

    def observe(
        self,
        record: AuditRecord,
        service: Service | None,
        *,
        seconds: float,
        recorded: bool,
        reason: str | None,
    ) -> None:
        """``seconds``: until the answer was ready, audit commit included; ``recorded``: its
        audit record was committed; ``reason``: why a signature was refused, if it was."""


class NoMetrics:
    """The observer of a handler built without metrics (unit tests, benchmarks)."""

    def observe(
        self,
        record: AuditRecord,
        service: Service | None,
        *,
        seconds: float,
        recorded: bool,
        reason: str | None,
    ) -> None:
        return


@dataclass(frozen=True, slots=True)
class Readings:
    """The state the exchange already keeps, read when metrics are published."""

    audit_written: int
    audit_failed: int
    audit_queue_depth: int
    in_flight: int
    shed: int
    snapshot_version: int
    bulkheads_in_use: Mapping[str, int] = field(default_factory=dict)  # provider system ident
    circuits: Mapping[str, BreakerState] = field(default_factory=dict)
    audit_export_lag: int | None = None  # records not yet in the stream (None: no export)
    http_receiving: int = 0  # connections sending a request now (web/http_guard.py)
    http_refused: Mapping[str, int] = field(default_factory=dict)  # running totals by reason
    audit_cut_alarms: int = 0  # checkpoints refused because a tail was cut (running total)
    # failed publications of signed heads and checkpoints, by target (running totals)
    audit_publication_failures: Mapping[str, int] = field(default_factory=dict)


class _Tallied:
    """A histogram's observations since the last publish (prometheus_client has no bulk
    observe: they are added to its bucket and sum values, as `Histogram.observe` does)."""

    __slots__ = ("child", "counts", "total")

    def __init__(self, child: Histogram) -> None:
        self.child = child
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0

    def add(self, seconds: float) -> None:
        self.counts[bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds

    def publish(self) -> None:
        counts = self.counts
        for index, count in enumerate(counts):
            if count:
                self.child._buckets[index].inc(count)
                counts[index] = 0
        if self.total:
            self.child._sum.inc(self.total)
            self.total = 0.0


class _Tally:
    """Inquiries of one (service, outcome, error type) since the last publish."""

    __slots__ = ("cached", "count", "count_child", "latency", "provider", "replays")

    def __init__(self, count_child: Counter, latency: _Tallied, provider: _Tallied) -> None:
        self.count_child = count_child
        self.latency = latency
        self.provider = provider
        self.count = 0
        self.cached = 0
        self.replays = 0


class ExchangeMetrics:
    """The exchange's metrics on one registry; `observe` per inquiry, `publish` per scrape."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        multiprocess_dir: Path | None = None,
    ) -> None:
        if multiprocess_dir is not None and not getattr(values.ValueClass, "_multiprocess", False):
            raise MetricsSetupError(
                "metrics for several workers need PROMETHEUS_MULTIPROC_DIR set before the "
                "worker starts; run them with `panjereh serve --workers N`"
            )
        self.multiprocess_dir = multiprocess_dir
        self.registry = registry if registry is not None else CollectorRegistry()
        if multiprocess_dir is None:
            ProcessCollector(registry=self.registry)
        self._define(self.registry)
        self._tallies: dict[tuple[str | None, int, str | None], _Tally] = {}
        self._histograms: dict[str, tuple[_Tallied, _Tallied]] = {}
        self._signature_failures: dict[str, int] = {}
        self._answered = 0
        self._last: dict[str, int] = {"written": 0, "failed": 0, "shed": 0, "cut_alarms": 0}
        self._publication_failures: dict[str, int] = {}

    def _define(self, registry: CollectorRegistry) -> None:
        self.inquiries = Counter(
            "panjereh_inquiries",
            "Inquiries answered, by service, outcome and error type (empty: none).",
            ["service", "outcome", "error"],
            registry=registry,
        )
        self.duration = Histogram(
            "panjereh_inquiry_duration_seconds",
            "Time from admission to a recorded answer, by the provider agency's code.",
            ["provider"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.provider_duration = Histogram(
            "panjereh_provider_duration_seconds",
            "Time spent waiting for the provider (retries included), by its agency's code.",
            ["provider"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.cache_hits = Counter(
            "panjereh_cache_hits", "Inquiries answered from the response cache.", ["service"],
            registry=registry,
        )  # fmt: skip
        self.replays = Counter(
            "panjereh_replays", "Retried X-Request-Ids answered with the stored answer.",
            ["service"], registry=registry,
        )  # fmt: skip
        self.signature_failures = Counter(
            "panjereh_signature_failures", "Request signatures refused, by reason.", ["reason"],
            registry=registry,
        )  # fmt: skip
        self.audit_written = Counter(
            "panjereh_audit_records_written", "Audit records committed.", registry=registry
        )
        self.audit_failed = Counter(
            "panjereh_audit_records_failed", "Audit records that could not be written.",
            registry=registry,
        )  # fmt: skip
        self.audit_cut_alarms = Counter(
            "panjereh_audit_cut_alarms",
            "Checkpoints refused because the audit log's heads read back from the database "
            "were behind a head the exchange holds or signed: a tail was cut.",
            registry=registry,
        )
        self.audit_publication_failures = Counter(
            "panjereh_audit_publication_failures",
            "Signed audit heads and checkpoints not published (a folder write, a NATS publish "
            "or a document dropped from the NATS queue), by target.",
            ["target"],
            registry=registry,
        )
        self.audit_queue = Gauge(
            "panjereh_audit_queue_depth", "Audit records waiting for their commit.",
            registry=registry, multiprocess_mode="livesum",
        )  # fmt: skip
        self.in_flight = Gauge(
            "panjereh_inquiries_in_flight", "Inquiries being handled now.",
            registry=registry, multiprocess_mode="livesum",
        )  # fmt: skip
        self.shed = Counter(
            "panjereh_inquiries_shed",
            "Inquiries refused at once because the worker was full (admission control).",
            registry=registry,
        )
        self.bulkhead_in_use = Gauge(
            "panjereh_provider_bulkhead_in_use", "Inquiries in flight to a provider system.",
            ["provider_system"], registry=registry, multiprocess_mode="livesum",
        )  # fmt: skip
        self.circuit_state = Gauge(
            "panjereh_circuit_state",
            "A provider system's circuit breaker: 0 closed, 1 half-open, 2 open "
            "(the worst of the workers).",
            ["provider_system"],
            registry=registry,
            multiprocess_mode="livemax",
        )
        self.snapshot_version = Gauge(
            "panjereh_registry_snapshot_version",
            "Registry version the exchange serves (the oldest of the workers).",
            registry=registry,
            multiprocess_mode="livemin",
        )
        self.audit_export_lag = Gauge(
            "panjereh_audit_export_lag",
            "Audit records not yet published to the JetStream stream (the freshest worker's "
            "count); only with PANJEREH_NATS_URL.",
            registry=registry,
            multiprocess_mode="livemin",
        )
        self.http_refused = Counter(
            "panjereh_http_refused",
            "Connections the HTTP server refused and closed, by reason: header-too-large, "
            "too-many-headers, header-timeout, body-timeout, overloaded.",
            ["reason"],
            registry=registry,
        )
        self.http_receiving = Gauge(
            "panjereh_http_receiving_connections",
            "Connections sending a request now (header or body not yet in), every worker's.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.worker_inquiries = Gauge(
            "panjereh_worker_inquiries",
            "Inquiries this worker process has answered since it started (label pid with "
            "several workers).",
            registry=registry,
            multiprocess_mode="liveall",
        )

    # The hot path ----------------------------------------------------------------------

    def observe(
        self,
        record: AuditRecord,
        service: Service | None,
        *,
        seconds: float,
        recorded: bool,
        reason: str | None,
    ) -> None:
        if not recorded and record.error_type is None:
            return  # this answer is replaced by `overloaded`, which is observed in its place
        # The status (an int) stands for the outcome, which it decides with the error type:
        # hashing an enum member costs ~90 ns more.
        key = (record.service_id, record.status_code, record.error_type)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._new_tally(key, record, service)
        tally.count += 1
        tally.latency.add(seconds)
        if record.provider_ms is not None:
            tally.provider.add(record.provider_ms / 1000)
        if record.cached:
            tally.cached += 1
        if record.replay_of is not None:
            tally.replays += 1
        if reason is not None and record.error_type == "unauthenticated":
            self._signature_failures[reason] = self._signature_failures.get(reason, 0) + 1

    def _new_tally(
        self, key: tuple[str | None, int, str | None], record: AuditRecord, service: Service | None
    ) -> _Tally:
        provider = service.agency.code if service is not None else ""
        histograms = self._histograms.get(provider)
        if histograms is None:
            histograms = self._histograms[provider] = (
                _Tallied(self.duration.labels(provider)),
                _Tallied(self.provider_duration.labels(provider)),
            )
        label = record.service_id or ""
        tally = self._tallies[key] = _Tally(
            self.inquiries.labels(label, record.outcome.value, record.error_type or ""),
            *histograms,
        )
        return tally

    # Publishing ------------------------------------------------------------------------

    def publish(self, readings: Readings) -> None:
        """Move the tallies into the metrics and read the exchange's state (no awaits: the
        hot path never sees a half-published tally)."""
        for (service_id, _, _), tally in self._tallies.items():
            if tally.count:
                tally.count_child.inc(tally.count)
                self._answered += tally.count
                tally.count = 0
            if tally.cached:
                self.cache_hits.labels(service_id or "").inc(tally.cached)
                tally.cached = 0
            if tally.replays:
                self.replays.labels(service_id or "").inc(tally.replays)
                tally.replays = 0
        for latency, provider in self._histograms.values():
            latency.publish()
            provider.publish()
        for reason, count in self._signature_failures.items():
            if count:
                self.signature_failures.labels(reason).inc(count)
                self._signature_failures[reason] = 0
        self._publish_state(readings)

    def _publish_state(self, readings: Readings) -> None:
        self._add("written", readings.audit_written, self.audit_written)
        self._add("failed", readings.audit_failed, self.audit_failed)
        self._add("shed", readings.shed, self.shed)
        self._add("cut_alarms", readings.audit_cut_alarms, self.audit_cut_alarms)
        for target, total in readings.audit_publication_failures.items():
            delta = total - self._publication_failures.get(target, 0)
            if delta > 0:
                self.audit_publication_failures.labels(target).inc(delta)
            self._publication_failures[target] = total
        self.audit_queue.set(readings.audit_queue_depth)
        self.in_flight.set(readings.in_flight)
        self.snapshot_version.set(readings.snapshot_version)
        self.worker_inquiries.set(self._answered)
        self.http_receiving.set(readings.http_receiving)
        for reason, total in readings.http_refused.items():
            self._add(f"http:{reason}", total, self.http_refused.labels(reason))
        if readings.audit_export_lag is not None:
            self.audit_export_lag.set(readings.audit_export_lag)
        for system, in_use in readings.bulkheads_in_use.items():
            self.bulkhead_in_use.labels(system).set(in_use)
        for system, state in readings.circuits.items():
            self.circuit_state.labels(system).set(CIRCUIT_VALUES[state])

    def _add(self, name: str, total: int, counter: Counter) -> None:
        """Counters kept elsewhere as running totals grow here by what was added since."""
        delta = total - self._last.get(name, 0)
        if delta > 0:
            counter.inc(delta)
        self._last[name] = total

    def exposition(self) -> bytes:
        """The text exposition format: this process's metrics, or every worker's."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        return generate_latest(merged)

    def close(self) -> None:
        """A stopping worker's live gauges leave the aggregate (its counters stay)."""
        if self.multiprocess_dir is not None:
            mark_process_dead(os.getpid(), str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
