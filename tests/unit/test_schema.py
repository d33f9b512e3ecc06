"""Schema vocabularies and per-feature validation."""

from __future__ import annotations

import pytest

from rcm_map.core import schema


def valid_props(**changes):
    props = {
        "id": "x-1", "name": "Casa", "organization": "Org", "organization_type": "ngo",
        "service_types": ["shelter"], "country": "MEX", "location_precision": "city",
        "source": "https://example.org",
    }
    props.update(changes)
    return props


def fields_of(issues):
    return [(i.field, i.severity) for i in issues]


def test_vocabulary_codes_are_unique_stable_identifiers():
    """Labels live in the catalogues (tests/unit/test_catalogues.py); here only codes."""
    for name, codes in schema.VOCABULARIES.items():
        assert len(set(codes)) == len(codes), name
        assert all(code and code.strip() == code and " " not in code for code in codes), name


def test_valid_minimal_properties_have_no_issues():
    assert schema.validate_properties(valid_props()) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("organization_type", "company"),
        ("service_types", ["shelter", "mental_health"]),
        ("service_types", "shelter"),
        ("populations", ["children"]),
        ("country", "USA"),
        ("admin1", "GT-SM"),  # valid code, wrong country for MEX
        ("admin1", "Chiapas"),
        ("age_min", -1),
        ("age_max", 26),
        ("age_min", 3.5),
        ("age_min", "5"),
        ("age_min", True),
        ("email", "not-an-email"),
        ("website", "javascript:alert(1)"),
        ("website", "ftp://example.org"),
        ("source_date", "2024-13-01"),
        ("source_date", "01/02/2024"),
        ("verified_on", "2999-01-01"),
        ("languages", ["Spanish"]),
        ("phones", "+52 1"),
        ("location_precision", "exact"),
        ("notifies_authorities", "maybe"),
        ("id", "has space"),
    ],
)
def test_bad_values_are_reported_with_field_and_value(field, value):
    issues = schema.validate_properties(valid_props(**{field: value}), file="f.geojson", index=3)
    errors = [i for i in issues if i.severity == "error"]
    assert errors, f"{field}={value!r} accepted"
    assert errors[0].field == field
    line = str(errors[0])
    assert "f.geojson" in line and "feature 3" in line and repr(field) in line


@pytest.mark.parametrize("field", [f.name for f in schema.FIELDS if f.required])
def test_missing_required_field(field):
    props = valid_props()
    del props[field]
    assert (field, "error") in fields_of(schema.validate_properties(props))


def test_age_min_above_age_max():
    issues = schema.validate_properties(valid_props(age_min=15, age_max=10))
    assert any(i.field == "age_min" and "greater than age_max" in i.message for i in issues)


def test_unknown_field_is_a_warning_not_an_error():
    issues = schema.validate_properties(valid_props(colour="red"))
    assert fields_of(issues) == [("colour", "warning")]


def test_normalize_fills_every_field_canonically():
    out = schema.normalize_properties(valid_props(age_min=5.0, name="  Casa  "))
    assert list(out) == list(schema.FIELD_NAMES)
    assert out["age_min"] == 5 and isinstance(out["age_min"], int)
    assert out["age_max"] is None and out["phones"] == [] and out["name"] == "Casa"
    assert out["notifies_authorities"] == "unknown"


def test_legacy_last_verified_is_read_as_the_source_date() -> None:
    """Files written before issue 16 called the source date `last_verified`."""
    props = {"id": "a", "last_verified": "2024-03-18", "verified_on": ""}
    upgraded = schema.upgrade_properties(props)
    assert upgraded["source_date"] == "2024-03-18" and "last_verified" not in upgraded
    assert upgraded["verified_on"] == ""  # never promoted to a verification
    assert "last_verified" in props  # input untouched
    assert schema.normalize_properties(props)["source_date"] == "2024-03-18"
    assert not [i for i in schema.validate_properties(props) if i.field == "last_verified"]
    kept = schema.upgrade_properties({"source_date": "2025-01-01", "last_verified": "2020-01-01"})
    assert kept["source_date"] == "2025-01-01"
