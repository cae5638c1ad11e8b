-- The mirror of Betatel's package listing, its status audit, and the log of sync passes.
CREATE SCHEMA IF NOT EXISTS esim;

CREATE TABLE esim.sync_runs (
    id             bigserial PRIMARY KEY,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz,
    status         text NOT NULL DEFAULT 'running'
                   CHECK (status IN ('running', 'succeeded', 'failed', 'aborted')),
    packages_seen  integer NOT NULL DEFAULT 0,
    inserted       integer NOT NULL DEFAULT 0,
    updated        integer NOT NULL DEFAULT 0,
    unchanged      integer NOT NULL DEFAULT 0,
    removed        integer NOT NULL DEFAULT 0,
    status_changes integer NOT NULL DEFAULT 0,
    error          text
);
COMMENT ON TABLE esim.sync_runs IS 'One row per sync pass: when it ran, how it ended, what it changed.';

CREATE TABLE esim.packages (
    id               text PRIMARY KEY,
    sim              text,
    package_template bigint,
    status           text NOT NULL,
    created_date     timestamptz,
    activated_date   timestamptz,
    expiry_date      timestamptz,
    raw              jsonb NOT NULL,
    first_seen_at    timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    removed_at       timestamptz
);
COMMENT ON TABLE esim.packages IS 'Current copy of every package the API has listed; removed_at is set once it is no longer listed.';
COMMENT ON COLUMN esim.packages.raw IS 'The package object exactly as the API sent it, unknown fields included.';
COMMENT ON COLUMN esim.packages.removed_at IS 'NULL while the API lists the package; when a complete pass first missed it otherwise.';

CREATE TABLE esim.package_status_history (
    id          bigserial PRIMARY KEY,
    package_id  text NOT NULL REFERENCES esim.packages (id),
    old_status  text,
    new_status  text,
    changed_at  timestamptz NOT NULL,
    run_id      bigint NOT NULL REFERENCES esim.sync_runs (id),
    CHECK (old_status IS NOT NULL OR new_status IS NOT NULL)
);
COMMENT ON TABLE esim.package_status_history IS 'Audit of status transitions. old_status NULL: first sighting or reappearance; new_status NULL: no longer listed.';

CREATE INDEX package_status_history_package_idx ON esim.package_status_history (package_id, changed_at);
CREATE INDEX package_status_history_changed_at_idx ON esim.package_status_history (changed_at);
CREATE INDEX packages_status_idx ON esim.packages (status) WHERE removed_at IS NULL;
CREATE INDEX packages_sim_idx ON esim.packages (sim);
