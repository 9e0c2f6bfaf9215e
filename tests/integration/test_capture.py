#!/usr/bin/env python3
"""postcard integration tests: live capture on the loopback interface, and stopping a
capture with SIGINT or SIGTERM: what was captured is analysed, flushed and summarised.
"""
import os
import signal
import socket
import sys

from common import PCAPS, Postcard, Skip, flows, run_suite


def test_live_capture_on_loopback_and_sigint():
    """A session on lo while postcard listens: its flow is reported after SIGINT.

    "listening on lo" is printed once the capture is active, so the session starts after it;
    the packets of the session are in the kernel's buffer once the sockets' calls returned,
    and a stopped live capture first analyses what the kernel already captured: no wait is
    needed between the session and SIGINT."""
    if os.geteuid() != 0:
        raise Skip("live capture needs root")
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    pc = Postcard(["-i", "lo", "--immediate-mode", "tcp", "port", str(port)], stdin=None)
    try:
        pc.wait_stderr("listening on lo")
        c = socket.create_connection(("127.0.0.1", port))
        s, _ = srv.accept()
        s.sendall(b"220 mail.example ESMTP postcard-test\r\n")
        c.recv(100)
        c.sendall(b"QUIT\r\n")
        s.recv(100)
        s.sendall(b"221 bye\r\n")
        c.recv(100)
        c.close()
        s.close()
        pc.signal(signal.SIGINT)
        st, out, err = pc.finish(timeout=30)
    finally:
        pc.close()
        srv.close()
    assert st == 0, (st, err)
    assert "listening on lo" in err and "kernel:" in err and "dropped" in err, err
    fl = flows(out)
    assert len(fl) == 1 and fl[0]["app_proto"] == "smtp" and fl[0]["dest_port"] == port, fl


def test_sigterm_stops_cleanly_and_flushes():
    """SIGTERM once the whole capture was read (the pipe stays open): the open flow is
    flushed, the summary printed, status 0."""
    with open(os.path.join(PCAPS, "pop3-plain.pcap"), "rb") as fh:
        data = fh.read()
    with Postcard(["-r", "-"]) as pc:
        pc.feed(data)
        pc.wait_stdin_drained()
        pc.signal(signal.SIGTERM)
        st, out, err = pc.finish(timeout=30)
    assert st == 0, (st, err)
    assert "postcard summary" in err
    assert len(flows(out)) == 1

if __name__ == "__main__":
    sys.exit(run_suite(globals()))
