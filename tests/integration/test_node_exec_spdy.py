"""kubectl exec over SPDY/3.1 into a podman container of the embedded node (issue 15).

kubectl 1.27-1.29 speaks SPDY only, and newer ones fall back to it (or are
told to with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false, as here): the real
kubectl runs commands with output on stdout and stderr, stdin, exit codes,
output and input of megabytes, and a terminal whose size reaches the
container. A raw client checks the handshake's answer and that hostile
frames (a decompression bomb, garbage) end only their own connection.

Skipped only where podman cannot run a container (failed under CI=true).
"""
import fcntl
import hashlib
import json
import os
import pty
import re
import socket
import ssl
import struct
import subprocess
import sys
import termios
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import OperatorEnv  # noqa: E402
from test_api_server import KUBECTL  # noqa: E402
from test_node_podman import PROBLEM, remove_node_containers  # noqa: E402

NS = "exec-spdy"


def spdy_dictionary():
    """SPDY/3's zlib dictionary, as the server's unit test pins it."""
    words = ("options head post put delete trace accept accept-charset accept-encoding "
             "accept-language accept-ranges age allow authorization cache-control connection "
             "content-base content-encoding content-language content-length content-location "
             "content-md5 content-range content-type date etag expect expires from host if-match "
             "if-modified-since if-none-match if-range if-unmodified-since last-modified location "
             "max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after "
             "server te trailer transfer-encoding upgrade user-agent vary via warning "
             "www-authenticate method get status 200_OK version HTTP/1.1 url public set-cookie "
             "keep-alive origin").split()
    d = b"".join(struct.pack(">I", len(w)) + w.replace("_", " ").encode() for w in words)
    return d + (
        b"100101201202205206300302303304305306307402405406407408409410411412413414415416417502504"
        b"505203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
        b"401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
        b"503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
        b"Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
        b"application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
        b"gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")


def syn_stream(compressor, stream_id, stream_type):
    raw = struct.pack(">I", 1)
    for k, v in ((b"streamtype", stream_type),):
        raw += struct.pack(">I", len(k)) + k + struct.pack(">I", len(v)) + v
    block = compressor.compress(raw) + compressor.flush(zlib.Z_SYNC_FLUSH)
    body = struct.pack(">IIH", stream_id, 0, 0) + block
    return struct.pack(">HHI", 0x8003, 1, len(body)) + body


@unittest.skipIf(PROBLEM, PROBLEM or "")
class ExecOverSpdy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = OperatorEnv(runtime="podman").start()
        env = cls.env
        env.kubectl("create", "ns", NS)
        env.kubectl("run", "-n", NS, "shell", "--image=busybox", "--", "sleep", "3600")
        env.wait_for("pod shell Running", lambda: re.search(
            r"shell\s+1/1\s+Running", env.kubectl("get", "pod", "-n", NS, "shell").stdout),
            timeout=120)

    @classmethod
    def tearDownClass(cls):
        cls.env.kubectl("delete", "ns", NS, "--wait=false", check=False)
        cls.env.stop()
        node_dir = os.path.abspath(os.path.join(cls.env.server.data_dir, "node"))
        remove_node_containers(hashlib.sha256(node_dir.encode()).hexdigest()[:12])

    def spdy_env(self):
        return dict(self.env.server.env(), KUBECTL_REMOTE_COMMAND_WEBSOCKETS="false")

    def kubectl_spdy(self, *args, input=None, **kw):
        return subprocess.run([KUBECTL, "-v=8", "exec", "-n", NS, "shell", *args],
                              capture_output=True, env=self.spdy_env(), input=input,
                              timeout=120, **kw)

    def test_output_stdin_exit_codes(self):
        r = self.kubectl_spdy("--", "sh", "-c", "echo out; echo err >&2")
        # -v=8 shows the upgrade kubectl asked for and the protocol it got.
        self.assertIn(b"Upgrade: SPDY/3.1", r.stderr)
        self.assertIn(b"X-Stream-Protocol-Version: v4.channel.k8s.io", r.stderr)
        self.assertEqual(r.stdout, b"out\n", r.stderr[-2000:])
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"\nerr\n", b"\n" + r.stderr)
        r = self.kubectl_spdy("-i", "--", "sh", "-c", "tr a-z A-Z; exit 7",
                              input=b"hello over spdy\n")
        self.assertEqual((r.stdout, r.returncode), (b"HELLO OVER SPDY\n", 7), r.stderr[-2000:])
        r = self.kubectl_spdy("--", "no-such-command")
        self.assertNotEqual(r.returncode, 0)

    def test_megabytes_each_way(self):
        r = self.kubectl_spdy("--", "sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x")
        self.assertEqual((len(r.stdout), r.returncode), (3000000, 0), r.stderr[-2000:])
        self.assertEqual(set(r.stdout), {ord("x")})
        data = os.urandom(2500000)
        r = self.kubectl_spdy("-i", "--", "md5sum", input=data)
        self.assertEqual(r.stdout.split()[0].decode(), hashlib.md5(data).hexdigest(),
                         r.stderr[-2000:])

    def test_terminal_size_reaches_the_container(self):
        # kubectl -t needs a terminal: a pty of 33 rows by 101 columns.
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
        p = subprocess.Popen([KUBECTL, "exec", "-it", "-n", NS, "shell", "--", "sh", "-c",
                              "sleep 1; stty size"], stdin=slave, stdout=slave, stderr=slave,
                             env=self.spdy_env(), close_fds=True)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        p.wait(60)
        os.close(master)
        self.assertIn(b"33 101", out)
        self.assertEqual(p.returncode, 0, out)

    def test_pod_ip_and_endpoints(self):
        # Host networking: the pod's address is the node's (as kubelet reports
        # hostNetwork pods), so -o wide and a Service's Endpoints show it.
        env = self.env
        r = env.kubectl("get", "pod", "-n", NS, "shell", "-o", "wide")
        self.assertRegex(r.stdout, r"shell\s+1/1\s+Running\s+\d+\s+\S+\s+127\.0\.0\.1\s")
        pod = env.get_json("pod", "-n", NS, "shell")
        self.assertEqual(pod["status"]["podIPs"], [{"ip": "127.0.0.1"}])
        env.kubectl("apply", "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "shell", "namespace": NS},
            "spec": {"selector": {"run": "shell"}, "ports": [{"port": 8080}]}}))
        env.wait_for("the Service's Endpoints", lambda: "127.0.0.1:8080" in env.kubectl(
            "get", "endpoints", "-n", NS, "shell").stdout, timeout=30)

    def raw_upgrade(self, protocols=("v4.channel.k8s.io",)):
        ctx = ssl.create_default_context(cafile=os.path.join(self.env.server.data_dir, "ca.crt"))
        sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.env.server.port), 30),
                               server_hostname="127.0.0.1")
        lines = ["POST /api/v1/namespaces/%s/pods/shell/exec?command=cat&stdin=true&stdout=true "
                 "HTTP/1.1" % NS, "Host: 127.0.0.1", "Authorization: Bearer " +
                 self.env.server.token, "Connection: Upgrade", "Upgrade: SPDY/3.1"]
        lines += ["X-Stream-Protocol-Version: " + p for p in protocols]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
        return sock, head

    def read_frames(self, sock):
        """Frames from the server up to its GOAWAY (or the connection's end):
        a list of (control type or None for DATA, stream id, flags, body)."""
        buf, frames = b"", []
        while True:
            while len(buf) >= 8:
                first, second = struct.unpack(">II", buf[:8])
                length = second & 0xffffff
                if len(buf) < 8 + length:
                    break
                body = buf[8:8 + length]
                buf = buf[8 + length:]
                if first & 0x80000000:
                    kind = first & 0xffff
                    sid = struct.unpack(">I", body[:4])[0] & 0x7fffffff if len(body) >= 4 else 0
                    frames.append((kind, sid, second >> 24, body))
                    if kind == 7:
                        return frames
                else:
                    frames.append((None, first, second >> 24, body))
            try:
                chunk = sock.recv(65536)
            except (OSError, ssl.SSLError):
                chunk = b""
            if not chunk:
                return frames
            buf += chunk

    def goaway_status(self, frames):
        for kind, _, _, body in frames:
            if kind == 7:
                return struct.unpack(">I", body[4:8])[0]
        return None

    def test_hostile_frames_end_their_connection_only(self):
        sock, head = self.raw_upgrade(("channel.k8s.io", "v3.channel.k8s.io"))
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        self.assertIn(b"X-Stream-Protocol-Version: v3.channel.k8s.io", head)
        # A header block of 32 MiB of zeros, 32 KiB compressed.
        comp = zlib.compressobj(zdict=spdy_dictionary())
        bomb = comp.compress(b"\0" * (32 << 20)) + comp.flush(zlib.Z_SYNC_FLUSH)
        body = struct.pack(">IIH", 1, 0, 0) + bomb
        sock.sendall(struct.pack(">HHI", 0x8003, 1, len(body)) + body)
        self.assertEqual(self.goaway_status(self.read_frames(sock)), 1)  # PROTOCOL_ERROR
        sock.close()
        # A frame longer than the server reads.
        sock, head = self.raw_upgrade()
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        sock.sendall(struct.pack(">II", 1, 0x00ffffff) + b"x" * 1000)
        self.assertEqual(self.goaway_status(self.read_frames(sock)), 1)
        sock.close()
        # No protocol the server speaks: refused before the upgrade.
        sock, head = self.raw_upgrade(("channel.k8s.io",))
        self.assertTrue(head.startswith(b"HTTP/1.1 400"), head)
        sock.close()
        # A well-behaved raw client still gets its command run.
        sock, head = self.raw_upgrade()
        comp = zlib.compressobj(zdict=spdy_dictionary())
        sock.sendall(syn_stream(comp, 1, b"error") + syn_stream(comp, 3, b"stdin") +
                     syn_stream(comp, 5, b"stdout") +
                     struct.pack(">II", 3, 0x01000000 | 4) + b"raw\n")
        frames = self.read_frames(sock)
        sock.close()
        self.assertEqual(self.goaway_status(frames), 0)
        self.assertEqual(sorted(sid for kind, sid, _, _ in frames if kind == 2), [1, 3, 5])
        out = b"".join(body for kind, sid, _, body in frames if kind is None and sid == 5)
        self.assertEqual(out, b"raw\n")
        status = b"".join(body for kind, sid, _, body in frames if kind is None and sid == 1)
        self.assertEqual(json.loads(status)["status"], "Success")
        self.assertIn("ok", self.env.kubectl("get", "--raw", "/readyz").stdout)


if __name__ == "__main__":
    unittest.main()
