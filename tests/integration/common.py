"""The helpers every integration suite shares: tests/integration/test_<area>.py.

A suite is a file of test_* functions, each run with the real binary on real captures: a test
raises AssertionError (fail) or Skip. run_suite() prints "ok - name" / "not ok - name" /
"skip - name: why", then "integration-<area>: N passed, N failed, N skipped":

    python3 tests/integration/test_mail.py [name-filter]
    tests/run.sh integration [name-filter]          every suite, one closing line

The binary is $BUILD/postcard (tests/run.sh sets BUILD=build/san, the ASan+UBSan build).
Every run is checked for sanitizer reports.

The corpus (labelled captures from nDPI, Zeek and suricata-verify) is ../shared/corpus, next to
the tree, or the directory POSTCARD_CORPUS names; POSTCARD_CORPUS=none runs as if there were
none. CORPUS is decided here, once: a test that needs it calls need_corpus() and reports skip
without it; everything else runs the same.

Order, not luck. Where a test must know that postcard has reached a point (read everything
written to its stdin, started a live capture, locked a spool, sent a batch), it waits for a
condition it can observe, never for a while: wait_for() and the Postcard methods below poll
that condition and fail after WAIT seconds, saying what did not happen.
"""
import base64
import ctypes
import fcntl
import glob
import json
import os
import platform
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD", "build/san")
BIN = os.path.join(ROOT, BUILD, "postcard")
PCAPS = os.path.join(ROOT, "pcaps")
SAN_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
               "AddressSanitizer:DEADLYSIGNAL", "WARNING: ThreadSanitizer")
WAIT = 60  # seconds a barrier waits for its condition before it fails


class Skip(Exception):
    pass


def run(args, stdin=None, timeout=120, input_bytes=None):
    """Run postcard; return (status, stdout, stderr). Fails on a sanitizer report."""
    p = subprocess.run([BIN] + args, stdin=stdin, input=input_bytes, capture_output=True,
                       timeout=timeout)
    err = p.stderr.decode("utf-8", "replace")
    check_sanitizers(err, args)
    return p.returncode, p.stdout.decode("utf-8", "replace"), err


def run_fatal(args, status, *needles):
    """A run that never started (docs/cli.md, "Errors and exit status"): postcard is started by a
    relative path (./build/san/postcard from the tree), once writing to stdout and once with -w
    FILE. Each time: exit status `status`, nothing on stdout, the -w file empty or absent, no
    summary, and every line of stderr is a message of postcard's own ("postcard: ...") holding
    the needles. Returns stderr."""
    d = tempfile.mkdtemp()
    try:
        w = os.path.join(d, "out.json")
        for extra in ([], ["-w", w]):
            p = subprocess.run(["./" + os.path.relpath(BIN, ROOT)] + extra + args, cwd=ROOT,
                               capture_output=True, timeout=120)
            out = p.stdout.decode("utf-8", "replace")
            err = p.stderr.decode("utf-8", "replace")
            check_sanitizers(err, args)
            what = "%s: stderr:\n%s" % (extra + args, err)
            assert p.returncode == status, "status %d, expected %d; %s" % (p.returncode, status,
                                                                           what)
            assert out == "", "stdout: %r; %s" % (out[:500], what)
            assert not os.path.exists(w) or os.path.getsize(w) == 0, "-w written; " + what
            assert "summary" not in err and "packets:" not in err, "a summary; " + what
            lines = err.splitlines()
            assert lines and all(l.startswith("postcard: ") for l in lines), what
            for n in needles:
                assert n in err, "%r not in stderr; %s" % (n, what)
        return err
    finally:
        shutil.rmtree(d)


def check_sanitizers(err, what=""):
    for m in SAN_MARKERS:
        assert m not in err, "sanitizer report for %s:\n%s" % (what, err[-3000:])


def records(out):
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def flows(out, proto=None):
    return [r for r in records(out) if r["event_type"] == "flow" and
            (proto is None or r["proto"] == proto)]


def tshark_convs(path, kind="tcp"):
    p = subprocess.run(["tshark", "-r", path, "-q", "-z", "conv," + kind],
                       capture_output=True, timeout=300)
    return sum(1 for l in p.stdout.decode("utf-8", "replace").splitlines() if "<->" in l)


def project_pcaps():
    return sorted(glob.glob(os.path.join(PCAPS, "*.pcap*")))


# --- the corpus ----------------------------------------------------------------------

def _corpus():
    """(directory or None, why there is none)."""
    env = os.environ.get("POSTCARD_CORPUS", "")
    if env == "none":
        return None, "no corpus (POSTCARD_CORPUS=none)"
    path = os.path.abspath(env) if env else \
        os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus"))
    if not os.path.isdir(path):
        return None, "the corpus (%s) is absent" % path
    return path, ""


CORPUS, NO_CORPUS = _corpus()


def need_corpus(*rel):
    """The corpus directory, or a file in it (rel); Skip when there is none."""
    if CORPUS is None:
        raise Skip(NO_CORPUS)
    path = os.path.join(CORPUS, *rel)
    if rel and not os.path.exists(path):
        raise Skip("%s is not in the corpus" % os.path.join(*rel))
    return path


def corpus_files():
    need_corpus()
    return sorted(f for d in ("ndpi", "zeek", "suricata-verify")
                  for f in glob.glob(os.path.join(CORPUS, d, "*.pcap*")))


def corpus_labels():
    """(capture, label info) of every labelled corpus capture."""
    need_corpus()
    out = []
    for lab in sorted(glob.glob(os.path.join(CORPUS, "labels", "*.json"))):
        with open(lab) as fh:
            info = json.load(fh)["info"]
        out.append((os.path.join(CORPUS, info["path"]), info))
    return out


def label_expectation(m):
    """What the corpus label of one mail stream says a correct sensor reports."""
    proto = {"smtps": "smtp", "imaps": "imap", "pop3s": "pop3"}.get(m["proto"], m["proto"])
    if m.get("implicit_tls"):
        st = "implicit"
    elif m["starttls"]:
        ok = str(m["starttls"][0]["reply"]) in ("220", "+OK", "OK")
        st = ("upgraded" if m.get("tls_after_starttls") else "failed") if ok else "refused"
    else:
        offers = m.get("ehlo_offers_starttls", m.get("capability_starttls", m.get("capa_stls")))
        st = {True: "offered-unused", False: "not-offered", None: None}[offers]
    logins = []
    for c in m["creds"]:
        if not c["cleartext_password"]:
            continue
        mech = {"USER/PASS": "USER", "AUTH PLAIN": "PLAIN", "AUTH LOGIN": "LOGIN"}.get(
            c["mech"], c["mech"])
        res = "success" if str(c["result"]) in ("235", "+OK", "OK") else "failure"
        logins.append((mech, c["user"], res))
    return proto, m["server"], st, logins


# Corpus files whose TLS runs inside another protocol that postcard does not follow (it is a
# mail sensor): FTP's AUTH TLS (RFC 4217), a Gnutella connection upgrade, a SOCKS tunnel.
TLS_INSIDE_OTHER = {"ndpi/ftp-start-tls.pcap", "ndpi/gnutella.pcap", "zeek/socks-with-ssl.pcap"}

# Where the labels (tshark) missed a ServerHello that the capture holds, read from the bytes:
# google_ssl's server stream starts 16 03 01 00 4a 02 (ServerHello, TLS 1.0, suite 0x0005);
# tls-fingerprint-alert's starts 16 03 03 00 64 02 (ServerHello, TLS 1.2, suite 0xc02f).
TLS_LABEL_MISSED_SH = {
    "ndpi/google_ssl.pcap": ({"TLS1.0": 1}, {"TLS_RSA_WITH_RC4_128_SHA": 1}),
    "suricata-verify/tls_tls-fingerprint-alert__input.pcap":
        ({"TLS1.2": 1}, {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": 1}),
}


# --- secrets ---------------------------------------------------------------------------

def known_secrets_in(path):
    """Passwords visible in a capture, found independently with tshark's stream follower."""
    secrets = set()
    p = subprocess.run(["tshark", "-r", path, "-q", "-z", "conv,tcp"], capture_output=True)
    n = sum(1 for l in p.stdout.decode("utf-8", "replace").splitlines() if "<->" in l)
    for i in range(min(n, 64)):
        q = subprocess.run(["tshark", "-r", path, "-q", "-z", "follow,tcp,ascii,%d" % i],
                           capture_output=True)
        lines = q.stdout.decode("latin-1").splitlines()
        prev = ""
        for l in lines:
            l = l.strip()
            m = re.match(r"^PASS (.+)$", l, re.I)
            if m:
                secrets.add(m.group(1))
            m = re.match(r"^\S+ LOGIN (\S+) (\S+)$", l, re.I)
            if m:
                secrets.add(m.group(2).strip('"'))
            m = re.match(r"^AUTH(?:ENTICATE)? PLAIN (\S+)$", l, re.I) or \
                re.match(r"^\S+ AUTHENTICATE PLAIN (\S+)$", l, re.I)
            blob = m.group(1) if m else None
            if prev.startswith("334 UGFzc3dvcmQ6") or prev.startswith("+ UGFzc3dvcmQ6"):
                blob = l
            if blob:
                secrets.add(blob)
                try:
                    dec = base64.b64decode(blob + "==", validate=False)
                    parts = dec.split(b"\0")
                    secrets.add(parts[-1].decode("latin-1"))
                except Exception:
                    pass
            if l:
                prev = l
    # a redacted password ("XXXXXX") is no secret and would match innocent text
    return {x for x in secrets if len(x) >= 4 and len(set(x)) > 2}


def readme_secrets():
    """The test secrets pcaps/README.md lists: {secret: readable on the wire (bool)}; those
    its table says are readable "nowhere" travel only inside TLS or as a digest."""
    with open(os.path.join(PCAPS, "README.md")) as fh:
        text = fh.read()
    out = {}
    for row in re.findall(r"^\| `(postcard-(?:secret|token)-\d+)` \|[^|]*\|([^|]*)\|", text, re.M):
        out[row[0]] = row[1].strip() != "nowhere"
    assert out and set(out) == set(re.findall(r"postcard-(?:secret|token)-\d+", text)), \
        "pcaps/README.md: a secret is named outside its table of secrets"
    return out


def wire_forms(secret):
    """Byte strings, one of which is in any capture that carries secret, in plain text or
    base64-encoded at any offset of a SASL blob (the base64 characters that depend only on
    the secret's own bytes, for each of the three alignments)."""
    s = secret.encode("latin-1")
    forms = [s]
    for pad in range(3):
        enc = base64.b64encode(b"\0" * pad + s)
        full = (pad + len(s)) // 3 * 4
        forms.append(enc[(0, 2, 3)[pad]:full])
    return forms


def check_on_the_wire(secrets, files):
    """Each secret is in the bytes of at least one of files: a leak check over those files
    looks for something that is there to leak."""
    raw = []
    for f in files:
        with open(f, "rb") as fh:
            raw.append(fh.read())
    missing = [s for s in sorted(secrets) if not any(w in r for w in wire_forms(s) for r in raw)]
    assert not missing, "not on the wire of any capture checked: %s" % missing


# --- captures ---------------------------------------------------------------------------

def pcap_record_offsets(data):
    """Offsets of the records of a classic pcap, and its byte order."""
    e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    offs, off = [], 24
    while off + 16 <= len(data):
        offs.append(off)
        off += 16 + struct.unpack_from(e + "I", data, off + 8)[0]
    return offs, e


def pcap_chunks(data, n):
    """A classic pcap cut into n pieces of whole records (the first one with the header)."""
    offs, _ = pcap_record_offsets(data)
    assert len(offs) >= n, "%d records, cannot make %d pieces" % (len(offs), n)
    cuts = [0] + [offs[len(offs) * i // n] for i in range(1, n)] + [len(data)]
    return [data[a:b] for a, b in zip(cuts, cuts[1:])]


def read_pcap(path):
    with open(path, "rb") as fh:
        data = fh.read()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", "%s: not a little-endian microsecond pcap" % path
    assert struct.unpack_from("<I", data, 20)[0] == 1, "%s: not Ethernet" % path
    pkts, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack_from("<IIII", data, off)
        pkts.append([sec, usec, bytearray(data[off + 16: off + 16 + incl]), orig])
        off += 16 + incl
    return data[:24], pkts


def pcap_bytes(header, pkts):
    out = bytearray(header)
    for sec, usec, frame, orig in pkts:
        out += struct.pack("<IIII", sec, usec, len(frame), orig) + frame
    return bytes(out)


def write_pcap(path, header, pkts):
    with open(path, "wb") as fh:
        fh.write(pcap_bytes(header, pkts))


def rewrite_addresses(src, dst, mapping):
    """Copy src to dst with IPv4/IPv6 addresses replaced (untagged Ethernet frames)."""
    header, pkts = read_pcap(src)
    packed = {socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a):
              socket.inet_pton(socket.AF_INET6 if ":" in b else socket.AF_INET, b)
              for a, b in mapping.items()}
    n = 0
    for p in pkts:
        f = p[2]
        etype = struct.unpack_from(">H", f, 12)[0]
        spans = {0x0800: ((26, 4), (30, 4)), 0x86DD: ((22, 16), (38, 16))}.get(etype, ())
        for off, size in spans:
            old = bytes(f[off: off + size])
            if old in packed:
                f[off: off + size] = packed[old]
                n += 1
    assert n > 0, "no address of %s was rewritten" % src
    write_pcap(dst, header, pkts)


# --- MaxMind's test databases -------------------------------------------------------------

MMDB = os.path.normpath(os.path.join(ROOT, "..", "shared", "mmdb"))
CITY = os.path.join(MMDB, "GeoIP2-City-Test.mmdb")
COUNTRY = os.path.join(MMDB, "GeoIP2-Country-Test.mmdb")
ASN = os.path.join(MMDB, "GeoLite2-ASN-Test.mmdb")


def need_mmdb():
    if not all(os.path.exists(p) for p in (CITY, COUNTRY, ASN)):
        raise Skip("../shared/mmdb is absent")


def mmdb_value(db, ip, *path):
    """A value from a database, read with mmdblookup (mmdb-bin), not with postcard's code."""
    p = subprocess.run(["mmdblookup", "--file", db, "--ip", ip] + list(path),
                       capture_output=True, text=True)
    m = re.search(r'^\s*(?:"(.*)" <utf8_string>|(\d+) <uint\d+>)\s*$', p.stdout, re.M)
    if not m:
        return None
    return m.group(1) if m.group(1) is not None else int(m.group(2))


# --- barriers ---------------------------------------------------------------------------

def wait_for(cond, what, timeout=WAIT):
    """Poll cond() until it is true; fail after timeout seconds naming what was awaited.
    Returns cond()'s true value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("waited %d s for %s" % (timeout, what))
        time.sleep(0.005)  # the poll interval of a bounded wait for a condition


# read(2)'s number on the machines the tests run on (/proc/PID/syscall shows it)
READ_SYSCALL = {"x86_64": 0, "aarch64": 63, "riscv64": 63}.get(platform.machine())


# write(2)'s number likewise
WRITE_SYSCALL = {"x86_64": 1, "aarch64": 64, "riscv64": 64}.get(platform.machine())


def blocked_writing(pid, fd):
    """True when the main thread of pid sleeps in write(2) on fd (a full pipe)."""
    if WRITE_SYSCALL is None:
        raise Skip("write(2)'s system call number on %s is not known here" % platform.machine())
    try:
        with open("/proc/%d/syscall" % pid) as fh:
            f = fh.read().split()
    except OSError:
        return False
    return len(f) >= 2 and f[0] == str(WRITE_SYSCALL) and int(f[1], 16) == fd


def fionread(fd):
    """Bytes waiting in a pipe, read end fd."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


def blocked_reading(pid, fd):
    """True when the main thread of pid sleeps in read(2) on fd."""
    if READ_SYSCALL is None:
        raise Skip("read(2)'s system call number on %s is not known here" % platform.machine())
    try:
        with open("/proc/%d/syscall" % pid) as fh:
            f = fh.read().split()
    except OSError:
        return False
    return len(f) >= 2 and f[0] == str(READ_SYSCALL) and int(f[1], 16) == fd


def flock_holders(path):
    """Lines of /proc/locks for a flock() held on path (read, not taken: a probe that took the
    lock itself could make the holder fail to get it)."""
    try:
        ino = os.stat(path).st_ino
    except FileNotFoundError:
        return []
    with open("/proc/locks") as fh:
        return [l for l in fh if l.split()[1:2] == ["FLOCK"] and
                l.split()[5].rsplit(":", 1)[-1] == str(ino)]


def listen_on_lo():
    """A TCP listener on 127.0.0.1 at a free port: (socket, port)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    return srv, srv.getsockname()[1]


class Postcard:
    """postcard running in the background while the test acts on it.

    stdin="pipe": the test writes the capture with feed() (postcard -r -). The test keeps its
    own copy of the pipe's read end, so that wait_stdin_drained() can see what postcard has
    not read yet. stdin=None: /dev/null. stdout is collected; stderr is read line by line as
    it comes (wait_stderr). finish() closes stdin, waits for the exit and returns
    (status, stdout, stderr), checked for sanitizer reports."""

    def __init__(self, args, stdin="pipe", prefix=()):
        """prefix: a command that runs postcard (["ip", "netns", "exec", NS]): postcard gets
        the signals all the same, as that command execs it."""
        self.args = args
        self._rfd = self._wfd = None
        if stdin == "pipe":
            self._rfd, self._wfd = os.pipe()
            os.set_blocking(self._wfd, False)  # feed() fails if postcard stops reading
        self.p = subprocess.Popen(list(prefix) + [BIN] + args,
                                  stdin=self._rfd if stdin == "pipe" else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pid = self.p.pid
        self._out = []
        self._err = []
        self._err_done = False
        self._cv = threading.Condition()
        self._threads = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for t in self._threads:
            t.start()

    def _read_out(self):
        self._out.append(self.p.stdout.read())

    def _read_err(self):
        for line in iter(self.p.stderr.readline, b""):
            with self._cv:
                self._err.append(line.decode("utf-8", "replace"))
                self._cv.notify_all()
        with self._cv:
            self._err_done = True
            self._cv.notify_all()

    def stderr(self):
        with self._cv:
            return "".join(self._err)

    def _check_alive(self, doing):
        if self.p.poll() is not None:
            raise AssertionError("postcard %s exited with status %d %s; stderr:\n%s" % (
                self.args, self.p.returncode, doing, self.stderr()[-3000:]))

    def wait_stderr(self, text, timeout=WAIT):
        """Wait until a line of stderr contains text; return that line."""
        def found():
            return next((l for l in self._err if text in l), None)
        with self._cv:
            self._cv.wait_for(lambda: found() is not None or self._err_done, timeout)
            line = found()
        if line is None:
            self._check_alive("before writing %r" % text)
            raise AssertionError("no %r on postcard's stderr after %d s; stderr:\n%s" % (
                text, timeout, self.stderr()[-3000:]))
        return line

    def feed(self, data, timeout=WAIT):
        """Write data to postcard's stdin (whole pcap records: see wait_stdin_drained)."""
        view = memoryview(data)
        deadline = time.monotonic() + timeout
        while view:
            self._check_alive("while its input was written")
            _, ready, _ = select.select([], [self._wfd], [], 0.1)
            if not ready:
                if time.monotonic() > deadline:
                    raise AssertionError("postcard read nothing of its input for %d s" % timeout)
                continue
            try:
                n = os.write(self._wfd, view[:1 << 16])
            except BlockingIOError:
                continue
            view = view[n:]
            deadline = time.monotonic() + timeout

    def close_stdin(self):
        if self._wfd is not None:
            os.close(self._wfd)
            self._wfd = None

    def stdin_drained(self):
        return fionread(self._rfd) == 0 and blocked_reading(self.pid, 0)

    def wait_stdin_drained(self, timeout=WAIT):
        """Barrier: postcard has processed everything written so far. The pipe is empty and
        its main thread sleeps in read(2) on fd 0 for more: with whole records written, it
        asks for the next record only after it has handled the ones before (seen twice, a
        moment apart, so that a read still returning is not taken for one waiting)."""
        def drained():
            self._check_alive("before reading all of its input")
            if not self.stdin_drained():
                return False
            time.sleep(0.005)  # the second look of the same condition
            return self.stdin_drained()
        wait_for(drained, "postcard to read and handle everything written to its stdin",
                 timeout)

    def signal(self, sig):
        self.p.send_signal(sig)

    def finish(self, timeout=180):
        """Close stdin, wait for the exit: (status, stdout, stderr)."""
        self.close_stdin()
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError("postcard %s still running after %d s; stderr:\n%s" % (
                self.args, timeout, self.stderr()[-3000:]))
        for t in self._threads:
            t.join()
        self.close()
        err = self.stderr()
        check_sanitizers(err, self.args)
        return self.p.returncode, self._out[0].decode("utf-8", "replace"), err

    def close(self):
        """Kill postcard if it still runs; release the pipe."""
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.close_stdin()
        if self._rfd is not None:
            os.close(self._rfd)
            self._rfd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- a private link: a network namespace and a veth pair ------------------------------------

CLONE_NEWNET = 0x40000000  # setns(2): the network namespace
_libc = []


def _setns(fd):
    """Move this thread into the network namespace open on fd (Python 3.11 has no os.setns)."""
    if not _libc:
        _libc.append(ctypes.CDLL(None, use_errno=True))
    if _libc[0].setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


def need_live(*tools):
    """Skip unless a private link can be made (root, ip) and tools are installed."""
    if os.geteuid() != 0:
        raise Skip("live capture and network namespaces need root")
    missing = [t for t in ("ip",) + tools if shutil.which(t) is None]
    if missing:
        raise Skip("%s not installed (make deps)" % ", ".join(missing))


def _ip(*args):
    p = subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=WAIT)
    if p.returncode != 0:
        raise AssertionError("ip %s: %s" % (" ".join(args), p.stderr.strip()))
    return p.stdout


class PrivateLink:
    """A network namespace of its own holding one veth pair: `cap`, the end postcard listens
    on, and `send`, the end tcpreplay writes to. A frame written on one end arrives on the
    other and goes nowhere else: no address, no route, no forwarding (a new namespace's
    default), IPv6 off (no router solicitation, duplicate address detection or MLD report
    of its own), so an idle link carries nothing at all.

    Inside the with-block this thread, the test, is in the namespace, and so is every
    process it starts: postcard, redis-server on the namespace's own 127.0.0.1, tcpreplay.
    At exit the thread goes back, whatever still runs in the namespace is killed by its
    pid, and the namespace is deleted with the veth pair in it, whatever went wrong. The
    names hold this process's pid and a count (postcard-live-PID-N): a namespace left by a
    run that was killed, its pid gone, is cleared by the next one (what still runs there,
    the killed run's postcard or redis-server, is killed by its pid) and deleted."""

    _made = 0

    def __init__(self):
        PrivateLink._made += 1
        n, pid = PrivateLink._made, os.getpid()
        self.name = "postcard-live-%d-%d" % (pid, n)
        self.cap = "pl%d%dc" % (pid, n)  # at most 15 characters (IFNAMSIZ)
        self.send = "pl%d%ds" % (pid, n)
        self._home = None

    def __enter__(self):
        self._sweep()
        _ip("netns", "add", self.name)
        try:
            self._home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            fd = os.open("/run/netns/" + self.name, os.O_RDONLY)
            try:
                _setns(fd)
            finally:
                os.close(fd)
            for key in ("all", "default"):
                with open("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % key, "w") as fh:
                    fh.write("1")
            _ip("link", "set", "lo", "up")
            _ip("link", "add", self.cap, "type", "veth", "peer", "name", self.send)
            _ip("link", "set", self.cap, "up")
            _ip("link", "set", self.send, "up")
            wait_for(lambda: all("state UP" in _ip("link", "show", i)
                                 for i in (self.cap, self.send)),
                     "the veth pair %s/%s to come up" % (self.cap, self.send))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self._home is not None:
            _setns(self._home)
            os.close(self._home)
            self._home = None
        self._kill_inside(self.name)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=WAIT)

    @staticmethod
    def _kill_inside(name):
        p = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True,
                           timeout=WAIT)
        for pid in {int(x) for x in p.stdout.split()} - {os.getpid()}:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass

    @classmethod
    def _sweep(cls):
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                timeout=WAIT).stdout
        for name, pid in re.findall(r"^(postcard-live-(\d+)-\d+)", listed, re.M):
            if not os.path.exists("/proc/" + pid):
                cls._kill_inside(name)  # what the killed run had started there
                subprocess.run(["ip", "netns", "del", name], capture_output=True,
                               timeout=WAIT)


def tcpreplay(iface, pcap, *opts, timeout=300):
    """Replay pcap on iface with tcpreplay (opts: its pace, --multiplier 1, --topspeed ...);
    fails unless every packet was sent. Returns time.monotonic() when tcpreplay returned:
    the last packet left before that."""
    p = subprocess.run(["tcpreplay", "-i", iface] + list(opts) + [pcap], capture_output=True,
                       text=True, timeout=timeout)
    t = time.monotonic()
    assert p.returncode == 0, "tcpreplay %s: status %d\n%s%s" % (
        pcap, p.returncode, p.stdout, p.stderr)
    failed = re.search(r"Failed packets:\s+(\d+)", p.stdout)
    assert failed is not None and failed.group(1) == "0", "tcpreplay %s:\n%s" % (
        pcap, p.stdout)
    return t


def wall(mono):
    """The wall-clock time of a recent time.monotonic() reading."""
    return mono + (time.time() - time.monotonic())


class Tail:
    """The records of a JSON-lines file another process is writing: poll() reads what was
    added since the last call and returns every complete record so far, each as (when,
    record), when being time.monotonic() of the first poll that saw its line whole. A line
    still without its newline waits for the next poll."""

    def __init__(self, path):
        self.path = path
        self.recs = []
        self._fh = None
        self._rest = b""

    def poll(self):
        if self._fh is None:
            try:
                self._fh = open(self.path, "rb")
            except FileNotFoundError:
                return self.recs
        data = self._fh.read()
        if data:
            now = time.monotonic()
            lines = (self._rest + data).split(b"\n")
            self._rest = lines.pop()
            for l in lines:
                try:
                    self.recs.append((now, json.loads(l)))
                except ValueError:
                    raise AssertionError("%s: not a JSON line: %r" % (self.path, l[:300]))
        return self.recs

    def of_type(self, kind):
        return [(t, r) for t, r in self.poll() if r["event_type"] == kind]

    def close(self):
        if self._fh is not None:
            self._fh.close()
            self._fh = None


# --- the runner ---------------------------------------------------------------------------

def run_suite(namespace, suite=None):
    """Run the test_* functions of namespace (a module's globals()) whose name contains
    argv[1] (if given); print "ok"/"not ok"/"skip" lines and "<suite>: N passed, N failed,
    N skipped" (suite: integration-<area> for test_<area>.py). Returns the exit status."""
    if suite is None:
        area = os.path.basename(namespace["__file__"])[len("test_"):-len(".py")]
        suite = "integration-" + area
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.access(BIN, os.X_OK):
        print("not ok - build: %s is missing (make SAN=address,undefined)" % BIN)
        print("%s: 0 passed, 1 failed" % suite)
        return 1
    tests = [(n, f) for n, f in sorted(namespace.items())
             if n.startswith("test_") and callable(f) and only in n]
    passed = failed = skipped = 0
    for name, fn in tests:
        t0 = time.time()
        try:
            fn()
        except Skip as e:
            skipped += 1
            print("skip - %s: %s" % (name, e))
            sys.stdout.flush()
            continue
        except Exception:
            failed += 1
            print("not ok - %s" % name)
            print("  " + traceback.format_exc().replace("\n", "\n  ")[-4000:])
            sys.stdout.flush()
            continue
        passed += 1
        print("ok - %s (%.1fs)" % (name, time.time() - t0))
        sys.stdout.flush()
    print("%s: %d passed, %d failed, %d skipped" % (suite, passed, failed, skipped))
    return 1 if failed else 0
