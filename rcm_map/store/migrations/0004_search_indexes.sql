-- rcm_map PostGIS schema: indexes for the caseworker query at a million services (issue 13).
--
-- Every search also counts the located services matching the filters across the
-- whole network (SearchResult.total_matching). Those filters are bitmasks and open
-- age bounds that no B-tree can seek, so the count visits every located row; reading
-- that many full rows (their jsonb props) cost ~190 ms at 100k services. This
-- partial index carries every column the filters read except the free text, so the
-- count becomes an index-only scan of small tuples (autovacuum keeps the visibility
-- map current; rcm_map.store.pgbulk vacuums after a bulk seed).
CREATE INDEX services_located_filters ON services (country)
    INCLUDE (service_bits, population_bits, age_min, age_max, admin1, languages)
    WHERE public_geog IS NOT NULL;

-- Country-wide services (no point) are listed with every search: a few rows, found
-- without scanning the table.
CREATE INDEX services_countrywide ON services (country) WHERE public_geog IS NULL;
