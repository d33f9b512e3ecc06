-- rcm_map PostGIS schema: a version counter of the registry (issue 13).
-- Numbered 0003 so that it never collides with 0002, reserved for the
-- source_date / verified_on change of issue 16; the runner applies any gap in order.
--
-- Every app replica keeps views built from the whole registry (coverage tables,
-- filter choices) and checks this counter on each page rerun: one single-row
-- read. A statement-level trigger bumps it for every write to `services`,
-- whichever program makes it (the store, COPY, psql), in the writer's own
-- transaction, so a reader sees the new number exactly when it can see the new
-- rows. Search results are never cached; the network-wide match count a search
-- shows is, per value of this counter (rcm_map/store/pgcount.py).
CREATE TABLE registry_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL
);
INSERT INTO registry_state (singleton, version) VALUES (true, 1);

CREATE FUNCTION rcm_map_bump_registry_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registry_state SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER services_registry_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON services
    FOR EACH STATEMENT EXECUTE FUNCTION rcm_map_bump_registry_version();
