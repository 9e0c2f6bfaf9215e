#!/usr/bin/env python3
"""Print postcard's JSON records as a short table (used by `make demo`)."""
import json
import sys


def main(path):
    n = 0
    with open(path) as fh:
        for line in fh:
            r = json.loads(line)
            n += 1
            if r.get("event_type") == "mail":
                m = r["mail"]
                logins = ", ".join("%s %s%s (%s)" % (l["mechanism"], l.get("user", "-"),
                                   " IN CLEAR" if l["cleartext"] else "", l["result"])
                                   for l in m["logins"]) or "no login"
                print("MAIL  %-5s %s:%d  starttls=%s  %s  %d message(s) in clear" % (
                    r["app_proto"], r["dest_ip"], r["dest_port"], m["starttls"], logins,
                    m["cleartext_messages"]))
                continue
            if r.get("event_type") == "tls":
                t = r["tls"]
                certs = t.get("certs") or []
                bad = [k for c in certs for k in ("expired", "not_yet_valid", "self_signed",
                                                  "weak_key", "weak_signature", "name_mismatch")
                       if c.get(k)]
                print("TLS   %s:%d  %s %s%s%s" % (
                    r["dest_ip"], r["dest_port"], t.get("version") or "(no ServerHello)",
                    t.get("cipher") or "",
                    (" weak: " + ",".join(t["cipher_weaknesses"])) if t.get("cipher_weaknesses") else "",
                    (" certificate: " + ",".join(sorted(set(bad)))) if bad else ""))
                continue
            if r.get("event_type") == "alert":
                a = r["alert"]
                print("ALERT %-6s %-24s %s:%d  %s (sid %d)" % (
                    a.get("severity_name", a["severity"]), a["category"], r["dest_ip"],
                    r["dest_port"], a["signature"], a["signature_id"]))
                continue
            if r.get("event_type") != "flow":
                continue
            fl = r["flow"]
            print("%-5s %-22s -> %-22s %-6s %4d/%-4d pkts %7d/%-7d bytes %s" % (
                r["proto"], "%s:%d" % (r["src_ip"], r["src_port"]),
                "%s:%d" % (r["dest_ip"], r["dest_port"]), r["app_proto"],
                fl["pkts_toserver"], fl["pkts_toclient"], fl["bytes_toserver"],
                fl["bytes_toclient"], "(bypassed)" if fl.get("bypassed") else ""))
    print("%d records" % n)


if __name__ == "__main__":
    main(sys.argv[1])
