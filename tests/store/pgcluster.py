"""Start and stop a throwaway PostgreSQL + PostGIS cluster for the store tests.

The cluster lives in a temporary folder, listens only on a unix socket there (no
TCP), and runs with fsync off: it is for tests only. As root (CI containers),
`initdb` refuses to run, so the commands run as the `postgres` user via `runuser`
and the folder is handed to that user. `wipe` and `seed` empty and fill a store's
database; tests anywhere import them from here (a plain module, unlike conftest).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEST_DATABASE = "rcm_map_test"
TABLES = ("services", "changes", "service_changes", "reports")


class ClusterUnavailable(Exception):
    """PostgreSQL or PostGIS is not installed here; the message says what is missing."""


@dataclass
class Cluster:
    """A running throwaway cluster."""

    root: Path
    bindir: Path
    socket_dir: Path
    port: int
    run_as: str | None
    options: str = ""

    @property
    def url(self) -> str:
        """URL of the test database (unix socket, trust auth)."""
        return (f"postgresql://postgres@/{TEST_DATABASE}?host={self.socket_dir}"
                f"&port={self.port}")

    @property
    def admin_url(self) -> str:
        """URL of the `postgres` maintenance database."""
        return f"postgresql://postgres@/postgres?host={self.socket_dir}&port={self.port}"

    def pause(self) -> None:
        """Stop the server (fast shutdown), keeping its data: an outage."""
        _run(self, [str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast",
                    "-w", "stop"])

    def resume(self) -> None:
        """Start the server again after `pause`, on the same socket and port."""
        _run(self, [str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-l",
                    str(self.root / "server.log"), "-o", self.options, "-w", "-t", "60",
                    "start"])

    def stop(self) -> None:
        """Stop the server immediately and delete its folder."""
        _run(self, [str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m",
                    "immediate", "-w", "stop"], check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def find_bindir() -> Path:
    """The newest PostgreSQL bin folder holding initdb and pg_ctl, with PostGIS."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for folder in candidates:
        bindir = Path(folder)
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            if not _has_postgis(bindir):
                raise ClusterUnavailable(
                    f"PostgreSQL found in {bindir} but not PostGIS (install "
                    "postgresql-15-postgis-3 or the PostGIS package for that version)")
            return bindir
    raise ClusterUnavailable("PostgreSQL server binaries (initdb, pg_ctl) not found; "
                             "install the Debian packages postgresql and postgresql-15-postgis-3")


def _has_postgis(bindir: Path) -> bool:
    pg_config = bindir / "pg_config"
    if pg_config.exists():
        share = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True,
                               check=False).stdout.strip()
        if share:
            return (Path(share) / "extension" / "postgis.control").exists()
    version = bindir.parent.name
    return Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(cluster: Cluster, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    if cluster.run_as:
        argv = ["runuser", "-u", cluster.run_as, "--", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): "
                           f"{done.stderr.strip() or done.stdout.strip()}")
    return done


def start_cluster() -> Cluster:
    """initdb + pg_ctl start in a temp dir; create the test database with PostGIS."""
    bindir = find_bindir()
    run_as = None
    root = Path(tempfile.mkdtemp(prefix="rcm-pg-"))
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise ClusterUnavailable("running as root and there is no 'postgres' user to "
                                     "run initdb as") from None
        os.chown(root, user.pw_uid, user.pw_gid)
        run_as = "postgres"
    cluster = Cluster(root, bindir, root, _free_port(), run_as)
    try:
        _run(cluster, [str(bindir / "initdb"), "-D", str(root / "data"), "-U", "postgres",
                       "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"])
        cluster.options = (f"-k {root} -p {cluster.port} -c listen_addresses='' -c fsync=off "
                           "-c synchronous_commit=off -c full_page_writes=off "
                           "-c max_connections=50")
        cluster.resume()
        import psycopg

        with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEST_DATABASE}")
    except BaseException:
        log = root / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        cluster.stop()
        if tail:
            raise RuntimeError(f"PostgreSQL did not start; server log:\n{tail}") from None
        raise
    return cluster


def cluster_for_tests() -> Cluster:
    """`start_cluster`, or, where PostgreSQL/PostGIS cannot run, fail under CI=true
    (the suite must run there) and skip elsewhere."""
    import pytest

    try:
        return start_cluster()
    except ClusterUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and the PostGIS tests cannot run: {exc}")
        pytest.skip(f"PostGIS tests skipped: {exc}")


def wipe(url: str) -> None:
    """Empty every store table (keeps the schema and its migrations)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('services') IS NOT NULL").fetchone()
        if exists and exists[0]:
            conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


def seed(store: Any, features: list[dict[str, Any]], user: str = "seed") -> None:
    """Load features country by country through preview + apply."""
    countries = sorted({f["properties"]["country"] for f in features})
    for country in countries:
        mine = [f for f in features if f["properties"]["country"] == country]
        store.apply_update(store.preview_update(country, mine), user)
