"""Helpers for the hostile-client tests: raw HTTP/1.1 over TLS (or plain TCP),
so a test can send bytes no well-behaved client library would, and the
server-side measures those tests assert (answer time, RSS, descriptors)."""
import json
import os
import socket
import ssl
import time

REPLACEMENT = "\ufffd"


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_flags(pid):
    """{fd: (target, flags)} of a process, flags as fdinfo states them (octal)."""
    out = {}
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
            with open(f"/proc/{pid}/fdinfo/{name}") as f:
                flags = next(int(l.split()[1], 8) for l in f if l.startswith("flags:"))
        except (FileNotFoundError, StopIteration):
            continue  # closed meanwhile
        out[int(name)] = (target, flags)
    return out


def connect(server, tls=True, timeout=15):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    if not tls:
        return sock
    return server.ssl_context().wrap_socket(sock, server_hostname="127.0.0.1")


def read_response(sock, deadline=15):
    """(status, headers dict lower-cased, body bytes) of one response; the
    body by Content-Length, chunks or connection close."""
    sock.settimeout(deadline)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before a response: %r" % data[:200])
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(rest) < n:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return status, headers, rest[:n]
    if headers.get("transfer-encoding") == "chunked":
        return status, headers, rest  # callers of streams read on themselves
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionError, socket.timeout):
            break
        if not chunk:
            break
        rest += chunk
    return status, headers, rest


def request_bytes(method, path, token=None, body=b"", content_type="application/json",
                  extra_headers=(), content_length=None):
    if isinstance(path, str):
        path = path.encode()
    lines = [method.encode() + b" " + path + b" HTTP/1.1", b"Host: 127.0.0.1",
             b"Accept: application/json"]
    if token:
        lines.append(b"Authorization: Bearer " + token.encode())
    if body or content_length is not None:
        lines.append(b"Content-Type: " + content_type.encode())
        cl = content_length if content_length is not None else str(len(body))
        lines.append(b"Content-Length: " + (cl if isinstance(cl, bytes) else cl.encode()))
    for h in extra_headers:
        lines.append(h if isinstance(h, bytes) else h.encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def exchange(server, raw, timeout=30):
    """Sends `raw` on a new TLS connection; returns (status, headers, parsed body)."""
    with connect(server, timeout=timeout) as s:
        try:
            s.sendall(raw)
        except OSError:
            pass  # the server may answer and close before taking it all
        status, headers, body = read_response(s, timeout)
    try:
        body = json.loads(body)
    except ValueError:
        pass
    return status, headers, body


def timed_get(server, path="/api/v1/namespaces/default"):
    """Seconds for an authenticated GET on a new connection (TLS included)."""
    start = time.monotonic()
    status, _, _ = exchange(server, request_bytes("GET", path, token=server.token), timeout=10)
    elapsed = time.monotonic() - start
    if status != 200:
        raise AssertionError(f"GET {path} answered {status}")
    return elapsed
