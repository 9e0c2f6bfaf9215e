/*
 * report-svg.c — the charts of report.html, as inline SVG (no script, no
 * fonts or images to fetch), one <figure> each:
 *
 *   chart-ports         one stacked bar per port: cleartext | STARTTLS | implicit TLS
 *   chart-tls-versions  two stacked bars: versions offered (client maximum), negotiated
 *   chart-ciphers       one bar per weakness class, as a share of TLS sessions
 *   chart-certs         one bar per certificate verdict, as a share of sessions with one
 *   chart-hours         stacked columns per hour (or day) and a line of alerts
 *
 * Every <svg> has a viewBox and no fixed size, so it scales to the page
 * (phone or print); a <title> and a <desc> give the numbers as text, and
 * each bar has a <title> that names its count. Colours are Okabe-Ito's
 * (told apart with the common colour-vision deficiencies), and every
 * share is also written as text. Data marks have class "bar" (rects) or
 * "line" (the alerts path), which tests look for.
 *
 * Hazards:
 *   [REPORT-HTML-ESCAPE]  keys drawn as labels and titles are escaped (ro_html_escape)
 *   [REPORT-LONG-LABEL]   a label is cut to a few characters at a UTF-8 boundary so a
 *                         hostile key cannot cover the chart; its <title> has it whole
 *   [REPORT-CHART-ROWS]   at most REPORT_CHART_MAX_ROWS bars per chart, so a summary with
 *                         thousands of ports still gives a page a browser can draw
 */
#include "report/report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sensor-limits.h"

#define W 800.0        /* viewBox width of every chart */
#define LABEL_X 150.0  /* labels end here (right-aligned) */
#define BAR_X 158.0    /* bars start here */
#define BAR_W 500.0    /* a bar at 100% */
#define VALUE_X 666.0  /* the count after a bar */
#define ROW_H 30.0     /* one bar and its gap */
#define BAR_H 20.0     /* one bar */
#define LABEL_CHARS 20 /* characters of a key drawn as a label */

#define C_CLEAR "#d55e00"    /* vermillion: cleartext, serious weakness, bad certificate */
#define C_STARTTLS "#0072b2" /* blue */
#define C_IMPLICIT "#009e73" /* bluish green: implicit TLS, TLS 1.3, no weakness */
#define C_WARN "#e69f00"     /* orange: falls short of today's practice */
#define C_OTHER "#b0b0b0"    /* grey: other, unknown */
#define C_TRACK "#eef0f2"    /* the 100% behind a share bar */
#define C_INK "#1f2328"
#define C_MUTED "#59636e"

static void esc(FILE *f, const char *s, size_t n)
{
    ro_html_escape(f, s, n);
}

/* A key as a label: at most LABEL_CHARS characters, then "…". [REPORT-LONG-LABEL] */
static void esc_label(FILE *f, const char *s, size_t n)
{
    size_t i = 0, chars = 0;
    while (i < n && chars < LABEL_CHARS) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
            i++;
        chars++;
    }
    esc(f, s, i);
    if (i < n)
        fputs("\xe2\x80\xa6", f);
}

static void svg_open(FILE *f, const char *id, double h, const char *title)
{
    fprintf(f,
            "<figure>\n<svg id=\"chart-%s\" class=\"chart\" viewBox=\"0 0 %.0f %.0f\" "
            "role=\"img\" aria-labelledby=\"chart-%s-title chart-%s-desc\" font-size=\"13\">\n"
            "<title id=\"chart-%s-title\">%s</title>\n<desc id=\"chart-%s-desc\">",
            id, W, h, id, id, id, title, id);
}

static void svg_desc_end(FILE *f)
{
    fputs("</desc>\n", f);
}

static void svg_close(FILE *f, const char *caption)
{
    fprintf(f, "</svg>\n<figcaption>%s</figcaption>\n</figure>\n", caption);
}

static void text(FILE *f, double x, double y, const char *anchor, const char *fill, const char *s,
                 size_t n, bool is_label)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"%s\">", x, y, anchor, fill);
    if (is_label)
        esc_label(f, s, n);
    else
        esc(f, s, n);
    fputs("</text>\n", f);
}

/* A data bar; its <title> is written by the caller, then bar_end. */
static void bar_begin(FILE *f, double x, double y, double w, double h, const char *fill)
{
    fprintf(f,
            "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">",
            x, y, w, h, fill);
    fputs("<title>", f);
}

static void bar_end(FILE *f)
{
    fputs("</title></rect>\n", f);
}

static void legend_item(FILE *f, double *x, double y, const char *fill, const char *s, size_t n)
{
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>", *x, y - 10,
            fill);
    text(f, *x + 17, y, "start", C_INK, s, n, true);
    *x += 26 + 8.0 * (double)(n < LABEL_CHARS ? n : LABEL_CHARS);
}

static void count_pct(FILE *f, uint64_t part, uint64_t whole)
{
    char a[40], b[24];
    rv_count(a, sizeof a, part);
    rv_pct(b, sizeof b, part, whole);
    fprintf(f, "%s (%s)", a, b);
}

/* A segment of a stacked bar, with its share written inside when it is wide enough. */
static void segment(FILE *f, double *x, double y, uint64_t part, uint64_t whole, const char *fill,
                    const struct jmember *row, const char *what)
{
    if (part == 0 || whole == 0)
        return;
    double w = BAR_W * rv_share(part, whole);
    bar_begin(f, *x, y, w, BAR_H, fill);
    esc(f, row->key, row->klen);
    fprintf(f, ": %s ", what);
    count_pct(f, part, whole);
    bar_end(f);
    if (w >= 38) {
        char b[24];
        snprintf(b, sizeof b, "%.0f%%", 100.0 * rv_share(part, whole));
        text(f, *x + w / 2, y + BAR_H - 6, "middle", "#ffffff", b, strlen(b), false);
    }
    *x += w;
}

/* ---- ports ------------------------------------------------------------------------ */

static void chart_ports(FILE *f, const struct jval *doc)
{
    const struct jval *ports = rv_obj(doc, "ports");
    size_t n = ports != NULL ? ports->obj.n : 0;
    const struct jmember **rows = xcalloc(n, sizeof *rows);
    bool is_cut = n > REPORT_CHART_MAX_ROWS; /* [REPORT-CHART-ROWS] the busiest ports */
    n = is_cut ? rv_by_count(ports, "sessions", rows) : rv_ports(ports, rows);
    if (is_cut)
        n = REPORT_CHART_MAX_ROWS;
    double h = 40 + ROW_H * (double)(n ? n : 1) + 6;
    svg_open(f, "ports", h, "Mail sessions per port: cleartext, STARTTLS, implicit TLS");
    for (size_t i = 0; i < n; i++) {
        const struct jval *p = &rows[i]->val;
        uint64_t s = rv_u64(p, "sessions");
        char a[40], b[24], c[24], d[24];
        rv_count(a, sizeof a, s);
        rv_pct(b, sizeof b, rv_u64(p, "cleartext"), s);
        rv_pct(c, sizeof c, rv_u64(p, "starttls"), s);
        rv_pct(d, sizeof d, rv_u64(p, "implicit_tls"), s);
        esc(f, rows[i]->key, rows[i]->klen);
        fprintf(f, ": %s sessions, %s cleartext, %s STARTTLS, %s implicit TLS. ", a, b, c, d);
    }
    svg_desc_end(f);
    double lx = BAR_X;
    legend_item(f, &lx, 16, C_CLEAR, "cleartext", 9);
    legend_item(f, &lx, 16, C_STARTTLS, "STARTTLS", 8);
    legend_item(f, &lx, 16, C_IMPLICIT, "implicit TLS", 12);
    legend_item(f, &lx, 16, C_OTHER, "other", 5);
    if (n == 0)
        text(f, BAR_X, 60, "start", C_MUTED, "No mail session was seen.", 25, false);
    for (size_t i = 0; i < n; i++) {
        const struct jval *p = &rows[i]->val;
        double y = 36 + ROW_H * (double)i;
        uint64_t s = rv_u64(p, "sessions"), cl = rv_u64(p, "cleartext");
        uint64_t st = rv_u64(p, "starttls"), im = rv_u64(p, "implicit_tls");
        uint64_t known = rv_sat_add(rv_sat_add(cl, st), im);
        uint64_t whole = known > s ? known : s; /* a document whose parts exceed its whole */
        text(f, LABEL_X, y + BAR_H - 6, "end", C_INK, rows[i]->key, rows[i]->klen, true);
        double x = BAR_X;
        segment(f, &x, y, cl, whole, C_CLEAR, rows[i], "cleartext");
        segment(f, &x, y, st, whole, C_STARTTLS, rows[i], "STARTTLS");
        segment(f, &x, y, im, whole, C_IMPLICIT, rows[i], "implicit TLS");
        segment(f, &x, y, whole - known, whole, C_OTHER, rows[i], "other");
        char a[40];
        rv_count(a, sizeof a, s);
        text(f, VALUE_X, y + BAR_H - 6, "start", C_MUTED, a, strlen(a), false);
    }
    svg_close(f, is_cut ? "The ports with the most sessions; the table lists every port."
                        : "Share of each port's mail sessions by protection; the number after "
                          "a bar is its sessions.");
    free(rows);
}

/* ---- TLS versions ------------------------------------------------------------------- */

static const char *version_colour(const struct jmember *m)
{
    static const char *const names[] = {"SSLv2",   "SSLv3",   "TLSv1",  "TLSv1.0",
                                        "TLSv1.1", "TLSv1.2", "TLSv1.3"};
    static const char *const colours[] = {"#882255", "#cc79a7", C_CLEAR,   C_CLEAR,
                                          C_WARN,    "#56b4e9", C_IMPLICIT};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == m->klen && memcmp(names[i], m->key, m->klen) == 0)
            return colours[i];
    if (m->klen > 7 && memcmp(m->key, "TLSv1.3", 7) == 0)
        return "#7fcdbb"; /* drafts of 1.3 */
    return C_OTHER;
}

static uint64_t map_sum(const struct jval *map)
{
    uint64_t s = 0;
    for (size_t i = 0; map != NULL && i < map->obj.n; i++)
        if (map->obj.m[i].val.type == JV_INT)
            s = rv_sat_add(s, map->obj.m[i].val.u);
    return s;
}

static void chart_versions(FILE *f, const struct jval *doc)
{
    const struct jval *tls = rv_obj(doc, "tls");
    const struct jval *maps[2] = {rv_obj(tls, "client_max_version"), rv_obj(tls, "version")};
    static const char *const names[2] = {"offered", "negotiated"};
    size_t cap = (maps[0] != NULL ? maps[0]->obj.n : 0) + (maps[1] != NULL ? maps[1]->obj.n : 0);
    const struct jmember **v = xcalloc(cap, sizeof *v);
    size_t nv = rv_version_union(maps[0], maps[1], v);
    if (nv > REPORT_CHART_MAX_ROWS) /* [REPORT-CHART-ROWS] the rest draw as nothing */
        nv = REPORT_CHART_MAX_ROWS;
    size_t legend_rows = (nv + 5) / 6;
    double top = 12 + 22.0 * (double)(legend_rows ? legend_rows : 1);
    svg_open(f, "tls-versions", top + 2 * ROW_H + 8,
             "TLS versions offered by clients and negotiated");
    for (int r = 0; r < 2; r++) {
        uint64_t whole = map_sum(maps[r]);
        fprintf(f, "%s:", names[r]);
        for (size_t i = 0; i < nv; i++) {
            const struct jmember *m = jval_find(maps[r], v[i]->key, v[i]->klen);
            if (m == NULL || m->val.type != JV_INT || m->val.u == 0)
                continue;
            fputc(' ', f);
            esc(f, m->key, m->klen);
            fputc(' ', f);
            count_pct(f, m->val.u, whole);
            fputc(';', f);
        }
        fputs(r == 0 ? " " : "", f);
    }
    svg_desc_end(f);
    for (size_t i = 0; i < nv; i++) {
        double lx = BAR_X + 100.0 * (double)(i % 6);
        legend_item(f, &lx, 22 + 22.0 * (double)(i / 6), version_colour(v[i]), v[i]->key,
                    v[i]->klen);
    }
    for (int r = 0; r < 2; r++) {
        double y = top + ROW_H * r;
        uint64_t whole = map_sum(maps[r]);
        text(f, LABEL_X, y + BAR_H - 6, "end", C_INK, names[r], strlen(names[r]), false);
        if (whole == 0) {
            text(f, BAR_X, y + BAR_H - 6, "start", C_MUTED, "none seen", 9, false);
            continue;
        }
        double x = BAR_X;
        for (size_t i = 0; i < nv; i++) {
            const struct jmember *m = jval_find(maps[r], v[i]->key, v[i]->klen);
            if (m != NULL && m->val.type == JV_INT)
                segment(f, &x, y, m->val.u, whole, version_colour(v[i]), m, names[r]);
        }
        char a[40];
        rv_count(a, sizeof a, whole);
        text(f, VALUE_X, y + BAR_H - 6, "start", C_MUTED, a, strlen(a), false);
    }
    svg_close(f, "Offered: the highest version each client offered. Negotiated: the version "
                 "the server chose (\"none\": no ServerHello).");
    free(v);
}

/* ---- share bars: cipher weaknesses, certificate verdicts ------------------------------ */

/* One row: a grey track (100%), the share over it, the label and "count (share)". */
static void share_row(FILE *f, double y, const char *label, size_t label_n, uint64_t part,
                      uint64_t whole, const char *fill)
{
    text(f, LABEL_X, y + BAR_H - 6, "end", C_INK, label, label_n, true);
    fprintf(f,
            "<rect class=\"track\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
            "fill=\"%s\"/>\n",
            BAR_X, y, BAR_W, BAR_H, C_TRACK);
    bar_begin(f, BAR_X, y, BAR_W * rv_share(part, whole), BAR_H, fill);
    esc(f, label, label_n);
    fputs(": ", f);
    count_pct(f, part, whole);
    bar_end(f);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">", VALUE_X, y + BAR_H - 6, C_MUTED);
    count_pct(f, part, whole);
    fputs("</text>\n", f);
}

static const char *weakness_colour(const struct jmember *m)
{
    if (m->klen == 4 && memcmp(m->key, "none", 4) == 0)
        return C_IMPLICIT;
    if ((m->klen == 18 && memcmp(m->key, "no-forward-secrecy", 18) == 0) ||
        (m->klen == 3 && memcmp(m->key, "cbc", 3) == 0))
        return C_WARN;
    return C_CLEAR;
}

static void chart_ciphers(FILE *f, const struct jval *doc)
{
    const struct jval *tls = rv_obj(doc, "tls");
    const struct jval *weak = rv_obj(tls, "cipher_weakness");
    uint64_t ts = rv_u64(tls, "sessions");
    const struct jmember **w = xcalloc(weak != NULL ? weak->obj.n : 0, sizeof *w);
    size_t n = rv_weaknesses(weak, w);
    if (n > REPORT_CHART_MAX_ROWS) /* [REPORT-CHART-ROWS] */
        n = REPORT_CHART_MAX_ROWS;
    svg_open(f, "ciphers", 12 + ROW_H * (double)(n ? n : 1) + 6,
             "TLS sessions per weakness of the negotiated cipher suite");
    for (size_t i = 0; i < n; i++) {
        esc(f, w[i]->key, w[i]->klen);
        fputc(' ', f);
        count_pct(f, w[i]->val.type == JV_INT ? w[i]->val.u : 0, ts);
        fputs("; ", f);
    }
    svg_desc_end(f);
    if (n == 0)
        text(f, BAR_X, 30, "start", C_MUTED, "No negotiated suite was seen.", 29, false);
    for (size_t i = 0; i < n; i++)
        share_row(f, 12 + ROW_H * (double)i, w[i]->key, w[i]->klen,
                  w[i]->val.type == JV_INT ? w[i]->val.u : 0, ts, weakness_colour(w[i]));
    svg_close(f, "Share of TLS sessions whose suite has each weakness (a suite can have several); "
                 "\"none\": no known weakness.");
    free(w);
}

static void chart_certs(FILE *f, const struct jval *doc)
{
    static const char *const keys[][2] = {
        {"expired", "expired"},         {"expiring_30d", "expiring in 30 days"},
        {"self_signed", "self-signed"}, {"untrusted", "untrusted"},
        {"weak_key", "weak key"},       {"weak_signature", "weak signature"},
    };
    enum { N = sizeof keys / sizeof keys[0] };
    const struct jval *certs = rv_obj(rv_obj(doc, "tls"), "certs");
    uint64_t wc = rv_u64(certs, "sessions_with_cert");
    svg_open(f, "certs", 12 + ROW_H * N + 6, "Verdicts on the servers' certificates");
    for (size_t i = 0; i < N; i++) {
        fprintf(f, "%s ", keys[i][1]);
        count_pct(f, rv_u64(certs, keys[i][0]), wc);
        fputs("; ", f);
    }
    svg_desc_end(f);
    for (size_t i = 0; i < N; i++)
        share_row(f, 12 + ROW_H * (double)i, keys[i][1], strlen(keys[i][1]),
                  rv_u64(certs, keys[i][0]), wc, i == 1 ? C_WARN : C_CLEAR);
    svg_close(f, "Share of TLS sessions that showed a server certificate, per verdict.");
}

/* ---- the timeline ----------------------------------------------------------------------- */

/* The smallest of 1, 2, 5 x 10^k that is at least v. */
static uint64_t nice_max(uint64_t v)
{
    uint64_t m = 1;
    for (;;) {
        if (m >= v)
            return m;
        if (2 * m >= v)
            return 2 * m;
        if (5 * m >= v)
            return 5 * m;
        if (m > UINT64_MAX / 100)
            return UINT64_MAX;
        m *= 10;
    }
}

static void chart_hours(FILE *f, const struct jval *doc)
{
    const double x0 = 64, x1 = 784, top = 16, base = 216;
    struct rv_bucket *b;
    bool by_day;
    size_t n = rv_timeline(rv_obj(doc, "hours"), RV_TIMELINE, &b, &by_day);
    uint64_t ymax = 1;
    for (size_t i = 0; i < n; i++) {
        ymax = b[i].sessions > ymax ? b[i].sessions : ymax;
        ymax = b[i].alerts > ymax ? b[i].alerts : ymax;
    }
    ymax = nice_max(ymax);
    svg_open(f, "hours", 268,
             by_day ? "Mail sessions and alerts per day (UTC)"
                    : "Mail sessions and alerts per hour (UTC)");
    for (size_t i = 0; i < n && i < 48; i++) {
        char a[40];
        esc(f, b[i].label, b[i].label_n);
        rv_count(a, sizeof a, b[i].sessions);
        fprintf(f, ": %s sessions, ", a);
        rv_count(a, sizeof a, b[i].alerts);
        fprintf(f, "%s alerts; ", a);
    }
    if (n > 48)
        fprintf(f, "and %zu more; the table lists them.", n - 48);
    svg_desc_end(f);
    for (int g = 0; g <= 2; g++) { /* grid at 0, half, max */
        double y = base - (base - top) * g / 2.0;
        char a[40];
        rv_count(a, sizeof a, g == 0 ? 0 : g == 1 ? ymax / 2 : ymax);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", x0, y,
                x1, y, g == 0 ? C_MUTED : C_TRACK);
        text(f, x0 - 6, y + 4, "end", C_MUTED, a, strlen(a), false);
    }
    if (n == 0)
        text(f, (x0 + x1) / 2, (top + base) / 2, "middle", C_MUTED, "No hourly counts.", 17, false);
    double slot = n ? (x1 - x0) / (double)n : 0, bw = slot > 4 ? slot * 0.8 : slot;
    if (bw > 40) /* a few buckets: columns, not walls */
        bw = 40;
    double scale = (base - top) / (double)ymax;
    for (size_t i = 0; i < n; i++) {
        double x = x0 + slot * (double)i + (slot - bw) / 2, y = base;
        uint64_t parts[4] = {b[i].cleartext, b[i].starttls, b[i].implicit_tls, 0};
        static const char *const fills[4] = {C_CLEAR, C_STARTTLS, C_IMPLICIT, C_OTHER};
        static const char *const what[4] = {"cleartext", "STARTTLS", "implicit TLS", "other"};
        uint64_t known = rv_sat_add(rv_sat_add(parts[0], parts[1]), parts[2]);
        parts[3] = b[i].sessions > known ? b[i].sessions - known : 0;
        for (int k = 0; k < 4; k++) {
            if (parts[k] == 0)
                continue;
            double hgt = (double)parts[k] * scale;
            if (hgt > y - top)
                hgt = y - top; /* parts that exceed the sessions: cut at the top */
            y -= hgt;
            bar_begin(f, x, y, bw, hgt, fills[k]);
            esc(f, b[i].label, b[i].label_n);
            char a[40];
            rv_count(a, sizeof a, parts[k]);
            fprintf(f, ": %s %s", a, what[k]);
            bar_end(f);
        }
    }
    if (n > 0) { /* alerts: a line over the columns, same scale */
        fputs("<path class=\"line\" fill=\"none\" stroke=\"" C_INK "\" stroke-width=\"2\" "
              "stroke-linejoin=\"round\" d=\"",
              f);
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%s%.1f %.1f", i ? " L" : "M", x0 + slot * ((double)i + 0.5),
                    base - (double)b[i].alerts * scale);
        fputs("\"><title>alerts</title></path>\n", f);
        for (size_t i = 0; i < n && n <= 96; i++)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"" C_INK "\"/>\n",
                    x0 + slot * ((double)i + 0.5), base - (double)b[i].alerts * scale);
    }
    size_t step = n > 6 ? (n + 5) / 6 : 1; /* at most 6 or 7 labels under the axis */
    for (size_t i = 0; i < n; i += step) {
        char l[sizeof b[i].label];
        size_t ln = b[i].label_n; /* labels of the timeline are made by rv_timeline */
        if (!by_day && ln == 13)  /* "2026-11-28T17" -> "11-28 17h" */
            ln = (size_t)snprintf(l, sizeof l, "%.5s %.2sh", b[i].label + 5, b[i].label + 11);
        else
            memcpy(l, b[i].label, ln);
        text(f, x0 + slot * ((double)i + 0.5), base + 18, "middle", C_MUTED, l, ln, false);
    }
    double lx = x0;
    legend_item(f, &lx, 256, C_CLEAR, "cleartext", 9);
    legend_item(f, &lx, 256, C_STARTTLS, "STARTTLS", 8);
    legend_item(f, &lx, 256, C_IMPLICIT, "implicit TLS", 12);
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"250\" x2=\"%.1f\" y2=\"250\" stroke=\"" C_INK
            "\" stroke-width=\"2\"/>\n",
            lx, lx + 16);
    lx += 22;
    text(f, lx, 256, "start", C_INK, "alerts", 6, false);
    svg_close(f, by_day ? "Mail sessions per day, by protection, and the alerts raised (line)."
                        : "Mail sessions per hour, by protection, and the alerts raised (line).");
    free(b);
}

void report_svg_chart(FILE *f, const struct jval *doc, const char *which)
{
    if (strcmp(which, "ports") == 0)
        chart_ports(f, doc);
    else if (strcmp(which, "tls-versions") == 0)
        chart_versions(f, doc);
    else if (strcmp(which, "ciphers") == 0)
        chart_ciphers(f, doc);
    else if (strcmp(which, "certs") == 0)
        chart_certs(f, doc);
    else if (strcmp(which, "hours") == 0)
        chart_hours(f, doc);
}
