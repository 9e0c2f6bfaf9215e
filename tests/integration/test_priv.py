#!/usr/bin/env python3
"""What postcard runs with, and what it keeps in memory (docs/security.md), on real processes:

  - as root with -u nobody -g nogroup on a live link of the test's own (common.PrivateLink),
    with the Redis output's threads running: every thread of the sensor is nobody:nogroup,
    holds no capability (permitted, effective, inheritable, ambient, bounding) and cannot
    gain one (NoNewPrivs), and the run still reports a login in clear, in the file and in
    Redis;
  - as nobody with CAP_NET_RAW alone (setpriv, ambient): the capability is gone once the
    capture is open ("listening on" is said only after that), and the run reports as before;
  - a drop that cannot be done (no such user, root asked for, a change of user the process
    may not make) stops postcard with a clear message and status 1 before any packet is read;
  - what is opened again later, as the new user: the -w file reopened on SIGHUP, --summary
    FILE rewritten beside itself, the Redis spool; refused at start when the user cannot;
  - core dumps: off by default (the process is not dumpable, RLIMIT_CORE 0), on with
    --allow-core-dumps;
  - the Redis password, given in the URL, in a file or in the environment: never in
    /proc/PID/cmdline or /proc/PID/environ, authentication to a real redis-server with
    requirepass works, and the sensor's memory holds it exactly once (the copy kept for
    reconnects);
  - the passwords of the project's captures, replayed live (a mail port, and a port nDPI
    has to classify): in none of the sensor's memory a core dump would hold, while the
    sessions are open and after they ended.

Order, not luck: "listening on" on stderr is written once every privilege that was to go is
gone; a postcard reading a pipe (-r -) has opened everything once it sleeps in read(2) on
it (Postcard.wait_stdin_drained); records are awaited in the -w file (common.Tail).

Needs root, ip, setpriv (util-linux); the live tests tcpreplay, the Redis ones redis-server.
"""
import atexit
import grp
import json
import os
import pwd
import re
import shutil
import signal
import struct
import subprocess
import tempfile

import common as C
import test_redis as R
from common import PCAPS, Postcard, PrivateLink, Skip, Tail, need_live, run_suite, tcpreplay

TMP = tempfile.mkdtemp(prefix="postcard-priv-")
os.chmod(TMP, 0o755)  # nobody reaches the directories made for it below

# The default rules where nobody can read them: a checkout may sit in a directory only root
# can enter (a CI's mktemp -d), and postcard started as nobody reads its rules as nobody.
RULES_NOBODY = os.path.join(TMP, "rules")
shutil.copytree(os.path.join(C.ROOT, "rules", "default"), RULES_NOBODY)
os.chmod(RULES_NOBODY, 0o755)
NR = ["-R", RULES_NOBODY]

NOBODY = pwd.getpwnam("nobody").pw_uid
NOGROUP = grp.getgrnam("nogroup").gr_gid
PCAP = open(os.path.join(PCAPS, "imap-plain.pcap"), "rb").read()  # a login in clear
RPW = "pc-redis-pw-7Qx2"  # the Redis password of these tests
SETPRIV_NET_RAW = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                   "--inh-caps=+net_raw", "--ambient-caps=+net_raw"]
SETPRIV_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def need_root(*tools):
    if os.geteuid() != 0:
        raise Skip("changing users needs root")
    missing = [t for t in ("setpriv",) + tools if shutil.which(t) is None]
    if missing:
        raise Skip("%s not installed (make deps)" % ", ".join(missing))


def dir_for_nobody():
    """A fresh directory owned by nobody:nogroup."""
    d = tempfile.mkdtemp(dir=TMP)
    os.chown(d, NOBODY, NOGROUP)
    return d


# --- /proc -----------------------------------------------------------------------------------

def status(pid, tid=None):
    """The fields of /proc/PID/status (or of one thread's), as strings."""
    path = "/proc/%d/status" % pid if tid is None else "/proc/%d/task/%d/status" % (pid, tid)
    with open(path) as fh:
        return dict(l.rstrip("\n").split(":\t", 1) for l in fh if ":\t" in l)


def threads(pid):
    return sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))


def check_no_privilege(pid, uid, gid, bounding_empty):
    """Every thread of pid: user uid and group gid (real, effective, saved, filesystem), no
    capability permitted, effective, inheritable or ambient (nor in the bounding set when
    bounding_empty), no_new_privs set. Returns how many threads were checked."""
    tids = threads(pid)
    for tid in tids:
        st = status(pid, tid)
        assert st["Uid"].split() == [str(uid)] * 4, (tid, st["Uid"])
        assert st["Gid"].split() == [str(gid)] * 4, (tid, st["Gid"])
        for cap in ("CapPrm", "CapEff", "CapInh", "CapAmb") + (("CapBnd",) if bounding_empty
                                                                else ()):
            assert int(st[cap], 16) == 0, "thread %d: %s %s" % (tid, cap, st[cap])
        assert st["NoNewPrivs"] == "1", (tid, st["NoNewPrivs"])
    return len(tids)


def core_limit(pid):
    """The soft and hard RLIMIT_CORE of pid, as /proc/PID/limits writes them."""
    with open("/proc/%d/limits" % pid) as fh:
        for l in fh:
            if l.startswith("Max core file size"):
                return l.split()[4:6]
    raise AssertionError("no core limit in /proc/%d/limits" % pid)


def dumpable(pid, uid):
    """Is pid (running as uid, not root) dumpable? The kernel makes the /proc/PID files of a
    process that is not dumpable belong to root (proc(5), PR_SET_DUMPABLE)."""
    owner = os.stat("/proc/%d/status" % pid).st_uid
    assert owner in (0, uid), owner
    return owner == uid


def memory(pid):
    """(mapping, bytes) of each mapping of pid that a core dump holds (coredump_filter's
    default: private and anonymous memory, the heap, the stacks): not the files mapped, not
    the capture's ring (a shared mapping of the packet socket), not the sanitizer's shadow
    (terabytes reserved, mostly never written), not the kernel's vDSO pages."""
    with open("/proc/%d/maps" % pid) as fh:
        maps = fh.read().splitlines()
    with open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for m in maps:
            f = m.split(None, 5)
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            path = f[5] if len(f) > 5 else ""
            if "r" not in f[1] or (path and path not in ("[heap]", "[stack]")) or \
                    hi - lo > 1 << 30:
                continue
            try:
                mem.seek(lo)
                yield m, mem.read(hi - lo)
            except OSError:
                continue


def ring(pid):
    """The bytes of the capture's ring (the mapping of the packet socket)."""
    with open("/proc/%d/maps" % pid) as fh:
        maps = [m for m in fh.read().splitlines() if m.split(None, 5)[5:] and
                m.split(None, 5)[5].startswith("socket:")]
    out = b""
    with open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for m in maps:
            lo, hi = (int(x, 16) for x in m.split()[0].split("-"))
            mem.seek(lo)
            out += mem.read(hi - lo)
    return out


def count_in_memory(pid, needles):
    """{needle: [(mapping, offset), ...]} over memory(pid)."""
    found = {n: [] for n in needles}
    for m, data in memory(pid):
        for n in needles:
            at = data.find(n)
            while at >= 0:
                found[n].append((m, at))
                at = data.find(n, at + 1)
    return found


# --- captures --------------------------------------------------------------------------------

def moved_port(src, dst, old, new):
    """src with TCP port old turned into new (untagged Ethernet, IPv4), written to dst: a mail
    server on a port that is not a mail port, which nDPI is asked about. Checksums are left
    as they were (neither the veth pair nor postcard checks them)."""
    header, pkts = C.read_pcap(src)
    for p in pkts:
        b = p[2]
        if len(b) >= 34 and b[12:14] == b"\x08\x00" and b[23] == 6:
            tcp = 14 + (b[14] & 0x0F) * 4
            for at in (tcp, tcp + 2):
                if struct.unpack_from(">H", b, at)[0] == old:
                    struct.pack_into(">H", b, at, new)
    C.write_pcap(dst, header, pkts)
    return dst


def cleartext_logins(records):
    return [r for r in records if r["event_type"] == "alert" and
            r["alert"]["category"] == "cleartext-login"]


def offline_records(pcap):
    st, out, err = C.run(["-r", pcap, "-q"])
    assert st == 0, err
    return [json.loads(l) for l in out.splitlines()]


# --- privileges --------------------------------------------------------------------------------

def test_root_with_u_runs_as_nobody_without_capabilities_and_still_reports():
    """postcard -i as root with -u nobody -g nogroup, the Redis output on (its two threads):
    once it listens, every thread is nobody:nogroup with no capability in any set, the
    bounding set emptied too, no_new_privs; a login in clear replayed on the link is an alert
    in the -w file and in Redis; the -w file postcard created belongs to nobody."""
    need_root()
    need_live("tcpreplay", "redis-server")
    d = tempfile.mkdtemp(dir=TMP)
    out = os.path.join(d, "out.json")
    spool = os.path.join(dir_for_nobody(), "spool")
    with PrivateLink() as link, R.RedisServer() as rs:
        args = ["-i", link.cap, "--immediate-mode", "-w", out, "-u", "nobody", "-g", "nogroup",
                "--redis", rs.url(), "--redis-key", "pc:priv", "--redis-spool", spool]
        with Postcard(args, stdin=None) as pc:
            pc.wait_stderr("listening on " + link.cap)
            assert "running as user nobody (uid %d), group nogroup (gid %d)" % (
                NOBODY, NOGROUP) in pc.stderr(), pc.stderr()
            n = check_no_privilege(pc.pid, NOBODY, NOGROUP, bounding_empty=True)
            assert n >= 3, "%d threads: the Redis output's two are missing" % n
            tail = Tail(out)
            tcpreplay(link.send, os.path.join(PCAPS, "imap-plain.pcap"), "--topspeed")
            C.wait_for(lambda: cleartext_logins([r for _, r in tail.of_type("alert")]),
                       "the cleartext-login alert in %s" % out)
            C.wait_for(lambda: R.stream(rs.client(), "pc:priv"), "the alert in Redis")
            check_no_privilege(pc.pid, NOBODY, NOGROUP, bounding_empty=True)
            tail.close()
            pc.signal(signal.SIGINT)
            st, _, err = pc.finish(timeout=C.WAIT)
    assert st == 0, err
    assert os.stat(out).st_uid == NOBODY and os.stat(out).st_gid == NOGROUP


def test_cap_net_raw_alone_is_given_up_once_the_capture_is_open():
    """nobody with CAP_NET_RAW (ambient, as systemd's AmbientCapabilities gives it): the
    capture opens (nobody without it cannot: checked first), then "listening on" is said, by
    which time no thread holds a capability; the bounding set postcard may not empty
    (no CAP_SETPCAP) is left, no_new_privs keeps it from mattering. A login replayed is still
    reported."""
    need_root()
    need_live("tcpreplay")
    d = dir_for_nobody()
    out = os.path.join(d, "out.json")
    with PrivateLink() as link:
        with Postcard(["-i", link.cap, "-w", out] + NR, stdin=None, prefix=SETPRIV_NOBODY) as pc:
            st, _, err = pc.finish(timeout=C.WAIT)
        assert st == 1 and "permission denied" in err, (st, err)
        with Postcard(["-i", link.cap, "--immediate-mode", "-w", out] + NR, stdin=None,
                      prefix=SETPRIV_NET_RAW) as pc:
            pc.wait_stderr("listening on " + link.cap)
            check_no_privilege(pc.pid, NOBODY, NOGROUP, bounding_empty=False)
            tail = Tail(out)
            tcpreplay(link.send, os.path.join(PCAPS, "imap-plain.pcap"), "--topspeed")
            C.wait_for(lambda: cleartext_logins([r for _, r in tail.of_type("alert")]),
                       "the cleartext-login alert in %s" % out)
            tail.close()
            pc.signal(signal.SIGINT)
            st, _, err = pc.finish(timeout=C.WAIT)
    assert st == 0, err


def test_a_drop_that_cannot_be_done_stops_postcard_before_any_packet():
    """No such user, root asked for, and a user change the process may not make (nobody with
    CAP_NET_RAW asking for -u daemon: setgroups needs CAP_SETGID): one line saying so, status 1,
    no "listening on", and not one record in the -w file (a run that read a packet writes
    at least its stats record). The unknown user is found before anything is opened."""
    need_root()
    need_live()
    d = dir_for_nobody()
    with PrivateLink() as link:
        cases = [
            ([], ["-u", "no-such-user-pc"], "postcard: -u no-such-user-pc: no such user\n"),
            ([], ["-u", "root"],
             "postcard: -u root: that is root; give an unprivileged user (docs/security.md)\n"),
            (SETPRIV_NET_RAW, ["-u", "daemon"] + NR,
             "postcard: -u daemon: cannot set the supplementary groups (setgroups): "
             "Operation not permitted\n"),
        ]
        for i, (prefix, extra, line) in enumerate(cases):
            out = os.path.join(d, "out-%d.json" % i)
            with Postcard(["-i", link.cap, "-w", out] + extra, stdin=None, prefix=prefix) as pc:
                st, _, err = pc.finish(timeout=C.WAIT)
            assert st == 1, (extra, st, err)
            assert err == line, (extra, err)
            assert not os.path.exists(out) or os.path.getsize(out) == 0, (extra, out)
            if prefix == []:
                assert not os.path.exists(out), "%s: the -w file was opened" % extra


def test_files_opened_later_work_as_the_new_user_or_are_refused_at_start():
    """-u nobody: the -w file moved away and SIGHUP: a new file, made by nobody, gets the
    next records; --summary FILE in a directory nobody may write is rewritten there at each
    interval; in one it may not, postcard stops at start saying so (before reading); the Redis
    spool likewise (a spool directory nobody cannot write, or segments a run as root left)."""
    need_root()
    d = dir_for_nobody()
    out, summary = os.path.join(d, "out.json"), os.path.join(d, "summary.json")
    chunks = C.pcap_chunks(PCAP, 2)
    with Postcard(["-r", "-", "-w", out, "-u", "nobody", "--summary", summary,
                   "--summary-interval", "1", "--no-rules"]) as pc:
        pc.feed(chunks[0])
        pc.wait_stdin_drained()
        os.rename(out, out + ".1")
        pc.signal(signal.SIGHUP)  # handled before the next packet is (docs/cli.md)
        pc.feed(chunks[1])
        pc.wait_stdin_drained()
        assert os.path.exists(out), "%s not reopened on SIGHUP" % out
        st, _, err = pc.finish()
    assert st == 0, err
    assert os.stat(out).st_uid == NOBODY and os.path.getsize(out) > 0, os.stat(out)
    with open(summary) as fh:
        assert json.load(fh)["totals"]["sessions"] == 1
    assert os.stat(summary).st_uid == NOBODY

    root_only = tempfile.mkdtemp(dir=TMP)  # 0700 root
    st, so, err = C.run(["-r", os.path.join(PCAPS, "imap-plain.pcap"), "-u", "nobody",
                         "--summary", os.path.join(root_only, "s.json")])
    assert st == 1 and so == "", (st, err)
    assert "-u nobody: --summary %s/s.json.tmp: Permission denied (the directory must be " \
           "writable by nobody)" % root_only in err, err

    spool = os.path.join(root_only, "spool")
    os.mkdir(spool, 0o700)
    st, so, err = C.run(["-r", os.path.join(PCAPS, "imap-plain.pcap"), "-u", "nobody",
                         "--redis", "redis://127.0.0.1:1", "--redis-spool", spool])
    assert st == 1 and so == "", (st, err)
    assert "postcard: -u nobody: the Redis spool directory %s: Permission denied (it must be " \
           "writable by nobody)\n" % spool in err, err
    # a run as root left records in the spool (Redis away): its segments are root's
    st, so, err = C.run(["-r", os.path.join(PCAPS, "imap-plain.pcap"), "--redis",
                         "redis://127.0.0.1:1", "--redis-spool", spool])
    segs = sorted(f for f in os.listdir(spool) if f.endswith(".spool"))
    assert st == 1 and segs, (st, err, segs)
    os.chown(spool, NOBODY, NOGROUP)
    os.chmod(root_only, 0o755)
    st, so, err = C.run(["-r", os.path.join(PCAPS, "imap-plain.pcap"), "-u", "nobody",
                         "--redis", "redis://127.0.0.1:1", "--redis-spool", spool])
    assert st == 1 and so == "", (st, err)
    assert "the Redis spool file %s/%s: Permission denied (chown the spool to nobody)" % (
        spool, segs[0]) in err, err


def test_redis_unix_socket_must_be_reachable_by_the_user():
    """-u nobody with Redis on a Unix socket: one nobody may not open (unixsocketperm 700,
    root's) stops postcard at start, since a reconnect, made as nobody, would fail; one it
    may (777) is used, and after Redis dropped postcard's connection (CLIENT KILL) the
    reconnect, as nobody, delivers the records that follow."""
    need_root()
    d = tempfile.mkdtemp(dir=TMP)
    os.chmod(d, 0o755)
    sock = os.path.join(d, "redis.sock")
    spool = os.path.join(dir_for_nobody(), "spool")
    args = ["-u", "nobody", "--redis", "unix://" + sock, "--redis-spool", spool,
            "--redis-key", "pc:unix", "-w", os.path.join(dir_for_nobody(), "out.json")]
    with R.RedisServer("--unixsocket", sock, "--unixsocketperm", "700"):
        st, so, err = C.run(["-r", os.path.join(PCAPS, "imap-plain.pcap")] + args)
    assert st == 1 and so == "", (st, err)
    assert "postcard: -u nobody: the Redis socket %s: Permission denied (a reconnect as " \
           "nobody would fail: docs/security.md)\n" % sock in err, err
    with R.RedisServer("--unixsocket", sock, "--unixsocketperm", "777") as rs:
        with Postcard(["-r", "-"] + args) as pc:
            pc.wait_stdin_drained()  # connected as root, now nobody
            c = rs.client()
            assert c.call("CLIENT", "KILL", "TYPE", "normal") >= 1
            pc.feed(PCAP)
            st, _, err = pc.finish()
        assert st == 0, err
        m = re.search(r"(\d+) reconnects", err)
        assert m and int(m.group(1)) >= 1, err
        got = [json.loads(r)["alert"]["category"] for _, r in R.stream(rs.client(), "pc:unix")
               if json.loads(r)["event_type"] == "alert"]
        assert "cleartext-login" in got, got


# --- core dumps --------------------------------------------------------------------------------

def test_core_dumps_off_by_default_and_allowed_on_request():
    """postcard waiting on a pipe (everything opened), started as nobody with RLIMIT_CORE at
    1234 bytes (prlimit), and as root with -u nobody: by default not dumpable and RLIMIT_CORE
    0; with --allow-core-dumps dumpable (also after the change of user, which makes the
    kernel reset the flag) and the limit it was given. (ASan turns core dumps off itself
    unless told not to: the sanitizer build is told.)"""
    need_root("prlimit")
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":disable_coredump=0"
    limit = ["prlimit", "--core=1234:unlimited"]
    for prefix, extra in ((limit + SETPRIV_NOBODY, []), (limit, ["-u", "nobody"])):
        for allow in (False, True):
            args = ["-r", "-", "-w", "/dev/null"] + NR + extra + (["--allow-core-dumps"] if allow
                                                              else [])
            with Postcard(args, prefix=prefix, env=env) as pc:
                pc.wait_stdin_drained()
                is_dumpable, lim = dumpable(pc.pid, NOBODY), core_limit(pc.pid)
                pc.feed(PCAP)
                st, _, err = pc.finish()
            what = "%s %s" % (" ".join(prefix[2:3]), " ".join(extra + args[4:]))
            assert st == 0, (what, err)
            assert is_dumpable == allow, "%s: dumpable %s" % (what, is_dumpable)
            assert lim == (["1234", "unlimited"] if allow else ["0", "0"]), (what, lim)


# --- the Redis password -------------------------------------------------------------------------

def redis_password_copies(pid):
    """Where RPW is in the memory of pid, less one copy the sanitizer runtime makes (only in
    the sanitizer build): it reads /proc/self/environ into memory of its own before main
    runs, where postcard cannot wipe it (its `POSTCARD_REDIS_PASSWORD=` copy; a release build
    has none, as the same test run with BUILD=build shows)."""
    found = count_in_memory(pid, [RPW.encode(), b"POSTCARD_REDIS_PASSWORD=" + RPW.encode()])
    by_san = {(m, at + len(b"POSTCARD_REDIS_PASSWORD=")) for m, at in
              found[b"POSTCARD_REDIS_PASSWORD=" + RPW.encode()]}
    assert not by_san or "san" in C.BUILD, "an environment copy in a release build: %s" % by_san
    return [w for w in found[RPW.encode()] if w not in by_san or "[" in w[0]]

def test_redis_password_never_on_the_command_line_and_kept_once():
    """The password of a redis-server with requirepass given in the URL, in a file (0600) and
    in POSTCARD_REDIS_PASSWORD: once postcard waits on its pipe (connected, authenticated),
    /proc/PID/cmdline and /proc/PID/environ do not hold it (the URL's is overwritten with
    'x's), its memory holds it exactly once (the copy kept for reconnects); the records fed
    then reach Redis. A wrong one is refused at start (status 1), without being quoted."""
    need_root()
    d = tempfile.mkdtemp(dir=TMP)
    pwfile = os.path.join(d, "redis.pw")
    with open(pwfile, "w") as fh:
        fh.write(RPW + "\n")
    os.chmod(pwfile, 0o600)
    with R.RedisServer(password=RPW) as rs:
        ways = [("url", [rs.url(":%s@" % RPW)], None),
                ("file", [rs.url(), "--redis-password-file", pwfile], None),
                ("env", [rs.url()], RPW)]
        for name, redis, env_pw in ways:
            env = dict(os.environ)
            if env_pw is not None:
                env["POSTCARD_REDIS_PASSWORD"] = env_pw
            key = "pc:pw:" + name
            args = ["-r", "-", "-w", os.path.join(d, name + ".json"), "--redis-key", key,
                    "--redis"] + redis
            with Postcard(args, env=env) as pc:
                pc.wait_stdin_drained()
                with open("/proc/%d/cmdline" % pc.pid, "rb") as fh:
                    cmdline = fh.read()
                with open("/proc/%d/environ" % pc.pid, "rb") as fh:
                    environ = fh.read()
                found = redis_password_copies(pc.pid)
                pc.feed(PCAP)
                st, _, err = pc.finish()
            assert st == 0, (name, err)
            assert RPW.encode() not in cmdline, (name, cmdline)
            assert RPW.encode() not in environ, name
            if name == "url":
                assert b"redis://:" + b"x" * len(RPW) + b"@127.0.0.1" in cmdline, cmdline
            assert len(found) == 1, "%s: the password %d times in memory: %s" % (
                name, len(found), found)
            assert len(R.stream(rs.client(), key)) >= 1, name
        st, _, err = C.run(["-r", os.path.join(PCAPS, "imap-plain.pcap"), "--redis",
                            rs.url(":pc-wrong-pw@")])
        assert st == 1 and "authentication refused" in err and "pc-wrong-pw" not in err, err


def test_redis_password_given_twice_or_badly_is_refused():
    """In the URL and in the environment, in a file and in the environment: one line, status
    1, nothing opened; a password file others can read: refused."""
    d = tempfile.mkdtemp(dir=TMP)
    pwfile = os.path.join(d, "redis.pw")
    with open(pwfile, "w") as fh:
        fh.write(RPW + "\n")
    os.chmod(pwfile, 0o644)
    env = dict(os.environ, POSTCARD_REDIS_PASSWORD=RPW)
    pcap = os.path.join(PCAPS, "imap-plain.pcap")
    cases = [
        (["--redis", "redis://:other@127.0.0.1:1"], env,
         "postcard: redis: the password is given twice, in the URL and by "
         "--redis-password-file or POSTCARD_REDIS_PASSWORD: give it once\n"),
        (["--redis", "redis://127.0.0.1:1", "--redis-password-file", pwfile], env,
         "postcard: the Redis password is given twice, by --redis-password-file and by "
         "POSTCARD_REDIS_PASSWORD: give it once\n"),
        (["--redis", "redis://127.0.0.1:1", "--redis-password-file", pwfile], None,
         "postcard: --redis-password-file %s: other users can read or write it (mode 644): "
         "chmod 600 it\n" % pwfile),
    ]
    for extra, e, line in cases:
        p = subprocess.run([C.BIN, "-r", pcap, "-w", os.path.join(d, "o.json")] + extra,
                           capture_output=True, env=e, timeout=C.WAIT)
        err = p.stderr.decode()
        C.check_sanitizers(err, extra)
        assert p.returncode == 1 and err == line, (extra, p.returncode, err)
        assert RPW not in err and "other@" not in err


# --- captured passwords in the sensor's memory ------------------------------------------------------

SECRET_CAPTURES = ("imap-plain.pcap", "pop3-plain.pcap", "smtp-auth-mechs.pcap",
                   "pop3-auth-mechs.pcap", "imap-login-forms.pcap")


def test_captured_passwords_are_not_in_the_sensors_memory():
    """The captures whose logins carry the README's test passwords in clear (plain and
    base64 in SASL), and imap-plain.pcap moved to port 1143 (a port where nDPI is asked,
    and nDPI 4.2 copies the credentials it sees), replayed on a live link to postcard
    running as it would on a sensor (-u nobody, Redis on with its password): once every
    cleartext login is an alert (the sessions still open), and again once every flow has
    ended, no form of any of those passwords is in the memory a core dump would hold, and
    the Redis password is there once. They are in the capture's ring (which a core dump
    leaves out): the scan finds what is there to find."""
    need_root()
    need_live("tcpreplay", "redis-server")
    d = tempfile.mkdtemp(dir=TMP)
    caps = [os.path.join(PCAPS, p) for p in SECRET_CAPTURES]
    caps.append(moved_port(caps[0], os.path.join(d, "imap-1143.pcap"), 143, 1143))
    secrets = [s for s, readable in C.readme_secrets().items() if readable]
    C.check_on_the_wire(secrets, caps)
    forms = sorted({f for s in secrets for f in C.wire_forms(s)})
    offline = [offline_records(p) for p in caps]
    want_alerts = sum(len(cleartext_logins(r)) for r in offline)
    want_flows = sum(len([x for x in r if x["event_type"] == "flow"]) for r in offline)
    assert want_alerts >= len(caps), want_alerts
    out = os.path.join(d, "out.json")
    pwfile = os.path.join(d, "redis.pw")
    with open(pwfile, "w") as fh:
        fh.write(RPW)
    os.chmod(pwfile, 0o600)
    with PrivateLink() as link, R.RedisServer(password=RPW) as rs:
        args = ["-i", link.cap, "--immediate-mode", "-w", out, "-u", "nobody",
                "--redis", rs.url(), "--redis-password-file", pwfile,
                "--redis-spool", os.path.join(dir_for_nobody(), "spool"),
                "--flow-timeout", "closed=1,open=600", "--max-flows", "1000"]
        with Postcard(args, stdin=None) as pc:
            pc.wait_stderr("listening on " + link.cap)
            tail = Tail(out)
            for p in caps:
                tcpreplay(link.send, p, "--topspeed")
            C.wait_for(lambda: len(cleartext_logins([r for _, r in tail.poll()])) >= want_alerts,
                       "%d cleartext-login alerts" % want_alerts)
            during = count_in_memory(pc.pid, forms)
            pw_during = redis_password_copies(pc.pid)
            in_ring = [f for f in forms if f in ring(pc.pid)]
            C.wait_for(lambda: len(tail.of_type("flow")) >= want_flows,
                       "%d flow records" % want_flows)
            after = count_in_memory(pc.pid, forms)
            pw_after = redis_password_copies(pc.pid)
            tail.close()
            pc.signal(signal.SIGINT)
            st, _, err = pc.finish(timeout=C.WAIT)
    assert st == 0, err
    for when, found, pw in (("with the sessions open", during, pw_during),
                            ("after they ended", after, pw_after)):
        leaks = {f: where[:3] for f, where in found.items() if where}
        assert not leaks, "captured passwords in the sensor's memory %s: %s" % (when, leaks)
        assert len(pw) == 1, "the Redis password %s: %s" % (when, pw)
    assert in_ring, "no password found even in the capture's ring: the scan finds nothing"


if __name__ == "__main__":
    atexit.register(shutil.rmtree, TMP, True)
    atexit.register(shutil.rmtree, R.TMP, True)
    raise SystemExit(run_suite(globals()))
