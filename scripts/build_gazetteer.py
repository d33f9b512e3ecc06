"""Build data/gazetteer.csv.gz from ../shared/data/sources/places.csv (GeoNames, CC BY 4.0).

Place data © GeoNames (geonames.org), CC BY 4.0. The source is the GeoNames
"cities500" extract for the eight countries (see PROVENANCE.md next to it).
This script:

* applies the admin-1 code/name updates of scripts/build_boundaries.py
  (MX-DIF -> MX-CMX, Costa Caribe Norte/Sur, Guna Yala), so that place rows
  and polygons use the same codes and names;
* adds `key`, the search form of the name (rcm_map.search.gazetteer.normalize), and
  `alt_keys`, a few hand-listed alternative names (ALIASES below, each with the
  reason), joined with '|';
* sorts rows by country, admin-1 code, population (descending) and geonameid and
  writes a gzip file with a zero timestamp, so the same input gives the same bytes.

Usage: python scripts/build_gazetteer.py [--source CSV] [--out CSV.GZ]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rcm_map.core.boundaries import admin1_units  # noqa: E402 - after the path tweak
from rcm_map.search.gazetteer import GAZETTEER_COLUMNS, normalize  # noqa: E402

DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "sources" / "places.csv"
DEFAULT_OUT = ROOT / "data" / "gazetteer.csv.gz"
CODE_FIXES = {"MX-DIF": "MX-CMX"}

# geonameid -> alternative names people and our source list use. GeoNames'
# alternate-names table is not in the cities500 extract, so the few names the
# registry needs are listed by hand.
ALIASES: dict[int, tuple[str, ...]] = {
    3598132: ("Ciudad de Guatemala", "Guatemala"),  # GeoNames: "Guatemala City"
    3530597: ("Ciudad de México", "CDMX", "México D.F.", "Distrito Federal"),  # "Mexico City"
    3703443: ("Ciudad de Panamá", "Panamá"),  # "Panama City"
    3624436: ("Paso Canoas",),  # "Canoas": the Costa Rican side of the Paso Canoas crossing
}


def ciudad_alias(name: str) -> list[str]:
    """["choluteca"] for "Ciudad Choluteca": such towns usually go by the bare name.

    Not for "Ciudad de/del ..." (Ciudad del Carmen is not "del carmen").
    """
    words = normalize(name).split()
    if len(words) >= 2 and words[0] == "ciudad" and words[1] not in ("de", "del"):
        return [" ".join(words[1:])]
    return []


def build_rows(source: Path) -> list[dict[str, str]]:
    """Rows of the committed gazetteer, sorted, as strings ready for csv.writer."""
    names = {u.code: u.name for u in admin1_units()}
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
            alt = [normalize(a) for a in ALIASES.get(gid, ())]
            alt += ciudad_alias(rec["name"])
            rows.append({
                "name": rec["name"].strip(),
                "key": normalize(rec["name"]),
                "alt_keys": "|".join(dict.fromkeys(a for a in alt if a)),
                "country_iso3": rec["country_iso3"],
                "admin1_code": code,
                "admin1": names[code],
                "lat": f"{float(rec['lat']):.5f}",
                "lon": f"{float(rec['lon']):.5f}",
                "population": str(int(rec["population"] or 0)),
                "geonameid": str(gid),
            })
    missing = set(ALIASES) - {int(r["geonameid"]) for r in rows}
    if missing:
        raise ValueError(f"{source}: ALIASES name geonameids not in the source: {sorted(missing)}")
    rows.sort(key=lambda r: (r["country_iso3"], r["admin1_code"], -int(r["population"]),
                             int(r["geonameid"])))
    return rows


def write_gzip_csv(rows: list[dict[str, str]], out: Path) -> None:
    """Write rows as a deterministic gzip CSV (mtime 0, no file name), atomically."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(GAZETTEER_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    payload = gzip.compress(text.getvalue().encode("utf-8"), compresslevel=9, mtime=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=out.name + ".tmp-", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"{args.source}: source file not found (see data/README.md)", file=sys.stderr)
        return 2
    rows = build_rows(args.source)
    write_gzip_csv(rows, args.out)
    print(f"{args.out}: {len(rows)} places")
    return 0


if __name__ == "__main__":
    sys.exit(main())
