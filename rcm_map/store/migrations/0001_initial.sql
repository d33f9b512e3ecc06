-- rcm_map PostGIS schema, version 1.
-- Run by rcm_map.store.migrate inside one transaction; never edit once released:
-- add 0002_*.sql instead.
CREATE EXTENSION IF NOT EXISTS postgis;

-- One row per service. `props` holds the true, normalised properties and `geog`
-- the true location; everything a query filters or sorts on is derived in Python
-- (rcm_map.store.postgis.row_of) from the PUBLIC view, so no query can reach a
-- confidential service's true point or address.
CREATE TABLE services (
    id              text PRIMARY KEY,
    country         text NOT NULL,
    admin1          text NOT NULL DEFAULT '',
    name            text NOT NULL,
    props           jsonb NOT NULL,
    geog            geography(Point, 4326),
    public_geog     geography(Point, 4326),
    public_lon      double precision,
    public_lat      double precision,
    service_bits    integer NOT NULL DEFAULT 0,
    population_bits integer NOT NULL DEFAULT 0,
    age_min         integer,            -- NULL = open bound
    age_max         integer,            -- NULL = open bound
    languages       text[] NOT NULL DEFAULT '{}',
    last_verified   date,
    search_text     text NOT NULL DEFAULT '',  -- rcm_map.text.fold of the public text
    version         integer NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    updated_by      text NOT NULL DEFAULT ''
);
CREATE INDEX services_public_geog_gist ON services USING gist (public_geog);
CREATE INDEX services_country ON services (country);
CREATE INDEX services_languages ON services USING gin (languages);

CREATE TABLE changes (
    change_id     bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    username      text NOT NULL,
    action        text NOT NULL,
    country       text NOT NULL,
    summary       text NOT NULL,
    restored_from bigint REFERENCES changes (change_id)
);
CREATE INDEX changes_country ON changes (country);

CREATE TABLE service_changes (
    change_id      bigint NOT NULL REFERENCES changes (change_id),
    service_id     text NOT NULL,
    action         text NOT NULL,
    version_before integer,
    version_after  integer,
    before         jsonb,
    after          jsonb
);
CREATE INDEX service_changes_service ON service_changes (service_id);
CREATE INDEX service_changes_change ON service_changes (change_id);

-- Problem reports hold no data about children and nothing about who reported.
CREATE TABLE reports (
    report_id       bigserial PRIMARY KEY,
    service_id      text NOT NULL,
    country         text NOT NULL,
    kind            text NOT NULL,
    comment         text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolved_by     text NOT NULL DEFAULT '',
    resolved_at     timestamptz,
    resolution_note text NOT NULL DEFAULT ''
);
CREATE INDEX reports_open ON reports (country) WHERE status = 'open';
