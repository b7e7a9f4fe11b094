#!/usr/bin/env python3
"""Open many PostgreSQL client connections, log them in, and keep them idle.

Used by bench/run.sh to measure what idle clients cost a pooler in memory. No driver is needed: this speaks just
enough of the wire protocol (startup message, cleartext / MD5 / SCRAM-SHA-256 password, wait for ReadyForQuery).

  idle_clients.py --port P --user U --password PW --db D [--options '-c search_path=s']
                  --steps 1000,10000 --watch-pid PID [--batch 32]

For each step it opens connections until that many are logged in, then prints one line
  step <connections> rss_kb <VmRSS of --watch-pid> seconds <time since start>
and finally closes everything. Logins are done in batches: all sockets of a batch are connected and sent their
startup message first, then each is driven to ReadyForQuery, so the pooler can work on a batch's logins at once
(the proxy checks scrypt hashes on several threads) without this script needing an event loop.
A login refused with SQLSTATE 53300 (too many connections / logins being checked) is retried after a short pause.
"""
import argparse
import base64
import hashlib
import hmac
import os
import resource
import socket
import struct
import sys
import time


class Retry(Exception):
    """The server asked us to come back later (SQLSTATE 53300)."""


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("server closed the connection during login")
        data += chunk
    return data


def read_message(sock):
    head = recv_exact(sock, 5)
    kind, length = head[:1], struct.unpack("!I", head[1:])[0]
    return kind, recv_exact(sock, length - 4)


def send_message(sock, kind, payload):
    sock.sendall(kind + struct.pack("!I", len(payload) + 4) + payload)


def error_fields(payload):
    fields = {}
    for part in payload.split(b"\0"):
        if part:
            fields[part[:1]] = part[1:].decode(errors="replace")
    return fields


_salted_cache = {}


def scram_exchange(sock, password, first_payload):
    """SCRAM-SHA-256 as PostgreSQL does it (RFC 5802/7677, no channel binding)."""
    if b"SCRAM-SHA-256" not in first_payload:
        raise RuntimeError("server offers no SCRAM-SHA-256")
    nonce = base64.b64encode(os.urandom(18)).decode()
    client_first_bare = "n=,r=" + nonce
    client_first = ("n,," + client_first_bare).encode()
    send_message(sock, b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(client_first)) + client_first)
    kind, payload = read_message(sock)
    if kind == b"E":
        raise RuntimeError(error_fields(payload).get(b"M"))
    code = struct.unpack("!I", payload[:4])[0]
    if code != 11:
        raise RuntimeError("expected SASLContinue, got %d" % code)
    server_first = payload[4:].decode()
    attrs = dict(item.split("=", 1) for item in server_first.split(","))
    key = (password, attrs["s"], attrs["i"])
    if key not in _salted_cache:   # the same salt comes back for every login of a user: derive once
        _salted_cache[key] = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]),
                                                 int(attrs["i"]))
    salted = _salted_cache[key]
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_without_proof = "c=biws,r=" + attrs["r"]
    auth_message = ",".join([client_first_bare, server_first, final_without_proof]).encode()
    signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    send_message(sock, b"p", (final_without_proof + ",p=" + base64.b64encode(proof).decode()).encode())


def start(args):
    """Connect and send the startup message; the rest of the login happens in finish()."""
    sock = socket.create_connection((args.host, args.port))
    params = [b"user", args.user.encode(), b"database", args.db.encode()]
    if args.options:
        params += [b"options", args.options.encode()]
    body = struct.pack("!I", 196608) + b"\0".join(params) + b"\0\0"
    sock.sendall(struct.pack("!I", len(body) + 4) + body)
    return sock


def finish(sock, args):
    """Answer the password request and read until ReadyForQuery."""
    while True:
        kind, payload = read_message(sock)
        if kind == b"R":
            code = struct.unpack("!I", payload[:4])[0]
            if code == 0:
                continue
            if code == 3:
                send_message(sock, b"p", args.password.encode() + b"\0")
            elif code == 5:
                inner = hashlib.md5((args.password + args.user).encode()).hexdigest().encode()
                send_message(sock, b"p", b"md5" + hashlib.md5(inner + payload[4:8]).hexdigest().encode() + b"\0")
            elif code == 10:
                scram_exchange(sock, args.password, payload[4:])
            elif code in (11, 12):
                continue   # SASL final message: nothing to answer
            else:
                raise RuntimeError("unsupported authentication request %d" % code)
        elif kind == b"E":
            fields = error_fields(payload)
            if fields.get(b"C") == "53300":
                raise Retry()
            raise RuntimeError("login failed: %s %s" % (fields.get(b"C"), fields.get(b"M")))
        elif kind == b"Z":
            return
        # 'S' ParameterStatus, 'K' BackendKeyData, 'N' notices: nothing to do while idle


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", default="")
    parser.add_argument("--db", required=True)
    parser.add_argument("--options", default="")
    parser.add_argument("--steps", default="1000,10000")
    parser.add_argument("--watch-pid", type=int, required=True)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to wait before reading RSS at a step")
    args = parser.parse_args()

    # Each connection is a file descriptor: raise the soft limit as far as the hard limit allows.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    began = time.monotonic()
    open_socks, retries = [], 0
    for target in [int(s) for s in args.steps.split(",")]:
        while len(open_socks) < target:
            batch = [start(args) for _ in range(min(args.batch, target - len(open_socks)))]
            backoff = False
            for sock in batch:
                try:
                    finish(sock, args)
                    open_socks.append(sock)
                except Retry:
                    sock.close()
                    retries += 1
                    backoff = True
            if backoff:
                time.sleep(0.2)
        time.sleep(args.settle)   # let the pooler finish whatever it does after a login before we look at it
        print("step %d rss_kb %d seconds %.1f retries %d" % (len(open_socks), rss_kb(args.watch_pid),
                                                              time.monotonic() - began, retries), flush=True)
    for sock in open_socks:
        sock.close()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:   # one readable line for run.sh's log instead of a traceback
        print("error %s" % e, flush=True)
        sys.exit(1)
