"""One source of truth (issue 13): with a database URL configured, the CLI and the
reader read PostGIS only, and a change applied there is what they show.

Every test runs with RCM_MAP_REGISTRY pointing at a damaged decoy file (the
`hosted` fixture): any code path that still read the GeoJSON file would fail or
leave a cache beside it, which the fixture checks at teardown.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from rcm_map.cli import main as cli
from rcm_map.search.query import Query
from rcm_map.store.base import Store
from rcm_map.store.reading import FileReader, PostGISReader, open_reader

pytestmark = pytest.mark.postgis

TAPACHULA = "14.9,-92.2667"


def run(argv: list[str]) -> tuple[int, str, str]:
    """Run `rcm-map` in-process; (exit code, stdout, stderr)."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    out.flush()
    return code, out.buffer.getvalue().decode("utf-8-sig"), err.getvalue()  # type: ignore[attr-defined]


def rename(store: Store, service_id: str, name: str) -> None:
    """A focal point's country update renaming one service (preview, then apply)."""
    country = store.get(service_id, public=False).feature["properties"]["country"]
    features = [copy.deepcopy(s.feature) for s in store.all_features(country)]
    for feature in features:
        if feature["properties"]["id"] == service_id:
            feature["properties"]["name"] = name
    store.apply_update(store.preview_update(country, features), "ana")


def test_the_reader_is_the_database(hosted: Store, small_path: Path) -> None:
    """open_reader() picks PostGIS from the environment, and searches see new writes."""
    reader = open_reader()
    try:
        assert isinstance(reader, PostGISReader)
        before = reader.stamp()
        assert "Casa del Migrante (prueba)" in set(reader.search(Query()).located["name"])
        rename(hosted, "gtm-tecun-casa", "Casa del Migrante renombrada")
        assert reader.stamp() != before
        names = set(reader.search(Query()).located["name"])
        assert "Casa del Migrante renombrada" in names
        assert "Casa del Migrante (prueba)" not in names
        assert set(reader.registry().frame["name"]) >= {"Casa del Migrante renombrada"}
        assert reader.facets() == FileReader(small_path).facets()  # same filter choices
    finally:
        reader.close()


def test_without_a_url_the_file_is_read(small_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing changes for a single machine: no URL, the registry file."""
    monkeypatch.delenv("RCM_MAP_DATABASE_URL", raising=False)
    reader = open_reader(registry=small_path)
    assert isinstance(reader, FileReader)
    assert len(reader.registry()) == 6


def test_cli_search_shows_the_applied_update(hosted: Store) -> None:
    """`rcm-map search` after `import --apply`: the new name, never the old one."""
    code, out, err = run(["search", "--near", TAPACHULA, "--limit", "5"])
    assert code == 0, err
    assert "Casa del Migrante (prueba)" in out
    rename(hosted, "gtm-tecun-casa", "Casa del Migrante renombrada")
    code, out, err = run(["search", "--near", TAPACHULA, "--limit", "5"])
    assert code == 0, err
    assert "Casa del Migrante renombrada" in out
    assert "Casa del Migrante (prueba)" not in out


def test_cli_import_apply_then_search(hosted: Store, tmp_path: Path) -> None:
    """The hosting team's own sequence: `rcm-map import FILE --country GTM --apply`."""
    gtm = [copy.deepcopy(s.feature) for s in hosted.all_features("GTM")]
    gtm[0]["properties"]["name"] = "Nombre nuevo desde la CLI"
    update = tmp_path / "gtm.geojson"
    update.write_text(json.dumps({"type": "FeatureCollection", "features": gtm}), "utf-8")
    code, out, err = run(["import", str(update), "--country", "GTM", "--apply",
                          "--user", "ana"])
    assert code == 0, out + err
    code, out, err = run(["search", "--country", "GTM", "--format", "csv"])
    assert code == 0, err
    assert "Nombre nuevo desde la CLI" in out


@pytest.mark.parametrize("fmt", ["csv", "geojson", "hxl"])
def test_cli_export_reads_the_database(hosted: Store, tmp_path: Path, fmt: str) -> None:
    rename(hosted, "mex-tap-dif", "Procuraduría renombrada")
    out = tmp_path / f"out.{fmt}"
    code, _, err = run(["export", "--format", fmt, "--out", str(out)])
    assert code == 0, err
    text = out.read_text("utf-8-sig")
    assert "Procuraduría renombrada" in text
    assert "Procuraduría de Protección (prueba)" not in text


def test_cli_validate_live_registry(hosted: Store) -> None:
    """`rcm-map validate` without a file checks the database's services."""
    code, out, err = run(["validate"])
    assert code == 0, out + err
    assert out.strip().splitlines()[-1] == "database: 6 features, 0 errors, 0 warnings"


def test_cli_registry_flag_with_a_database_is_refused(hosted: Store,
                                                      small_path: Path) -> None:
    """Two registries at once is what the issue is about: refuse, naming both."""
    code, _, err = run(["search", "--registry", str(small_path)])
    assert code == 2
    assert "--registry" in err and "database" in err


def test_cli_says_when_the_database_is_unreachable(
        hosted: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A wrong URL: one line, exit 2, no traceback, and still no file read."""
    monkeypatch.setenv("RCM_MAP_DATABASE_URL",
                       f"postgresql://postgres@/nowhere?host={tmp_path}&port=1")
    monkeypatch.setenv("RCM_MAP_DB_TIMEOUT_S", "1")
    code, out, err = run(["search", "--near", TAPACHULA])
    assert code == 2
    assert "the database is not reachable" in err
    assert "Traceback" not in out + err


def leaks(text: str, secrets: list[str]) -> list[str]:
    """The secret values found in `text`."""
    return [s for s in secrets if s in text]


def true_site_strings(feature: dict[str, Any]) -> list[str]:
    """The true coordinates in the decimal forms an output could use, and the address."""
    lon, lat = feature["geometry"]["coordinates"]
    forms = [feature["properties"]["address"]]
    for value in (lon, lat):
        forms += [repr(value), *(f"{value:.{k}f}" for k in (3, 4, 5, 6))]
    return forms


def test_shelter_made_confidential_disappears_from_cli_outputs(hosted: Store,
                                                               tmp_path: Path) -> None:
    """Hosted confidentiality (issue 12): once a focal point marks a shelter
    confidential in PostGIS, no CLI output carries its true point or address."""
    before = hosted.get("mex-tap-dif", public=False).feature
    secrets = true_site_strings(before)
    code, out, _ = run(["search", "--near", TAPACHULA, "--format", "geojson"])
    assert code == 0 and leaks(out, secrets)  # the scan is real: public before
    mex = [copy.deepcopy(s.feature) for s in hosted.all_features("MEX")]
    for feature in mex:
        if feature["properties"]["id"] == "mex-tap-dif":
            feature["properties"]["location_precision"] = "confidential"
    hosted.apply_update(hosted.preview_update("MEX", mex), "ana")
    texts = []
    for fmt in ("table", "csv", "geojson"):
        code, out, err = run(["search", "--near", TAPACHULA, "--format", fmt])
        assert code == 0, err
        texts.append(out + err)
    for fmt in ("csv", "geojson", "hxl", "hsds"):
        target = tmp_path / (f"x.{fmt}" if fmt != "hsds" else "x.zip")
        code, out, err = run(["export", "--format", fmt, "--out", str(target)])
        assert code == 0, err
        texts.append(target.read_bytes().decode("utf-8", "replace") if fmt != "hsds"
                     else _zip_text(target))
    assert all("Procuraduría de Protección (prueba)" in t for t in texts[:3])
    for text in texts:
        assert leaks(text, secrets) == []


def _zip_text(path: Path) -> str:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())


def test_place_search_ranks_with_the_database_services(hosted: Store, small_path: Path) -> None:
    """`--place` ranks namesakes by the services near them: the database's, not the
    decoy file's; the points are the public ones, confidential services left out."""
    reader = open_reader()
    try:
        points = sorted(map(tuple, reader.service_points().tolist()))
        assert points == sorted(map(tuple, FileReader(small_path).service_points().tolist()))
        assert len(points) == 4  # 5 located in small.geojson, 1 of them confidential
    finally:
        reader.close()
    code, _, err = run(["search", "--place", "Tapachula", "--limit", "3"])
    assert code == 0, err
    assert err.splitlines()[0] == "place: Tapachula, Chiapas, MEX (14.90541, -92.25891)"
