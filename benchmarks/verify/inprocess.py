"""Per-request CPU cost of the same three targets, without a server or a load generator.

    .venv/bin/python -m benchmarks.verify.inprocess [--requests 3000] [--profile genuine]

Calls each ASGI app directly in a loop and reports the CPU time of this thread per
request (best of 5 batches), so other work on the machine disturbs it far less than
the wrk run.  Useful to check a change to the verification path in seconds; the
wrk run (``benchmarks.verify.run``) remains the number that counts, because it
includes the server.  ``--profile TARGET`` prints a cProfile of that target.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.verify.run import child_env, forge, project_python

ROOT = Path(__file__).resolve().parents[2]


def _scope(path: str, query: bytes = b"") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _call(app, path: str, query: bytes = b"") -> tuple[int, bytes]:
    status, chunks = 0, []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(_scope(path, query), receive, send)
    return status, b"".join(chunks)


async def _startup(app) -> None:
    inbox: asyncio.Queue = asyncio.Queue()
    outbox: asyncio.Queue = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})

    async def receive():
        return await inbox.get()

    async def send(message):
        await outbox.put(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    asyncio.get_running_loop().create_task(app(scope, receive, send))
    message = await outbox.get()
    if message["type"] != "lifespan.startup.complete":
        raise SystemExit(f"app startup failed: {message}")


async def _cost(app, path: str, requests: int) -> float:
    for _ in range(200):
        await _call(app, path)
    best = float("inf")
    for _ in range(5):
        start = time.thread_time()
        for _ in range(requests):
            await _call(app, path)
        best = min(best, (time.thread_time() - start) / requests)
    return best * 1e6


async def measure(args: argparse.Namespace) -> None:
    from benchmarks.verify.bare_app import create_app as create_bare
    from registry.app import create_app

    app, bare = create_app(), create_bare()
    await _startup(app)
    await _startup(bare)
    status, body = await _call(app, "/api/v1/entries", b"status=active&page_size=100")
    item = next(i for i in json.loads(body)["items"] if i["status"] == "active")
    token = item["verify_url"].rsplit("/", 1)[1]
    targets = {
        "bare": (bare, f"/bare/{token}", 200),
        "genuine": (app, f"/V/{token}", 200),
        "forged": (app, f"/V/{forge(token)}", 404),
    }
    costs = {}
    for name, (target_app, path, expected) in targets.items():
        status, body = await _call(target_app, path)
        if status != expected:
            raise SystemExit(f"{name}: expected {expected}, got {status}")
        costs[name] = await _cost(target_app, path, args.requests)
        print(f"{name:<8} {status}  {len(body):>5} B  {costs[name]:7.1f} µs CPU/request")
    print(
        f"\ngenuine/bare cost {costs['genuine'] / costs['bare']:.2f}x, "
        f"forged/bare {costs['forged'] / costs['bare']:.2f}x "
        "(without the server's own per-request cost, which all three share)"
    )
    if args.profile:
        target_app, path, _ = targets[args.profile]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            await _call(target_app, path)
        profiler.disable()
        print(f"\ncProfile of {args.requests} requests to {args.profile}:")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per batch")
    parser.add_argument("--profile", choices=("bare", "genuine", "forged"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="verify-inprocess-"))
    try:
        env = child_env(tmp)
        env["REGISTRY_DB_POOL"] = "0"
        subprocess.run(
            [project_python(), "-m", "registry.cli", "demo"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        os.environ.update({k: v for k, v in env.items() if k.startswith("REGISTRY_")})
        asyncio.run(measure(args))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
