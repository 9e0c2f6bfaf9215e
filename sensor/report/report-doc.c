/*
 * report-doc.c — what the report says, in which order: a title, a few
 * sentences with the key shares, then one section per question a reader
 * asks (which ports carry mail in clear, how good is the TLS, which
 * certificates are bad, which servers raised alerts, where, when). Written
 * once for both report.md and report.html through report-out.c; the HTML
 * gets a chart (report-svg.c) where `chart` is called.
 *
 * Shares are of the count the sentence names (sessions of the port, TLS
 * sessions, sessions that showed a certificate), never of a grand total
 * the reader cannot see.
 *
 * Hazards:
 *   [REPORT-HTML-ESCAPE] [REPORT-MD-ESCAPE]  every key and string of the document
 *                        is written with ro_str/ro_cell (escaped); literals only
 *                        with ro_text/ro_printf
 */
#include "report/report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "sensor-limits.h"

#define SENSORS_NAMED 10 /* sensors named in the opening line; the rest are counted */

static const char *count_s(char *b, size_t n, uint64_t v)
{
    rv_count(b, n, v);
    return b;
}

static const char *pct_s(char *b, size_t n, uint64_t part, uint64_t whole)
{
    rv_pct(b, n, part, whole);
    return b;
}

static void key_str(struct rep_out *o, const struct jmember *m)
{
    ro_str(o, m->key, m->klen);
}

/* A packet time as a person reads it: "2026-11-28 17:37:04 UTC" from the summary's
 * "2026-11-28T17:37:04.590299+0000"; anything else as it is (escaped). */
static void time_str(struct rep_out *o, const struct jval *t)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    const char *s = t->str.s;
    size_t n = t->str.n, i = 0;
    while (i < sizeof shape - 1 && i < n &&
           (shape[i] == 'd' ? (s[i] >= '0' && s[i] <= '9') : s[i] == shape[i]))
        i++;
    if (i != sizeof shape - 1 || n < 24 || memcmp(s + n - 5, "+0000", 5) != 0) {
        ro_str(o, s, n);
        return;
    }
    ro_str(o, s, 10);
    ro_text(o, " ");
    ro_str(o, s + 11, 8);
    ro_text(o, " UTC");
}

/* Logins over all ports and mechanisms: [0] readable, [1] protected. */
static void login_totals(const struct jval *doc, uint64_t t[2])
{
    const struct jval *ports = rv_obj(doc, "ports");
    t[0] = t[1] = 0;
    for (size_t i = 0; ports != NULL && i < ports->obj.n; i++) {
        const struct jval *l = rv_obj(&ports->obj.m[i].val, "logins");
        for (size_t k = 0; l != NULL && k < l->obj.n; k++) {
            t[0] = rv_sat_add(t[0], rv_u64(&l->obj.m[k].val, "cleartext"));
            t[1] = rv_sat_add(t[1], rv_u64(&l->obj.m[k].val, "protected"));
        }
    }
}

/* Sum of the counts of a version map whose keys are of one class ("old", "ok", "good"). */
static uint64_t versions_of_class(const struct jval *map, const char *cls)
{
    uint64_t s = 0;
    for (size_t i = 0; map != NULL && i < map->obj.n; i++) {
        const struct jmember *m = &map->obj.m[i];
        if (m->val.type == JV_INT && strlen(m->key) == m->klen &&
            strcmp(rv_version_class(m->key), cls) == 0)
            s = rv_sat_add(s, m->val.u);
    }
    return s;
}

/* ---- the opening: who, when, and the key shares in sentences ------------------------- */

static void opening(struct rep_out *o, const struct jval *doc)
{
    char a[40], b[40], c[40], d[40];
    const struct jval *sensors = jval_get(doc, "sensors");
    const struct jval *first = jval_get(doc, "first"), *last = jval_get(doc, "last");
    const struct jval *totals = rv_obj(doc, "totals");
    uint64_t sessions = rv_u64(totals, "sessions");

    ro_heading(o, 1, "top", "Mail on the wire");
    ro_para_begin(o);
    size_t ns = sensors != NULL && sensors->type == JV_ARR ? sensors->arr.n : 0;
    ro_text(o, ns == 1 ? "Sensor " : ns > 1 ? "Sensors " : "No sensor named");
    for (size_t i = 0; i < ns && i < SENSORS_NAMED; i++) {
        if (i > 0)
            ro_text(o, i + 1 == ns ? " and " : ", ");
        ro_str(o, sensors->arr.v[i].str.s, sensors->arr.v[i].str.n);
    }
    if (ns > SENSORS_NAMED)
        ro_printf(o, " and %zu more", ns - SENSORS_NAMED);
    if (first != NULL && last != NULL && first->str.n > 0) {
        ro_text(o, "; packet time from ");
        time_str(o, first);
        ro_text(o, " to ");
        time_str(o, last);
    }
    ro_text(o, ".");
    const struct jval *anon = jval_get(doc, "anonymized");
    if (anon != NULL && anon->type == JV_BOOL && anon->b)
        ro_text(o, " Addresses are pseudonymised.");
    ro_para_end(o);

    ro_para_begin(o);
    if (sessions == 0) {
        ro_text(o, "No mail session was seen.");
    } else {
        uint64_t clear = rv_u64(totals, "cleartext");
        ro_printf(o,
                  "Of %s mail session%s, %s crossed the wire in cleartext, %s were protected "
                  "by STARTTLS and %s used implicit TLS.",
                  count_s(a, sizeof a, sessions), sessions == 1 ? "" : "s",
                  pct_s(b, sizeof b, clear, sessions),
                  pct_s(c, sizeof c, rv_u64(totals, "starttls"), sessions),
                  pct_s(d, sizeof d, rv_u64(totals, "implicit_tls"), sessions));
        /* the port that leaks most: largest share in clear, then most sessions */
        const struct jval *ports = rv_obj(doc, "ports");
        const struct jmember *worst = NULL;
        double worst_share = 0;
        for (size_t i = 0; ports != NULL && i < ports->obj.n; i++) {
            const struct jval *p = &ports->obj.m[i].val;
            double sh = rv_share(rv_u64(p, "cleartext"), rv_u64(p, "sessions"));
            if (sh > worst_share || (worst != NULL && sh == worst_share &&
                                     rv_u64(p, "sessions") > rv_u64(&worst->val, "sessions"))) {
                worst = &ports->obj.m[i];
                worst_share = sh;
            }
        }
        if (worst != NULL && ports->obj.n > 1) {
            uint64_t ws = rv_u64(&worst->val, "sessions");
            ro_text(o, " The most exposed port was ");
            key_str(o, worst);
            ro_printf(o, ": %s of its %s session%s in cleartext.",
                      pct_s(a, sizeof a, rv_u64(&worst->val, "cleartext"), ws),
                      count_s(b, sizeof b, ws), ws == 1 ? "" : "s");
        }
    }
    uint64_t lg[2];
    login_totals(doc, lg);
    uint64_t logins = rv_sat_add(lg[0], lg[1]);
    if (logins == 0)
        ro_text(o, " No login was seen.");
    else
        ro_printf(o,
                  " Of %s login%s, %s (%s) sent a password or token that anyone on the path "
                  "could read.",
                  count_s(a, sizeof a, logins), logins == 1 ? "" : "s", count_s(b, sizeof b, lg[0]),
                  pct_s(c, sizeof c, lg[0], logins));
    uint64_t msgs = rv_u64(totals, "cleartext_messages");
    if (msgs > 0)
        ro_printf(o, " %s message%s moved in cleartext.", count_s(a, sizeof a, msgs),
                  msgs == 1 ? " was" : "s were");
    ro_para_end(o);

    const struct jval *tls = rv_obj(doc, "tls");
    uint64_t ts = rv_u64(tls, "sessions");
    ro_para_begin(o);
    if (ts == 0) {
        ro_text(o, "No TLS session was seen.");
    } else {
        const struct jval *ver = rv_obj(tls, "version");
        ro_printf(o,
                  "Of %s TLS session%s, %s negotiated TLS 1.3, %s TLS 1.2 and %s an older "
                  "version.",
                  count_s(a, sizeof a, ts), ts == 1 ? "" : "s",
                  pct_s(b, sizeof b, versions_of_class(ver, "good"), ts),
                  pct_s(c, sizeof c, versions_of_class(ver, "ok"), ts),
                  pct_s(d, sizeof d, versions_of_class(ver, "old"), ts));
        const struct jval *weak = rv_obj(tls, "cipher_weakness");
        const struct jmember **w = xcalloc(weak != NULL ? weak->obj.n : 0, sizeof *w);
        size_t nw = rv_by_count(weak, NULL, w);
        for (size_t i = 0; i < nw; i++) {
            if (w[i]->klen == 4 && memcmp(w[i]->key, "none", 4) == 0)
                continue;
            if (w[i]->val.type != JV_INT || w[i]->val.u == 0)
                break;
            ro_text(o, " The commonest weakness of the negotiated suites was ");
            key_str(o, w[i]);
            ro_printf(o, " (%s session%s, %s).", count_s(a, sizeof a, w[i]->val.u),
                      w[i]->val.u == 1 ? "" : "s", pct_s(b, sizeof b, w[i]->val.u, ts));
            break;
        }
        free(w);
        const struct jval *certs = rv_obj(tls, "certs");
        uint64_t wc = rv_u64(certs, "sessions_with_cert");
        if (wc > 0)
            ro_printf(o,
                      " Of %s session%s that showed a server certificate, %s had an "
                      "expired one, %s an untrusted one and %s a self-signed one.",
                      count_s(a, sizeof a, wc), wc == 1 ? "" : "s",
                      count_s(b, sizeof b, rv_u64(certs, "expired")),
                      count_s(c, sizeof c, rv_u64(certs, "untrusted")),
                      count_s(d, sizeof d, rv_u64(certs, "self_signed")));
    }
    ro_para_end(o);
    uint64_t alerts = rv_u64(totals, "alerts");
    const struct jval *servers = rv_obj(doc, "servers");
    if (alerts > 0) {
        ro_para_begin(o);
        ro_printf(o, "There %s %s alert%s", alerts == 1 ? "was" : "were",
                  count_s(a, sizeof a, alerts), alerts == 1 ? "" : "s");
        if (servers != NULL && servers->obj.n > 0)
            ro_printf(o, " about %s server%s", count_s(b, sizeof b, servers->obj.n),
                      servers->obj.n == 1 ? "" : "s");
        const struct jval *fi = rv_obj(doc, "findings");
        const struct jmember **f = xcalloc(fi != NULL ? fi->obj.n : 0, sizeof *f);
        if (rv_by_count(fi, NULL, f) > 0 && f[0]->val.type == JV_INT && f[0]->val.u > 0) {
            ro_text(o, "; the commonest finding was ");
            key_str(o, f[0]);
            ro_printf(o, " (%s)", count_s(a, sizeof a, f[0]->val.u));
        }
        free(f);
        ro_text(o, ".");
        ro_para_end(o);
    }
}

/* ---- ports ----------------------------------------------------------------------------- */

/* The STARTTLS outcomes of the mail record (proto.h), in the order of the table. */

static size_t outcome_index(const struct jmember *m)
{
    size_t j = 0;
    while (j < STARTTLS_OUTCOME_COUNT && !(strlen(starttls_outcome_names[j]) == m->klen &&
                                           memcmp(starttls_outcome_names[j], m->key, m->klen) == 0))
        j++;
    return j; /* STARTTLS_OUTCOME_COUNT: another name */
}

static void outcome_table(struct rep_out *o, const struct jval *ports, const struct jmember **order,
                          size_t np)
{
    const char *const *known = starttls_outcome_names;
    enum { NK = STARTTLS_OUTCOME_COUNT };
    bool used[NK] = {false};
    bool other = false;
    for (size_t i = 0; i < ports->obj.n; i++) {
        const struct jval *oc = rv_obj(&ports->obj.m[i].val, "starttls_outcome");
        for (size_t k = 0; oc != NULL && k < oc->obj.n; k++) {
            const struct jmember *m = &oc->obj.m[k];
            size_t j = outcome_index(m);
            if (m->val.type != JV_INT || m->val.u == 0)
                continue;
            if (j < NK)
                used[j] = true;
            else
                other = true;
        }
    }
    const char *heads[REP_MAX_COLS];
    char hb[NK][24];
    unsigned nc = 0;
    heads[nc++] = "port";
    for (size_t j = 0; j < NK; j++) {
        if (!used[j])
            continue;
        snprintf(hb[j], sizeof hb[j], ">%s", known[j]);
        heads[nc++] = hb[j];
    }
    if (other)
        heads[nc++] = ">other";
    if (nc == 1) {
        ro_para_begin(o);
        ro_text(o, "No STARTTLS outcome was recorded.");
        ro_para_end(o);
        return;
    }
    ro_table_begin(o, nc, heads);
    for (size_t i = 0; i < np; i++) {
        const struct jval *oc = rv_obj(&order[i]->val, "starttls_outcome");
        ro_cell(o, order[i]->key, order[i]->klen);
        for (size_t j = 0; j < NK; j++)
            if (used[j])
                ro_cell_count(o, rv_u64(oc, known[j]));
        if (other) {
            uint64_t s = 0;
            for (size_t k = 0; oc != NULL && k < oc->obj.n; k++) {
                const struct jmember *m = &oc->obj.m[k];
                if (outcome_index(m) == NK && m->val.type == JV_INT)
                    s = rv_sat_add(s, m->val.u);
            }
            ro_cell_count(o, s);
        }
    }
    ro_table_end(o);
}

static void logins_table(struct rep_out *o, const struct jmember **order, size_t np)
{
    static const char *const heads[] = {"port", "mechanism", ">readable", ">protected",
                                        ">share readable"};
    bool any = false;
    uint64_t not_listed = 0;
    for (size_t i = 0; i < np; i++) {
        const struct jval *l = rv_obj(&order[i]->val, "logins");
        if (l != NULL && l->obj.n > 0)
            any = true;
        not_listed = rv_sat_add(not_listed, rv_u64(&order[i]->val, "logins_not_listed"));
    }
    if (not_listed > 0) {
        char a[40];
        ro_para_begin(o);
        ro_printf(o,
                  "%s more login attempt%s came after the 16 a session lists (password "
                  "guessing); their mechanism is not known, so they are not in the table.",
                  count_s(a, sizeof a, not_listed), not_listed == 1 ? "" : "s");
        ro_para_end(o);
    }
    if (!any) {
        ro_para_begin(o);
        ro_text(o, "No login was seen.");
        ro_para_end(o);
        return;
    }
    ro_table_begin(o, 5, heads);
    for (size_t i = 0; i < np; i++) {
        const struct jval *l = rv_obj(&order[i]->val, "logins");
        for (size_t k = 0; l != NULL && k < l->obj.n; k++) {
            const struct jval *v = &l->obj.m[k].val;
            uint64_t cl = rv_u64(v, "cleartext"), pr = rv_u64(v, "protected");
            ro_cell(o, order[i]->key, order[i]->klen);
            ro_cell(o, l->obj.m[k].key, l->obj.m[k].klen);
            ro_cell_count(o, cl);
            ro_cell_count(o, pr);
            ro_cell_pct(o, cl, rv_sat_add(cl, pr));
        }
    }
    ro_table_end(o);
}

static void ports_section(struct rep_out *o, const struct jval *doc, rep_chart_fn chart)
{
    static const char *const heads[] = {"port",      ">sessions",     ">cleartext",
                                        ">STARTTLS", ">implicit TLS", ">messages in clear",
                                        ">bytes"};
    const struct jval *ports = rv_obj(doc, "ports");
    const struct jval *totals = rv_obj(doc, "totals");
    ro_heading(o, 2, "ports", "Mail sessions by port");
    if (chart != NULL)
        chart(o->f, doc, "ports");
    const struct jmember **order = xcalloc(ports != NULL ? ports->obj.n : 0, sizeof *order);
    size_t np = rv_ports(ports, order);
    ro_table_begin(o, 7, heads);
    for (size_t i = 0; i < np; i++) {
        const struct jval *p = &order[i]->val;
        uint64_t s = rv_u64(p, "sessions");
        ro_cell(o, order[i]->key, order[i]->klen);
        ro_cell_count(o, s);
        ro_cell_pct(o, rv_u64(p, "cleartext"), s);
        ro_cell_pct(o, rv_u64(p, "starttls"), s);
        ro_cell_pct(o, rv_u64(p, "implicit_tls"), s);
        ro_cell_count(o, rv_u64(p, "cleartext_messages"));
        ro_cell_count(o, rv_u64(p, "bytes"));
    }
    uint64_t s = rv_u64(totals, "sessions");
    ro_cell_text(o, o->fmt == REP_HTML ? "<strong>all ports</strong>" : "**all ports**");
    ro_cell_count(o, s);
    ro_cell_pct(o, rv_u64(totals, "cleartext"), s);
    ro_cell_pct(o, rv_u64(totals, "starttls"), s);
    ro_cell_pct(o, rv_u64(totals, "implicit_tls"), s);
    ro_cell_count(o, rv_u64(totals, "cleartext_messages"));
    ro_cell_count(o, rv_u64(totals, "bytes"));
    ro_table_end(o);
    if (ports != NULL && ports->obj.n > 0) {
        ro_heading(o, 3, "starttls", "STARTTLS outcomes");
        outcome_table(o, ports, order, np);
        ro_heading(o, 3, "logins", "Logins");
        logins_table(o, order, np);
    }
    free(order);
}

/* ---- TLS and certificates ------------------------------------------------------------- */

static void tls_section(struct rep_out *o, const struct jval *doc, rep_chart_fn chart)
{
    static const char *const vh[] = {"version", ">offered (client maximum)", ">share",
                                     ">negotiated", ">share"};
    static const char *const wh[] = {"weakness of the suite", ">sessions", ">share"};
    const struct jval *tls = rv_obj(doc, "tls");
    uint64_t ts = rv_u64(tls, "sessions");
    const struct jval *off = rv_obj(tls, "client_max_version"), *neg = rv_obj(tls, "version");
    ro_heading(o, 2, "tls", "TLS versions");
    if (chart != NULL)
        chart(o->f, doc, "tls-versions");
    size_t cap = (off != NULL ? off->obj.n : 0) + (neg != NULL ? neg->obj.n : 0);
    const struct jmember **v = xcalloc(cap, sizeof *v);
    size_t nv = rv_version_union(off, neg, v);
    ro_table_begin(o, 5, vh);
    for (size_t i = 0; i < nv; i++) {
        const struct jmember *a = jval_find(off, v[i]->key, v[i]->klen);
        const struct jmember *b = jval_find(neg, v[i]->key, v[i]->klen);
        uint64_t ca = a != NULL && a->val.type == JV_INT ? a->val.u : 0;
        uint64_t cb = b != NULL && b->val.type == JV_INT ? b->val.u : 0;
        ro_cell(o, v[i]->key, v[i]->klen);
        ro_cell_count(o, ca);
        ro_cell_pct(o, ca, ts);
        ro_cell_count(o, cb);
        ro_cell_pct(o, cb, ts);
    }
    ro_cell_text(o, o->fmt == REP_HTML ? "<strong>TLS sessions</strong>" : "**TLS sessions**");
    ro_cell_count(o, ts);
    ro_cell_text(o, "");
    ro_cell_count(o, ts);
    ro_cell_text(o, "");
    ro_table_end(o);
    free(v);

    ro_heading(o, 2, "ciphers", "Cipher suites");
    ro_para_begin(o);
    ro_text(o, "Sessions per weakness of the negotiated suite (a suite with two weaknesses "
               "counts under both; \"none\": a suite without any).");
    ro_para_end(o);
    if (chart != NULL)
        chart(o->f, doc, "ciphers");
    const struct jval *weak = rv_obj(tls, "cipher_weakness");
    const struct jmember **w = xcalloc(weak != NULL ? weak->obj.n : 0, sizeof *w);
    size_t nw = rv_weaknesses(weak, w);
    ro_table_begin(o, 3, wh);
    for (size_t i = 0; i < nw; i++) {
        uint64_t c = w[i]->val.type == JV_INT ? w[i]->val.u : 0;
        ro_cell(o, w[i]->key, w[i]->klen);
        ro_cell_count(o, c);
        ro_cell_pct(o, c, ts);
    }
    ro_table_end(o);
    free(w);
}

static void certs_section(struct rep_out *o, const struct jval *doc, rep_chart_fn chart)
{
    static const char *const heads[] = {"server certificate", ">sessions", ">share"};
    static const char *const keys[][2] = {
        {"expired", "expired"},         {"expiring_30d", "expiring within 30 days"},
        {"self_signed", "self-signed"}, {"untrusted", "untrusted (no path to a trusted root)"},
        {"weak_key", "weak key"},       {"weak_signature", "weak signature"},
    };
    const struct jval *certs = rv_obj(rv_obj(doc, "tls"), "certs");
    uint64_t wc = rv_u64(certs, "sessions_with_cert");
    char a[40];
    ro_heading(o, 2, "certs", "Certificates");
    ro_para_begin(o);
    if (wc == 0)
        ro_text(o, "No TLS session showed a server certificate in clear (under TLS 1.3 it is "
                   "encrypted and not seen).");
    else
        ro_printf(o,
                  "Verdicts on the server's certificate, per TLS session that showed one "
                  "(%s). Under TLS 1.3 the certificate is encrypted and not seen.",
                  count_s(a, sizeof a, wc));
    ro_para_end(o);
    if (chart != NULL)
        chart(o->f, doc, "certs");
    ro_table_begin(o, 3, heads);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        uint64_t c = rv_u64(certs, keys[i][0]);
        ro_cell_text(o, keys[i][1]);
        ro_cell_count(o, c);
        ro_cell_pct(o, c, wc);
    }
    ro_table_end(o);
}

/* ---- alerts, places --------------------------------------------------------------------- */

static void findings_section(struct rep_out *o, const struct jval *doc)
{
    static const char *const fh[] = {"finding", ">alerts"};
    static const char *const sh[] = {"server", ">alerts", "findings"};
    const struct jval *fi = rv_obj(doc, "findings");
    const struct jval *servers = rv_obj(doc, "servers");
    ro_heading(o, 2, "findings", "Alerts");
    const struct jmember **f = xcalloc(fi != NULL ? fi->obj.n : 0, sizeof *f);
    size_t nf = rv_by_count(fi, NULL, f);
    if (nf == 0) {
        ro_para_begin(o);
        ro_text(o, "No alert was raised.");
        ro_para_end(o);
    } else {
        ro_table_begin(o, 2, fh);
        for (size_t i = 0; i < nf; i++) {
            ro_cell(o, f[i]->key, f[i]->klen);
            ro_cell_count(o, f[i]->val.type == JV_INT ? f[i]->val.u : 0);
        }
        ro_table_end(o);
    }
    free(f);
    if (servers == NULL || servers->obj.n == 0)
        return;
    ro_heading(o, 3, "servers", "Servers with the most alerts");
    const struct jmember **s = xcalloc(servers->obj.n, sizeof *s);
    size_t ns = rv_by_count(servers, "alerts", s);
    if (ns > REPORT_TOP_SERVERS) {
        char a[40];
        ro_para_begin(o);
        ro_printf(o, "The %d of %s servers with the most alerts; report.json lists them all.",
                  REPORT_TOP_SERVERS, count_s(a, sizeof a, ns));
        ro_para_end(o);
        ns = REPORT_TOP_SERVERS;
    }
    ro_table_begin(o, 3, sh);
    for (size_t i = 0; i < ns; i++) {
        const struct jval *sf = rv_obj(&s[i]->val, "findings");
        ro_cell(o, s[i]->key, s[i]->klen);
        ro_cell_count(o, rv_u64(&s[i]->val, "alerts"));
        ro_cell_begin(o);
        const struct jmember **g = xcalloc(sf != NULL ? sf->obj.n : 0, sizeof *g);
        size_t ng = rv_by_count(sf, NULL, g);
        for (size_t k = 0; k < ng && k < 4; k++) {
            char a[40];
            ro_text(o, k > 0 ? ", " : "");
            key_str(o, g[k]);
            ro_printf(o, " %s", count_s(a, sizeof a, g[k]->val.type == JV_INT ? g[k]->val.u : 0));
        }
        if (ng > 4)
            ro_printf(o, ", %zu more", ng - 4);
        free(g);
        ro_cell_end(o);
    }
    ro_table_end(o);
    free(s);
}

static void geo_table(struct rep_out *o, const struct jval *map, bool is_as)
{
    static const char *const ch[] = {"country", ">sessions", ">cleartext", ">share", ">alerts"};
    static const char *const ah[] = {"AS",         "organisation", ">sessions",
                                     ">cleartext", ">share",       ">alerts"};
    const struct jmember **m = xcalloc(map->obj.n, sizeof *m);
    size_t n = rv_by_count(map, "sessions", m);
    if (n > REPORT_TOP_SERVERS) {
        char a[40];
        ro_para_begin(o);
        ro_printf(o, "The %d of %s with the most sessions; report.json lists them all.",
                  REPORT_TOP_SERVERS, count_s(a, sizeof a, n));
        ro_para_end(o);
        n = REPORT_TOP_SERVERS;
    }
    ro_table_begin(o, is_as ? 6 : 5, is_as ? ah : ch);
    for (size_t i = 0; i < n; i++) {
        const struct jval *v = &m[i]->val;
        uint64_t s = rv_u64(v, "sessions"), c = rv_u64(v, "cleartext");
        ro_cell(o, m[i]->key, m[i]->klen);
        if (is_as) {
            const struct jval *org = jval_get(v, "org");
            if (org != NULL && org->type == JV_STR)
                ro_cell(o, org->str.s, org->str.n);
            else
                ro_cell_text(o, "");
        }
        ro_cell_count(o, s);
        ro_cell_count(o, c);
        ro_cell_pct(o, c, s);
        ro_cell_count(o, rv_u64(v, "alerts"));
    }
    ro_table_end(o);
    free(m);
}

static void geo_section(struct rep_out *o, const struct jval *doc)
{
    const struct jval *countries = rv_obj(doc, "countries"), *as = rv_obj(doc, "as");
    if (countries != NULL && countries->obj.n > 0) {
        ro_heading(o, 2, "countries", "Countries of the servers");
        geo_table(o, countries, false);
    }
    if (as != NULL && as->obj.n > 0) {
        ro_heading(o, 2, "as", "Networks of the servers (AS)");
        geo_table(o, as, true);
    }
}

/* ---- time ------------------------------------------------------------------------------- */

static void hours_section(struct rep_out *o, const struct jval *doc, rep_chart_fn chart)
{
    static const char *const hh[] = {"hour (UTC)", ">sessions",     ">cleartext",
                                     ">STARTTLS",  ">implicit TLS", ">alerts"};
    static const char *const dh[] = {"day (UTC)", ">sessions",     ">cleartext",
                                     ">STARTTLS", ">implicit TLS", ">alerts"};
    const struct jval *hours = rv_obj(doc, "hours");
    ro_heading(o, 2, "hours", "Over time");
    if (chart != NULL)
        chart(o->f, doc, "hours");
    struct rv_bucket *b;
    bool by_day;
    size_t n = rv_timeline(hours, RV_TABLE, &b, &by_day);
    if (n == 0) {
        ro_para_begin(o);
        ro_text(o, "No session was counted in any hour.");
        ro_para_end(o);
        return;
    }
    if (by_day) {
        char a[40];
        ro_para_begin(o);
        ro_printf(o, "Sessions by the day they ended (%s hours in all; report.json has each).",
                  count_s(a, sizeof a, hours->obj.n));
        ro_para_end(o);
    }
    ro_table_begin(o, 6, by_day ? dh : hh);
    for (size_t i = 0; i < n; i++) {
        ro_cell(o, b[i].label, b[i].label_n);
        ro_cell_count(o, b[i].sessions);
        ro_cell_count(o, b[i].cleartext);
        ro_cell_count(o, b[i].starttls);
        ro_cell_count(o, b[i].implicit_tls);
        ro_cell_count(o, b[i].alerts);
    }
    ro_table_end(o);
    free(b);
}

void report_sections(struct rep_out *o, const struct jval *doc, rep_chart_fn chart)
{
    opening(o, doc);
    ports_section(o, doc, chart);
    tls_section(o, doc, chart);
    certs_section(o, doc, chart);
    findings_section(o, doc);
    geo_section(o, doc);
    hours_section(o, doc, chart);
}
