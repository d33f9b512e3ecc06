"""Open Referral HSDS 3.0: export the registry as a tabular data package.

One registry feature (a service at a point) becomes one HSDS `service`, its
`organization` (shared by every service with the same name and type), one
`location` and `service_at_location` when it has a point, its phones,
languages, schedule (our free-text hours) and address, and `attributes`
linking it to our own taxonomies (see `rcm_map.formats.taxonomy`). The
reverse direction lives in `hsds_import` (re-exported here as `import_hsds`).
Field mapping: docs/interop.md.

Pass the public view of the registry (as `load_registry` returns it), exactly
as for the CSV and GeoJSON exports: confidential services then leave with
their public point and no street address.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rcm_map.core import i18n, schema
from rcm_map.core.files import atomic_write_bytes
from rcm_map.core.schema import Issue
from rcm_map.formats import export
from rcm_map.formats import hsds_tables as tables
from rcm_map.formats.hsds_import import import_hsds
from rcm_map.formats.taxonomy import TAXONOMIES, taxonomy_rows, term_rows, uid

# Mexican and Central American addresses often carry "C.P. 30700"; we read the
# postal code from there and never make one up.
_POSTAL_CODE = re.compile(r"\bC\.?\s?P\.?\s*(\d{5})\b", re.IGNORECASE)

PACKAGE_NAME = "rcm-map-hsds"


def _plain_list(value: Any) -> list[str]:
    if hasattr(value, "as_py"):  # an Arrow list scalar
        value = value.as_py()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(v) for v in value]
    return []


def plain_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose list columns hold Python lists.

    Frames may hold lists as NumPy or Arrow arrays (the registry cache does);
    `export` expects Python lists and would otherwise drop or choke on them.
    """
    out = frame.copy()
    for name in schema.LIST_FIELDS:
        if name in out.columns:
            out[name] = pd.Series([_plain_list(v) for v in out[name]], index=out.index,
                                  dtype=object)
    return out


def features_of(frame_or_features: pd.DataFrame | Iterable[dict[str, Any]]) -> list[dict]:
    """GeoJSON features (canonical properties) from a frame or a list of features."""
    if isinstance(frame_or_features, pd.DataFrame):
        features = export.to_geojson_dict(plain_lists(frame_or_features))["features"]
    else:
        features = list(frame_or_features)
    return [{"type": "Feature", "geometry": f.get("geometry"),
             "properties": schema.normalize_properties(f.get("properties") or {})}
            for f in features]


def _attribute(link_id: str, taxonomy: str, code: str, value: str = "") -> dict[str, Any]:
    tax = TAXONOMIES[taxonomy]
    return {"id": uid("attribute", link_id, taxonomy, code, value),
            "link_id": link_id, "taxonomy_term_id": tax.term_id(code),
            "link_type": tax.link_type, "link_entity": tax.link_entity, "value": value}


def _organization(props: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The organization row of a service and its organization-type attribute."""
    org_id = uid("organization", props["organization"], props["organization_type"])
    row = {"id": org_id, "name": props["organization"],
           # HSDS requires a description; the type is what we know about the organisation.
           "description": i18n.label("organization_type", props["organization_type"], "en")}
    return row, _attribute(org_id, "organization_type", props["organization_type"])


def _service_row(sid: str, org_id: str, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": sid, "organization_id": org_id, "name": props["name"],
        "description": props["description"], "url": props["website"],
        "email": props["email"], "status": "active",
        "application_process": props["referral"], "fees_description": props["cost"],
        "minimum_age": props["age_min"], "maximum_age": props["age_max"],
        "eligibility_description": props["eligibility"],
        # HSDS: "the date the service was last assured" - a real verification only,
        # never the date of a source article (issue 16).
        "assured_date": props["verified_on"],
    }


def _service_attributes(sid: str, props: dict[str, Any], located: bool) -> list[dict]:
    rows = [_attribute(sid, "service_type", c) for c in props["service_types"]]
    rows += [_attribute(sid, "population", c) for c in props["populations"]]
    rows.append(_attribute(sid, "notifies_authorities", props["notifies_authorities"]))
    rows.append(_attribute(sid, "location_precision", props["location_precision"]))
    values = {"record_id": props["id"], "country": props["country"], "admin1": props["admin1"],
              "city": props["city"], "source": props["source"],
              "source_date": props["source_date"], "verified_by": props["verified_by"]}
    if not located:
        values["address"] = props["address"]  # no location row to hang an address on
    rows += [_attribute(sid, "field", k, v) for k, v in values.items() if v]
    return rows


def _location_rows(fid: str, sid: str, org_id: str, props: dict[str, Any],
                   coords: list[float]) -> dict[str, list[dict]]:
    lid = uid("location", fid)
    out: dict[str, list[dict]] = {
        "locations": [{"id": lid, "location_type": "physical", "organization_id": org_id,
                       "name": props["name"], "longitude": coords[0], "latitude": coords[1]}],
        "service_at_location": [{"id": uid("service_at_location", fid), "service_id": sid,
                                 "location_id": lid}],
        "addresses": [],
    }
    if props["address"]:
        postal = _POSTAL_CODE.search(props["address"])
        out["addresses"].append({
            "id": uid("address", fid), "location_id": lid, "address_1": props["address"],
            "city": props["city"], "state_province": props["admin1"],
            "postal_code": postal.group(1) if postal else "",
            "country": schema.ISO2_BY_ISO3.get(props["country"], props["country"]),
            "address_type": "physical",
        })
    return out


def feature_rows(feature: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The HSDS rows (by table) of one feature with canonical properties."""
    props = feature["properties"]
    fid = props["id"]
    sid = uid("service", fid)
    org, org_attribute = _organization(props)
    geometry = feature.get("geometry")
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in tables.TABLES}
    out["organizations"].append(org)
    out["services"].append(_service_row(sid, org["id"], props))
    out["attributes"] = [org_attribute, *_service_attributes(sid, props, geometry is not None)]
    out["phones"] = [{"id": uid("phone", fid, str(i)), "service_id": sid, "number": number}
                     for i, number in enumerate(props["phones"])]
    out["languages"] = [{"id": uid("language", fid, code), "service_id": sid, "code": code}
                        for code in props["languages"]]
    if props["hours"]:
        out["schedules"].append({"id": uid("schedule", fid), "service_id": sid,
                                 "description": props["hours"]})
    if geometry is not None:
        for table, rows in _location_rows(fid, sid, org["id"], props,
                                          geometry["coordinates"]).items():
            out[table].extend(rows)
    return out


def package_rows(features: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows for some features, duplicates (shared organisations) removed.

    Each row keeps the registry id of the (first) service it comes from under
    `_record`, which no table has as a column, to name that service in reports.
    """
    out: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in tables.TABLES}
    for feature in features:
        record = feature["properties"]["id"]
        for table, rows in feature_rows(feature).items():
            for row in rows:
                out[table].setdefault(row["id"], {**row, "_record": record})
    out["taxonomies"] = {r["id"]: r for r in taxonomy_rows()}
    out["taxonomy_terms"] = {r["id"]: r for r in term_rows()}
    return {t: list(rows.values()) for t, rows in out.items()}


def datapackage() -> dict[str, Any]:
    """The `datapackage.json` descriptor of our tabular HSDS 3.0 package.

    Its table schemas are the official ones (`hsds_tables.table_resource`), so
    the descriptor carries the CC BY-SA 4.0 notice of the HSDS schema.
    """
    official = tables.official_descriptor()
    return {
        "name": PACKAGE_NAME,
        "title": "rcm_map: protection services for migrant children (HSDS 3.0)",
        "description": "Services of the rcm_map registry as an Open Referral HSDS 3.0 "
                       "tabular data package. Taxonomies rcm_map:* are rcm_map's own "
                       "vocabularies (see docs/interop.md).",
        "profile": "tabular-data-package",
        "hsds_version": official["version"],
        "sources": [{
            "title": f"{official['title']} {official['version']} (Open Referral): table "
                     f"schemas, licence {official['license']['name']} "
                     f"({official['license']['type']})",
            "path": official["homepage"],
        }],
        "resources": [tables.table_resource(name) for name in tables.TABLES],
    }


@dataclass(frozen=True)
class HsdsPackage:
    """An HSDS 3.0 tabular package in memory, and what it could not fill.

    Attributes
    ----------
    files
        File name -> bytes: one CSV per table, `datapackage.json` and `README.md`
        (which lists the values in `unfilled`).
    unfilled
        One warning per required HSDS cell left empty because the registry does
        not know the value (an address without a postal code, ...), naming the
        file, row, column and registry id. Never filled with a placeholder.
    """

    files: dict[str, bytes]
    unfilled: list[Issue]

    def zip_bytes(self) -> bytes:
        """The package as a ZIP file (fixed timestamps: same package, same bytes)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in self.files.items():
                info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        return buffer.getvalue()


def hsds_package(frame_or_features: pd.DataFrame | Iterable[dict[str, Any]]) -> HsdsPackage:
    """The HSDS package of a registry or search-result frame, or of features."""
    rows = package_rows(features_of(frame_or_features))
    files = {f"{name}.csv": tables.table_csv_bytes(name, rows[name]) for name in tables.TABLES}
    files["datapackage.json"] = (json.dumps(datapackage(), indent=2, ensure_ascii=False)
                                 + "\n").encode("utf-8")
    unfilled = [issue for name in tables.TABLES
                for issue in tables.missing_required(name, rows[name])]
    files["README.md"] = readme(unfilled)
    return HsdsPackage(files, unfilled)


def readme(unfilled: list[Issue]) -> bytes:
    """The package's README.md: what it is, the schema's licence, and every required
    value left empty (so a downloaded ZIP explains what a validator will flag)."""
    official = tables.official_descriptor()
    lines = [
        "# rcm_map services as an Open Referral HSDS 3.0 tabular data package", "",
        "One CSV per HSDS table and `datapackage.json` (validate it with "
        "`frictionless validate datapackage.json`). Taxonomies `rcm_map:*` are rcm_map's "
        "own vocabularies.", "",
        f"Table schemas: {official['title']} {official['version']}, Open Referral, "
        f"{official['license']['name']} ({official['license']['url']}).", "",
        "## Required values the registry does not know", "",
    ]
    if unfilled:
        lines += ["HSDS requires these values; the registry does not hold them, so they are "
                  "left empty rather than made up, and a validator reports these rows:", ""]
        lines += [f"- {issue.file} row {issue.index} (service `{issue.feature_id}`): "
                  f"`{issue.field}`" for issue in unfilled]
    else:
        lines.append("None: every required value is filled.")
    return ("\n".join(lines) + "\n").encode("utf-8")


def export_hsds(frame_or_features: pd.DataFrame | Iterable[dict[str, Any]],
                out_dir: str | Path) -> HsdsPackage:
    """Write an HSDS 3.0 tabular data package into `out_dir` (created if needed).

    Parameters
    ----------
    frame_or_features
        A registry or search-result frame (public view), or GeoJSON features.
    out_dir
        Folder to write `datapackage.json` and one CSV per table into. Each file
        is written atomically; other files in the folder are left alone.

    Returns
    -------
    HsdsPackage
        What was written (`files`, by name) and the required values left empty
        (`unfilled`), to report to the person exporting.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    package = hsds_package(frame_or_features)
    for name, data in package.files.items():
        atomic_write_bytes(folder / name, data)
    return package


def hsds_zip_bytes(frame: pd.DataFrame | Iterable[dict[str, Any]]) -> bytes:
    """The HSDS package as a ZIP file in memory (for a download button)."""
    return hsds_package(frame).zip_bytes()


__all__ = ["HsdsPackage", "export_hsds", "hsds_package", "hsds_zip_bytes", "import_hsds"]
