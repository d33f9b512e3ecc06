"""Exchange formats: Open Referral HSDS 3.0 and HXL-tagged CSV (see docs/interop.md).

The helpers below are what the command line and the app call:

- ``cli_export("hsds" | "hxl", frame, out)`` writes a package folder or a file;
- ``cli_import("hsds" | "hxl", path)`` returns ``(features, issues)``;
- ``hsds_zip_bytes(frame)`` / ``export_hxl(frame)`` give bytes for a download button.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from rcm_map.core.files import atomic_write_bytes
from rcm_map.core.schema import Issue
from rcm_map.formats.hsds import export_hsds, hsds_package, hsds_zip_bytes, import_hsds
from rcm_map.formats.hxl import export_hxl, import_hxl

FORMATS = ("hsds", "hxl")

__all__ = ["FORMATS", "cli_export", "cli_import", "export_hsds", "export_hxl",
           "hsds_zip_bytes", "import_hsds", "import_hxl", "summary"]


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"Expected a format among {', '.join(FORMATS)}, instead got: {fmt!r}.")


def cli_export(fmt: str, frame: pd.DataFrame, out: str | Path) -> str:
    """Export `frame` as HSDS (a package folder at `out`) or HXL (a CSV file at `out`).

    Parameters
    ----------
    fmt
        "hsds" or "hxl".
    frame
        The (public, possibly filtered) services to export.
    out
        Folder for HSDS (created if needed; a path ending in .zip gets a ZIP
        instead), file for HXL. Files are written atomically.

    Returns
    -------
    str
        What was written, for the command's stderr: one line, then (HSDS) one
        line per required HSDS value the registry cannot fill and left empty.
    """
    _check_format(fmt)
    out = Path(out)
    if fmt == "hxl":
        atomic_write_bytes(out, export_hxl(frame))
        return f"wrote {len(frame)} services to {out} (HXL CSV)"
    if out.suffix.lower() == ".zip":
        package = hsds_package(frame)
        atomic_write_bytes(out, package.zip_bytes())
        line = f"wrote {len(frame)} services to {out} (HSDS 3.0 package, ZIP)"
    else:
        package = export_hsds(frame, out)
        line = (f"wrote {len(frame)} services to {out}/ (HSDS 3.0 package, "
                f"{len(package.files)} files)")
    if package.unfilled:
        line += (f"\n{len(package.unfilled)} values HSDS requires are unknown and left "
                 "empty (an HSDS validator reports these rows):")
        line += "".join(f"\n  {issue}" for issue in package.unfilled)
    return line


def cli_import(fmt: str, path: str | Path, defaults: dict[str, Any] | None = None
               ) -> tuple[list[dict[str, Any]], list[Issue]]:
    """Import an HSDS package/JSON or an HXL CSV: valid features and every issue.

    Records with an error are reported and not among the features; write the
    features with `export.write_geojson` (after a backup) and print the issues.
    `defaults` (HSDS only) fills required registry fields a partner's file lacks.
    """
    _check_format(fmt)
    if fmt == "hsds":
        return import_hsds(path, defaults)
    return import_hxl(path)


def summary(features: list[dict[str, Any]], issues: list[Issue]) -> str:
    """One line: how many records loaded, and how many errors and warnings."""
    n_errors = sum(1 for i in issues if i.severity == "error")
    return (f"{len(features)} services imported; {n_errors} errors, "
            f"{len(issues) - n_errors} warnings")
