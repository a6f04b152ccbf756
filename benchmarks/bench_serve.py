"""Load test of `deepzoo serve` on loopback: the churn model, single-row and 1,000-row requests.

Starts the server in a subprocess on a free 127.0.0.1 port (nothing leaves the machine), then drives it
with a small keep-alive HTTP/1.1 client on asyncio (cheap, so that the client steals as little CPU as
possible from the server on a small machine): N requests, C at a time. Reports throughput (requests/s
and rows/s), p50/p99 latency and the number of errors (any answer but 200, or a dropped connection).

    python benchmarks/bench_serve.py                         # trains the churn model first (~1 min)
    python benchmarks/bench_serve.py --model runs/churn/model --requests 10000 --concurrency 32

Targets (issue 7): >= 1,500 single-row predictions/s with p99 < 50 ms at 32 concurrent clients, zero
errors; >= 50,000 rows/s with 1,000-row requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def churn_model(folder: Path) -> Path:
    """Fit the churn case study's model (deepzoo fit's table road with the course's network) and save it."""
    import deepzoo
    from deepzoo.cases import churn
    from deepzoo.data import churn as churn_data

    config = churn.road_config(churn.Config(max_iter=30, verbose=False), folder)
    deepzoo.fit(churn_data.read_frame(None), config=config)
    return folder / "model"


def customers(n: int) -> list[dict]:
    from deepzoo.data import churn as churn_data

    X, _ = churn_data.load_data(None)
    X = X.sample(n=n, replace=n > len(X), random_state=0)
    return json.loads(X.to_json(orient="records"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def request_bytes(port: int, rows: list[dict]) -> bytes:
    body = json.dumps({"rows": rows}).encode()
    head = (
        f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


async def load(port: int, payloads: list[bytes], concurrency: int) -> dict:
    """Send every payload once, ``concurrency`` connections at a time; latency per request."""
    latencies = np.zeros(len(payloads))
    statuses = np.zeros(len(payloads), dtype=int)
    next_index = 0

    async def worker():
        nonlocal next_index
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_index < len(payloads):
                i = next_index
                next_index += 1
                started = time.perf_counter()
                writer.write(payloads[i])
                try:
                    statuses[i] = await read_response(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    statuses[i] = -1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                latencies[i] = time.perf_counter() - started
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return {
        "requests": len(payloads),
        "seconds": seconds,
        "requests_per_s": len(payloads) / seconds,
        "p50_ms": float(np.percentile(latencies, 50) * 1000),
        "p99_ms": float(np.percentile(latencies, 99) * 1000),
        "errors": int((statuses != 200).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="A saved churn model folder; default: fit one now.")
    parser.add_argument("--requests", type=int, default=10_000, help="Single-row requests.")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--batch-requests", type=int, default=200, help="Requests of --batch-rows rows.")
    parser.add_argument("--batch-rows", type=int, default=1000)
    parser.add_argument("--batch-concurrency", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--json", type=Path, help="Also write the figures to this JSON file.")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_serve_"))
    model = args.model or churn_model(tmp)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "deepzoo", "serve", str(model), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        import httpx

        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        pool = customers(max(args.requests, args.batch_rows))
        single = [request_bytes(port, [pool[i % len(pool)]]) for i in range(args.requests)]
        batch = [
            request_bytes(
                port, pool[(i * 37) % 1000 : (i * 37) % 1000 + args.batch_rows] or pool[: args.batch_rows]
            )
            for i in range(args.batch_requests)
        ]
        asyncio.run(load(port, single[: args.warmup], args.concurrency))  # warm-up, not counted
        load_before = os.getloadavg()
        # the server's own CPU time per request: a figure that a busy machine does not distort much
        cpu = cpu_seconds(server.pid)
        one = asyncio.run(load(port, single, args.concurrency))
        one["server_cpu_ms_per_request"] = (cpu_seconds(server.pid) - cpu) * 1000 / len(single)
        cpu = cpu_seconds(server.pid)
        many = asyncio.run(load(port, batch, args.batch_concurrency))
        many["server_cpu_ms_per_request"] = (cpu_seconds(server.pid) - cpu) * 1000 / len(batch)
        load_after = os.getloadavg()
        many["rows_per_s"] = many["requests_per_s"] * args.batch_rows
        one["rows_per_s"] = one["requests_per_s"]
        report = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
            "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in load_after],
            "single_row": {"concurrency": args.concurrency, **one},
            "batch": {"rows_per_request": args.batch_rows, "concurrency": args.batch_concurrency, **many},
        }
    finally:
        server.terminate()
        server.wait(10)
    print(json.dumps(report, indent=1))
    single_ok = one["rows_per_s"] >= 1500 and one["p99_ms"] < 50 and one["errors"] == 0
    batch_ok = many["rows_per_s"] >= 50_000 and many["errors"] == 0
    print(
        f"single row: {one['rows_per_s']:.0f} rows/s, p50 {one['p50_ms']:.1f} ms, "
        f"p99 {one['p99_ms']:.1f} ms, server CPU {one['server_cpu_ms_per_request']:.2f} ms/request, "
        f"{one['errors']} errors -> target {'met' if single_ok else 'NOT met'}"
    )
    print(
        f"batches of {args.batch_rows}: {many['rows_per_s']:.0f} rows/s, p50 {many['p50_ms']:.1f} ms, "
        f"p99 {many['p99_ms']:.1f} ms, {many['errors']} errors -> target {'met' if batch_ok else 'NOT met'}"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
