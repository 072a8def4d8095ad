#!/usr/bin/env python3
"""A TCP proxy that adds a fixed delay to every byte in each direction.

    bench/delay_proxy.py --listen PORT --upstream PORT [--rtt-ms 20]

Each direction holds what it reads for rtt/2 before writing it on, in order,
so every request/response pair pays the full round trip while data keeps
streaming (the bytes in flight are bounded by --window-mib per direction:
a link with a bandwidth-delay product, not a stop-and-wait one). Used by
bench/bench_slowstore.py where `tc netem` is not available (netem needs the
sch_netem kernel module, which minimal VMs lack). Prints "ready" once
listening. Not part of the test suite.
"""
import argparse
import asyncio
import time


async def pump(reader, writer, delay, window):
    # Reads are stamped on arrival and written no sooner than delay later.
    queue = asyncio.Queue()
    budget = asyncio.Semaphore(window)  # chunks in flight in this direction

    async def read():
        try:
            while True:
                data = await reader.read(256 << 10)
                await budget.acquire()
                await queue.put((time.monotonic() + delay, data))
                if not data:
                    return
        except (ConnectionError, OSError):
            await queue.put((0, b""))

    async def write():
        try:
            while True:
                due, data = await queue.get()
                budget.release()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            try:
                writer.close()
            except OSError:
                pass

    await asyncio.gather(read(), write())


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--rtt-ms", type=float, default=20.0)
    ap.add_argument("--window-mib", type=int, default=64)
    a = ap.parse_args()
    delay = a.rtt_ms / 2000.0
    window = max(1, (a.window_mib << 20) // (256 << 10))

    async def serve(client_r, client_w):
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", a.upstream)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(pump(client_r, up_w, delay, window),
                             pump(up_r, client_w, delay, window))

    server = await asyncio.start_server(serve, "127.0.0.1", a.listen, backlog=512)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
