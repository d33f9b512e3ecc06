"""Reading a registry file: size limits, encoding and JSON syntax, one clear line each.

`read_json_file` and `parse_json_bytes` are the exact reference reader: every error
message about a file that is not JSON comes from here (the fast reader in
`rcm_map.registry.fastscan` falls back to them whenever it is in doubt).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rcm_map.core import settings
from rcm_map.core.files import NotARegularFile, read_regular_file
from rcm_map.core.schema import Issue
from rcm_map.core.settings import REGISTRY_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REGISTRY = REPO_ROOT / "data" / "actors.geojson"
MAX_FILE_BYTES = 200 * 1024 * 1024  # files people validate, import or upload
# The server's own registry (written by the app or an administrator, not uploaded)
# may be larger: 1,000,000 services take about 0.9 GB of GeoJSON.
MAX_REGISTRY_BYTES = 2 * 1024 * 1024 * 1024
MAX_FEATURES = 2_000_000


class RegistryError(Exception):
    """A registry that cannot be used; `issues` says why, one line each."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues[:20]))


def default_registry_path() -> Path:
    """The registry in use: $RCM_MAP_REGISTRY, else data/actors.geojson."""
    env = settings.text(REGISTRY_ENV)
    return Path(env) if env else DEFAULT_REGISTRY


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_bytes(data: bytes, file: str) -> Any:
    """Decode and parse JSON text, raising RegistryError with a one-line reason."""
    if not data.strip():
        raise RegistryError([Issue("file is empty", file)])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 byte-order mark is harmless; editors on Windows add it
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryError([Issue(
            f"not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r}); "
            "save the file as UTF-8", file)]) from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise RegistryError([Issue(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file)]) from None
    except RecursionError:
        raise RegistryError([Issue("JSON nested too deeply to be a registry", file)]) from None
    except ValueError as exc:  # NaN/Infinity constants, integers too long to convert
        raise RegistryError([Issue(f"invalid JSON: {exc}", file)]) from None


def read_file_bytes(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a registry file, with size and file-kind checks (RegistryError)."""
    file = str(path)
    try:
        return read_regular_file(path, max_bytes)
    except NotARegularFile as exc:
        raise RegistryError([Issue(str(exc).replace(f"{file} is", "this is"), file)]) from None
    except ValueError as exc:
        raise RegistryError([Issue(str(exc), file)]) from None
    except OSError as exc:
        raise RegistryError([Issue(f"cannot read file: {exc.strerror or exc}", file)]) from None


def read_json_file(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """Read a JSON file with size and encoding checks; raise RegistryError on failure."""
    return parse_json_bytes(read_file_bytes(path, max_bytes), str(path))
