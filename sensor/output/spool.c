/*
 * spool.c — the Redis output's backlog on disk (see spool.h).
 *
 *   DIR/lock                                    flock()ed while a postcard uses DIR
 *   DIR/postcard-00000001000000000000.spool     segments, oldest first (by number)
 *   DIR/postcard-00000001000000000001.spool     <- appends go to the newest
 *
 *   segment = "postcard-spool 1\n" record*
 *   record  = "R " ms "-" seq " " len " " fnv1a32 "\n" data "\n"
 *             ms, seq, len: decimal; fnv1a32: 8 lower-case hex digits of FNV-1a over data;
 *             data: len bytes, one JSON object without its newline; "0-0": never sent
 *
 * Reading moves a cursor through the oldest segment and removes the file when
 * all of it was read; appending goes to the newest until it reaches the segment
 * size, then a new one is started. At exit the records held in memory, older
 * than anything here, go into a new segment numbered below the oldest (with
 * what was left unread of the segment being read), so the next run reads them
 * first. Segments start at number 10^12, leaving room below for prepends.
 *
 * Every record is checked on the way back (header syntax, length bound,
 * terminator, checksum). A record that fails ends what can be trusted of its
 * file: the rest of the file is skipped, counted, and named in spool_problem().
 *
 * Hazards:
 *   [SPOOL-TRUNCATED]   a crash or a full disk mid-write leaves a partial last record
 *   [SPOOL-CORRUPT]     bytes changed on disk: checksum and terminator checked per record
 *   [SPOOL-HOSTILE-LEN] a length read from disk is bounded before anything is read into buf
 *   [SPOOL-TWO-WRITERS] two processes on one directory would interleave: flock on DIR/lock
 *   [SPOOL-FULL-DISK]   a failed write is cut back (ftruncate) so the segment stays valid
 *   [SPOOL-PREPEND]     written under a temporary name, renamed when complete: a crash
 *                       leaves the old files whole (at worst records twice, never none)
 *   [SPOOL-MANY-FILES]  a directory with more files than expected: the list is bounded
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor-limits.h"
#include "output/spool.h"

#define SPOOL_MAGIC "postcard-spool 1\n"
#define SPOOL_FIRST_NUM 1000000000000ull /* 10^12: room below for prepends */
#define SPOOL_NAME_LEN 35                /* "postcard-" + 20 digits + ".spool" */
#define SPOOL_HDR_MAX 80                 /* "R " + 20 + "-" + 20 + " " + 20 + " " + 8 + "\n" */

struct seg {
    uint64_t num;     /* file number: order of the FIFO */
    uint64_t records; /* valid records in the file */
    uint64_t read;    /* of those, read back already */
    uint64_t bytes;   /* file size */
};

struct spool {
    char *dir;             /* the directory */
    uint64_t max_bytes;    /* cap on the files' total size */
    uint64_t seg_max;      /* a segment is closed at this size */
    int lock_fd;           /* DIR/lock, flock()ed; -1 before the directory is used */
    bool created_dir;      /* this run made DIR: removed at the end if empty */
    struct seg *segs;      /* segments, oldest first */
    size_t nseg;           /* in use */
    size_t capseg;         /* allocated */
    FILE *rf;              /* reading segs[0], or NULL */
    FILE *wf;              /* appending to segs[nseg-1], or NULL */
    uint64_t w_good;       /* wf: bytes known written (flushed) */
    uint64_t w_pending;    /* wf: records appended since the last flush */
    uint64_t w_pbytes;     /* wf: their bytes */
    struct spool_counts c; /* counters (records, bytes, segments kept up to date) */
    char problem[256];     /* the last problem, "" if none */
};

static void seg_path(const struct spool *sp, uint64_t num, const char *suffix, char *buf, size_t n)
{
    snprintf(buf, n, "%s/postcard-%020" PRIu64 ".spool%s", sp->dir, num, suffix);
}

static uint32_t fnv1a(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

struct spool *spool_new(const char *dir, uint64_t max_bytes)
{
    struct spool *sp = xcalloc(1, sizeof *sp);
    sp->dir = strdup(dir);
    if (sp->dir == NULL)
        abort();
    sp->max_bytes = max_bytes;
    /* a 64th of the cap, so the cap is overshot by little; bounded both ways */
    sp->seg_max = max_bytes / 64;
    if (sp->seg_max < SPOOL_SEGMENT_MIN_BYTES)
        sp->seg_max = SPOOL_SEGMENT_MIN_BYTES;
    if (sp->seg_max > SPOOL_SEGMENT_MAX_BYTES)
        sp->seg_max = SPOOL_SEGMENT_MAX_BYTES;
    sp->lock_fd = -1;
    return sp;
}

static int take_lock(struct spool *sp, struct err *e)
{
    char path[PATH_BYTES];
    snprintf(path, sizeof path, "%s/lock", sp->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(e, "spool %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) { /* [SPOOL-TWO-WRITERS] */
        int en = errno;
        close(fd);
        if (en == EWOULDBLOCK)
            return err_set(e,
                           "spool %s/ is in use by another postcard (give each its own "
                           "--redis-spool)",
                           sp->dir);
        return err_set(e, "spool %s: %s", path, strerror(en));
    }
    sp->lock_fd = fd;
    return 0;
}

int spool_open(struct spool *sp, struct err *e)
{
    struct stat st;
    if (stat(sp->dir, &st) != 0) {
        if (errno == ENOENT)
            return 0; /* made when first needed */
        return err_set(e, "spool %s: %s", sp->dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return err_set(e, "spool %s: not a directory", sp->dir);
    return take_lock(sp, e);
}

/* The directory, made and locked on first use. */
static int ensure_dir(struct spool *sp, struct err *e)
{
    if (sp->lock_fd >= 0)
        return 0;
    if (mkdir(sp->dir, 0700) == 0)
        sp->created_dir = true;
    else if (errno != EEXIST)
        return err_set(e, "spool %s: %s", sp->dir, strerror(errno));
    return take_lock(sp, e);
}

static void set_problem(struct spool *sp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_problem(struct spool *sp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sp->problem, sizeof sp->problem, fmt, ap);
    va_end(ap);
}

/* ---- reading one record ---------------------------------------------------- */

enum rd { RD_OK, RD_EOF, RD_BAD };

static bool parse_u64(const char **p, char stop, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return false;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    if (*s != stop)
        return false;
    *p = s + 1;
    *v = x;
    return true;
}

/* One record from f into buf. why: the reason of RD_BAD. */
static enum rd read_record(FILE *f, struct spool_item *it, char *buf, size_t cap, const char **why)
{
    char hdr[SPOOL_HDR_MAX + 1];
    size_t n = 0;
    int ch;
    while ((ch = getc(f)) != EOF) {
        if (n == SPOOL_HDR_MAX) {
            *why = "record header too long";
            return RD_BAD;
        }
        hdr[n++] = (char)ch;
        if (ch == '\n')
            break;
    }
    if (n == 0)
        return RD_EOF; /* at a record boundary: the clean end */
    if (hdr[n - 1] != '\n') {
        *why = "truncated record header"; /* [SPOOL-TRUNCATED] */
        return RD_BAD;
    }
    hdr[n] = '\0';
    const char *p = hdr;
    uint64_t ms, seq, len;
    if (strncmp(p, "R ", 2) != 0) {
        *why = "not a record header";
        return RD_BAD;
    }
    p += 2;
    if (!parse_u64(&p, '-', &ms) || !parse_u64(&p, ' ', &seq) || !parse_u64(&p, ' ', &len)) {
        *why = "bad record header";
        return RD_BAD;
    }
    uint32_t sum = 0;
    for (int i = 0; i < 8; i++, p++) {
        int d = (*p >= '0' && *p <= '9') ? *p - '0' : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10 : -1;
        if (d < 0) {
            *why = "bad record checksum field";
            return RD_BAD;
        }
        sum = sum << 4 | (uint32_t)d;
    }
    if (*p != '\n') {
        *why = "bad record header end";
        return RD_BAD;
    }
    if (len == 0 || len >= cap || len > JSON_LINE_MAX) { /* [SPOOL-HOSTILE-LEN] */
        *why = "record length out of range";
        return RD_BAD;
    }
    if (fread(buf, 1, (size_t)len + 1, f) != (size_t)len + 1) {
        *why = "truncated record"; /* [SPOOL-TRUNCATED] */
        return RD_BAD;
    }
    if (buf[len] != '\n') {
        *why = "record not terminated"; /* [SPOOL-CORRUPT] */
        return RD_BAD;
    }
    if (fnv1a(buf, (size_t)len) != sum) {
        *why = "record checksum mismatch"; /* [SPOOL-CORRUPT] */
        return RD_BAD;
    }
    buf[len] = '\0';
    it->ms = ms;
    it->seq = seq;
    it->len = (size_t)len;
    it->data = buf;
    return RD_OK;
}

static bool read_magic(FILE *f)
{
    char m[sizeof SPOOL_MAGIC];
    return fread(m, 1, sizeof SPOOL_MAGIC - 1, f) == sizeof SPOOL_MAGIC - 1 &&
           memcmp(m, SPOOL_MAGIC, sizeof SPOOL_MAGIC - 1) == 0;
}

/* ---- the segment list -------------------------------------------------------- */

static void seg_insert(struct spool *sp, size_t at, const struct seg *s)
{
    if (sp->nseg == sp->capseg) {
        size_t nc = sp->capseg ? sp->capseg * 2 : 16;
        struct seg *ns = realloc(sp->segs, nc * sizeof *ns);
        if (ns == NULL)
            abort();
        sp->segs = ns;
        sp->capseg = nc;
    }
    memmove(&sp->segs[at + 1], &sp->segs[at], (sp->nseg - at) * sizeof *sp->segs);
    sp->segs[at] = *s;
    sp->nseg++;
    sp->c.records += s->records - s->read;
    sp->c.bytes += s->bytes;
    sp->c.segments++;
}

/* Remove segs[0] and its file; its unread records are counted in *unread_to (if not NULL). */
static void seg_drop_first(struct spool *sp, uint64_t *unread_to)
{
    struct seg *s = &sp->segs[0];
    char path[PATH_BYTES];
    if (sp->rf != NULL) {
        fclose(sp->rf);
        sp->rf = NULL;
    }
    if (sp->nseg == 1 && sp->wf != NULL) {
        fclose(sp->wf);
        sp->wf = NULL;
    }
    uint64_t unread = s->records - s->read;
    /* an earlier run's records are the oldest: the first ones dropped */
    sp->c.earlier -= unread < sp->c.earlier ? unread : sp->c.earlier;
    if (unread_to != NULL)
        *unread_to += unread;
    sp->c.records -= unread;
    sp->c.bytes -= s->bytes;
    sp->c.segments--;
    seg_path(sp, s->num, "", path, sizeof path);
    unlink(path);
    memmove(&sp->segs[0], &sp->segs[1], (sp->nseg - 1) * sizeof *sp->segs);
    sp->nseg--;
}

/* Count the valid records of one file; a damaged part is counted and reported. */
static void scan_one(struct spool *sp, uint64_t num, char *buf, size_t cap)
{
    char path[PATH_BYTES];
    seg_path(sp, num, "", path, sizeof path);
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        set_problem(sp, "spool %s: %s: skipped", path, strerror(errno));
        sp->c.corrupt++;
        if (f != NULL)
            fclose(f);
        return;
    }
    struct seg s = {num, 0, 0, (uint64_t)st.st_size};
    if (!read_magic(f)) {
        set_problem(sp, "spool %s: not a postcard spool file: skipped", path);
        sp->c.corrupt++;
    } else {
        struct spool_item it;
        const char *why = "";
        enum rd r;
        while ((r = read_record(f, &it, buf, cap, &why)) == RD_OK)
            s.records++;
        if (r == RD_BAD) {
            set_problem(sp,
                        "spool %s: %s after record %" PRIu64 ": the rest of the file "
                        "skipped",
                        path, why, s.records);
            sp->c.corrupt++;
        }
    }
    fclose(f);
    seg_insert(sp, sp->nseg, &s);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int spool_scan(struct spool *sp)
{
    if (sp->lock_fd < 0)
        return 0; /* no directory: nothing left by a previous run */
    DIR *d = opendir(sp->dir);
    if (d == NULL) {
        set_problem(sp, "spool %s: %s", sp->dir, strerror(errno));
        return -1;
    }
    size_t n = 0, cap = 0;
    uint64_t *nums = NULL;
    struct dirent *de;
    char path[PATH_BYTES];
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        size_t len = strlen(nm);
        if (strncmp(nm, "postcard-", 9) != 0)
            continue;
        if (len == SPOOL_NAME_LEN + 4 && strcmp(nm + SPOOL_NAME_LEN, ".tmp") == 0) {
            /* an unfinished prepend: the files it copied from are still whole */
            snprintf(path, sizeof path, "%s/%s", sp->dir, nm);
            unlink(path);
            continue;
        }
        if (len != SPOOL_NAME_LEN || strcmp(nm + 29, ".spool") != 0)
            continue;
        uint64_t v = 0;
        bool ok = true;
        for (int i = 9; i < 29; i++)
            if (nm[i] < '0' || nm[i] > '9' || v > (UINT64_MAX - 9) / 10)
                ok = false;
            else
                v = v * 10 + (uint64_t)(nm[i] - '0');
        if (!ok)
            continue;
        if (n == SPOOL_MAX_FILES) { /* [SPOOL-MANY-FILES] */
            set_problem(sp, "spool %s: more than %d segment files: the rest ignored", sp->dir,
                        SPOOL_MAX_FILES);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            uint64_t *nn = realloc(nums, cap * sizeof *nn);
            if (nn == NULL)
                abort();
            nums = nn;
        }
        nums[n++] = v;
    }
    closedir(d);
    if (n > 1)
        qsort(nums, n, sizeof *nums, cmp_u64);
    char *buf = xmalloc(JSON_LINE_MAX + 1);
    for (size_t i = 0; i < n; i++)
        scan_one(sp, nums[i], buf, JSON_LINE_MAX + 1);
    free(buf);
    free(nums);
    sp->c.earlier = sp->c.records; /* all of it an earlier run's */
    return 0;
}

/* ---- appending ------------------------------------------------------------------ */

/* Cut the newest segment back to what is known written; its pending records are lost. */
static void write_failed(struct spool *sp)
{
    struct seg *s = &sp->segs[sp->nseg - 1];
    char path[PATH_BYTES];
    seg_path(sp, s->num, "", path, sizeof path);
    fclose(sp->wf); /* may fail too: what it could not write is cut below */
    sp->wf = NULL;
    if (truncate(path, (off_t)sp->w_good) != 0) /* [SPOOL-FULL-DISK] */
        set_problem(sp, "spool %s: cannot cut back a failed write: %s", path, strerror(errno));
    sp->c.lost += sp->w_pending;
    s->records -= sp->w_pending;
    s->bytes -= sp->w_pbytes;
    sp->c.records -= sp->w_pending;
    sp->c.bytes -= sp->w_pbytes;
    sp->w_pending = sp->w_pbytes = 0;
}

int spool_flush(struct spool *sp, struct err *e)
{
    if (sp->wf == NULL || sp->w_pending == 0)
        return 0;
    if (fflush(sp->wf) != 0) {
        int en = errno;
        uint64_t n = sp->w_pending;
        write_failed(sp);
        set_problem(sp, "spool %s: %s: %" PRIu64 " records lost", sp->dir, strerror(en), n);
        return err_set(e, "%s", sp->problem);
    }
    sp->w_good += sp->w_pbytes;
    sp->w_pending = sp->w_pbytes = 0;
    return 0;
}

static int new_segment(struct spool *sp, uint64_t num, struct err *e)
{
    char path[PATH_BYTES];
    seg_path(sp, num, "", path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(e, "spool %s: %s", path, strerror(errno));
    sp->wf = fdopen(fd, "wb");
    if (sp->wf == NULL) {
        close(fd);
        unlink(path);
        return err_set(e, "spool %s: %s", path, strerror(errno));
    }
    if (fwrite(SPOOL_MAGIC, 1, sizeof SPOOL_MAGIC - 1, sp->wf) != sizeof SPOOL_MAGIC - 1 ||
        fflush(sp->wf) != 0) {
        int en = errno;
        fclose(sp->wf);
        sp->wf = NULL;
        unlink(path);
        return err_set(e, "spool %s: %s", path, strerror(en));
    }
    struct seg s = {num, 0, 0, sizeof SPOOL_MAGIC - 1};
    seg_insert(sp, sp->nseg, &s);
    sp->w_good = s.bytes;
    sp->w_pending = sp->w_pbytes = 0;
    return 0;
}

static int put_record(FILE *f, const struct spool_item *it, size_t *written)
{
    char hdr[SPOOL_HDR_MAX + 1];
    int h = snprintf(hdr, sizeof hdr, "R %" PRIu64 "-%" PRIu64 " %zu %08" PRIx32 "\n", it->ms,
                     it->seq, it->len, fnv1a(it->data, it->len));
    if (h < 0 || (size_t)h >= sizeof hdr)
        return -1;
    if (fwrite(hdr, 1, (size_t)h, f) != (size_t)h || fwrite(it->data, 1, it->len, f) != it->len ||
        putc('\n', f) == EOF)
        return -1;
    *written = (size_t)h + it->len + 1;
    return 0;
}

int spool_append(struct spool *sp, const struct spool_item *it, struct err *e)
{
    if (it->len == 0 || it->len > JSON_LINE_MAX) {
        sp->c.lost++;
        return err_set(e, "spool: record of %zu bytes refused", it->len);
    }
    if (ensure_dir(sp, e) != 0) {
        sp->c.lost++;
        return -1;
    }
    if (sp->wf != NULL && sp->segs[sp->nseg - 1].bytes >= sp->seg_max) {
        if (spool_flush(sp, e) != 0)
            return -1;
        if (fclose(sp->wf) != 0) { /* flushed already: nothing left to lose */
            set_problem(sp, "spool %s: %s", sp->dir, strerror(errno));
        }
        sp->wf = NULL;
    }
    if (sp->wf == NULL) {
        uint64_t num = sp->nseg ? sp->segs[sp->nseg - 1].num + 1 : SPOOL_FIRST_NUM;
        if (new_segment(sp, num, e) != 0) {
            sp->c.lost++;
            set_problem(sp, "%s", e->msg);
            return -1;
        }
    }
    size_t w = 0;
    struct seg *s = &sp->segs[sp->nseg - 1];
    if (put_record(sp->wf, it, &w) != 0) {
        int en = errno;
        s->records++; /* counted, then taken back with the other pending ones */
        s->bytes += w;
        sp->c.records++;
        sp->c.bytes += w;
        sp->w_pending++;
        sp->w_pbytes += w;
        uint64_t n = sp->w_pending;
        write_failed(sp);
        set_problem(sp, "spool %s: %s: %" PRIu64 " records lost", sp->dir, strerror(en), n);
        return err_set(e, "%s", sp->problem);
    }
    s->records++;
    s->bytes += w;
    sp->c.records++;
    sp->c.bytes += w;
    sp->w_pending++;
    sp->w_pbytes += w;
    /* past the cap: the oldest segments go, never the one being written */
    while (sp->c.bytes > sp->max_bytes && sp->nseg > 1)
        seg_drop_first(sp, &sp->c.dropped);
    return 0;
}

/* ---- reading back ------------------------------------------------------------- */

int spool_next(struct spool *sp, struct spool_item *it, char *buf, size_t cap)
{
    char path[PATH_BYTES];
    while (sp->nseg > 0) {
        struct seg *s = &sp->segs[0];
        if (s->read == s->records) { /* all read (also what a writer still appends to) */
            seg_drop_first(sp, NULL);
            continue;
        }
        /* the segment being appended to: what the reader is to see must be in the file */
        if (sp->nseg == 1 && sp->wf != NULL && spool_flush(sp, NULL) != 0)
            continue; /* the failed records were taken out of the counts */
        if (sp->rf == NULL) {
            seg_path(sp, s->num, "", path, sizeof path);
            sp->rf = fopen(path, "rb");
            if (sp->rf == NULL || !read_magic(sp->rf)) {
                set_problem(sp, "spool %s: %s: %" PRIu64 " records skipped", path,
                            sp->rf == NULL ? strerror(errno) : "damaged header",
                            s->records - s->read);
                sp->c.corrupt++;
                seg_drop_first(sp, &sp->c.corrupt_recs);
                continue;
            }
        }
        const char *why = "";
        if (read_record(sp->rf, it, buf, cap, &why) == RD_OK) {
            s->read++;
            sp->c.records--;
            it->is_earlier = sp->c.earlier > 0;
            if (it->is_earlier)
                sp->c.earlier--;
            if (s->read == s->records && !(sp->nseg == 1 && sp->wf != NULL))
                seg_drop_first(sp, NULL); /* read to its end: no file is left behind */
            return 1;
        }
        seg_path(sp, s->num, "", path, sizeof path);
        set_problem(sp, "spool %s: %s at record %" PRIu64 ": %" PRIu64 " records skipped", path,
                    why, s->read + 1, s->records - s->read);
        sp->c.corrupt++;
        seg_drop_first(sp, &sp->c.corrupt_recs);
    }
    return 0;
}

/* ---- at exit: what was in memory goes first ---------------------------------------- */

int spool_prepend(struct spool *sp, int (*next)(void *ctx, struct spool_item *it), void *ctx,
                  struct err *e)
{
    if (ensure_dir(sp, e) != 0)
        return -1;
    if (spool_flush(sp, e) != 0)
        return -1;
    uint64_t num = sp->nseg ? sp->segs[0].num - 1 : SPOOL_FIRST_NUM;
    char tmp[PATH_BYTES], path[PATH_BYTES];
    seg_path(sp, num, ".tmp", tmp, sizeof tmp);
    seg_path(sp, num, "", path, sizeof path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (f == NULL) {
        int en = errno;
        if (fd >= 0)
            close(fd);
        return err_set(e, "spool %s: %s", tmp, strerror(en));
    }
    struct seg s = {num, 0, 0, sizeof SPOOL_MAGIC - 1};
    bool ok = fwrite(SPOOL_MAGIC, 1, sizeof SPOOL_MAGIC - 1, f) == sizeof SPOOL_MAGIC - 1;
    struct spool_item it;
    size_t w = 0;
    while (ok && next(ctx, &it) == 1) {
        ok = put_record(f, &it, &w) == 0;
        s.records++;
        s.bytes += w;
    }
    /* the unread rest of a segment partly read: it follows, and that file goes */
    bool take_first = sp->nseg > 0 && sp->rf != NULL && sp->segs[0].read > 0;
    if (ok && take_first) {
        char *buf = xmalloc(JSON_LINE_MAX + 1);
        struct seg *f0 = &sp->segs[0];
        const char *why = "";
        while (ok && f0->read < f0->records &&
               read_record(sp->rf, &it, buf, JSON_LINE_MAX + 1, &why) == RD_OK) {
            f0->read++;
            sp->c.records--;
            ok = put_record(f, &it, &w) == 0;
            s.records++;
            s.bytes += w;
        }
        if (ok && f0->read < f0->records) {
            set_problem(sp, "spool %s: %s at record %" PRIu64 ": %" PRIu64 " records skipped",
                        sp->dir, why, f0->read + 1, f0->records - f0->read);
            sp->c.corrupt++;
        }
        free(buf);
    }
    int en = ok ? 0 : errno;
    if (ok && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
        ok = false;
        en = errno;
    }
    if (fclose(f) != 0 && ok) {
        ok = false;
        en = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        en = errno;
    }
    if (!ok) { /* [SPOOL-PREPEND] the old files stay whole */
        unlink(tmp);
        return err_set(e, "spool %s: %s", path, strerror(en ? en : EIO));
    }
    if (take_first)
        seg_drop_first(sp, &sp->c.corrupt_recs); /* unread: only a damaged part */
    seg_insert(sp, 0, &s);
    return 0;
}

/* ---- the rest ------------------------------------------------------------------ */

void spool_get_counts(const struct spool *sp, struct spool_counts *c)
{
    *c = sp->c;
}

const char *spool_problem(const struct spool *sp)
{
    return sp->problem;
}

const char *spool_dir(const struct spool *sp)
{
    return sp->dir;
}

void spool_free(struct spool *sp)
{
    if (sp == NULL)
        return;
    if (sp->wf != NULL) {
        spool_flush(sp, NULL);
        if (fsync(fileno(sp->wf)) != 0)
            set_problem(sp, "spool %s: %s", sp->dir, strerror(errno));
        fclose(sp->wf);
    }
    if (sp->rf != NULL)
        fclose(sp->rf);
    sp->rf = sp->wf = NULL;
    while (sp->nseg > 0 && sp->segs[0].read == sp->segs[0].records)
        seg_drop_first(sp, NULL); /* read to its end (the one also appended to) */
    if (sp->lock_fd >= 0) {
        if (sp->nseg == 0 && sp->created_dir) {
            char path[PATH_BYTES];
            snprintf(path, sizeof path, "%s/lock", sp->dir);
            unlink(path);
            rmdir(sp->dir); /* fails, harmlessly, if anything else is in it */
        }
        close(sp->lock_fd);
    }
    free(sp->segs);
    free(sp->dir);
    free(sp);
}
