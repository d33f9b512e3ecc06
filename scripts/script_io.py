"""What the data-building scripts share: their ``--source/--out`` command line and an
atomic write of the file they build (readers never see half a file)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rcm_map.core.files import atomic_write_bytes  # noqa: E402 - after the path tweak


def source_out_args(doc: str, source: Path, out: Path, argv: list[str] | None,
                    source_flag: str = "--source") -> argparse.Namespace:
    """Parse ``SOURCE_FLAG PATH --out PATH`` (defaults `source`, `out`); the description is
    the first line of the script's docstring `doc`. The source is ``args.source``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(source_flag, dest="source", type=Path, default=source)
    parser.add_argument("--out", type=Path, default=out)
    return parser.parse_args(argv)


def write_file(path: Path, data: bytes | str) -> None:
    """Replace `path` atomically with `data` (text is written as UTF-8, '\\n' kept)."""
    atomic_write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)
