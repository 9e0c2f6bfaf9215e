#!/usr/bin/env bash
# make-pcaps.sh - regenerate the test captures in pcaps/ from real traffic.
#
# Builds two network namespaces joined by veth pairs, runs real servers from
# Debian packages inside them (postfix, dovecot, python3 http.server), drives
# them with real clients (swaks, python3 smtplib/poplib/imaplib and raw
# sockets from pcaps/mail-sessions.py, curl, ping, openssl s_client) and
# records the traffic with tcpdump.  Next to every capture it writes
# <stem>.verdicts.json, the ground truth of its mail sessions (what the
# clients did and what the servers answered), checked against the capture.
# The tls-*.pcap captures (TLS versions, weak cipher suites, certificate
# cases from a private test CA, alerts, STARTTLS, stunnel) also get
# <stem>.tls.json, one TLS verdict per session, checked the same way (tshark
# for the handshake, openssl x509/verify/dgst for each certificate on the wire).
#
# All traffic stays inside the two namespaces this script creates
# (10.77.x.x / fd77::/64 on the veths, nothing routed anywhere else) or on
# their loopback.  No default route is ever added; the host's interfaces are
# never touched.  Everything (namespaces, processes, temp dirs, policy-rc.d)
# is removed again on exit, also on failure.
#
# Usage (as root):  bash pcaps/make-pcaps.sh        (or: make pcaps)
# Env: PCAP_OUT=DIR  write captures there instead of the script's directory
#      KEEP_WORK=1   do not delete the temp dir (logs, configs) on exit
#      PCAP_ONLY=tls make only the tls-*.pcap captures (phase 5)
set -euo pipefail

if [[ $EUID -ne 0 ]]; then
    echo "make-pcaps.sh: must run as root (network namespaces, tcpdump, servers)" >&2
    exit 1
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${PCAP_OUT:-$HERE}
PY=/usr/bin/python3          # Debian's python3, not whatever is first on PATH
export LC_ALL=C
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

NS_C=postcard-cli            # client namespace
NS_S=postcard-srv            # server namespace
IF_C=pcv-c                   # veth end in the client namespace
IF_S=pcv-s                   # veth end in the server namespace
WIRE_C=pcw-c                 # second veth pair: the VLAN trunk
WIRE_S=pcw-s
C4=10.77.0.1  S4=10.77.0.2
C6=fd77::1    S6=fd77::2
DOMAIN=postcard.test

# Test accounts (KNOWN test passwords; listed in pcaps/README.md).
#   alice - POP3/IMAP logins in clear text (and some SMTP AUTH forms)
#   bob   - SMTP AUTH in clear text (PLAIN on 587, LOGIN in demo.pcapng, ...)
#   carol - logins that only ever happen inside TLS
#   dave  - POP3 USER/PASS + dot-stuffed message, IMAP AUTHENTICATE LOGIN
# BADPASS is a wrong password sent on purpose (failed logins), TOKEN a made-up
# OAuth bearer token (SMTP AUTH XOAUTH2); both are secrets on the wire too.
USERS=(alice bob carol dave)
declare -A PASS=([alice]=postcard-secret-1 [bob]=postcard-secret-2 [carol]=postcard-secret-3
                 [dave]=postcard-secret-4)
BADPASS=postcard-secret-6
TOKEN=postcard-token-5
MS=$HERE/mail-sessions.py    # client sessions, strip relay, verdicts (python3)

log() { printf '[make-pcaps %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
nsc() { ip netns exec "$NS_C" "$@"; }
nss() { ip netns exec "$NS_S" "$@"; }

WORK=""
POLICY=/usr/sbin/policy-rc.d
POLICY_STATE=none            # none | created | replaced
declare -a BG_PIDS=()
CAP_PID=""
SRV_PID=""                   # openssl s_server of a tls-* capture

# ---------------------------------------------------------------- cleanup --
ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qxF "$1"; }
ns_kill_all() {              # kill every process still inside namespace $1
    local ns=$1 pids
    ns_exists "$ns" || return 0
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [[ -n $pids ]] || return 0
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 1 30); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [[ -z $pids ]] && return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.2
}

restore_policy() {
    case $POLICY_STATE in
        created)  rm -f "$POLICY" ;;
        replaced) mv -f "$WORK/policy-rc.d.orig" "$POLICY" ;;
    esac
    POLICY_STATE=none
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    [[ -n $CAP_PID ]] && kill -INT "$CAP_PID" 2>/dev/null
    if [[ -n $WORK && -d $WORK ]]; then
        [[ -f $WORK/postfix/etc/main.cf ]] && postfix -c "$WORK/postfix/etc" stop >/dev/null 2>&1
        [[ -f $WORK/dovecot/dovecot.conf ]] && dovecot -c "$WORK/dovecot/dovecot.conf" stop >/dev/null 2>&1
    fi
    for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    [[ -n $SRV_PID ]] && kill -TERM "$SRV_PID" 2>/dev/null
    sleep 0.3
    ns_kill_all "$NS_C"
    ns_kill_all "$NS_S"
    ip netns del "$NS_C" 2>/dev/null
    ip netns del "$NS_S" 2>/dev/null
    restore_policy
    if [[ -n $WORK && -d $WORK ]]; then
        if [[ ${KEEP_WORK:-0} == 1 || $rc -ne 0 ]]; then
            # on failure show the tail of the server logs, then clean up
            if [[ ${KEEP_WORK:-0} == 1 ]]; then
                log "work dir kept: $WORK"
            else
                log "failed (rc=$rc); logs:"
                for f in "$WORK"/postfix/postfix.log "$WORK"/dovecot/dovecot.log "$WORK"/*.err; do
                    [[ -s $f ]] && { echo "== $f" >&2; tail -n 15 "$f" >&2; }
                done
                rm -rf "$WORK"
            fi
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --------------------------------------------------------------- packages --
PKGS=(postfix dovecot-imapd dovecot-pop3d swaks curl openssl stunnel4 tcpdump
      iproute2 python3 iputils-ping ethtool tshark
      libnet-ssleay-perl libio-socket-ssl-perl libio-socket-inet6-perl
      gnutls-bin ca-certificates)

install_packages() {
    local missing=() p
    for p in "${PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    log "installing: ${missing[*]}"
    # Keep package maintainer scripts from starting host-wide services.
    if [[ -e $POLICY ]]; then
        cp -p "$POLICY" "$WORK/policy-rc.d.orig"
        POLICY_STATE=replaced
    else
        POLICY_STATE=created
    fi
    printf '#!/bin/sh\n# temporary, written by postcard pcaps/make-pcaps.sh\nexit 101\n' > "$POLICY"
    chmod 755 "$POLICY"
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -q --no-install-recommends "${missing[@]}" > "$WORK/apt.log" 2>&1 \
        || { tail -n 20 "$WORK/apt.log" >&2; die "apt-get install failed"; }
    restore_policy
}

# ---------------------------------------------------------------- network --
setup_netns() {
    log "creating namespaces $NS_C / $NS_S"
    ip netns add "$NS_C"
    ip netns add "$NS_S"
    for ns in "$NS_C" "$NS_S"; do
        ip -n "$ns" link set lo up
        # keep IPv6 quiet on new links unless asked for (no RS / DAD noise)
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_ra=0
    done
    # Create the veth pair directly inside the namespaces (never in the host ns).
    ip -n "$NS_C" link add "$IF_C" address 02:77:00:00:00:01 type veth \
        peer name "$IF_S" netns "$NS_S" address 02:77:00:00:00:02
    ip -n "$NS_C" addr add "$C4/24" dev "$IF_C"
    ip -n "$NS_S" addr add "$S4/24" dev "$IF_S"
    ip -n "$NS_C" addr add "$C6/64" dev "$IF_C" nodad
    ip -n "$NS_S" addr add "$S6/64" dev "$IF_S" nodad
    # Software checksums and no segmentation offload, so captures hold
    # wire-sized frames with valid checksums.
    nsc ethtool -K "$IF_C" tx off tso off gso off gro off >/dev/null 2>&1 || true
    nss ethtool -K "$IF_S" tx off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "$NS_C" link set "$IF_C" up
    ip -n "$NS_S" link set "$IF_S" up

    # VLAN trunk: a second veth pair with no addresses; tagged frames are put
    # on it by a small relay between it and a TAP device per VLAN (see
    # vlan_relay), because this kernel has no 802.1Q module.
    ip -n "$NS_C" link add "$WIRE_C" address 02:77:00:00:01:01 mtu 1600 type veth \
        peer name "$WIRE_S" netns "$NS_S" address 02:77:00:00:01:02 mtu 1600
    for pair in "$NS_C:$WIRE_C" "$NS_S:$WIRE_S"; do
        ns=${pair%%:*}; dev=${pair#*:}
        ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
        ip netns exec "$ns" ethtool -K "$dev" tx off tso off gso off gro off >/dev/null 2>&1 || true
        ip -n "$ns" link set "$dev" up
    done
    # never a default route: only the connected /24 and /64 exist
    if ip -n "$NS_C" route show default | grep -q . || ip -n "$NS_S" route show default | grep -q .; then
        die "unexpected default route in a namespace"
    fi
    nsc ping -c1 -W2 "$S4" >/dev/null || die "veth IPv4 not working"
    nsc ping -6 -c1 -W2 "$S6" >/dev/null || die "veth IPv6 not working"
}

# ------------------------------------------------------------------ certs --
make_certs() {
    log "making self-signed certificate"
    mkdir -p "$WORK/certs"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
        -subj "/O=postcard test/CN=mail.$DOMAIN" \
        -addext "subjectAltName=DNS:mail.$DOMAIN,IP:$S4,IP:$S6" \
        -keyout "$WORK/certs/server.key" -out "$WORK/certs/server.crt" 2>/dev/null
    openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$WORK/certs/dh.pem" 2>/dev/null
    chmod 644 "$WORK/certs/server.crt" "$WORK/certs/dh.pem"
    chmod 600 "$WORK/certs/server.key"
}

# ------------------------------------------------------------------- pki ---
# A private test CA (its own root, never put into any trust store) and the
# certificates of the tls-*.pcap captures, made with "openssl ca".  Every
# leaf is for mail.postcard.test (CN and SAN DNS) unless its case says
# otherwise.  Each NAME.crt gets NAME.json, the facts it was made with;
# mail-sessions.py builds the expected "certs" of the TLS verdicts from those
# and checks them against the certificates tshark finds on the wire.
PKI=""
declare -A PKI_CN=()
make_pki() {
    log "making the private test CA and its certificates"
    PKI=$WORK/pki
    mkdir -p "$PKI/db"
    : > "$PKI/db/index.txt"
    echo 1000 > "$PKI/db/serial"
    cat > "$PKI/ca.cnf" <<CNF
# generated by postcard pcaps/make-pcaps.sh: a minimal "openssl ca" setup
[ ca ]
default_ca = pc
[ pc ]
dir = $PKI/db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
unique_subject = no
policy = pol
copy_extensions = none
email_in_dn = no
[ pol ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ leaf_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:\${ENV::PC_SAN}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
    local now day=86400 start
    now=$(date -u +%s)
    start=$((now - day))     # a day back: no clock skew makes a "valid" cert not valid yet
    #        NAME       KEY     SIGNER MD     NOT BEFORE NOT AFTER             CN                              EXTENSIONS
    pki_sign ca         rsa2048 self   sha256 "$start"   $((now + 3650 * day)) "Postcard Test CA"              ca_ext
    pki_sign inter      rsa2048 ca     sha256 "$start"   $((now + 1825 * day)) "Postcard Test Intermediate CA" ca_ext
    pki_sign good       rsa2048 ca     sha256 "$start"   $((now + 365 * day))  "mail.$DOMAIN"                  leaf_ext
    # 2020-01-01 .. 2021-01-01 and 2040-01-01 .. 2041-01-01 (00:00:00 UTC)
    pki_sign expired    rsa2048 ca     sha256 1577836800 1609459200            "mail.$DOMAIN"                  leaf_ext
    pki_sign notyet     rsa2048 ca     sha256 2208988800 2240611200            "mail.$DOMAIN"                  leaf_ext
    pki_sign selfsigned rsa2048 self   sha256 "$start"   $((now + 365 * day))  "mail.$DOMAIN"                  leaf_ext
    pki_sign rsa1024    rsa1024 ca     sha256 "$start"   $((now + 365 * day))  "mail.$DOMAIN"                  leaf_ext
    pki_sign sha1       rsa2048 ca     sha1   "$start"   $((now + 365 * day))  "mail.$DOMAIN"                  leaf_ext
    pki_sign wrongname  rsa2048 ca     sha256 "$start"   $((now + 365 * day))  "other.example"                 leaf_ext
    pki_sign longvalid  rsa2048 ca     sha256 "$start"   $((now + 824 * day))  "mail.$DOMAIN"                  leaf_ext
    pki_sign ec256      p256    ca     sha256 "$start"   $((now + 365 * day))  "mail.$DOMAIN"                  leaf_ext
    pki_sign chainleaf  rsa2048 inter  sha256 "$start"   $((now + 365 * day))  "mail.$DOMAIN"                  leaf_ext
    cat "$PKI/inter.crt" "$PKI/ca.crt" > "$PKI/chain.pem"     # sent after chainleaf
    chmod 644 "$PKI"/*.crt "$PKI"/*.json "$PKI/chain.pem"
    chmod 600 "$PKI"/*.key
}

# pki_sign NAME KEY SIGNER MD NOT_BEFORE NOT_AFTER CN EXT  (times in epoch seconds)
#   KEY: rsa1024 | rsa2048 | p256; SIGNER: a NAME signed before, or "self"
pki_sign() {
    local name=$1 key=$2 signer=$3 md=$4 nb=$5 na=$6 cn=$7 ext=$8 kt bits san="" issuer
    local -a signargs
    case $key in
        rsa*) kt=RSA bits=${key#rsa}
              openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" -out "$PKI/$name.key" 2>/dev/null ;;
        p256) kt=EC bits=256
              openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$name.key" 2>/dev/null ;;
        *) die "pki_sign: unknown key type $key" ;;
    esac
    if [[ $signer == self ]]; then
        signargs=(-selfsign -keyfile "$PKI/$name.key")
        issuer=$cn
    else
        signargs=(-cert "$PKI/$signer.crt" -keyfile "$PKI/$signer.key")
        issuer=${PKI_CN[$signer]}
    fi
    PC_SAN=$cn openssl req -new -config "$PKI/ca.cnf" -key "$PKI/$name.key" -subj "/CN=$cn" \
        -out "$PKI/$name.csr" 2>>"$PKI/ca.err" || { cat "$PKI/ca.err" >&2; die "openssl req $name failed"; }
    PC_SAN=$cn openssl ca -batch -config "$PKI/ca.cnf" "${signargs[@]}" -md "$md" \
        -startdate "$(date -u -d "@$nb" +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d "@$na" +%Y%m%d%H%M%SZ)" \
        -extensions "$ext" -in "$PKI/$name.csr" -out "$PKI/$name.crt" -notext 2>>"$PKI/ca.err" \
        || { cat "$PKI/ca.err" >&2; die "openssl ca $name failed"; }
    PKI_CN[$name]=$cn
    [[ $ext == leaf_ext ]] && san="\"$cn\""
    printf '{"subject": "CN=%s", "issuer": "CN=%s", "key_type": "%s", "key_bits": %d, "sig_hash": "%s", "not_before": %d, "not_after": %d, "san": [%s], "self_signed": %s}\n' \
        "$cn" "$issuer" "$kt" "$bits" "$md" "$nb" "$na" "$san" \
        "$([[ $signer == self ]] && echo true || echo false)" > "$PKI/$name.json"
}

# ------------------------------------------------------------------ mail ---
make_mailboxes() {
    local u d
    for u in "${USERS[@]}"; do
        d=$WORK/mail/$u/Maildir
        mkdir -p "$d/new" "$d/cur" "$d/tmp"
        cat > "$d/new/1700000000.M1P1.mail.$DOMAIN" <<EOF
Return-Path: <postmaster@$DOMAIN>
Received: from client.$DOMAIN (client.$DOMAIN [$C4])
	by mail.$DOMAIN (Postfix) with ESMTP id 4A1B2C3D4E
	for <$u@$DOMAIN>; Tue, 14 Nov 2023 22:13:20 +0000 (UTC)
From: Postmaster <postmaster@$DOMAIN>
To: $u <$u@$DOMAIN>
Subject: postcard test message for $u
Date: Tue, 14 Nov 2023 22:13:20 +0000
Message-ID: <welcome-$u@$DOMAIN>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello $u,

this message sits in the test mailbox so that POP3 RETR and IMAP FETCH
have something to transfer.  It was written by pcaps/make-pcaps.sh.

-- 
postcard test generator
EOF
        # dave's message has lines that start with "." (dot-stuffed in POP3)
        if [[ $u == dave ]]; then cat >> "$d/new/1700000000.M1P1.mail.$DOMAIN" <<'EOF'

The next three lines start with a dot. POP3 sends each of them with one
more dot in front (dot-stuffing); IMAP sends them unchanged:
.
..two dots
.hidden line
end of message
EOF
        fi
    done
    chown -R 65534:65534 "$WORK/mail"
}

# ---------------------------------------------------------------- dovecot --
# dovecot_conf MODE
#   plain  ssl=no                 (no STARTTLS/STLS; answers them with BAD/-ERR)
#   tls    ssl=yes, TLS 1.0 allowed, plaintext auth allowed without TLS
#   mechs  like tls, plus CRAM-MD5, APOP (timestamp in the POP3 greeting) and
#          XOAUTH2 (no oauth2 passdb: a bearer token is checked as a password)
#   ldis   like tls, but disable_plaintext_auth=yes (IMAP LOGINDISABLED)
dovecot_conf() {
    local mode=$1 d=$WORK/dovecot mechs="plain login" dpa=no
    [[ $mode == mechs ]] && mechs="plain login cram-md5 apop xoauth2"
    [[ $mode == ldis ]] && dpa=yes
    mkdir -p "$d/run" "$d/state"
    : > "$d/passwd"
    for u in "${USERS[@]}"; do echo "$u:{PLAIN}${PASS[$u]}::::::" >> "$d/passwd"; done
    chmod 640 "$d/passwd"; chgrp dovecot "$d/passwd"
    {
        cat <<EOF
# generated by postcard pcaps/make-pcaps.sh (mode: $mode)
instance_name = postcard-pcaps
protocols = imap pop3
listen = *, ::
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
info_log_path = $d/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
disable_plaintext_auth = $dpa
auth_mechanisms = $mechs
login_greeting = Dovecot ready.
# failed logins are made on purpose: answer them at once, and no
# per-IP auth penalty (it would slow down every later login)
auth_failure_delay = 0
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $d/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$WORK/mail/%n
}
service auth {
  unix_listener $d/auth-postfix {
    mode = 0666
  }
}
EOF
        if [[ $mode == plain ]]; then
            cat <<EOF
ssl = no
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 0
  }
}
EOF
        else
            cat <<EOF
ssl = yes
ssl_cert = <$WORK/certs/server.crt
ssl_key = <$WORK/certs/server.key
ssl_dh = <$WORK/certs/dh.pem
# allow old protocol versions/ciphers so tls-weak.pcap can show them
ssl_min_protocol = TLSv1
ssl_cipher_list = ALL:@SECLEVEL=0
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}
EOF
        fi
    } > "$d/dovecot.conf"
}

dovecot_start() {
    log "dovecot start ($1)"
    dovecot_conf "$1"
    # own UTS namespace: dovecot puts the host name into its APOP and CRAM-MD5
    # challenges; make that mail.postcard.test instead of this machine's name
    # shellcheck disable=SC2016
    nss unshare --uts sh -c 'hostname "mail.$1" && exec dovecot -c "$2"' sh "$DOMAIN" \
        "$WORK/dovecot/dovecot.conf"
    wait_port "$NS_S" 143
    wait_port "$NS_S" 110
    [[ $1 != plain ]] && { wait_port "$NS_S" 993; wait_port "$NS_S" 995; }
    for _ in $(seq 1 50); do [[ -S $WORK/dovecot/auth-postfix ]] && break; sleep 0.1; done
}

dovecot_stop() {
    local pidf=$WORK/dovecot/run/master.pid pid
    [[ -f $pidf ]] || return 0
    pid=$(cat "$pidf")
    dovecot -c "$WORK/dovecot/dovecot.conf" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && die "dovecot did not stop"
    rm -f "$pidf"
}

# ---------------------------------------------------------------- postfix --
# postfix_conf MODE
#   plain  no STARTTLS
#   tls    STARTTLS offered (self-signed cert), plus implicit TLS on 465
#   strip  like tls, but smtpd listens on 127.0.0.1:10025 instead of *:25, so
#          that the STARTTLS-stripping relay can take 10.77.0.2:25
#   notls  smtpd_tls_security_level=may with no usable certificate: STARTTLS
#          is advertised, but answered "454 4.7.0 TLS not available ..."
#   tls12  STARTTLS with the private CA's leaf (pki "good"), TLS 1.0 .. 1.2
#          only (tls-alert.pcap: a TLS 1.3-only client gets protocol_version)
postfix_conf() {
    local mode=$1 p=$WORK/postfix smtp_svc=25 cert=$WORK/certs/server.crt key=$WORK/certs/server.key
    [[ $mode == strip ]] && smtp_svc=127.0.0.1:10025
    if [[ $mode == notls ]]; then
        cert=$WORK/certs/missing.crt key=$WORK/certs/missing.key
    fi
    if [[ $mode == tls12 ]]; then
        cert=$PKI/good.crt key=$PKI/good.key
    fi
    mkdir -p "$p/etc" "$p/queue" "$p/data"
    chown postfix:postfix "$p/data"
    cat > "$p/etc/main.cf" <<EOF
# generated by postcard pcaps/make-pcaps.sh (mode: $mode)
compatibility_level = 3.6
queue_directory = $p/queue
data_directory = $p/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $p/postfix.log
maillog_file_prefixes = $WORK
myhostname = mail.$DOMAIN
mydomain = $DOMAIN
myorigin = \$mydomain
mydestination = \$mydomain, \$myhostname
inet_interfaces = all
inet_protocols = all
mynetworks = 127.0.0.0/8 10.77.0.0/16 [::1]/128 [fd77::]/64
smtpd_banner = \$myhostname ESMTP Postfix
biff = no
alias_maps =
alias_database =
local_recipient_maps =
local_transport = discard:
default_transport = discard:
relay_transport = discard:
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_sasl_type = dovecot
smtpd_sasl_path = $WORK/dovecot/auth-postfix
smtpd_sasl_auth_enable = no
smtpd_tls_auth_only = no
smtpd_tls_cert_file = $cert
smtpd_tls_key_file = $key
smtpd_tls_loglevel = 1
EOF
    if [[ $mode == plain ]]; then
        echo "smtpd_tls_security_level = none" >> "$p/etc/main.cf"
    else
        cat >> "$p/etc/main.cf" <<EOF
smtpd_tls_security_level = may
# allow TLS 1.0/1.1 (OpenSSL 3 needs security level 0 for them) for tls-weak.pcap
smtpd_tls_protocols = >=TLSv1$([[ $mode == tls12 ]] && echo ", <=TLSv1.2")
smtpd_tls_ciphers = medium
tls_medium_cipherlist = DEFAULT:@SECLEVEL=0
EOF
    fi
    {
        cat <<EOF
# generated by postcard pcaps/make-pcaps.sh (mode: $mode)
# service type  private unpriv  chroot  wakeup  maxproc command + args
$smtp_svc        inet  n       -       n       -       -       smtpd
2525      inet  n       -       n       -       -       smtpd
587       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=no
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
EOF
        [[ $mode == tls ]] && cat <<'EOF'
465       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
EOF
        cat <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    } > "$p/etc/master.cf"
}

postfix_start() {
    log "postfix start ($1)"
    postfix_conf "$1"
    nss postfix -c "$WORK/postfix/etc" start >> "$WORK/postfix.err" 2>&1 \
        || { cat "$WORK/postfix.err" >&2; die "postfix start failed"; }
    if [[ $1 == strip ]]; then wait_port "$NS_S" 10025; else wait_port "$NS_S" 25; fi
    wait_port "$NS_S" 587
    wait_port "$NS_S" 2525
    if [[ $1 == tls ]]; then wait_port "$NS_S" 465; fi
}

postfix_stop() {
    local pidf=$WORK/postfix/queue/pid/master.pid pid
    [[ -f $pidf ]] || return 0
    pid=$(tr -dc 0-9 < "$pidf")
    postfix -c "$WORK/postfix/etc" stop >> "$WORK/postfix.err" 2>&1 || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && die "postfix did not stop"
    return 0
}

# ---------------------------------------------------------------- helpers --
wait_port() {                # wait_port NS PORT [tcp|udp]
    local ns=$1 port=$2 proto=${3:-tcp} flag=-ltnH
    [[ $proto == udp ]] && flag=-lunH
    for _ in $(seq 1 100); do
        ip netns exec "$ns" ss "$flag" "sport = :$port" | grep -q . && return 0
        sleep 0.1
    done
    die "nothing listening on $proto/$port in $ns"
}

# cap_start NS IFACE NAME FILTER [extra tcpdump args...]
CAP_TLS=0                    # 1 while a tls-* capture runs: TLS verdicts too
cap_start() {
    local ns=$1 ifc=$2 name=$3 filter=$4
    shift 4
    CAP_FILE=$WORK/cap/$name
    CAP_ERR=$WORK/cap/$name.err
    mkdir -p "$WORK/cap"
    rm -f "$CAP_FILE"
    # every client session appends its verdict (one JSON object) here
    export PC_VERDICTS=$WORK/cap/${name%%.*}.verdicts.jsonl
    : > "$PC_VERDICTS"
    # and, in the tls-* captures (CAP_TLS=1), its TLS verdict here
    if [[ $CAP_TLS == 1 ]]; then
        export PC_TLS=$WORK/cap/${name%%.*}.tls.jsonl
        : > "$PC_TLS"
    else
        unset PC_TLS
    fi
    log "capture $name on $ns/$ifc: $filter"
    ip netns exec "$ns" tcpdump -i "$ifc" -U -n -s 0 -Z root "$@" -w "$CAP_FILE" "$filter" \
        2> "$CAP_ERR" &
    CAP_PID=$!
    for _ in $(seq 1 100); do
        grep -q 'listening on' "$CAP_ERR" 2>/dev/null && break
        kill -0 "$CAP_PID" 2>/dev/null || { cat "$CAP_ERR" >&2; die "tcpdump failed"; }
        sleep 0.1
    done
    grep -q 'listening on' "$CAP_ERR" || die "tcpdump not ready"
    sleep 0.5
}

cap_stop() {
    sleep 1
    kill -INT "$CAP_PID"
    wait "$CAP_PID" || true
    CAP_PID=""
    grep -q 'packets captured' "$CAP_ERR" || { cat "$CAP_ERR" >&2; die "tcpdump did not finish"; }
    install -m 644 "$CAP_FILE" "$OUT/$(basename "$CAP_FILE")"
    log "  -> $(basename "$CAP_FILE"): $(grep 'packets captured' "$CAP_ERR")"
    write_verdicts "$CAP_FILE"
    if [[ $CAP_TLS == 1 ]]; then write_tls_verdicts "$CAP_FILE"; fi
}

# write_tls_verdicts PCAP: check the TLS verdicts the sessions wrote against the
# capture (tshark, openssl) and write them to $OUT/<stem>.tls.json
write_tls_verdicts() {
    local stem
    stem=$(basename "$1"); stem=${stem%%.*}
    "$PY" "$MS" finalize-tls "$1" "$WORK/cap/$stem.tls.jsonl" "$OUT/$stem.tls.json" \
        || die "TLS verdicts for $stem do not match the capture"
    chmod 644 "$OUT/$stem.tls.json"
    log "  -> $stem.tls.json: $(grep -c '"server"' "$OUT/$stem.tls.json") TLS session(s)"
}

# write_verdicts PCAP: check the verdicts the clients wrote against the capture
# (tshark) and write them to $OUT/<stem>.verdicts.json
write_verdicts() {
    local stem
    stem=$(basename "$1"); stem=${stem%%.*}
    "$PY" "$MS" finalize "$1" "$WORK/cap/$stem.verdicts.jsonl" "$OUT/$stem.verdicts.json" \
        || die "verdicts for $stem do not match the capture"
    chmod 644 "$OUT/$stem.verdicts.json"
    log "  -> $stem.verdicts.json: $(grep -c '"proto"' "$OUT/$stem.verdicts.json") mail session(s)"
}

# ms NS ARGS...: run pcaps/mail-sessions.py in namespace NS
ms() {
    local ns=$1
    shift
    ip netns exec "$ns" "$PY" "$MS" "$@"
}

start_bg() {                 # start_bg NS CMD...: run CMD inside NS in the background
    local ns=$1              # (ip netns exec execs CMD, so $! is CMD's own pid)
    shift
    ip netns exec "$ns" "$@" &
    BG_PIDS+=($!)
}

stop_bg() {
    local p
    for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    BG_PIDS=()
}

# swaks_send NS SERVER [PORT] [swaks args...]  -- one message, quiet; its
# verdict comes from the transcript.  SWAKS_STRIPPED=1: the session goes
# through the STARTTLS-stripping relay.
MSG_NO=0
SWAKS_STRIPPED=0
swaks_send() {
    local ns=$1 server=$2 port=${3:-25} user="" a prev=""
    shift 3 || shift $#
    for a in "$@"; do [[ $prev == --auth-user ]] && user=$a; prev=$a; done
    ip netns exec "$ns" swaks --server "$server" --port "$port" \
        --helo "client.$DOMAIN" --from "postmaster@$DOMAIN" --to "alice@$DOMAIN" \
        --header "Subject: postcard test via port $port" \
        --header "Message-Id: <swaks-$((++MSG_NO)).$port@client.$DOMAIN>" \
        --body "Test message generated by pcaps/make-pcaps.sh." \
        --timeout 10 "$@" > "$WORK/swaks.last" 2>&1 \
        || { cat "$WORK/swaks.last" >&2; die "swaks to $server:$port failed"; }
    grep -Eq '^<[-~] +250 2\.0\.0 Ok: queued' "$WORK/swaks.last" \
        || { cat "$WORK/swaks.last" >&2; die "message to $server:$port not queued"; }
    cp "$WORK/swaks.last" "$WORK/swaks.$MSG_NO"
    "$PY" "$MS" swaks-verdict "$WORK/swaks.last" "$server" "$port" "$user" \
        "$([[ $SWAKS_STRIPPED == 1 ]] && echo stripped)" >/dev/null
}

# ------------------------------------------------------------ python bits --
write_helpers() {
    mkdir -p "$WORK/py" "$WORK/www"
    printf '<html><head><title>postcard</title></head><body><p>not mail</p></body></html>\n' \
        > "$WORK/www/index.html"

    # UDP echo server: echoes every datagram back (frag tests, udp noise)
    cat > "$WORK/py/udp_echo.py" <<'EOF'
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
EOF

    # UDP client: send COUNT datagrams of SIZE bytes, wait for each echo
    cat > "$WORK/py/udp_send.py" <<'EOF'
import socket, sys
host, port, size, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(5)
for i in range(count):
    line = b"postcard udp datagram %d " % i
    payload = (line * (size // len(line) + 1))[:size]
    s.sendto(payload, (host, port))
    data, _ = s.recvfrom(65535)
    assert data == payload, (len(data), len(payload))
print("ok", count, "x", size)
EOF

    # VLAN relay: moves frames between TAP devices (one per VLAN, untagged)
    # and a veth "trunk", pushing 802.1Q / 802.1ad tags on the way out and
    # popping them on the way in.  Plays the part of a switch trunk port,
    # needed because the kernel has no 8021q module (no vlan links).
    cat > "$WORK/py/vlan_relay.py" <<'EOF'
import fcntl, os, select, socket, struct, sys
TUNSETIFF, IFF_TAP, IFF_NO_PI = 0x400454ca, 0x0002, 0x1000
ETH_P_ALL, SOL_PACKET, PACKET_AUXDATA = 0x0003, 263, 8
TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID = 0x10, 0x40
PACKET_OUTGOING = 4
wire = sys.argv[1]
# each further arg: tapname=TAGS, TAGS = "8100:100" or "88a8:200,8100:300"
taps = {}
for spec in sys.argv[2:]:
    name, tags = spec.split("=")
    tags = tuple((int(t, 16), int(v)) for t, v in (x.split(":") for x in tags.split(",")))
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    taps[fd] = tags
by_tags = {v: k for k, v in taps.items()}
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
s.bind((wire, 0))
s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
print("ready", flush=True)
while True:
    r, _, _ = select.select([s] + list(taps), [], [])
    for fd in r:
        if fd is s:
            data, anc, _, addr = s.recvmsg(65536, socket.CMSG_SPACE(20))
            if addr[2] == PACKET_OUTGOING:
                continue
            for lvl, typ, cd in anc:
                if lvl == SOL_PACKET and typ == PACKET_AUXDATA and len(cd) >= 20:
                    st, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", cd[:20])
                    if st & TP_STATUS_VLAN_VALID:
                        if not st & TP_STATUS_VLAN_TPID_VALID:
                            tpid = 0x8100
                        data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
            tags, off = [], 12
            while len(data) >= off + 4:
                tpid, tci = struct.unpack("!HH", data[off:off + 4])
                if tpid not in (0x8100, 0x88a8):
                    break
                tags.append((tpid, tci & 0xfff))
                off += 4
            fd_out = by_tags.get(tuple(tags))
            if fd_out is not None:
                os.write(fd_out, data[:12] + data[off:])
        else:
            frame = os.read(fd, 65536)
            hdr = b"".join(struct.pack("!HH", t, v) for t, v in taps[fd])
            s.send(frame[:12] + hdr + frame[12:])
EOF
}

# --------------------------------------------------------------- captures --
cap_smtp_plain() {
    cap_start "$NS_S" "$IF_S" smtp-plain.pcap "tcp port 25 or tcp port 587"
    swaks_send "$NS_C" "$S4" 25
    swaks_send "$NS_C" "$S4" 587 --auth PLAIN --auth-user bob --auth-password "${PASS[bob]}" \
        --from "bob@$DOMAIN"
    grep -Eq '^<[-~] +235 ' "$WORK/swaks.last" || die "SMTP AUTH PLAIN failed"
    cap_stop
}

cap_pop3_imap_plain() {
    cap_start "$NS_S" "$IF_S" pop3-plain.pcap "tcp port 110"
    nsc "$PY" "$MS" pop3-basic "$S4" alice "${PASS[alice]}" plain >/dev/null
    cap_stop
    cap_start "$NS_S" "$IF_S" imap-plain.pcap "tcp port 143"
    nsc "$PY" "$MS" imap-basic "$S4" alice "${PASS[alice]}" plain
    cap_stop
}

cap_mixed() {
    start_bg "$NS_S" "$PY" -m http.server 8080 --bind "$S4" --directory "$WORK/www" \
        >"$WORK/http.err" 2>&1
    start_bg "$NS_S" "$PY" "$WORK/py/udp_echo.py" "$S4" 9999
    wait_port "$NS_S" 8080
    wait_port "$NS_S" 9999 udp
    cap_start "$NS_S" "$IF_S" mixed-nonmail.pcap \
        "tcp port 8080 or udp port 9999 or icmp or tcp port 2525"
    nsc curl -sS --noproxy '*' -o /dev/null "http://$S4:8080/index.html"
    nsc "$PY" "$WORK/py/udp_send.py" "$S4" 9999 64 3 >/dev/null
    nsc ping -c 2 -i 0.2 -W 2 "$S4" >/dev/null
    swaks_send "$NS_C" "$S4" 2525
    nsc curl -sS --noproxy '*' -o /dev/null "http://$S4:8080/"
    cap_stop
    stop_bg
}

cap_frag() {
    start_bg "$NS_S" "$PY" "$WORK/py/udp_echo.py" "$S4" 9000
    start_bg "$NS_S" "$PY" "$WORK/py/udp_echo.py" "$S6" 9000
    wait_port "$NS_S" 9000 udp
    cap_start "$NS_S" "$IF_S" frag-ipv4.pcap \
        "ip and (udp port 9000 or icmp or (ip[6:2] & 0x3fff != 0))"
    nsc "$PY" "$WORK/py/udp_send.py" "$S4" 9000 4000 2 >/dev/null
    nsc ping -c 1 -s 3000 -W 2 "$S4" >/dev/null
    cap_stop
    cap_start "$NS_S" "$IF_S" frag-ipv6.pcap \
        "ip6 and (ip6[6] == 44 or udp port 9000 or icmp6)"
    nsc "$PY" "$WORK/py/udp_send.py" "$S6" 9000 4000 2 >/dev/null
    nsc ping -6 -c 1 -s 3000 -W 2 "$S6" >/dev/null
    cap_stop
    stop_bg
}

cap_vlan() {
    # TAP devices (persistent, so they can be configured before the relay
    # attaches): VLAN 100 single-tagged, VLAN 200/300 double-tagged (QinQ).
    local ns side
    for side in c s; do
        if [[ $side == c ]]; then ns=$NS_C; else ns=$NS_S; fi
        for v in 100 300; do
            ip -n "$ns" tuntap add dev "tap$side$v" mode tap
            ip netns exec "$ns" sysctl -qw "net.ipv6.conf.tap$side$v.disable_ipv6=1"
            ip -n "$ns" link set "tap$side$v" address "02:77:00:0$((v / 100)):00:0$([[ $side == c ]] && echo 1 || echo 2)"
            ip -n "$ns" link set "tap$side$v" up
        done
    done
    ip -n "$NS_C" addr add 10.77.100.1/24 dev tapc100
    ip -n "$NS_S" addr add 10.77.100.2/24 dev taps100
    ip -n "$NS_C" addr add 10.77.200.1/24 dev tapc300
    ip -n "$NS_S" addr add 10.77.200.2/24 dev taps300
    : > "$WORK/relay-c.out"; : > "$WORK/relay-s.out"
    start_bg "$NS_C" "$PY" -u "$WORK/py/vlan_relay.py" "$WIRE_C" tapc100=8100:100 tapc300=88a8:200,8100:300 \
        >"$WORK/relay-c.out" 2>"$WORK/relay-c.err"
    start_bg "$NS_S" "$PY" -u "$WORK/py/vlan_relay.py" "$WIRE_S" taps100=8100:100 taps300=88a8:200,8100:300 \
        >"$WORK/relay-s.out" 2>"$WORK/relay-s.err"
    for _ in $(seq 1 50); do
        grep -q ready "$WORK/relay-c.out" && grep -q ready "$WORK/relay-s.out" && break
        sleep 0.1
    done
    grep -q ready "$WORK/relay-c.out" && grep -q ready "$WORK/relay-s.out" \
        || { cat "$WORK"/relay-*.err >&2; die "vlan relay not ready"; }
    # no filter: only the tagged traffic of the two TAPs crosses this veth
    cap_start "$NS_S" "$WIRE_S" vlan-qinq.pcap ""
    swaks_send "$NS_C" 10.77.100.2 25
    swaks_send "$NS_C" 10.77.200.2 25
    cap_stop
    stop_bg
    for v in 100 300; do
        ip -n "$NS_C" link del "tapc$v" 2>/dev/null || true
        ip -n "$NS_S" link del "taps$v" 2>/dev/null || true
    done
}

cap_sll() {
    # LINUX_SLL2 is what tcpdump 4.99 writes for "any" anyway; be explicit
    cap_start "$NS_C" any sll-any.pcap "tcp port 25" -y LINUX_SLL2
    swaks_send "$NS_C" "$S4" 25
    cap_stop
    cap_start "$NS_C" any sll-v1.pcap "tcp port 25" -y LINUX_SLL
    swaks_send "$NS_C" "$S4" 25
    cap_stop
}

cap_smtp_ipv6() {
    cap_start "$NS_S" "$IF_S" smtp-ipv6.pcap "ip6 and tcp port 25"
    swaks_send "$NS_C" "$S6" 25 -6
    cap_stop
}

cap_smtp_starttls() {
    cap_start "$NS_S" "$IF_S" smtp-starttls.pcap "tcp port 25"
    swaks_send "$NS_C" "$S4" 25 --tls
    grep -q 'TLS started' "$WORK/swaks.last" || die "swaks STARTTLS did not start TLS"
    cap_stop
}

cap_imaps_pop3s() {
    cap_start "$NS_S" "$IF_S" imaps-pop3s.pcap "tcp port 993 or tcp port 995"
    nsc "$PY" "$MS" imap-basic "$S4" carol "${PASS[carol]}" ssl
    nsc "$PY" "$MS" pop3-basic "$S4" carol "${PASS[carol]}" ssl >/dev/null
    cap_stop
}

cap_imap_starttls() {
    cap_start "$NS_S" "$IF_S" imap-starttls.pcap "tcp port 143"
    nsc "$PY" "$MS" imap-basic "$S4" carol "${PASS[carol]}" starttls
    cap_stop
}

cap_tls_weak() {
    # Old protocol versions a sensor should flag: IMAPS with TLS 1.0 and a
    # static-RSA CBC suite, and SMTP STARTTLS with TLS 1.1.
    cap_start "$NS_S" "$IF_S" tls-weak.pcap "tcp port 993 or tcp port 25"
    printf 'a1 LOGOUT\r\n' | nsc timeout 10 openssl s_client -connect "$S4:993" -tls1 \
        -cipher 'AES128-SHA:@SECLEVEL=0' -ign_eof > "$WORK/sclient1.out" 2>&1 || true
    grep -q 'Protocol  *: TLSv1$' "$WORK/sclient1.out" || { cat "$WORK/sclient1.out" >&2; die "TLS 1.0 to IMAPS failed"; }
    printf 'EHLO client.%s\r\nQUIT\r\n' "$DOMAIN" | nsc timeout 10 openssl s_client -connect "$S4:25" \
        -starttls smtp -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -ign_eof > "$WORK/sclient2.out" 2>&1 || true
    grep -q 'Protocol  *: TLSv1.1$' "$WORK/sclient2.out" || { cat "$WORK/sclient2.out" >&2; die "TLS 1.1 STARTTLS failed"; }
    "$PY" "$MS" note imap "$S4" 993 implicit
    "$PY" "$MS" note smtp "$S4" 25 upgraded 220
    cap_stop
}

cap_demo() {
    start_bg "$NS_S" "$PY" -m http.server 8080 --bind "$S4" --directory "$WORK/www" \
        >"$WORK/http.err" 2>&1
    wait_port "$NS_S" 8080
    cap_start "$NS_S" "$IF_S" demo.pcap \
        "tcp port 110 or tcp port 143 or tcp port 587 or tcp port 993 or tcp port 8080"
    nsc "$PY" "$MS" pop3-basic "$S4" alice "${PASS[alice]}" plain >/dev/null
    nsc "$PY" "$MS" imap-basic "$S4" carol "${PASS[carol]}" starttls
    swaks_send "$NS_C" "$S4" 587 --auth LOGIN --auth-user bob --auth-password "${PASS[bob]}" \
        --from "bob@$DOMAIN"
    grep -Eq '^<[-~] +235 ' "$WORK/swaks.last" || die "SMTP AUTH LOGIN failed"
    nsc "$PY" "$MS" imap-basic "$S4" carol "${PASS[carol]}" ssl
    nsc curl -sS --noproxy '*' -o /dev/null "http://$S4:8080/index.html"
    cap_stop
    stop_bg
    rm -f "$OUT/demo.pcap"
    editcap -F pcapng --capture-comment \
        "postcard test capture: POP3 login in clear, IMAP STARTTLS, SMTP AUTH LOGIN in clear on 587, IMAPS, HTTP. Generated by pcaps/make-pcaps.sh." \
        "$WORK/cap/demo.pcap" "$WORK/cap/demo.pcapng"
    install -m 644 "$WORK/cap/demo.pcapng" "$OUT/demo.pcapng"
    log "  -> demo.pcapng"
}

# ------------------------------------------ STARTTLS / login form captures --
# Client sessions from mail-sessions.py write their verdicts themselves; their
# output (server replies worth seeing) goes to $WORK/sessions.log.
cap_smtp_pipelining_bdat() {          # postfix plain
    cap_start "$NS_S" "$IF_S" smtp-pipelining-bdat.pcap "tcp port 25"
    swaks_send "$NS_C" "$S4" 25 --pipeline
    grep -q 'PIPELINING' "$WORK/swaks.last" || die "postfix did not offer PIPELINING"
    ms "$NS_C" smtp-bdat "$S4" >> "$WORK/sessions.log"
    cap_stop
}

cap_stls_refused() {                  # dovecot plain (ssl=no)
    cap_start "$NS_S" "$IF_S" imap-starttls-refused.pcap "tcp port 143"
    ms "$NS_C" imap-starttls-refused "$S4" >> "$WORK/sessions.log"
    cap_stop
    cap_start "$NS_S" "$IF_S" pop3-stls-refused.pcap "tcp port 110"
    ms "$NS_C" pop3-stls-refused "$S4" >> "$WORK/sessions.log"
    cap_stop
}

cap_smtp_offered_unused() {           # postfix tls
    cap_start "$NS_S" "$IF_S" smtp-offered-unused.pcap "tcp port 25"
    swaks_send "$NS_C" "$S4" 25
    grep -q '^<-  250-STARTTLS' "$WORK/swaks.last" || die "STARTTLS not offered"
    cap_stop
}

cap_smtp_starttls_failed() {          # postfix tls
    cap_start "$NS_S" "$IF_S" smtp-starttls-failed.pcap "tcp port 25"
    ms "$NS_C" smtp-starttls-failed "$S4" >> "$WORK/sessions.log"
    cap_stop
}

cap_smtps_465() {                     # postfix tls: implicit TLS, AUTH inside it
    cap_start "$NS_S" "$IF_S" smtps-465.pcap "tcp port 465"
    swaks_send "$NS_C" "$S4" 465 --tls-on-connect --auth PLAIN --auth-user carol \
        --auth-password "${PASS[carol]}" --from "carol@$DOMAIN"
    grep -Eq '^<~ +235 ' "$WORK/swaks.last" || die "AUTH on 465 failed"
    cap_stop
}

cap_pop3_stls() {                     # dovecot tls
    cap_start "$NS_S" "$IF_S" pop3-stls.pcap "tcp port 110"
    ms "$NS_C" pop3-stls "$S4" >> "$WORK/sessions.log"
    cap_stop
}

# Three sessions to 10.77.0.2:25.  1: straight to postfix (tls mode), which
# offers STARTTLS; swaks --tls upgrades.  Then postfix moves to
# 127.0.0.1:10025 (strip mode) and a relay takes 10.77.0.2:25.  2: the relay
# turns "250-STARTTLS" into "250-XXXXXXXA"; 3: it drops the line.  swaks
# --tls-optional (opportunistic TLS) finds no STARTTLS and goes on in clear.
# Leaves postfix running in strip mode.
cap_smtp_stripped() {
    cap_start "$NS_S" "$IF_S" smtp-stripped.pcap "tcp port 25"
    swaks_send "$NS_C" "$S4" 25 --tls
    grep -q 'TLS started' "$WORK/swaks.last" || die "swaks STARTTLS did not start TLS"
    postfix_stop
    postfix_start strip
    : > "$WORK/relay.out"
    start_bg "$NS_S" "$PY" -u "$MS" relay "$S4" 25 127.0.0.1 10025 rewrite,remove \
        >"$WORK/relay.out" 2>"$WORK/relay.err"
    for _ in $(seq 1 50); do grep -q ready "$WORK/relay.out" && break; sleep 0.1; done
    grep -q ready "$WORK/relay.out" || { cat "$WORK/relay.err" >&2; die "strip relay not ready"; }
    SWAKS_STRIPPED=1
    swaks_send "$NS_C" "$S4" 25 --tls-optional
    grep -q '^<-  250-XXXXXXXA' "$WORK/swaks.last" || die "relay did not rewrite STARTTLS"
    swaks_send "$NS_C" "$S4" 25 --tls-optional
    SWAKS_STRIPPED=0
    grep -q '^<- .*\(STARTTLS\|XXXXXXXA\)' "$WORK/swaks.last" && die "relay did not remove STARTTLS"
    cap_stop
    stop_bg
}

cap_smtp_auth_mechs() {               # dovecot mechs, postfix strip (587 offers STARTTLS)
    cap_start "$NS_S" "$IF_S" smtp-auth-mechs.pcap "tcp port 587"
    ms "$NS_C" smtp-auth-mechs "$S4" >> "$WORK/sessions.log"
    cap_stop
}

cap_pop3_auth_mechs() {               # dovecot mechs
    cap_start "$NS_S" "$IF_S" pop3-auth-mechs.pcap "tcp port 110"
    ms "$NS_C" pop3-auth-mechs "$S4" >> "$WORK/sessions.log"
    cap_stop
}

cap_imap_login_forms() {              # dovecot mechs
    cap_start "$NS_S" "$IF_S" imap-login-forms.pcap "tcp port 143"
    ms "$NS_C" imap-login-forms "$S4" >> "$WORK/sessions.log"
    cap_stop
}

cap_imap_logindisabled() {            # dovecot ldis
    cap_start "$NS_S" "$IF_S" imap-logindisabled.pcap "tcp port 143"
    ms "$NS_C" imap-logindisabled "$S4" >> "$WORK/sessions.log"
    cap_stop
}

cap_smtp_starttls_refused() {         # postfix notls
    cap_start "$NS_S" "$IF_S" smtp-starttls-refused.pcap "tcp port 25"
    ms "$NS_C" smtp-starttls-refused "$S4" >> "$WORK/sessions.log"
    grep -q '^STARTTLS -> 454 ' "$WORK/sessions.log" || die "postfix did not answer STARTTLS with 454"
    cap_stop
}

# ----------------------------------------------------------- TLS captures --
# The tls-* captures.  Each TLS session gets a mail verdict (as everywhere)
# and a TLS verdict: "mail-sessions.py tls-note" with what the script set up
# (version, client's highest version, cipher suite, SNI, alert, the
# certificates the server sends), cross-checked with the client's own report
# where there is one; cap_stop then checks it against the capture.
#
# Implicit TLS on 10.77.0.2:993 mostly comes from "openssl s_server", one
# connection per server, and "openssl s_client".  The stdin of each is a FIFO
# that the script writes the IMAP lines into (fd 9: the server's, fd 8: the
# client's); both send what they read there to the peer.  Each session is:
# handshake, "* OK" greeting, the client's "a1 LOGOUT", "* BYE" and "a1 OK"
# from the server, then EOF on the client's stdin: s_client closes with a
# close_notify alert (s_server, at EOF on its stdin, would close the socket
# without one, and the client would answer that with a fatal decode_error).
SNI=mail.$DOMAIN
SYSTEM_CA=/etc/ssl/certs/ca-certificates.crt
TLS_NO=0

ossl_cert() { echo "-cert $PKI/$1.crt -key $PKI/$1.key"; }   # s_server args for pki cert NAME

# sserver_start ARGS...: openssl s_server for one connection on $S4:993
sserver_start() {
    local fifo=$WORK/tls/srv.in
    mkdir -p "$WORK/tls"
    rm -f "$fifo"
    mkfifo "$fifo"
    : > "$WORK/tls/srv.out"
    ip netns exec "$NS_S" openssl s_server -accept "$S4:993" -naccept 1 "$@" \
        < "$fifo" > "$WORK/tls/srv.out" 2>&1 &
    SRV_PID=$!
    exec 9> "$fifo"          # the FIFO opens once both ends are there
    for _ in $(seq 1 100); do
        nss ss -ltnH "sport = :993" | grep -q . && return 0
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$WORK/tls/srv.out" >&2
    die "openssl s_server $* did not start"
}

# sserver_session OUT CLIENT_ARGS...: one session with openssl s_client
# against the s_server of sserver_start; the client's output goes to OUT
sserver_session() {
    local out=$1 fifo=$WORK/tls/cli.in cpid
    shift
    rm -f "$fifo"
    mkfifo "$fifo"
    printf '* OK [CAPABILITY IMAP4rev1] postcard TLS test server ready\r\n' >&9
    # the client must not hold the server's FIFO open (9>&-)
    ip netns exec "$NS_C" timeout 20 openssl s_client -connect "$S4:993" "$@" \
        < "$fifo" > "$out" 2>&1 9>&- &
    cpid=$!
    exec 8> "$fifo"
    printf 'a1 LOGOUT\r\n' >&8      # s_client reads it once the handshake is done
    for _ in $(seq 1 200); do        # until the server has the LOGOUT, or is gone
        grep -q 'a1 LOGOUT' "$WORK/tls/srv.out" && break
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.05
    done
    ( printf '* BYE postcard TLS test server logging out\r\na1 OK LOGOUT completed\r\n' >&9 ) \
        2>/dev/null || true
    for _ in $(seq 1 200); do        # until the client has the answer, or is gone
        grep -q '^a1 OK LOGOUT' "$out" && break
        kill -0 "$cpid" 2>/dev/null || break
        sleep 0.05
    done
    exec 8>&-                        # EOF: the client sends close_notify and closes
    wait "$cpid" || true
    exec 9>&-
    wait "$SRV_PID" || true
    SRV_PID=""
}

# imaps_case "SERVER ARGS" "CLIENT ARGS" VERSION CLIENT_MAX CIPHER ALERT COMPLETE CERTS
#   one session that completes: s_server with SERVER ARGS, s_client with
#   CLIENT ARGS and SNI; the rest is its expected TLS verdict (tls-note)
imaps_case() {
    local out=$WORK/tls/client.$((++TLS_NO))
    # shellcheck disable=SC2086
    sserver_start $1
    # shellcheck disable=SC2086
    sserver_session "$out" $2 -servername "$SNI"
    grep -q '^a1 OK LOGOUT' "$out" || { cat "$out" >&2; die "TLS session ${TLS_NO} ($2) failed"; }
    "$PY" "$MS" note imap "$S4" 993 implicit
    "$PY" "$MS" tls-note server="$S4:993" proto=- version="$3" max="$4" cipher="$5" sni="$SNI" \
        alert="$6" complete="$7" certs="$8" openssl="$out"
}

# gnutls_case GNUTLS_CIPHER: gnutls-serv (echo) and gnutls-cli on 993, TLS 1.2,
# static RSA key exchange.  OpenSSL 3 here has no 3DES or RC4 suites left
# (built without weak-ssl-ciphers); GnuTLS 3.7 still has both, when asked.
gnutls_case() {
    local out=$WORK/tls/client.$((++TLS_NO))
    local prio="NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+$1:-KX-ALL:+RSA:-MAC-ALL:+SHA1"
    mkdir -p "$WORK/tls"
    start_bg "$NS_S" gnutls-serv --echo --port 993 --x509certfile "$PKI/good.crt" \
        --x509keyfile "$PKI/good.key" --priority "$prio" > "$WORK/tls/gnutls-serv.out" 2>&1
    wait_port "$NS_S" 993
    { printf 'a1 LOGOUT\r\n'; sleep 0.5; } | nsc timeout 20 gnutls-cli --port 993 --insecure \
        --sni-hostname "$SNI" --priority "$prio" "$S4" > "$out" 2>&1 || true
    stop_bg
    grep -q '^a1 LOGOUT' "$out" || { cat "$out" >&2; die "GnuTLS session with $1 failed"; }
    "$PY" "$MS" note imap "$S4" 993 implicit
    "$PY" "$MS" tls-note server="$S4:993" proto=- version=TLSv1.2 max=TLSv1.2 cipher="$2" \
        sni="$SNI" alert=- complete=1 certs=good gnutls="$out"
}

cap_tls_versions() {                 # openssl s_server, private CA leaf
    local sec="-cipher DEFAULT:@SECLEVEL=0" srv
    srv="$(ossl_cert good) $sec -min_protocol TLSv1"
    CAP_TLS=1
    cap_start "$NS_S" "$IF_S" tls-versions.pcap "tcp port 993"
    imaps_case "$srv" "-tls1 $sec"   TLSv1.0 TLSv1.0 auto - 1 good
    imaps_case "$srv" "-tls1_1 $sec" TLSv1.1 TLSv1.1 auto - 1 good
    imaps_case "$srv" "-tls1_2"      TLSv1.2 TLSv1.2 auto - 1 good
    imaps_case "$srv" "-tls1_3"      TLSv1.3 TLSv1.3 auto - 1 good
    # the client offers up to TLS 1.3, the server only goes up to 1.2
    imaps_case "$srv -max_protocol TLSv1.2" "" TLSv1.2 TLSv1.3 auto - 1 good
    cap_stop
    CAP_TLS=0
}

cap_tls_weak_ciphers() {             # TLS 1.2, one weak suite per session
    local srv
    srv="$(ossl_cert good) -cipher ALL:COMPLEMENTOFALL:@SECLEVEL=0"
    CAP_TLS=1
    cap_start "$NS_S" "$IF_S" tls-weak-ciphers.pcap "tcp port 993"
    imaps_case "$srv" "-tls1_2 -cipher AES128-SHA:@SECLEVEL=0" \
        TLSv1.2 TLSv1.2 AES128-SHA - 1 good            # static RSA, CBC: no forward secrecy
    # no encryption at all (the closing close_notify is readable, but it is
    # sent under record protection, so it is no alert "in clear")
    imaps_case "$srv" "-tls1_2 -cipher NULL-SHA256:@SECLEVEL=0" \
        TLSv1.2 TLSv1.2 NULL-SHA256 - 1 good
    imaps_case "-nocert -cipher aNULL:@SECLEVEL=0" "-tls1_2 -cipher ADH-AES128-SHA:@SECLEVEL=0" \
        TLSv1.2 TLSv1.2 ADH-AES128-SHA - 1 -           # anonymous DH: no certificate
    gnutls_case 3DES-CBC TLS_RSA_WITH_3DES_EDE_CBC_SHA
    gnutls_case ARCFOUR-128 TLS_RSA_WITH_RC4_128_SHA
    cap_stop
    CAP_TLS=0
}

cap_tls_certs() {                    # TLS 1.2, one certificate case per session
    local c sec="-cipher DEFAULT:@SECLEVEL=0"    # SECLEVEL 0: 1024-bit RSA, SHA-1
    CAP_TLS=1
    cap_start "$NS_S" "$IF_S" tls-certs.pcap "tcp port 993"
    for c in expired notyet selfsigned rsa1024 sha1 wrongname longvalid ec256; do
        imaps_case "$(ossl_cert "$c") $sec" "-tls1_2 $sec" TLSv1.2 TLSv1.2 auto - 1 "$c"
    done
    # a good chain: leaf, intermediate CA, root CA (still not trusted: private CA)
    imaps_case "$(ossl_cert chainleaf) -cert_chain $PKI/chain.pem $sec" "-tls1_2 $sec" \
        TLSv1.2 TLSv1.2 auto - 1 chainleaf,inter,ca
    cap_stop
    CAP_TLS=0
}

# smtp_sclient OUT ARGS...: openssl s_client -starttls smtp to postfix on 25
smtp_sclient() {
    local out=$1
    shift
    printf 'QUIT\r\n' | nsc timeout 20 openssl s_client -connect "$S4:25" -starttls smtp \
        -name "client.$DOMAIN" -servername "$SNI" "$@" > "$out" 2>&1 || true
}

cap_tls_alert() {                    # postfix tls12 on 25, openssl s_server on 993
    local out suite=ECDHE-RSA-AES128-GCM-SHA256
    CAP_TLS=1
    cap_start "$NS_S" "$IF_S" tls-alert.pcap "tcp port 25 or tcp port 993"
    # 1. STARTTLS; the client wants TLS 1.3 only, postfix goes up to 1.2:
    #    postfix answers the ClientHello with protocol_version (70)
    out=$WORK/tls/client.$((++TLS_NO))
    smtp_sclient "$out" -tls1_3
    grep -q 'alert number 70' "$out" || { cat "$out" >&2; die "no protocol_version alert from postfix"; }
    "$PY" "$MS" note smtp "$S4" 25 failed 220
    "$PY" "$MS" tls-note server="$S4:25" proto=smtp version=- max=TLSv1.3 cipher=- sni="$SNI" \
        alert=2/70 complete=0 certs=-
    # 2. STARTTLS, TLS 1.2; the client checks the certificate against the
    #    system store, which lacks the private CA: unknown_ca (48) from the client
    out=$WORK/tls/client.$((++TLS_NO))
    smtp_sclient "$out" -tls1_2 -cipher "$suite" -verify_return_error -CAfile "$SYSTEM_CA"
    grep -q 'verify error:num=20' "$out" || { cat "$out" >&2; die "client did not reject postfix's certificate"; }
    "$PY" "$MS" note smtp "$S4" 25 failed 220
    "$PY" "$MS" tls-note server="$S4:25" proto=smtp version=TLSv1.2 max=TLSv1.2 cipher="$suite" \
        sni="$SNI" alert=2/48 complete=0 certs=good
    # 3. implicit TLS; the client wants TLS 1.3 only, s_server goes up to 1.2
    out=$WORK/tls/client.$((++TLS_NO))
    # shellcheck disable=SC2046
    sserver_start $(ossl_cert good) -max_protocol TLSv1.2
    sserver_session "$out" -tls1_3 -servername "$SNI"
    grep -q 'alert number 70' "$out" || { cat "$out" >&2; die "no protocol_version alert from s_server"; }
    "$PY" "$MS" note imap "$S4" 993 implicit
    "$PY" "$MS" tls-note server="$S4:993" proto=- version=- max=TLSv1.3 cipher=- sni="$SNI" \
        alert=2/70 complete=0 certs=-
    # 4. implicit TLS 1.2; the client rejects the certificate (unknown_ca)
    out=$WORK/tls/client.$((++TLS_NO))
    # shellcheck disable=SC2046
    sserver_start $(ossl_cert good)
    sserver_session "$out" -tls1_2 -cipher "$suite" -verify_return_error -CAfile "$SYSTEM_CA" \
        -servername "$SNI"
    grep -q 'verify error:num=20' "$out" || { cat "$out" >&2; die "client did not reject s_server's certificate"; }
    "$PY" "$MS" note imap "$S4" 993 implicit
    "$PY" "$MS" tls-note server="$S4:993" proto=- version=TLSv1.2 max=TLSv1.2 cipher="$suite" \
        sni="$SNI" alert=2/48 complete=0 certs=good
    cap_stop
    CAP_TLS=0
}

cap_tls_starttls_all() {             # postfix tls, dovecot tls: TLS 1.3 everywhere
    CAP_TLS=1
    cap_start "$NS_S" "$IF_S" tls-starttls-all.pcap \
        "tcp port 25 or tcp port 587 or tcp port 143 or tcp port 110"
    swaks_send "$NS_C" "$S4" 25 --tls --tls-sni "$SNI"
    grep -q 'TLS started' "$WORK/swaks.last" || die "swaks STARTTLS on 25 did not start TLS"
    "$PY" "$MS" tls-note server="$S4:25" proto=smtp version=TLSv1.3 max=TLSv1.3 cipher=auto \
        sni="$SNI" alert=- complete=1 certs=- swaks="$WORK/swaks.last"
    swaks_send "$NS_C" "$S4" 587 --tls --tls-sni "$SNI" --auth PLAIN --auth-user carol \
        --auth-password "${PASS[carol]}" --from "carol@$DOMAIN"
    grep -Eq '^<~ +235 ' "$WORK/swaks.last" || die "AUTH inside STARTTLS on 587 failed"
    "$PY" "$MS" tls-note server="$S4:587" proto=smtp version=TLSv1.3 max=TLSv1.3 cipher=auto \
        sni="$SNI" alert=- complete=1 certs=- swaks="$WORK/swaks.last"
    # python imaplib starttls() and poplib stls(): TLS verdicts from the ssl module
    ms "$NS_C" imap-basic "$S4" carol "${PASS[carol]}" starttls >> "$WORK/sessions.log"
    ms "$NS_C" pop3-stls "$S4" >> "$WORK/sessions.log"
    cap_stop
    CAP_TLS=0
}

cap_tls_stunnel() {                  # stunnel4 (TLS 1.2) -> dovecot plain on 127.0.0.1:143
    local out=$WORK/tls/client.$((++TLS_NO))
    mkdir -p "$WORK/tls"
    cat > "$WORK/tls/stunnel.conf" <<CONF
; generated by postcard pcaps/make-pcaps.sh: IMAPS in front of dovecot (ssl=no)
foreground = yes
pid =
output = $WORK/tls/stunnel.log
[imaps]
accept = $S4:993
connect = 127.0.0.1:143
cert = $PKI/good.crt
key = $PKI/good.key
sslVersionMax = TLSv1.2
CONF
    start_bg "$NS_S" stunnel4 "$WORK/tls/stunnel.conf" > "$WORK/tls/stunnel.err" 2>&1
    wait_port "$NS_S" 993
    CAP_TLS=1
    cap_start "$NS_S" "$IF_S" tls-stunnel.pcap "tcp port 993"
    # 1. python imaplib IMAP4_SSL: LOGIN carol, SELECT, FETCH inside TLS
    export PC_TLS_CERTS=good
    ms "$NS_C" imap-basic "$S4" carol "${PASS[carol]}" ssl >> "$WORK/sessions.log"
    unset PC_TLS_CERTS
    # 2. openssl s_client with SNI: dovecot's greeting, LOGOUT
    printf 'a1 LOGOUT\r\n' | nsc timeout 20 openssl s_client -connect "$S4:993" \
        -servername "$SNI" -ign_eof > "$out" 2>&1 || true
    grep -q '^a1 OK' "$out" || { cat "$out" >&2; die "IMAP LOGOUT through stunnel failed"; }
    "$PY" "$MS" note imap "$S4" 993 implicit
    "$PY" "$MS" tls-note server="$S4:993" proto=- version=TLSv1.2 max=TLSv1.3 cipher=auto \
        sni="$SNI" alert=- complete=1 certs=good openssl="$out"
    cap_stop
    CAP_TLS=0
    stop_bg
}

summary() {                  # markdown table, as used in pcaps/README.md
    local f info
    log "summary (capinfos / tshark -z conv,tcp):"
    echo "| file | bytes | format | link type | packets | TCP conversations (server side) |"
    echo "| --- | ---: | --- | --- | ---: | --- |"
    for f in "${FILES[@]}"; do
        info=$(capinfos -T -t -E -c -M "$OUT/$f" | awk -F'\t' 'NR==2{print $2" | "$3" | "$4}')
        printf '| %s | %s | %s | %s |\n' "$f" "$(stat -c %s "$OUT/$f")" "$info" \
            "$(tshark -r "$OUT/$f" -q -z conv,tcp 2>/dev/null | awk '/<->/{printf "%s%s", n++ ? ", " : "", $3} END{if (!n) printf "none"}')"
    done
}

FILES=(smtp-plain.pcap smtp-starttls.pcap pop3-plain.pcap imap-plain.pcap imaps-pop3s.pcap
       imap-starttls.pcap mixed-nonmail.pcap frag-ipv4.pcap frag-ipv6.pcap vlan-qinq.pcap
       sll-any.pcap sll-v1.pcap smtp-ipv6.pcap tls-weak.pcap demo.pcapng
       smtp-pipelining-bdat.pcap imap-starttls-refused.pcap pop3-stls-refused.pcap
       smtp-offered-unused.pcap smtp-starttls-failed.pcap smtps-465.pcap pop3-stls.pcap
       smtp-stripped.pcap smtp-auth-mechs.pcap pop3-auth-mechs.pcap imap-login-forms.pcap
       imap-logindisabled.pcap smtp-starttls-refused.pcap)
TLS_FILES=(tls-versions.pcap tls-weak-ciphers.pcap tls-certs.pcap tls-alert.pcap
           tls-starttls-all.pcap tls-stunnel.pcap)

# ------------------------------------------------------------------- main --
main() {
    local t0=$SECONDS
    # leftovers of an interrupted earlier run
    for ns in "$NS_C" "$NS_S"; do
        if ns_exists "$ns"; then
            log "removing leftover namespace $ns"
            ns_kill_all "$ns"
            ip netns del "$ns"
        fi
    done
    WORK=$(mktemp -d /tmp/postcard-pcaps.XXXXXX)
    chmod 755 "$WORK"
    [[ -f $MS ]] || die "missing $MS"
    # the secrets, for mail-sessions.py
    export PC_PASS="alice=${PASS[alice]} bob=${PASS[bob]} carol=${PASS[carol]} dave=${PASS[dave]}"
    export PC_BADPASS=$BADPASS PC_TOKEN=$TOKEN
    export PC_PKI=$WORK/pki
    case ${PCAP_ONLY:-} in
        "") FILES+=("${TLS_FILES[@]}") ;;
        tls) FILES=("${TLS_FILES[@]}") ;;
        *) die "PCAP_ONLY: only 'tls' is known" ;;
    esac
    install_packages
    mkdir -p "$OUT"
    setup_netns
    make_certs
    make_pki
    make_mailboxes
    write_helpers
    [[ ${PCAP_ONLY:-} == tls ]] || phases_1_to_4
    phase_5_tls

    # every server was stopped above; anything left would be a script bug
    local left
    left=$( { ip netns pids "$NS_C"; ip netns pids "$NS_S"; } | xargs -r ps -o pid=,args= -p || true)
    [[ -z $left ]] || log "WARNING: processes still running in the namespaces: $left"

    summary
    log "done in $((SECONDS - t0)) s"
}

phases_1_to_4() {
    # phase 1: everything in clear text (no STARTTLS offered anywhere)
    dovecot_start plain
    postfix_start plain
    cap_smtp_plain
    cap_pop3_imap_plain
    cap_mixed
    cap_frag
    cap_vlan
    cap_sll
    cap_smtp_ipv6
    cap_smtp_pipelining_bdat
    cap_stls_refused
    postfix_stop
    dovecot_stop

    # phase 2: TLS offered (STARTTLS, implicit TLS, old versions allowed)
    dovecot_start tls
    postfix_start tls
    cap_smtp_starttls
    cap_imaps_pop3s
    cap_imap_starttls
    cap_tls_weak
    cap_demo
    cap_smtp_offered_unused
    cap_smtp_starttls_failed
    cap_smtps_465
    cap_pop3_stls
    cap_smtp_stripped          # ends with postfix in strip mode
    dovecot_stop

    # phase 3: more SASL mechanisms (CRAM-MD5, APOP, XOAUTH2) and login forms
    dovecot_start mechs
    cap_smtp_auth_mechs
    cap_pop3_auth_mechs
    cap_imap_login_forms
    postfix_stop
    dovecot_stop

    # phase 4: LOGINDISABLED (dovecot) and STARTTLS answered 454 (postfix)
    dovecot_start ldis
    postfix_start notls
    cap_imap_logindisabled
    cap_smtp_starttls_refused
    postfix_stop
    dovecot_stop
}

phase_5_tls() {
    # phase 5: TLS verdicts (tls-*.pcap).  First STARTTLS to the real servers
    # (TLS 1.3), then implicit TLS on 993 from openssl s_server, gnutls-serv
    # and stunnel4 (dovecot plain, so 993 is free) and STARTTLS to postfix
    # limited to TLS 1.2 (alerts)
    dovecot_start tls
    postfix_start tls
    cap_tls_starttls_all
    postfix_stop
    dovecot_stop
    dovecot_start plain
    postfix_start tls12
    cap_tls_versions
    cap_tls_weak_ciphers
    cap_tls_certs
    cap_tls_alert
    cap_tls_stunnel
    postfix_stop
    dovecot_stop
}

main "$@"
