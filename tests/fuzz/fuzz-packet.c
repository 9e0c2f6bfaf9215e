/*
 * fuzz-packet.c — the whole packet path: frames into sensor_packet(), the
 * entry the capture loop calls for every packet, as main.c drives it, with
 * the default rules loaded, and every record checked on its way out.
 *
 * The input: three bytes of set-up, then packets.
 *
 *   byte 0   link type: EN10MB, RAW, LINUX_SLL, LINUX_SLL2, NULL, LOOP, IPV4,
 *            IPV6, and DLT 12 and 14 (raw IP) — byte 0 modulo 10
 *   byte 1   bits 0-2: --max-flows 1, 2, 4 ... 128
 *            bits 3-4: reassembly memory 2 KiB, 64 KiB, 1 MiB or the default
 *            bit 5: --tls-all-ports
 *            bit 6: live: timers run by clock ticks (below), not by packets
 *            bit 7: --anonymize (a fixed key)
 *   byte 2   bit 0: --stats-interval 1; bit 1: --summary-interval 1;
 *            bit 2: --flow-timeout new=1,open=2,closed=1,udp=1;
 *            bit 3: --no-flow-records; bit 4: --no-session-records;
 *            bit 5: --anonymize-users hash; bit 6: --no-rules
 *   then, until the input ends, a packet:
 *     t      the clock, from 2023-11-14 22:13:20 UTC on: 0x00-0x7f +t ms,
 *            0x80-0x9f +s, 0xa0-0xbf +min, 0xc0-0xdf -s, 0xe0-0xef -h
 *            (back in time), 0xf0 to 0 (1970), 0xf1 +1 day, 0xf2 +1 year,
 *            0xf3 to 2^32-1 s, 0xf4-0xff +1 µs; kept within 0 .. 2^32 s
 *     w      bytes on the wire past the capture: w (0x00-0x7f) or
 *            (w - 0x80) KiB; 0xff: no packet but a clock tick at time t
 *            (live only, as the capture loop ticks; ignored reading files);
 *            0xfe: no packet but a SIGHUP: the rules loaded again into a new
 *            engine, the old one freed, and the outputs reopened
 *     len    2 bytes, big-endian: captured bytes (fewer if the input ends)
 *     bytes  the frame, handed over in a copy of exactly its size
 *
 * Checked for every record the outputs get (a tee of a checking output and
 * the real file output, out-file.c, writing to a memfd): one line ending in
 * its only '\n', a JSON object the report's reader (jsonread.c) accepts —
 * RFC 8259, valid UTF-8, no key twice — whose event_type is the record's
 * type and which has a timestamp; at the end the file holds exactly those
 * records in that order; with a summary, the summary document (summary.c)
 * is JSON the reader accepts too.
 *
 * A sensor is made and freed for every input, so nothing a flow leaves
 * behind can reach the next input and LeakSanitizer sees every leak. Three
 * things are made once per process because they cost most of a sensor's
 * start-up (about 60 ms under ASan, against 5 ms for the rest) and hold no
 * flow: nDPI's detection module, the system trust store and the certificate
 * cache. This target's link wraps (ld --wrap) ndpi_init_detection_module,
 * x509_store_load and certcache_new, and the calls that finish and free
 * them, so every sensor gets the same ones: nDPI's own caches and the parsed
 * certificates live on from one input to the next (a certificate seen
 * before is a cache hit; its verdicts are judged afresh all the same).
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine.h"
#include "eve/anon.h"
#include "fuzz.h"
#include "output/output.h"
#include "report/jsonread.h"
#include "rules.h"
#include "sensor-limits.h"
#include "sensor.h"

#ifndef FUZZ_RULES_DIR
#define FUZZ_RULES_DIR "rules/default"
#endif

/* ---- made once per process ------------------------------------------------ */

struct ndpi_detection_module_struct;
struct ndpi_detection_module_struct *__real_ndpi_init_detection_module(uint32_t prefs);
struct ndpi_detection_module_struct *__wrap_ndpi_init_detection_module(uint32_t prefs);
void __real_ndpi_set_protocol_detection_bitmask2(struct ndpi_detection_module_struct *m,
                                                 const void *mask);
void __wrap_ndpi_set_protocol_detection_bitmask2(struct ndpi_detection_module_struct *m,
                                                 const void *mask);
void __real_ndpi_finalize_initialization(struct ndpi_detection_module_struct *m);
void __wrap_ndpi_finalize_initialization(struct ndpi_detection_module_struct *m);
void __wrap_ndpi_exit_detection_module(struct ndpi_detection_module_struct *m);
struct x509_store *__real_x509_store_load(const char *path, char *err, size_t errlen);
struct x509_store *__wrap_x509_store_load(const char *path, char *err, size_t errlen);
void __real_x509_store_free(struct x509_store *s);
void __wrap_x509_store_free(struct x509_store *s);
struct certcache *__real_certcache_new(void);
struct certcache *__wrap_certcache_new(void);
void __real_certcache_free(struct certcache *cc);
void __wrap_certcache_free(struct certcache *cc);

static struct ndpi_detection_module_struct *shared_ndpi; /* the one module */
static bool is_ndpi_ready;                               /* its set-up is done */
static struct x509_store *shared_store;                  /* the system trust store */
static bool is_store_loaded;                             /* tried (it may be NULL) */
static struct certcache *shared_certs;                   /* parsed certificates */

struct ndpi_detection_module_struct *__wrap_ndpi_init_detection_module(uint32_t prefs)
{
    if (shared_ndpi == NULL)
        shared_ndpi = __real_ndpi_init_detection_module(prefs);
    return shared_ndpi;
}

void __wrap_ndpi_set_protocol_detection_bitmask2(struct ndpi_detection_module_struct *m,
                                                 const void *mask)
{
    if (!is_ndpi_ready)
        __real_ndpi_set_protocol_detection_bitmask2(m, mask);
}

void __wrap_ndpi_finalize_initialization(struct ndpi_detection_module_struct *m)
{
    if (!is_ndpi_ready)
        __real_ndpi_finalize_initialization(m);
    is_ndpi_ready = true;
}

void __wrap_ndpi_exit_detection_module(struct ndpi_detection_module_struct *m)
{
    (void)m; /* kept for the next sensor */
}

struct x509_store *__wrap_x509_store_load(const char *path, char *err, size_t errlen)
{
    if (!is_store_loaded)
        shared_store = __real_x509_store_load(path, err, errlen);
    is_store_loaded = true;
    if (shared_store == NULL)
        snprintf(err, errlen, "%s: not loaded", path);
    return shared_store;
}

void __wrap_x509_store_free(struct x509_store *s)
{
    if (s != shared_store)
        __real_x509_store_free(s);
}

struct certcache *__wrap_certcache_new(void)
{
    if (shared_certs == NULL)
        shared_certs = __real_certcache_new();
    return shared_certs;
}

void __wrap_certcache_free(struct certcache *cc)
{
    if (cc != shared_certs)
        __real_certcache_free(cc);
}

static struct rule_engine *rules; /* rules/default: the engine the next sensor gets */
static int memfd = -1;            /* the file output's file */
static char memfd_path[64];       /* its name in /proc */

static struct rule_engine *load_rules(void)
{
    struct rule_diag diag;
    rule_diag_init(&diag);
    struct ruleset *rs = ruleset_new();
    if (rules_load_path(rs, FUZZ_RULES_DIR, NULL, &diag) != 0 || ruleset_len(rs) == 0)
        FUZZ_FAIL("%s: the rules do not load:\n%s", FUZZ_RULES_DIR, rule_diag_text(&diag));
    rule_diag_free(&diag);
    return rule_engine_new(rs);
}

static void setup(void)
{
    if (memfd >= 0)
        return;
    rules = load_rules();
    memfd = memfd_create("fuzz-packet-out", MFD_CLOEXEC);
    if (memfd < 0)
        FUZZ_FAIL("memfd_create failed");
    snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
}

/* SIGHUP as main.c handles it: a new engine (the old one freed: flows in progress keep only
 * what outlives it), then the outputs reopened. */
static void sighup(struct sensor *s, struct output *out)
{
    if (s->al.engine != NULL)
        rule_engine_free(sensor_set_rules(s, load_rules()));
    struct err e = {""};
    if (out->reopen != NULL && out->reopen(out, &e) != 0)
        FUZZ_FAIL("reopen: %s", e.msg);
}

/* ---- the checking output ------------------------------------------------- */

struct check_out {
    struct output o;      /* the interface (first member) */
    struct fuzz_buf recs; /* every record, in order */
    size_t n;             /* how many */
};

/* The value of key in object o if it is a string, else NULL. */
static const char *str_member(const struct jval *o, const char *key)
{
    const struct jval *v = jval_get(o, key);
    return v != NULL && v->type == JV_STR ? v->str.s : NULL;
}

static int check_write(struct output *o, enum rec_type t, const char *line, size_t n)
{
    struct check_out *c = (struct check_out *)o;
    if ((unsigned)t >= REC_COUNT)
        FUZZ_FAIL("record type %d", (int)t);
    if (n < 2 || line[n - 1] != '\n' || memchr(line, '\n', n - 1) != NULL)
        FUZZ_FAIL("a %s record that is not one line: %.*s", rec_type_name(t), (int)n, line);
    if (n > JSON_LINE_MAX)
        FUZZ_FAIL("a %s record of %zu bytes", rec_type_name(t), n);
    struct jread_err e;
    struct jval *v = jsonread_parse(line, n - 1, &e);
    if (v == NULL)
        FUZZ_FAIL("a %s record that is not JSON: %u:%u: %s\n%.*s", rec_type_name(t), e.line, e.col,
                  e.msg, (int)n, line);
    const char *et = str_member(v, "event_type");
    if (v->type != JV_OBJ || et == NULL || strcmp(et, rec_type_name(t)) != 0 ||
        str_member(v, "timestamp") == NULL)
        FUZZ_FAIL("a %s record without its event_type or timestamp: %.*s", rec_type_name(t), (int)n,
                  line);
    jval_free(v);
    fbuf_put(&c->recs, line, n);
    c->n++;
    o->written++;
    return 0;
}

static int check_flush(struct output *o)
{
    (void)o;
    return 0;
}

static int check_close(struct output *o, struct err *e)
{
    (void)e;
    struct check_out *c = (struct check_out *)o;
    fbuf_free(&c->recs);
    free(c);
    return 0;
}

static struct check_out *check_out_new(void)
{
    struct check_out *c = calloc(1, sizeof *c);
    if (c == NULL)
        FUZZ_FAIL("out of memory");
    c->o.name = "check";
    c->o.types = REC_ALL;
    c->o.write = check_write;
    c->o.flush = check_flush;
    c->o.close = check_close;
    fbuf_put(&c->recs, "", 0);
    return c;
}

/* The file output's bytes must be exactly the records the checking output got. */
static void check_file(const struct check_out *c)
{
    off_t size = lseek(memfd, 0, SEEK_END);
    if (size < 0 || (size_t)size != c->recs.len)
        FUZZ_FAIL("the file holds %lld bytes, the records are %zu", (long long)size, c->recs.len);
    char *b = malloc(c->recs.len + 1);
    if (b == NULL)
        FUZZ_FAIL("out of memory");
    if (pread(memfd, b, c->recs.len, 0) != (ssize_t)c->recs.len ||
        memcmp(b, c->recs.p, c->recs.len) != 0)
        FUZZ_FAIL("the file does not hold the %zu records written, in order", c->n);
    free(b);
}

/* With a summary: its document is JSON the report reads. */
static void check_summary(struct sensor *s)
{
    if (s->sum == NULL)
        return;
    char *doc = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&doc, &n);
    if (f == NULL)
        FUZZ_FAIL("open_memstream failed");
    if (summary_write(s->sum, &s->eve, f, false) != 0)
        FUZZ_FAIL("summary_write failed");
    fclose(f);
    struct jread_err e;
    struct jval *v = jsonread_parse(doc, n, &e);
    if (v == NULL || v->type != JV_OBJ)
        FUZZ_FAIL("the summary document is not a JSON object: %u:%u: %s", e.line, e.col, e.msg);
    jval_free(v);
    free(doc);
}

/* ---- the input ----------------------------------------------------------- */

static const int links[] = {LINK_EN10MB,       LINK_RAW,         LINK_SLL,  LINK_SLL2,
                            LINK_NULL,         LINK_LOOP,        LINK_IPV4, LINK_IPV6,
                            LINK_DLT_RAW_ALT1, LINK_DLT_RAW_ALT2};

#define SEC 1000000LL                 /* pc_time: µs */
#define T_START (1700000000LL * SEC)  /* 2023-11-14 22:13:20 UTC */
#define T_MAX ((1LL << 32) * SEC - 1) /* a classic pcap's 32-bit seconds */

static pc_time next_time(pc_time ts, uint8_t t)
{
    if (t < 0x80)
        ts += t * 1000LL;
    else if (t < 0xa0)
        ts += (t & 0x1f) * SEC;
    else if (t < 0xc0)
        ts += (t & 0x1f) * 60 * SEC;
    else if (t < 0xe0)
        ts -= (t & 0x1f) * SEC;
    else if (t < 0xf0)
        ts -= (t & 0x0f) * 3600 * SEC;
    else if (t == 0xf0)
        ts = 0;
    else if (t == 0xf1)
        ts += 86400 * SEC;
    else if (t == 0xf2)
        ts += 365 * 86400 * SEC;
    else if (t == 0xf3)
        ts = T_MAX;
    else
        ts += 1;
    return ts < 0 ? 0 : ts > T_MAX ? T_MAX : ts;
}

static const uint8_t anon_key[ANON_KEY_BYTES] = "postcard fuzz: a fixed key ....";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    setup();
    struct fuzz_in in = {data, size};
    int link = links[fin_u8(&in) % (sizeof links / sizeof links[0])];
    uint8_t a = fin_u8(&in), b = fin_u8(&in);
    static const uint64_t reasm_caps[] = {2048, 64 * 1024, 1024 * 1024, 0};
    struct sensor_opts so = {0};
    so.max_flows = (size_t)1 << (a & 7);
    so.reasm_max_bytes = reasm_caps[(a >> 3) & 3];
    so.hash_seed = 0x706f7374636172dULL;
    so.tls_all_ports = a & 0x20;
    so.stats_interval = b & 1;
    so.summary_interval = (b >> 1) & 1;
    if (b & 4) {
        so.flow_timeout[FLOW_TC_TCP_NEW] = 1 * SEC;
        so.flow_timeout[FLOW_TC_TCP_OPEN] = 2 * SEC;
        so.flow_timeout[FLOW_TC_TCP_CLOSED] = 1 * SEC;
        so.flow_timeout[FLOW_TC_UDP] = 1 * SEC;
    }
    so.no_flow_records = b & 8;
    so.no_mail_records = so.no_tls_records = b & 0x10;
    bool is_live = a & 0x40;

    if (ftruncate(memfd, 0) != 0)
        FUZZ_FAIL("ftruncate failed");
    struct err e = {""};
    struct check_out *chk = check_out_new();
    struct output *file = out_file_open(memfd_path, is_live, &e);
    if (file == NULL)
        FUZZ_FAIL("%s", e.msg);
    struct output *outs[2] = {&chk->o, file};
    struct output *out = out_tee_new(outs, 2);
    struct anon *an = NULL;
    if (a & 0x80) {
        an = anon_new(anon_key, (b & 0x20) ? ANON_USERS_HASH : ANON_USERS_DROP, &e);
        if (an == NULL)
            FUZZ_FAIL("%s", e.msg);
    }
    struct sensor *s = sensor_new(&so, out, &e);
    if (s == NULL)
        FUZZ_FAIL("sensor_new: %s", e.msg);
    if (!(b & 0x40))
        sensor_set_rules(s, rules);
    s->eve.host = "fuzz";
    s->eve.anon = an;
    s->eve.src_key = is_live ? "in_iface" : "pcap_filename";
    s->eve.src_val = is_live ? "fuzz0" : "fuzz.pcap";
    s->is_live = is_live;

    pc_time ts = T_START;
    if (is_live)
        sensor_tick(s, ts); /* main.c: the run's time starts with the capture */
    while (in.n >= 2) {
        ts = next_time(ts, fin_u8(&in));
        uint8_t w = fin_u8(&in);
        if (w == 0xff) {
            if (is_live)
                sensor_tick(s, ts);
            continue;
        }
        if (w == 0xfe) {
            sighup(s, out);
            continue;
        }
        const uint8_t *p;
        size_t caplen = fin_take(&in, fin_be16(&in), &p);
        size_t wirelen = caplen + (w < 0x80 ? w : (size_t)(w - 0x80) * 1024);
        uint8_t *frame = fuzz_copy(p, caplen);
        sensor_packet(s, link, frame, caplen, wirelen, ts);
        free(frame);
    }
    sensor_finish(s); /* ends every flow, writes the last records, flushes the outputs */
    check_file(chk);
    check_summary(s);
    struct rule_engine *eng = sensor_set_rules(s, NULL); /* kept for the next input */
    if (eng != NULL)
        rules = eng;
    sensor_free(s);
    if (out->close(out, &e) != 0) /* the tee closes both */
        FUZZ_FAIL("closing the outputs: %s", e.msg);
    anon_free(an);
    return 0;
}
