-- Issue 16: `last_verified` held the date of the newest public source, never a
-- verification. Keep that date under its honest name, add the real verification
-- (a focal point confirmed the entry with the organisation), and move the stored
-- properties to the new field names. History rows keep their old JSON: readers
-- upgrade legacy names (rcm_map.schema.upgrade_properties).
ALTER TABLE services RENAME COLUMN last_verified TO source_date;
ALTER TABLE services ADD COLUMN verified_on date;

UPDATE services
SET props = (props - 'last_verified')
    || jsonb_build_object('source_date', COALESCE(props ->> 'last_verified', ''))
WHERE props ? 'last_verified';

UPDATE services
SET props = props
    || jsonb_build_object('verified_on', COALESCE(props ->> 'verified_on', ''),
                          'verified_by', COALESCE(props ->> 'verified_by', ''),
                          'eligibility', COALESCE(props ->> 'eligibility', ''));

-- The verification queue and --verified-since read this column.
CREATE INDEX services_verified_on ON services (country, verified_on);
