"""Verification page against a bare Litestar page: same server, same run.

Run from the project root::

    .venv/bin/python -m benchmarks.verify.run            # or: python benchmarks/verify/run.py

What it does:

1. creates a throwaway SQLite database in a temporary directory and loads the demo
   data into it (``registry demo``) with a fixed signing key;
2. starts the real app (``registry.app:create_app``) and the bare baseline
   (``benchmarks.verify.bare_app:create_app``) with granian, one worker each, the
   same options, access log off, on two free ports;
3. picks a genuine, currently active entry's verification URL from the public API and
   makes a forged token from it by changing one character;
4. checks the answers (genuine: 200 with the entry's name in the body; forged: 404;
   bare: 200) and the page sizes;
5. warms up, then drives the targets with wrk in interleaved rounds
   (bare, genuine, forged; ``--rounds`` times) and prints the median requests/s of
   each, p50/p99 latency, and the ratios genuine/bare (target 0.7) and forged/bare
   (target 0.9).

Needs ``wrk`` (Debian/Ubuntu: ``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TARGET_GENUINE = 0.7
TARGET_FORGED = 0.9
SIGNING_KEYS = "1:" + "ab" * 32
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SIZE_TOLERANCE = 0.2
LOAD_BEFORE: list[float] | None = None


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, timeout: float = 5.0, headers: dict | None = None) -> tuple[int, bytes, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def forge(token: str) -> str:
    """The same token with its last character (part of the MAC) changed."""
    last = token[-1]
    replacement = CROCKFORD[(CROCKFORD.index(last) + 1) % len(CROCKFORD)]
    return token[:-1] + replacement


def project_python() -> str:
    """This interpreter if it has the project's dependencies, else the project's venv."""
    if importlib.util.find_spec("granian") and importlib.util.find_spec("litestar"):
        return sys.executable
    venv = ROOT / ".venv" / "bin" / "python"
    if venv.exists():
        return str(venv)
    raise SystemExit(
        "granian and litestar are not importable here: run with the project's virtualenv, "
        "e.g. .venv/bin/python -m benchmarks.verify.run"
    )


def child_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(("REGISTRY_", "GRANIAN_")):
            del env[name]
    env.update(
        REGISTRY_VAR_DIR=str(tmp),
        REGISTRY_DATABASE_URL=f"sqlite:///{tmp / 'registry.sqlite'}",
        REGISTRY_SIGNING_KEYS=SIGNING_KEYS,
        REGISTRY_DEBUG="0",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


class Server:
    """One granian process (in its own process group, so it is stopped with its worker)."""

    def __init__(self, name: str, app: str, port: int, env: dict, workers: int, log: Path):
        self.name, self.app, self.port, self.log = name, app, port, log
        self.command = [
            project_python(),
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
            app,
        ]
        self._log_file = open(log, "wb")
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                fetch(self.base + path, timeout=1.0)
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(
            f"{self.name} server did not start (exit code {self.process.poll()}); "
            f"log:\n{self.log.read_text(errors='replace')[-3000:]}"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait()
        self._log_file.close()


# --------------------------------------------------------------------------- wrk


@dataclass
class WrkResult:
    requests_per_s: float
    p50_ms: float | None
    p99_ms: float | None
    requests: int
    non_2xx_3xx: int
    socket_errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rps is None:
        raise RuntimeError(f"could not read wrk output:\n{output}")
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"(\d+) requests in", output)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_s=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)) if p50 else None,
        p99_ms=_ms(p99.group(1)) if p99 else None,
        requests=int(total.group(1)) if total else 0,
        non_2xx_3xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def run_wrk(wrk: str, url: str, args: argparse.Namespace, duration: float) -> WrkResult:
    command = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration:g}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if args.gzip:
        command += ["-H", "Accept-Encoding: gzip"]
    command.append(url)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return parse_wrk(done.stdout)


# --------------------------------------------------------------------------- targets


@dataclass
class Target:
    name: str
    url: str
    expected_status: int
    body_bytes: int = 0
    runs: list[WrkResult] = field(default_factory=list)

    def median(self, attribute: str) -> float | None:
        values = [getattr(r, attribute) for r in self.runs if getattr(r, attribute) is not None]
        return statistics.median(values) if values else None


def pick_genuine(app: Server) -> tuple[str, str]:
    """(entry name, token) of the first entry that is active today, from the public API."""
    status, body, _ = fetch(app.base + "/api/v1/entries?status=active&page_size=100")
    if status != 200:
        raise SystemExit(f"the API answered {status} for the entry list")
    for item in json.loads(body)["items"]:
        if item["status"] == "active":
            token = item["verify_url"].rsplit("/", 1)[1]
            return item["name"], token
    raise SystemExit("no active entry in the demo data")


def check(target: Target, must_contain: str | None, accept_gzip: bool) -> None:
    headers = {"Accept-Encoding": "gzip"} if accept_gzip else {}
    status, body, response_headers = fetch(target.url, headers=headers)
    if status != target.expected_status:
        raise SystemExit(
            f"{target.name}: expected HTTP {target.expected_status}, got {status} for {target.url}"
        )
    if (response_headers.get("Content-Encoding") or "").lower() == "gzip":
        body = gzip.decompress(body)
    if must_contain is not None and must_contain.encode() not in body:
        raise SystemExit(f"{target.name}: {must_contain!r} not found in the page {target.url}")
    target.body_bytes = len(body)


# --------------------------------------------------------------------------- report


def fmt(value: float | None, pattern: str) -> str:
    return pattern.format(value) if value is not None else "-"


def report(targets: dict[str, Target], args: argparse.Namespace) -> dict:
    bare, genuine, forged = targets["bare"], targets["genuine"], targets["forged"]
    bare_rps = bare.median("requests_per_s")
    ratios = {
        "genuine/bare": (genuine.median("requests_per_s") / bare_rps, TARGET_GENUINE),
        "forged/bare": (forged.median("requests_per_s") / bare_rps, TARGET_FORGED),
    }
    print()
    print(
        f"{'target':<10} {'status':>6} {'bytes':>6} {'req/s (median)':>15} "
        f"{'p50 ms':>8} {'p99 ms':>8}   req/s per round"
    )
    for t in targets.values():
        rounds = " ".join(f"{r.requests_per_s:.0f}" for r in t.runs)
        print(
            f"{t.name:<10} {t.expected_status:>6} {t.body_bytes:>6} "
            f"{fmt(t.median('requests_per_s'), '{:.0f}'):>15} "
            f"{fmt(t.median('p50_ms'), '{:.2f}'):>8} {fmt(t.median('p99_ms'), '{:.2f}'):>8}   "
            f"{rounds}"
        )
    print()
    all_pass = True
    for name, (ratio, goal) in ratios.items():
        verdict = "PASS" if ratio >= goal else "BELOW"
        all_pass &= ratio >= goal
        target = targets[name.split("/")[0]]
        per_round = " ".join(
            f"{r.requests_per_s / b.requests_per_s:.2f}"
            for r, b in zip(target.runs, bare.runs, strict=True)
        )
        print(
            f"{name:<13} {ratio:6.2f}   target >= {goal:.1f}   {verdict:<5}   "
            f"(per round: {per_round})"
        )
    print()
    for t in targets.values():
        bad = sum(r.socket_errors for r in t.runs)
        wrong = sum(r.non_2xx_3xx for r in t.runs) if t.expected_status < 400 else 0
        if bad or wrong:
            print(f"warning: {t.name}: {bad} socket errors, {wrong} unexpected non-2xx answers")
    return {
        "settings": {
            "duration_s": args.duration,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "server_workers": args.workers,
            "rounds": args.rounds,
            "accept_encoding_gzip": args.gzip,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "load_average_before": LOAD_BEFORE,
        },
        "targets": {
            name: {
                "url": t.url,
                "status": t.expected_status,
                "body_bytes": t.body_bytes,
                "requests_per_s_median": t.median("requests_per_s"),
                "p50_ms_median": t.median("p50_ms"),
                "p99_ms_median": t.median("p99_ms"),
                "runs": [asdict(r) for r in t.runs],
            }
            for name, t in targets.items()
        },
        "ratios": {
            name: {"value": round(ratio, 3), "target": goal, "pass": ratio >= goal}
            for name, (ratio, goal) in ratios.items()
        },
        "pass": all_pass,
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Verification page vs a bare Litestar page (granian + wrk, same run)."
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument("--workers", type=int, default=1, help="granian workers per app (1)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds per target (3)")
    parser.add_argument(
        "--gzip",
        action="store_true",
        help="send Accept-Encoding: gzip, as browsers do (the bare app never compresses)",
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed. Install it with:  apt-get install wrk", file=sys.stderr)
        print("(macOS: brew install wrk)", file=sys.stderr)
        return 2

    global LOAD_BEFORE
    cpus = os.cpu_count() or 1
    if hasattr(os, "getloadavg"):
        LOAD_BEFORE = [round(x, 2) for x in os.getloadavg()]
        if LOAD_BEFORE[0] > 0.5:
            print(
                f"warning: load average {LOAD_BEFORE[0]:.2f} before starting: other work "
                "on this machine will make the numbers noisy (the interleaved rounds "
                "spread it over all targets; compare the per-round ratios)."
            )
    print(
        f"{cpus} CPU(s); wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s, "
        f"granian --workers {args.workers}, {args.rounds} interleaved rounds."
    )
    if cpus <= 2:
        print(
            "Few cores: the load generator and the server share them, so absolute numbers "
            "are low; the ratios are what counts (one wrk thread, one server worker)."
        )

    tmp = Path(tempfile.mkdtemp(prefix="verify-bench-"))
    env = child_env(tmp)
    servers: list[Server] = []
    try:
        print(f"Loading demo data into {tmp / 'registry.sqlite'} ...")
        subprocess.run(
            [project_python(), "-m", "registry.cli", "demo"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        app_port, bare_port = free_port(), free_port()
        app = Server("app", "registry.app:create_app", app_port, env, args.workers, tmp / "app.log")
        servers.append(app)
        bare = Server(
            "bare",
            "benchmarks.verify.bare_app:create_app",
            bare_port,
            env,
            args.workers,
            tmp / "bare.log",
        )
        servers.append(bare)
        app.wait_ready("/api/v1/registers")
        bare.wait_ready("/bare/x")

        name, token = pick_genuine(app)
        forged_token = forge(token)
        targets = {
            "bare": Target("bare", f"{bare.base}/bare/{token}", 200),
            "genuine": Target("genuine", f"{app.base}/V/{token}", 200),
            "forged": Target("forged", f"{app.base}/V/{forged_token}", 404),
        }
        check(targets["bare"], None, args.gzip)
        check(targets["genuine"], name, args.gzip)
        check(targets["forged"], None, args.gzip)
        print(f"genuine: {token} ({name}); forged: {forged_token}")
        real, base = targets["genuine"].body_bytes, targets["bare"].body_bytes
        forged_bytes = targets["forged"].body_bytes
        print(f"page sizes: genuine {real} B, bare {base} B, forged {forged_bytes} B")
        if abs(base - real) > SIZE_TOLERANCE * real:
            print(
                f"warning: the bare page is not within {SIZE_TOLERANCE:.0%} of the genuine "
                "page's size; adjust benchmarks/verify/templates/bare.html"
            )

        print(f"warming up ({args.warmup:g}s per target) ...")
        for target in targets.values():
            run_wrk(wrk, target.url, args, args.warmup)

        for round_no in range(1, args.rounds + 1):
            for target in targets.values():
                result = run_wrk(wrk, target.url, args, args.duration)
                target.runs.append(result)
                p50, p99 = fmt(result.p50_ms, "{:.2f}"), fmt(result.p99_ms, "{:.2f}")
                print(
                    f"  round {round_no}/{args.rounds} {target.name:<8} "
                    f"{result.requests_per_s:8.0f} req/s  p50 {p50} ms  p99 {p99} ms",
                    flush=True,
                )
        for server in servers:
            if server.process.poll() is not None:
                raise SystemExit(f"{server.name} server died during the run; see {server.log}")

        results = report(targets, args)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
            print(f"results written to {args.json}")
        return 0
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
