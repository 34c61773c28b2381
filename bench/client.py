"""Load clients for the drills, run as their own process; the result is JSON on stdout.

Modes (first argument):

``steady``   CONCURRENCY tasks send GET requests back to back until the stop
             file appears. A failed attempt (connection error, timeout or 5xx)
             is retried once; the request fails only if the retry fails too.
             The result counts failures by status code or error name.
``submit``   CONCURRENCY tasks create work logs, each with its own
             Idempotency-Key, resending the same key after a connection
             error, 5xx, 409 or 429 until the service answers 201, for at
             most the retry deadline per log. Another 4xx counts as rejected.
``paced``    one task per token sends GET requests at a fixed rate (an open
             loop, so a slow answer does not lower the offered load).
"""

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

import httpx

RETRY_DEADLINE = 60.0


def read_tokens(path: str) -> list[tuple[str, str, str]]:
    rows = []
    for line in Path(path).read_text().splitlines():
        token, project, phase = line.split()
        rows.append((token, project, phase))
    return rows


def _failed(response: httpx.Response | str) -> bool:
    return isinstance(response, str) or response.status_code >= 500


async def _attempt(client: httpx.AsyncClient, method: str, url: str, **kwargs):
    """Send one request; return the response, or the name of the error that ended it."""
    try:
        return await client.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        return type(error).__name__


def _reason(response) -> str:
    return response if isinstance(response, str) else str(response.status_code)


async def steady(args, tokens) -> dict:
    stop = Path(args.stop_file)
    started = time.monotonic()
    result = {
        "requests": 0,
        "first_attempt_failures": 0,
        "failed": 0,
        "failure_times": [],
        "failure_reasons": {},
        "latencies_ms": [],
    }

    async def worker(index: int, client: httpx.AsyncClient) -> None:
        counter = index
        while not stop.exists() and time.monotonic() - started < args.max_seconds:
            token, project, _ = tokens[counter % len(tokens)]
            counter += args.concurrency
            headers = {"Authorization": f"Bearer {token}"}
            url = f"{args.url}/api/v1/projects/{project}"
            began = time.monotonic()
            response = await _attempt(client, "GET", url, headers=headers)
            reasons = result["failure_reasons"]
            if _failed(response):
                result["first_attempt_failures"] += 1
                reason = "first attempt: " + _reason(response)
                reasons[reason] = reasons.get(reason, 0) + 1
                response = await _attempt(client, "GET", url, headers=headers)
            result["requests"] += 1
            if _failed(response) or response.status_code != 200:
                result["failed"] += 1
                result["failure_times"].append(round(time.monotonic() - started, 3))
                reason = "retry: " + _reason(response)
                reasons[reason] = reasons.get(reason, 0) + 1
            result["latencies_ms"].append(round((time.monotonic() - began) * 1000, 2))

    async with httpx.AsyncClient(timeout=args.timeout) as client:
        await asyncio.gather(*(worker(i, client) for i in range(args.concurrency)))
    return result


async def submit(args, tokens) -> dict:
    stop = Path(args.stop_file)
    started = time.monotonic()
    # Logs rotate over the past 60 days: one user's 0.25 h logs stay far below 24 h a day.
    days = [time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400 * n)) for n in range(1, 61)]
    result = {
        "acknowledged": 0,
        "rejected": 0,
        "given_up": 0,
        "attempts": 0,
        "replays": 0,
        "keys": [],
        "rejections": {},
    }

    async def worker(index: int, client: httpx.AsyncClient) -> None:
        token, project, phase = tokens[index % len(tokens)]
        headers = {"Authorization": f"Bearer {token}"}
        number = 0
        while not stop.exists() and time.monotonic() - started < args.max_seconds:
            number += 1
            key = f"{args.label}-{uuid.uuid4().hex}"
            body = {
                "project_id": int(project),
                "phase_id": int(phase),
                "work_date": days[number % len(days)],
                "hours": 0.25,
                "description": key,
            }
            deadline = time.monotonic() + RETRY_DEADLINE
            while True:
                result["attempts"] += 1
                response = await _attempt(
                    client,
                    "POST",
                    f"{args.url}/api/v1/worklogs",
                    json=body,
                    headers={**headers, "Idempotency-Key": key},
                )
                if not _failed(response) and response.status_code == 201:
                    result["acknowledged"] += 1
                    result["replays"] += response.headers.get("idempotent-replayed") == "true"
                    result["keys"].append(key)
                    break
                if not _failed(response) and response.status_code not in {409, 429}:
                    # The service rejected the log itself; resending cannot change that.
                    result["rejected"] += 1
                    reason = _reason(response)
                    result["rejections"][reason] = result["rejections"].get(reason, 0) + 1
                    break
                if time.monotonic() > deadline:
                    result["given_up"] += 1
                    break
                await asyncio.sleep(0.05)

    async with httpx.AsyncClient(timeout=args.timeout) as client:
        await asyncio.gather(*(worker(i, client) for i in range(args.concurrency)))
    return result


async def paced(args, tokens) -> dict:
    interval = 1.0 / args.rate
    started = time.monotonic()
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    pending: set[asyncio.Task] = set()

    async def one(client, url, headers) -> None:
        began = time.monotonic()
        response = await _attempt(client, "GET", url, headers=headers)
        status = _reason(response)
        statuses[status] = statuses.get(status, 0) + 1
        latencies.append((time.monotonic() - began) * 1000)

    async def user(index: int, client: httpx.AsyncClient) -> None:
        token, project, _ = tokens[index]
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{args.url}/api/v1/projects/{project}"
        # Spread the users' first requests over one interval so they do not arrive together.
        next_at = started + interval * index / len(tokens)
        while next_at - started < args.max_seconds:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            task = asyncio.create_task(one(client, url, headers))
            pending.add(task)
            task.add_done_callback(pending.discard)
            next_at += interval

    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=args.timeout, limits=limits) as client:
        await asyncio.gather(*(user(i, client) for i in range(len(tokens))))
        if pending:
            await asyncio.gather(*pending)
    return {"statuses": statuses, "latencies_ms": [round(value, 2) for value in latencies]}


def main() -> int:
    parser = argparse.ArgumentParser(description="Load clients for Track's recovery drills.")
    parser.add_argument("mode", choices=["steady", "submit", "paced"])
    parser.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--tokens", required=True, help="file of 'token project phase' lines")
    parser.add_argument("--first", type=int, default=0, help="index of the first token to use")
    parser.add_argument("--count", type=int, default=0, help="tokens to use (0: all)")
    parser.add_argument("--concurrency", type=int, default=8, help="tasks sending at once")
    parser.add_argument(
        "--rate", type=float, default=1.0, help="paced: requests per second per token"
    )
    parser.add_argument("--max-seconds", type=float, default=60.0, help="upper bound of the run")
    parser.add_argument("--stop-file", default="/nonexistent", help="stop when this file exists")
    parser.add_argument("--timeout", type=float, default=10.0, help="request timeout in seconds")
    parser.add_argument("--label", default="bench", help="prefix of idempotency keys")
    args = parser.parse_args()

    tokens = read_tokens(args.tokens)[args.first :]
    if args.count:
        tokens = tokens[: args.count]
    run = {"steady": steady, "submit": submit, "paced": paced}[args.mode]
    json.dump(asyncio.run(run(args, tokens)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
