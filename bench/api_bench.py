#!/usr/bin/env python3
"""Benchmark of `stash server`: GET and LIST requests/s over keep-alive TLS
connections, paged lists (limit/continue), and watch delivery latency with 100
concurrent watchers.

Usage: bench/api_bench.py [--stash build/bin/stash] [--seconds 5] [--clients 4]
Not a test: prints figures. The client is Python, so with few cores the
client side is part of what is measured; figures are lower bounds.
"""
import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash", default=os.environ.get("STASH_BIN", "build/bin/stash"))
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--objects", type=int, default=100)
    ap.add_argument("--watchers", type=int, default=100)
    ap.add_argument("--updates", type=int, default=50)
    args = ap.parse_args()
    os.environ["STASH_BIN"] = os.path.abspath(args.stash)
    from test_api_server import ApiServer  # after STASH_BIN is set

    server = ApiServer().start()
    try:
        run(server, args)
    finally:
        server.cleanup()


def connect(server):
    return http.client.HTTPSConnection("127.0.0.1", server.port, context=server.ssl_context(),
                                       timeout=30)


def run(server, args):
    token = server.token
    hdrs = {"Authorization": "Bearer " + token, "Accept": "application/json"}
    server.request("POST", "/api/v1/namespaces", {"metadata": {"name": "bench"}})
    base = "/api/v1/namespaces/bench/configmaps"
    t0 = time.perf_counter()
    conn = connect(server)
    for i in range(args.objects):
        body = json.dumps({"metadata": {"name": f"cm-{i}"}, "data": {"i": str(i)}})
        conn.request("POST", base, body=body, headers=dict(hdrs, **{"Content-Type": "application/json"}))
        r = conn.getresponse()
        r.read()
        assert r.status == 201, r.status
    create_rate = args.objects / (time.perf_counter() - t0)
    print(f"create (sequential, durable fsync per write): {create_rate:8.0f} req/s")

    def load(path):
        counts = [0] * args.clients
        stop = time.perf_counter() + args.seconds

        def worker(k):
            c = connect(server)
            while time.perf_counter() < stop:
                c.request("GET", path, headers=hdrs)
                r = c.getresponse()
                r.read()
                assert r.status == 200
                counts[k] += 1
            c.close()

        ts = [threading.Thread(target=worker, args=(k,)) for k in range(args.clients)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return sum(counts) / args.seconds

    print(f"get one object ({args.clients} clients):             {load(base + '/cm-7'):8.0f} req/s")
    print(f"list {args.objects} objects ({args.clients} clients):          {load(base):8.0f} req/s")

    # A whole list in pages of a tenth (kubectl's --chunk-size), one client:
    # the first page snapshots the list, the others slice it.
    chunk = max(1, args.objects // 10)
    c = connect(server)
    lists, pages, stop = 0, 0, time.perf_counter() + args.seconds
    while time.perf_counter() < stop:
        cont = ""
        while True:
            c.request("GET", f"{base}?limit={chunk}" + (f"&continue={cont}" if cont else ""),
                      headers=hdrs)
            r = c.getresponse()
            body = json.loads(r.read())
            assert r.status == 200, body
            pages += 1
            cont = body["metadata"].get("continue", "")
            if not cont:
                break
        lists += 1
    c.close()
    print(f"list {args.objects} objects in pages of {chunk} (1 client): {lists / args.seconds:8.0f} "
          f"lists/s ({pages / args.seconds:.0f} pages/s)")

    # Watch latency: N watchers on the same resource; time from just before
    # each write to the arrival of its event at every watcher.
    received = {}  # rv -> list of arrival times
    lock = threading.Lock()
    ready = threading.Barrier(args.watchers + 1)

    def watch_worker():
        c = connect(server)
        c.request("GET", base + "?watch=true&resourceVersion=" + rv0, headers=hdrs)
        r = c.getresponse()
        ready.wait()
        n = 0
        while n < args.updates:
            line = r.readline()
            if not line:
                break
            now = time.perf_counter()
            ev = json.loads(line)
            with lock:
                received.setdefault(ev["object"]["data"]["mark"], []).append(now)
            n += 1
        c.close()

    _, listed, _ = server.request("GET", base)
    rv0 = listed["metadata"]["resourceVersion"]
    ws = [threading.Thread(target=watch_worker) for _ in range(args.watchers)]
    for t in ws:
        t.start()
    ready.wait()
    time.sleep(0.5)
    sent = {}
    c = connect(server)
    for i in range(args.updates):
        mark = str(i)
        sent[mark] = time.perf_counter()
        c.request("PATCH", base + "/cm-1", body=json.dumps({"data": {"mark": mark}}),
                  headers=dict(hdrs, **{"Content-Type": "application/merge-patch+json"}))
        r = c.getresponse()
        r.read()
        time.sleep(0.02)
    for t in ws:
        t.join(30)
    lat = [(t - sent[m]) * 1000 for m, arr in received.items() for t in arr]
    delivered = len(lat)
    lat.sort()
    print(f"watch: {args.watchers} watchers x {args.updates} updates, {delivered} events delivered")
    if lat:
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]  # noqa: E731
        print(f"watch delivery latency (write start -> event at watcher): "
              f"p50 {p(0.5):.1f} ms, p90 {p(0.9):.1f} ms, p99 {p(0.99):.1f} ms, "
              f"max {lat[-1]:.1f} ms, mean {statistics.mean(lat):.1f} ms")


if __name__ == "__main__":
    main()
