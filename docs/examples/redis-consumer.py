#!/usr/bin/env python3
"""Read postcard records from Redis streams with a consumer group (Python standard library only).

    redis-consumer.py [--host H] [--port P] [--user U] [--password PW] [--group G]
                      [--consumer C] [--start ID] [--once] STREAM...

Creates the group on each stream if it is missing (XGROUP CREATE <stream> <group> <start>
MKSTREAM; start 0: everything the stream still holds, $: only what comes next), takes back
first the entries this consumer was given but never acknowledged (a crash between reading and
XACK), then reads new ones (XREADGROUP ... >). Each record is printed as one JSON line, then
acknowledged (XACK): a record is acknowledged only once it has been handled. --once: exit when
no new entry came within the block time (2 s). See docs/redis.md.
"""
import argparse
import socket
import sys


class Redis:
    """Just enough RESP2 (https://redis.io/docs/reference/protocol-spec/) for this script."""

    def __init__(self, host, port, user=None, password=None):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.f = self.sock.makefile("rb")
        if password:
            self.call("AUTH", *([user] if user else []), password)

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return self.reply()

    def reply(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("connection closed by the server")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            return None if int(rest) < 0 else self.f.read(int(rest) + 2)[:-2]
        if kind == b"*":
            return None if int(rest) < 0 else [self.reply() for _ in range(int(rest))]
        raise ValueError("not RESP: %r" % line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=6379)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--group", default="soc")
    ap.add_argument("--consumer", default=socket.gethostname())
    ap.add_argument("--start", default="0")
    ap.add_argument("--once", action="store_true")
    ap.add_argument("streams", nargs="+")
    a = ap.parse_args()
    r = Redis(a.host, a.port, a.user, a.password)
    for s in a.streams:
        try:
            r.call("XGROUP", "CREATE", s, a.group, a.start, "MKSTREAM")
        except RuntimeError as e:
            if not str(e).startswith("BUSYGROUP"):  # the group exists: fine
                raise
    ids = ["0"] * len(a.streams)  # first our pending entries, then ">" (new ones)
    while True:
        block = [] if ids[0] == "0" else ["BLOCK", "2000"]
        got = r.call("XREADGROUP", "GROUP", a.group, a.consumer, "COUNT", "500", *block,
                     "STREAMS", *a.streams, *ids)
        entries = sum((len(es) for _, es in got or []), 0)
        for stream, es in got or []:
            for eid, fields in es:
                fields = fields or []  # None: the entry was deleted (XDEL, MAXLEN) since
                rec = dict(zip(fields[::2], fields[1::2])).get(b"record")
                if rec is not None:
                    sys.stdout.write(rec.decode() + "\n")
            sys.stdout.flush()
            if es:
                r.call("XACK", stream, a.group, *[eid for eid, _ in es])
        if entries == 0 and ids[0] == "0":
            ids = [">"] * len(a.streams)
        elif entries == 0 and a.once:
            return 0


if __name__ == "__main__":
    sys.exit(main())
