"""Test peers for the remote-backend integration tests: start a storage server
on 127.0.0.1 with a free port (and stop it by pid), and a small TCP proxy that
injects HTTP 500s and dropped connections in front of one, or slows it down.

Used by test_backend_remote.py and bench/bench_backend.sh. Nothing here talks
to anything but loopback.
"""
import os
import shutil
import socket
import subprocess
import threading
import time

SOURCE_DIR = os.environ.get("STASH_SOURCE_DIR",
                            os.path.join(os.path.dirname(__file__), "..", ".."))
PEERS_DIR = os.path.join(SOURCE_DIR, "tests", "peers")

AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
               "K1SZFPTOtr/KBHBeksoGMGw==")


def in_ci():
    return os.environ.get("CI") == "true"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def npm_bin(name):
    p = os.path.join(PEERS_DIR, "node_modules", ".bin", name)
    return p if os.path.exists(p) else None


class Server:
    """A peer process listening on 127.0.0.1:port; ready once it accepts TCP."""

    def __init__(self, name, cmd, port, log_dir, env=None, timeout=20):
        self.name, self.port = name, port
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.log_path = os.path.join(log_dir, name + ".log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=full_env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        with open(self.log_path, "rb") as f:
            raise RuntimeError("%s did not start on port %d: %s" % (
                name, port, f.read()[-2000:].decode(errors="replace")))

    def stop(self):
        if self.proc.poll() is None:
            # Our own process group (start_new_session): npm shims spawn node children.
            try:
                os.killpg(self.proc.pid, 15)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self._log.close()


def start_rclone(log_dir, root):
    port = free_port()
    os.makedirs(root, exist_ok=True)
    return Server("rclone", ["rclone", "serve", "restic", "--config", "/dev/null", "--addr",
                             "127.0.0.1:%d" % port, root], port, log_dir)


def start_moto(log_dir):
    port = free_port()
    return Server("moto", ["moto_server", "-H", "127.0.0.1", "-p", str(port)], port, log_dir)


def start_azurite(log_dir, port=None):
    port = port or free_port()
    return Server("azurite", [npm_bin("azurite-blob"), "--blobHost", "127.0.0.1", "--blobPort",
                              str(port), "--disableTelemetry", "--silent", "--inMemoryPersistence"],
                  port, log_dir, timeout=30)


def start_gcs(log_dir):
    port = free_port()
    return Server("gcs-emu", [shutil.which("node"), os.path.join(PEERS_DIR, "gcs-emu.js")], port,
                  log_dir, env={"PORT": str(port), "TMPDIR": log_dir}, timeout=30)


class FaultProxy:
    """TCP proxy to 127.0.0.1:target. Connections accepted while faulting is on
    get, alternately, `HTTP/1.1 500` (then close) or a reset after the request
    head; other connections are piped through. `fail_first` faults the first N
    connections, `fail_for` those opened in the first that many seconds;
    `forever` answers every connection with a 500. With `storm_after_bytes`,
    once that many request bytes went upstream (uploads are under way), all
    open connections are reset and new ones fault for `storm_for` seconds."""

    def __init__(self, target_port, fail_first=0, fail_for=0.0, forever=False,
                 storm_after_bytes=0, storm_for=2.0, rtt_ms=0.0):
        self.target_port = target_port
        # Each chunk waits half a round trip before it is passed on: a store
        # across a network instead of on this machine.
        self.half_rtt = rtt_ms / 2000.0
        self.fail_first, self.forever = fail_first, forever
        self.fail_until = time.monotonic() + fail_for
        self.storm_after_bytes, self.storm_for = storm_after_bytes, storm_for
        self.upstream_bytes = 0
        self.downstream_bytes = 0  # server -> client: what the client downloaded
        self.storms = 0
        self._live = set()
        self.accepted = 0
        self.faulted = 0
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._stopped = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def stop(self):
        self._stopped = True
        self._sock.close()

    def _accept_loop(self):
        while not self._stopped:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                fault = (self.forever or self.accepted <= self.fail_first or
                         time.monotonic() < self.fail_until)
                if fault:
                    self.faulted += 1
                kind = 1 if self.forever else self.faulted % 2
            target = self._fault if fault else self._pipe
            threading.Thread(target=target, args=(conn, kind), daemon=True).start()

    @staticmethod
    def _read_head(conn):
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        return data

    def _fault(self, conn, kind):
        conn.settimeout(5)
        try:
            head = self._read_head(conn)
            if kind == 1:
                # Drain the body so the client reads our answer instead of a reset.
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                got = len(head) - head.find(b"\r\n\r\n") - 4
                while got < length:
                    chunk = conn.recv(min(1 << 20, length - got))
                    if not chunk:
                        break
                    got += len(chunk)
                conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 13\r\n"
                             b"Connection: close\r\n\r\ninjected 500\n")
            else:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        except OSError:
            pass
        finally:
            conn.close()

    def _pipe(self, conn, _kind):
        try:
            up = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            conn.close()
            return

        with self._lock:
            self._live.add(conn)

        def copy(src, dst):
            try:
                while True:
                    b = src.recv(1 << 16)
                    if not b:
                        break
                    if src is conn:
                        self._count_upstream(len(b))
                    else:
                        with self._lock:
                            self.downstream_bytes += len(b)
                    if self.half_rtt:
                        time.sleep(self.half_rtt)
                    dst.sendall(b)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        t = threading.Thread(target=copy, args=(up, conn), daemon=True)
        t.start()
        copy(conn, up)
        t.join()
        with self._lock:
            self._live.discard(conn)
        conn.close()
        up.close()

    def _count_upstream(self, n):
        with self._lock:
            before = self.upstream_bytes
            self.upstream_bytes += n
            if not (self.storm_after_bytes and before < self.storm_after_bytes <=
                    self.upstream_bytes):
                return
            self.storms += 1
            self.fail_until = time.monotonic() + self.storm_for
            live = list(self._live)
        for c in live:
            try:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class SlowProxy:
    """A store that answers slowly: bytes in both directions are passed on at
    `rate` bytes per second per connection."""

    def __init__(self, target_port, rate):
        self.target_port, self.rate = target_port, rate
        self.bytes = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((conn, up), (up, conn)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                time.sleep(len(data) / self.rate)
                dst.sendall(data)
                self.bytes += len(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        self._sock.close()
