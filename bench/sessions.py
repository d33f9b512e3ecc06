"""Concurrent caseworkers (issue 13): N Streamlit websocket sessions against one real
`streamlit run app.py` process, for the file store and for PostGIS.

Each session speaks Streamlit's own websocket protocol (the BackMsg/ForwardMsg
protobufs the browser sends and receives, `websockets` as the client) and does the
caseworker loop: open a search URL, change a filter, then narrow to one age (each
a rerun with the new query string, which the search page reads as the browser's
URL). The time of an action runs from sending the rerun to the server's
``script_finished``: the page's results, map and downloads all computed and sent.

Two ways of acting, both reported:

* **think time** (the main figure): like a person reading the results, each session
  waits a random 5-15 s (seeded) before each action, and sessions arrive spread
  over the first 15 s; each does the loop twice (6 actions).
* **no think time** (a stress figure): every session starts at once and acts
  back-to-back, the loop once (3 actions).

For each, N grows (see ``--think-sizes`` / ``--sizes``) until the p95 of action times
exceeds 1 s (3 s with think time, to show the trend); the largest N that kept p95
<= 1 s is reported, with the server's resident memory per connected session and
its CPU time per action (user + system of the server process over the wave / the
actions: the figure the machine's load does not inflate much). Loopback only; every
wait is bounded. The registry is the bundled one (data/actors.geojson), seeded into
a throwaway PostGIS cluster for the PostGIS run. Results go to bench/results.json
("sessions") and bench/README.md.

Each store is measured with one app process and with two (``--replicas``): the
deployment of docs/deploy.md runs replicas behind a load balancer with sticky
sessions, and one Python process runs its scripts on one core at a time (the GIL),
so on this 2-core machine two replicas are the layout a hosting team would run.

Usage: ``python bench/sessions.py [--sizes 1,2,5,10,25,50,100,150]
[--think-sizes 10,50,100,150,200,300] [--stores file,postgis] [--replicas 1,2]``
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rcm_map.registry.model import DEFAULT_REGISTRY, read_registry_features  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"
README = ROOT / "bench" / "README.md"
SECTION = "## Hosted: concurrent caseworker sessions"
SIZES = (1, 2, 5, 10, 25, 50, 100, 150)
THINK_SIZES = (10, 50, 100, 150, 200, 300)
THINK_S = (5.0, 15.0)  # a caseworker's pause before each action, uniform
THINK_ROUNDS = 2  # the loop twice: 6 actions per session
SEED = 13
P95_GOAL_S = 1.0
STOP_P95_S = 3.0  # with think time, keep growing N past the goal until p95 passes this
RECV_TIMEOUT_S = 60.0
BASE = "lang=es&place=Tapachula&lat=14.90541&lon=-92.25891&radius=50"
ACTIONS = (BASE, BASE + "&services=shelter", BASE + "&services=shelter&age=15")


def log(message: str) -> None:
    print(f"[sessions {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by a process (all its threads)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def start_server(env: dict[str, str], log_path: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    cmd = [str(Path(sys.executable).with_name("streamlit")), "run", str(ROOT / "app.py"),
           "--server.port", str(port), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    with log_path.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=out,
                                stderr=subprocess.STDOUT)
    base = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return base, proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"streamlit did not start:\n{log_path.read_text()[-2000:]}")


async def caseworker(base: str, times: list[float], done: asyncio.Event,
                     release: asyncio.Event, failures: list[str],
                     think: random.Random | None) -> None:
    """One session: the loop (with `think`: spread arrival, pauses, twice), then stay
    connected until `release`."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    actions = ACTIONS * (THINK_ROUNDS if think else 1)
    try:
        if think:
            await asyncio.sleep(think.uniform(0.0, THINK_S[1]))  # arrivals spread out
        async with websockets.connect(f"ws://{base}/_stcore/stream", subprotocols=["streamlit"],
                                      max_size=None, open_timeout=RECV_TIMEOUT_S) as ws:
            for index, query in enumerate(actions):
                if think and index:
                    await asyncio.sleep(think.uniform(*THINK_S))
                msg = BackMsg()
                msg.rerun_script.query_string = query
                started = time.perf_counter()
                await ws.send(msg.SerializeToString())
                while True:
                    reply = ForwardMsg()
                    reply.ParseFromString(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT_S))
                    if (reply.WhichOneof("type") == "script_finished" and reply.script_finished
                            != ForwardMsg.FINISHED_EARLY_FOR_RERUN):
                        break
                times.append(time.perf_counter() - started)
            done.set()
            await release.wait()
    except (OSError, TimeoutError) as exc:
        failures.append(type(exc).__name__)
        done.set()


async def wave(bases: list[str], n: int, pids: list[int], think: bool) -> dict[str, Any]:
    """N sessions, session i on server i mod K (a sticky load balancer's spread)."""
    times: list[float] = []
    failures: list[str] = []
    release = asyncio.Event()
    dones = [asyncio.Event() for _ in range(n)]
    before = sum(rss_mb(pid) for pid in pids)
    cpu_before = sum(cpu_s(pid) for pid in pids)
    started = time.perf_counter()
    tasks = [asyncio.create_task(caseworker(
        bases[i % len(bases)], times, d, release, failures,
        random.Random(SEED * 1000 + i) if think else None))
        for i, d in enumerate(dones)]
    await asyncio.gather(*(d.wait() for d in dones))
    during = sum(rss_mb(pid) for pid in pids)
    cpu = sum(cpu_s(pid) for pid in pids) - cpu_before
    release.set()
    await asyncio.gather(*tasks)
    out = {"sessions": n, "actions": len(times), "failures": len(failures),
           "wall_s": round(time.perf_counter() - started, 1),
           "server_cpu_ms_per_action": round(1000 * cpu / max(len(times), 1), 1),
           "load_average": round(os.getloadavg()[0], 1),
           "rss_before_mb": round(before, 1), "rss_connected_mb": round(during, 1),
           "mb_per_session": round((during - before) / n, 2)}
    if times:
        out.update(p50_s=round(float(np.percentile(times, 50)), 3),
                   p95_s=round(float(np.percentile(times, 95)), 3),
                   max_s=round(max(times), 3))
    return out


def ramp(name: str, bases: list[str], pids: list[int], sizes: list[int],
         think: bool) -> dict[str, Any]:
    """Waves of growing N until p95 > 1 s (or a failure)."""
    waves = []
    for n in sizes:
        result = asyncio.run(wave(bases, n, pids, think))
        waves.append(result)
        log(f"{name} ({'think' if think else 'no think'}): {n} sessions, p50 "
            f"{result.get('p50_s', float('nan')):.2f} s, p95 "
            f"{result.get('p95_s', float('nan')):.2f} s, {result['mb_per_session']:.1f} "
            f"MB/session, {result['failures']} failures, load {os.getloadavg()[0]:.1f}")
        if result["failures"] or result.get("p95_s", 99) > (STOP_P95_S if think else P95_GOAL_S):
            break
        time.sleep(5)  # let the server drop the sessions of this wave
    held = [w["sessions"] for w in waves if not w["failures"]
            and w.get("p95_s", 99) <= P95_GOAL_S]
    return {"waves": waves, "largest_n_p95_within_1s": max(held) if held else 0}


def run_store(name: str, env: dict[str, str], sizes: list[int], think_sizes: list[int],
              folder: Path, replicas: int) -> dict[str, Any]:
    """The waves against `replicas` app processes (one `streamlit run` each, as the
    replicas of docs/deploy.md), every session sticking to one of them."""
    servers = [start_server(env, folder / f"{name}-{i}.log") for i in range(replicas)]
    bases, pids = [b for b, _ in servers], [p.pid for _, p in servers]
    try:
        for i in range(replicas):  # warm each one's caches (registry, boundaries)
            asyncio.run(wave(bases[i:i + 1], 1, pids[i:i + 1], False))
        label = f"{name} x{replicas}"
        return {"store": name, "replicas": replicas,
                "think": ramp(label, bases, pids, think_sizes, True),
                "no_think": ramp(label, bases, pids, sizes, False)}
    finally:
        for _, proc in servers:
            proc.terminate()
            proc.wait(timeout=20)


def _waves(waves: list[dict[str, Any]]) -> str:
    return "; ".join(f"{w['sessions']}: {w.get('p50_s', 0):.2f} / {w.get('p95_s', 0):.2f} s,"
                     f" {w['mb_per_session']:.1f} MB, {w['server_cpu_ms_per_action']:.0f} ms"
                     f" CPU, load {w['load_average']:.0f}" for w in waves)


def _machine(load: float) -> str:
    if load < 1.0:
        return f"it was idle apart from the bench (load average at start {load:.1f})."
    return (f"it was **shared with other jobs** (load average at start {load:.1f}): treat "
            "the N as a lower bound.")


def write_results(out: dict[str, Any]) -> None:
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["sessions"] = out
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    lo, hi = THINK_S
    lines = [SECTION, "",
             f"Measured {out['date']} by `python bench/sessions.py`: one or two "
             "`streamlit run` processes (the replicas of docs/deploy.md; each session sticks "
             "to one, as behind a sticky load balancer), N websocket sessions on loopback "
             "each doing open search -> change a filter -> narrow to an age (bundled "
             f"registry, {out['services']} services). The machine has {out['cores']} cores; "
             f"{_machine(out['load_average_start'])} The websocket clients run on it too.", "",
             f"* **with think time** (the main figure): each session waits a random "
             f"{lo:g}-{hi:g} s (seeded) before each action, as a caseworker reading the "
             f"results would; arrivals are spread over the first {hi:g} s; the loop twice "
             f"({THINK_ROUNDS * len(ACTIONS)} actions per session).",
             "* **no think time** (stress): all sessions start at once and act "
             "back-to-back, the loop once.", "",
             "| store | app processes | acting | largest N with p95 <= 1 s | waves (N: p50 / "
             "p95, MB per session, server CPU per action, load average) |",
             "|---|---|---|---|---|"]
    for run in out["runs"]:
        for mode, label in (("think", f"think {lo:g}-{hi:g} s"), ("no_think", "no think")):
            r = run[mode]
            lines.append(f"| {run['store']} | {run['replicas']} | {label} | "
                         f"{r['largest_n_p95_within_1s']} | {_waves(r['waves'])} |")
    lines += ["", "Goal (issue 13): >= 100 concurrent sessions (p95 action -> "
              "script_finished <= 1 s).", ""]
    section = "\n".join(lines)
    text = README.read_text(encoding="utf-8")
    if SECTION in text:
        head, _, tail = text.partition(SECTION)
        rest = tail.split("\n## ", 1)
        text = head + section + ("\n## " + rest[1] if len(rest) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    README.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--think-sizes", default=",".join(map(str, THINK_SIZES)))
    parser.add_argument("--stores", default="file,postgis")
    parser.add_argument("--replicas", default="1,2",
                        help="app process counts to measure, e.g. 1,2")
    args = parser.parse_args(argv)
    replicas = [int(r) for r in args.replicas.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    think_sizes = [int(s) for s in args.think_sizes.split(",")]
    stores = args.stores.split(",")
    folder = ROOT / "bench" / "work"
    folder.mkdir(parents=True, exist_ok=True)
    features = read_registry_features(DEFAULT_REGISTRY)
    out: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                           "cores": os.cpu_count(), "load_average_start": os.getloadavg()[0],
                           "services": len(features), "think_s": list(THINK_S),
                           "think_rounds": THINK_ROUNDS, "seed": SEED, "stores": stores,
                           "runs": []}
    if "file" in stores:
        for k in replicas:
            out["runs"].append(run_store("file", {"RCM_MAP_DATABASE_URL": ""}, sizes,
                                         think_sizes, folder, k))
    if "postgis" in stores:
        sys.path.insert(0, str(ROOT / "tests" / "store"))
        cluster = importlib.import_module("pgcluster").start_cluster()
        try:
            from rcm_map.store.pgbulk import bulk_seed, service_rows
            from rcm_map.store.postgis import PostGISStore

            store = PostGISStore(cluster.url)
            bulk_seed(store, service_rows(features))
            store.close()
            for k in replicas:
                out["runs"].append(run_store("postgis", {"RCM_MAP_DATABASE_URL": cluster.url},
                                             sizes, think_sizes, folder, k))
        finally:
            cluster.stop()
    out["load_average_end"] = os.getloadavg()[0]
    write_results(out)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
