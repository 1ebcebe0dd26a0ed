"""Versioned schema of the store: one list of migrations, applied in order at start.

The SQL is written once for both stores (DuckDB and PostgreSQL accept the same types and
``ON CONFLICT``); a migration may add statements for PostgreSQL only (indexes: DuckDB
scans its columnar tables faster than it maintains an index on every insert).

Times are ``TIMESTAMP`` without time zone and always UTC.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Latency buckets of each profile (Prometheus ``le`` buckets, non-cumulative), summed by
#: the health overview in SQL instead of merging sketches.
LATENCY_COLUMNS = tuple(f"latency_b{i}" for i in range(15))


@dataclass(frozen=True)
class Migration:
    """One step of the schema; ``version`` numbers increase (each branch of work takes a
    range, so some numbers are skipped)."""

    version: int
    statements: tuple[str, ...]
    postgres_only: tuple[str, ...] = ()


_INITIAL = (
    """CREATE TABLE projects (
        project TEXT PRIMARY KEY,
        created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY,
        project TEXT NOT NULL,
        scope TEXT NOT NULL,
        secret_sha256 TEXT NOT NULL,
        created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE models (
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (project, model))""",
    """CREATE TABLE model_versions (
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        schema_json TEXT NOT NULL,
        reference BYTEA,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (project, model, version))""",
    """CREATE TABLE ingest_requests (
        project TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        body_sha256 TEXT NOT NULL,
        kind TEXT NOT NULL,
        n_rows BIGINT NOT NULL,
        received_at TIMESTAMP NOT NULL,
        PRIMARY KEY (project, idempotency_key))""",
    """CREATE TABLE profiles (
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        instance TEXT NOT NULL,
        window_start TIMESTAMP,
        window_end TIMESTAMP,
        idempotency_key TEXT NOT NULL,
        n_rows BIGINT NOT NULL,
        n_predictions BIGINT NOT NULL,
        n_errors BIGINT NOT NULL,
        latency BYTEA NOT NULL,
        payload BYTEA NOT NULL,
        received_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE predictions (
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        prediction_id TEXT NOT NULL,
        ts TIMESTAMP NOT NULL,
        prediction DOUBLE PRECISION,
        prediction_label TEXT,
        probability DOUBLE PRECISION,
        received_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE labels (
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        prediction_id TEXT NOT NULL,
        label DOUBLE PRECISION,
        label_text TEXT,
        ts TIMESTAMP NOT NULL,
        received_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE samples (
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        ts TIMESTAMP NOT NULL,
        row_json TEXT NOT NULL,
        received_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE heartbeats (
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        instance TEXT NOT NULL,
        host TEXT NOT NULL,
        pid BIGINT NOT NULL,
        started_at TIMESTAMP NOT NULL,
        ts TIMESTAMP NOT NULL,
        dropped BIGINT NOT NULL)""",
    """CREATE TABLE metric_rows (
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        window_start TIMESTAMP NOT NULL,
        window_end TIMESTAMP NOT NULL,
        column_name TEXT NOT NULL,
        metric TEXT NOT NULL,
        value DOUBLE PRECISION,
        lower_bound DOUBLE PRECISION,
        upper_bound DOUBLE PRECISION,
        alert BOOLEAN NOT NULL,
        n_ref BIGINT NOT NULL,
        n_cur BIGINT NOT NULL,
        method TEXT NOT NULL,
        p_value DOUBLE PRECISION,
        kind TEXT NOT NULL,
        computed_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE alert_rules (
        project TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        spec_json TEXT NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (project, rule_id))""",
    """CREATE TABLE alert_states (
        project TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        state TEXT NOT NULL,
        since TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        detail_json TEXT NOT NULL,
        PRIMARY KEY (project, rule_id, subject))""",
)

_POSTGRES_INDEXES = (
    "CREATE INDEX profiles_window ON profiles (project, model, window_start)",
    "CREATE INDEX predictions_id ON predictions (project, model, prediction_id)",
    "CREATE INDEX predictions_ts ON predictions (project, model, ts)",
    "CREATE INDEX labels_id ON labels (project, model, prediction_id)",
    "CREATE INDEX samples_ts ON samples (project, model, ts)",
    "CREATE INDEX heartbeats_ts ON heartbeats (project, model, ts)",
    "CREATE INDEX metric_rows_series ON metric_rows "
    "(project, model, metric, column_name, window_start)",
    "CREATE INDEX metric_rows_job ON metric_rows (project, model, version, window_start, kind)",
    "CREATE INDEX ingest_requests_received ON ingest_requests (received_at)",
)

_SCHEDULER = (
    """CREATE TABLE model_settings (
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        window_seconds BIGINT NOT NULL,
        lateness_seconds BIGINT NOT NULL,
        reference_windows BIGINT NOT NULL,
        label_horizon_seconds BIGINT NOT NULL,
        PRIMARY KEY (project, model))""",
    """CREATE TABLE jobs_done (
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        window_start TIMESTAMP NOT NULL,
        kind TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        PRIMARY KEY (project, model, version, window_start, kind))""",
)

_ALERTS = (
    """CREATE TABLE alert_groups (
        project TEXT NOT NULL,
        group_key TEXT NOT NULL,
        state_json TEXT NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (project, group_key))""",
    """CREATE TABLE alert_transitions (
        project TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        state TEXT NOT NULL,
        moved_at TIMESTAMP NOT NULL,
        detail_json TEXT NOT NULL)""",
    """CREATE TABLE alert_outbox (
        project TEXT NOT NULL,
        notification_id TEXT NOT NULL,
        receiver TEXT NOT NULL,
        body_json TEXT NOT NULL,
        created_at TIMESTAMP NOT NULL,
        attempts BIGINT NOT NULL,
        next_attempt_at TIMESTAMP,
        delivered_at TIMESTAMP,
        last_error TEXT NOT NULL,
        PRIMARY KEY (project, notification_id))""",
    """CREATE TABLE alert_silences (
        project TEXT NOT NULL,
        silence_id TEXT NOT NULL,
        matchers_json TEXT NOT NULL,
        starts_at TIMESTAMP NOT NULL,
        ends_at TIMESTAMP NOT NULL,
        comment TEXT NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (project, silence_id))""",
)

_REPLICAS = (
    """CREATE TABLE replicas (
        replica TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid BIGINT NOT NULL,
        started_at TIMESTAMP NOT NULL,
        seen_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE job_leases (
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        window_start TIMESTAMP NOT NULL,
        kind TEXT NOT NULL,
        replica TEXT NOT NULL,
        run_id TEXT NOT NULL,
        expires_at TIMESTAMP NOT NULL,
        PRIMARY KEY (project, model, version, window_start, kind))""",
    """CREATE TABLE job_runs (
        run_id TEXT PRIMARY KEY,
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        window_start TIMESTAMP NOT NULL,
        window_end TIMESTAMP NOT NULL,
        kind TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        replica TEXT NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        state TEXT NOT NULL,
        n_rows BIGINT NOT NULL,
        error TEXT NOT NULL)""",
)

_REPLICA_INDEXES = (
    "CREATE INDEX job_leases_replica ON job_leases (replica)",
    "CREATE INDEX job_runs_started ON job_runs (project, started_at)",
)

_ROLLUPS = (
    """CREATE TABLE metric_rollups (
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        tier_seconds BIGINT NOT NULL,
        window_start TIMESTAMP NOT NULL,
        window_end TIMESTAMP NOT NULL,
        column_name TEXT NOT NULL,
        metric TEXT NOT NULL,
        value DOUBLE PRECISION,
        lower_bound DOUBLE PRECISION,
        upper_bound DOUBLE PRECISION,
        alert BOOLEAN NOT NULL,
        n_ref BIGINT NOT NULL,
        n_cur BIGINT NOT NULL,
        method TEXT NOT NULL,
        p_value DOUBLE PRECISION,
        kind TEXT NOT NULL,
        computed_at TIMESTAMP NOT NULL,
        value_min DOUBLE PRECISION,
        value_max DOUBLE PRECISION,
        n_windows BIGINT NOT NULL)""",
    """CREATE TABLE rollup_frontiers (
        project TEXT NOT NULL,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        tier_seconds BIGINT NOT NULL,
        kind TEXT NOT NULL,
        rolled_until TIMESTAMP NOT NULL,
        PRIMARY KEY (project, model, version, tier_seconds, kind))""",
)

_ROLLUP_INDEXES = (
    "CREATE INDEX metric_rollups_series ON metric_rollups "
    "(project, model, tier_seconds, metric, column_name, window_start) INCLUDE (version, "
    "window_end, value, lower_bound, upper_bound, alert, n_ref, n_cur, method, p_value, kind, "
    "value_min, value_max, n_windows)",
    "CREATE INDEX metric_rollups_job ON metric_rollups "
    "(project, model, version, tier_seconds, window_start, kind)",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, _INITIAL, _POSTGRES_INDEXES),
    Migration(2, _SCHEDULER),
    Migration(
        3,
        tuple(
            f"ALTER TABLE profiles ADD COLUMN {c} BIGINT NOT NULL DEFAULT 0"
            for c in LATENCY_COLUMNS
        ),
    ),
    Migration(4, ("ALTER TABLE model_versions ADD COLUMN estimator TEXT",)),
    # A series query reads its rows from the index alone (an index-only scan) instead of
    # one heap page per row: rows arrive window by window, so a series is spread over the
    # whole table.
    Migration(
        5,
        (),
        (
            "DROP INDEX metric_rows_series",
            "CREATE INDEX metric_rows_series ON metric_rows "
            "(project, model, metric, column_name, window_start) INCLUDE (version, "
            "window_end, value, lower_bound, upper_bound, alert, n_ref, n_cur, method, p_value)",
            # Index-only scans need the visibility map: vacuum after every 1 % of new rows
            # (the default waits for 20 %, leaving the newest rows to the heap).
            "ALTER TABLE metric_rows SET (autovacuum_vacuum_insert_scale_factor = 0.01, "
            "autovacuum_vacuum_insert_threshold = 10000)",
        ),
    ),
    # Jobs that failed, so that the scheduler retries them with a growing delay.
    Migration(
        6,
        (
            """CREATE TABLE jobs_failed (
                project TEXT NOT NULL,
                model TEXT NOT NULL,
                version TEXT NOT NULL,
                window_start TIMESTAMP NOT NULL,
                kind TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                attempts BIGINT NOT NULL,
                retry_at TIMESTAMP NOT NULL,
                error TEXT NOT NULL,
                PRIMARY KEY (project, model, version, window_start, kind))""",
        ),
    ),
    # A version's own choice of reference, over its model's.
    Migration(
        7,
        (
            """CREATE TABLE version_settings (
                project TEXT NOT NULL,
                model TEXT NOT NULL,
                version TEXT NOT NULL,
                reference_windows BIGINT NOT NULL,
                PRIMARY KEY (project, model, version))""",
        ),
    ),
    # A multiclass prediction's probability of every class, as a JSON object.
    Migration(8, ("ALTER TABLE predictions ADD COLUMN probabilities TEXT",)),
    # A closed Monitor's goodbye: its instance is no longer live from that heartbeat on.
    Migration(9, ("ALTER TABLE heartbeats ADD COLUMN closed BOOLEAN NOT NULL DEFAULT false",)),
    # The smallest and largest latency of each profile (exact in its KLL sketch), so that
    # health percentiles interpolated in the buckets stay inside the observed range.
    Migration(
        10,
        (
            "ALTER TABLE profiles ADD COLUMN latency_min DOUBLE PRECISION",
            "ALTER TABLE profiles ADD COLUMN latency_max DOUBLE PRECISION",
        ),
    ),
    # The guard of a rolling reference: leave out the windows whose drift alerted.
    Migration(
        11,
        (
            "ALTER TABLE model_settings "
            "ADD COLUMN reference_exclude_alerted BOOLEAN NOT NULL DEFAULT false",
        ),
    ),
    # The SHA-256 of the uploaded reference file, so that uploading it again is a no-op.
    Migration(13, ("ALTER TABLE model_versions ADD COLUMN reference_sha256 TEXT",)),
    # Alerting: notification groups, every state transition with its rows, the outbox of
    # notifications (stored before they are sent) and silences. Versions 9-19 are taken.
    Migration(20, _ALERTS),
    # Replicas sharing the scheduler's jobs: who is alive, who holds which job, and a
    # record of every run. Versions 30-39 are taken.
    Migration(30, _REPLICAS, _REPLICA_INDEXES),
    # Rollups of metric rows into coarser tiers (1 h, 1 d, ...), and how far each
    # (version, tier, job kind) is rolled, which the tier reads split on.
    Migration(31, _ROLLUPS, _ROLLUP_INDEXES),
    # The dashboard: each model's uptime by hour (its instances' covered seconds, kept once
    # the hour has settled), and the heatmap's one range scan of a version's rollups of one
    # tier and job kind, every column at once (PostgreSQL). Versions 40-49 are taken.
    Migration(
        40,
        (
            """CREATE TABLE uptime_hours (
                project TEXT NOT NULL,
                model TEXT NOT NULL,
                timeout_seconds DOUBLE PRECISION NOT NULL,
                hour_start TIMESTAMP NOT NULL,
                covered_seconds DOUBLE PRECISION NOT NULL,
                counted_from DOUBLE PRECISION,
                PRIMARY KEY (project, model, timeout_seconds, hour_start))""",
        ),
        (
            "CREATE INDEX metric_rollups_grid ON metric_rollups "
            "(project, model, version, tier_seconds, kind, window_start) "
            "INCLUDE (column_name, metric, value_max, upper_bound, alert)",
        ),
    ),
)

#: Columns a caller may insert into each table through ``Store.ingest``/``insert_rows``.
WRITABLE: dict[str, tuple[str, ...]] = {
    "profiles": (
        "project", "model", "version", "instance", "window_start", "window_end",
        "idempotency_key", "n_rows", "n_predictions", "n_errors", "latency", "payload",
        "received_at", *LATENCY_COLUMNS, "latency_min", "latency_max",
    ),
    "predictions": (
        "project", "model", "version", "prediction_id", "ts", "prediction",
        "prediction_label", "probability", "received_at", "probabilities",
    ),
    "labels": ("project", "model", "prediction_id", "label", "label_text", "ts", "received_at"),
    "samples": ("project", "model", "version", "ts", "row_json", "received_at"),
    "heartbeats": (
        "project", "model", "version", "instance", "host", "pid", "started_at", "ts", "dropped",
        "closed",
    ),
    "metric_rows": (
        "project", "model", "version", "window_start", "window_end", "column_name", "metric",
        "value", "lower_bound", "upper_bound", "alert", "n_ref", "n_cur", "method", "p_value",
        "kind", "computed_at",
    ),
}  # fmt: skip

#: The time column that retention ages each kind of data by.
RETENTION_COLUMN: dict[str, str] = {
    "profiles": "received_at",
    "predictions": "ts",
    "labels": "received_at",
    "samples": "received_at",
    "heartbeats": "ts",
    "metric_rows": "window_end",
    "metric_rollups": "window_end",
    "ingest_requests": "received_at",
    "job_runs": "started_at",
}
