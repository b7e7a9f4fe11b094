#!/usr/bin/env python3
"""Independent easy-scrypt implementation (Python's hashlib.scrypt) for cross-checking EasyScrypt.java.

Layout, base64 (standard, padded):
    key (keylen) | salt (16) | N (int32 LE) | r (int32 LE) | p (int32 LE) | SHA-256 of all preceding bytes (32)

  gen_scrypt_fixtures.py generate > proxy-core/src/test/resources/easy-scrypt-fixtures.tsv
      prints "password<TAB>N<TAB>r<TAB>p<TAB>keylen<TAB>hash" lines for EasyScryptTest to verify.
  gen_scrypt_fixtures.py verify < lines
      reads "password<TAB>hash" lines (hashes made by Java) and prints "ok" or "fail" for each.
"""
import base64
import hashlib
import hmac
import os
import struct
import sys

CASES = [
    # password, N, r, p, keylen
    ("correct horse battery staple", 16384, 8, 1, 32),   # Perseus's genhash parameters
    ("mostest", 16384, 8, 1, 32),
    ("", 16384, 8, 1, 32),
    ("pässwörd ✓ 日本", 16384, 8, 1, 32),                  # UTF-8 bytes are hashed
    ("short-key", 1024, 4, 2, 16),
    ("long-key", 2048, 8, 1, 64),
    ("parallel", 4096, 2, 3, 32),
    ("tiny", 2, 1, 1, 1),
]


def hash_password(password, n, r, p, keylen, salt=None):
    salt = salt if salt is not None else os.urandom(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=keylen,
                         maxmem=256 * 1024 * 1024)
    body = key + salt + struct.pack("<iii", n, r, p)
    return base64.b64encode(body + hashlib.sha256(body).digest()).decode("ascii")


def verify(password, encoded):
    raw = base64.b64decode(encoded, validate=True)
    keylen = len(raw) - 60
    body, digest = raw[:-32], raw[-32:]
    if keylen < 1 or hashlib.sha256(body).digest() != digest:
        return False
    key, salt = body[:keylen], body[keylen:keylen + 16]
    n, r, p = struct.unpack("<iii", body[keylen + 16:])
    derived = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=keylen,
                             maxmem=256 * 1024 * 1024)
    return hmac.compare_digest(derived, key)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "generate":
        for password, n, r, p, keylen in CASES:
            print("\t".join([password, str(n), str(r), str(p), str(keylen),
                             hash_password(password, n, r, p, keylen)]))
    elif mode == "verify":
        for line in sys.stdin.read().splitlines():
            password, encoded = line.split("\t")
            print("ok" if verify(password, encoded) else "fail")
    else:
        sys.exit("usage: gen_scrypt_fixtures.py generate|verify")


if __name__ == "__main__":
    main()
