"""Build data/actors.geojson and data/sources/evidence.csv from data/sources/ (`make data`).

Prints the build report (imports, evidence, conflicts, problems) and rewrites the
generated blocks of data/README.md. Exit status 1 when any problem was found: the
files are still written so the problems can be inspected, but they must be fixed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rcm_map.formats.registry_build import SOURCES_DIR, build, write_registry
from rcm_map.formats.registry_report import refresh_readme


def main(argv: list[str] | None = None) -> int:
    """Run the build; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=Path, default=SOURCES_DIR)
    parser.add_argument("--out", type=Path, default=Path("data/actors.geojson"))
    parser.add_argument("--readme", type=Path, default=Path("data/README.md"))
    args = parser.parse_args(argv)
    result = build(args.sources)
    write_registry(result.features, args.out)
    refresh_readme(args.readme, result)
    print(result.report())
    return 1 if result.issues else 0


if __name__ == "__main__":
    sys.exit(main())
