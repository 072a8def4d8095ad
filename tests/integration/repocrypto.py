"""restic's encryption in Python, for tests that write repository files
stash and restic must read: sealed boxes (AES-256-CTR + Poly1305-AES), the
user key from a password (scrypt), and a repository's master key.
"""
import base64
import hashlib
import json
import os

from cryptography.hazmat.primitives import poly1305
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class Sealer:
    """restic's sealed boxes (AES-256-CTR + Poly1305-AES) under one key."""

    def __init__(self, encrypt, mac_k, mac_r):
        self.encrypt, self.mac_k, self.mac_r = encrypt, mac_k, mac_r

    def _mac(self, iv, ct):
        ecb = Cipher(algorithms.AES(self.mac_k), modes.ECB()).encryptor()
        s = ecb.update(iv) + ecb.finalize()
        return poly1305.Poly1305.generate_tag(self.mac_r + s, ct)

    def seal(self, plaintext):
        iv = os.urandom(16)
        enc = Cipher(algorithms.AES(self.encrypt), modes.CTR(iv)).encryptor()
        ct = enc.update(plaintext) + enc.finalize()
        return iv + ct + self._mac(iv, ct)

    def open(self, data):
        iv, ct, mac = data[:16], data[16:-16], data[-16:]
        if self._mac(iv, ct) != mac:
            raise ValueError("MAC mismatch")
        dec = Cipher(algorithms.AES(self.encrypt), modes.CTR(iv)).decryptor()
        return dec.update(ct) + dec.finalize()


def user_sealer(password, salt, n, r, p):
    k = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=1 << 30, dklen=64)
    return Sealer(k[:32], k[32:48], k[48:64])


class TestRepo:
    """A restic repository on disk plus its master key, for sealing documents."""

    def __init__(self, path, password):
        self.path = path
        self.password = password
        keys = os.listdir(os.path.join(path, "keys"))
        with open(os.path.join(path, "keys", keys[0]), "rb") as f:
            kf = json.loads(f.read())
        user = user_sealer(self.password, base64.b64decode(kf["salt"]), kf["N"], kf["r"], kf["p"])
        mk = json.loads(user.open(base64.b64decode(kf["data"])))
        self.master_json = json.dumps(mk, separators=(",", ":")).encode()
        self.master = Sealer(base64.b64decode(mk["encrypt"]), base64.b64decode(mk["mac"]["k"]),
                             base64.b64decode(mk["mac"]["r"]))

    def cheapen_key(self):
        """Replaces every key file by one with scrypt N=1024, so each restic run
        opens the repository in milliseconds instead of half a second."""
        salt = os.urandom(64)
        user = user_sealer(self.password, salt, 1024, 8, 1)
        doc = {"created": "2026-01-01T00:00:00Z", "username": "test", "hostname": "test",
               "kdf": "scrypt", "N": 1024, "r": 8, "p": 1,
               "salt": base64.b64encode(salt).decode(),
               "data": base64.b64encode(user.seal(self.master_json)).decode()}
        raw = json.dumps(doc, separators=(",", ":")).encode()
        kdir = os.path.join(self.path, "keys")
        for name in os.listdir(kdir):
            os.chmod(os.path.join(kdir, name), 0o600)
            os.remove(os.path.join(kdir, name))
        with open(os.path.join(kdir, hashlib.sha256(raw).hexdigest()), "wb") as f:
            f.write(raw)

    def write_unpacked(self, kind, doc):
        data = self.master.seal(json.dumps(doc, separators=(",", ":")).encode())
        name = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.path, kind, name), "wb") as f:
            f.write(data)
        return name

    def snapshot_ids(self):
        return sorted(os.listdir(os.path.join(self.path, "snapshots")))
