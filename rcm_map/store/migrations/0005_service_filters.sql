-- rcm_map PostGIS schema: a narrow copy of what the caseworker query filters on (issue 13).
--
-- A nearest-k search walks the GiST index in distance order and checks the filters
-- on each candidate's row. In `services` a row carries its ~1 KB jsonb properties,
-- so at a million services the walk read a table page for every few candidates.
-- `service_filters` holds, for each LOCATED service, only the public point and the
-- filtered columns (a few dozen bytes): the walk reads few pages, and only the k
-- winners are joined back to `services` for their properties
-- (rcm_map/store/pgsearch.py). The network-wide match count scans it too.
--
-- Kept equal to `services` by triggers in the writer's own transaction, whoever
-- writes (the store, COPY, psql); rcm_map.store.pgbulk fills it in one statement
-- after a bulk COPY instead (its triggers disabled for that transaction only).
CREATE TABLE service_filters (
    id              text PRIMARY KEY,
    public_geog     geography(Point, 4326) NOT NULL,
    country         text NOT NULL,
    admin1          text NOT NULL,
    service_bits    integer NOT NULL,
    population_bits integer NOT NULL,
    age_min         integer,
    age_max         integer,
    languages       text[] NOT NULL,
    verified_on     date,
    search_text     text NOT NULL
);

CREATE FUNCTION rcm_map_sync_service_filters() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM service_filters WHERE id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.public_geog IS NOT NULL THEN
        INSERT INTO service_filters (id, public_geog, country, admin1, service_bits,
                                     population_bits, age_min, age_max, languages,
                                     verified_on, search_text)
        VALUES (NEW.id, NEW.public_geog, NEW.country, NEW.admin1, NEW.service_bits,
                NEW.population_bits, NEW.age_min, NEW.age_max, NEW.languages,
                NEW.verified_on, NEW.search_text);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION rcm_map_truncate_service_filters() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Already empty when the same statement truncated both tables (and then
    -- TRUNCATE here would fail: that statement still holds the table open).
    IF EXISTS (SELECT 1 FROM service_filters) THEN
        TRUNCATE service_filters;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER services_filters_sync
    AFTER INSERT OR UPDATE OR DELETE ON services
    FOR EACH ROW EXECUTE FUNCTION rcm_map_sync_service_filters();
CREATE TRIGGER services_filters_truncate
    AFTER TRUNCATE ON services
    FOR EACH STATEMENT EXECUTE FUNCTION rcm_map_truncate_service_filters();

INSERT INTO service_filters
SELECT id, public_geog, country, admin1, service_bits, population_bits, age_min, age_max,
       languages, verified_on, search_text
FROM services WHERE public_geog IS NOT NULL;

CREATE INDEX service_filters_public_geog_gist ON service_filters USING gist (public_geog);

-- The search no longer reads these (the walk and the count moved to service_filters);
-- each one cost every write and a bulk seed its build.
DROP INDEX services_public_geog_gist;
DROP INDEX services_located_filters;
DROP INDEX services_languages;

-- Planner statistics of columns no search filters on in `services` (the ~1 KB
-- properties, the points, the folded text): ANALYZE skips them (it took most of
-- ANALYZE's time after a bulk seed).
ALTER TABLE services ALTER COLUMN props SET STATISTICS 0,
    ALTER COLUMN geog SET STATISTICS 0,
    ALTER COLUMN public_geog SET STATISTICS 0,
    ALTER COLUMN search_text SET STATISTICS 0;
