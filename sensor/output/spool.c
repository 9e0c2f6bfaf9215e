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
 * size, then a new one is started. A record read back belongs to the caller from
 * then on (it is in the Redis output's memory until delivered). At exit
 * (spool_put_front) the records still in memory, older than anything here, go
 * into new segments numbered below the oldest, followed by what was left unread
 * of the segment being read, and that segment goes: the files then hold exactly
 * the records not delivered, so the next run sends nothing twice. Segments start
 * at number 10^12, leaving room below for what is put in front.
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
 *   [SPOOL-READ-BACK]   records read back are the caller's: at exit the file they came from
 *                       is rewritten without them, even when memory is empty, or the next
 *                       run would send them again
 *   [SPOOL-CAP-AT-EXIT] what goes in front at exit counts against the cap like any append:
 *                       the oldest are left out (dropped, counted), never the cap overrun
 *   [SPOOL-EMPTY-FILE]  a segment left with no record (a write cut back, a file read to its
 *                       end) is removed at once: no empty file stays behind
 *   [SPOOL-MANY-FILES]  a directory with more files than expected: the list is bounded
 *   [SPOOL-LONG-PATH]   a directory name too long for a segment's path is refused at open,
 *                       never cut short into another name
 */
#include <assert.h>
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
#define SPOOL_SHORT_DIR 97 /* a dir in a struct err (256 bytes) beside a reason: never cut */

struct seg {
    uint64_t num;     /* file number: order of the FIFO */
    uint64_t records; /* valid records in the file */
    uint64_t read;    /* of those, read back already */
    uint64_t bytes;   /* file size */
};

struct spool {
    char *dir;                      /* the directory */
    char sdir[SPOOL_SHORT_DIR];     /* dir for a struct err message: shortened if long */
    uint64_t max_bytes;             /* cap on the files' total size */
    uint64_t seg_max;               /* a segment is closed at this size */
    int lock_fd;                    /* DIR/lock, flock()ed; -1 before the directory is used */
    bool created_dir;               /* this run made DIR: removed at the end if empty */
    struct seg *segs;               /* segments, oldest first */
    size_t nseg;                    /* in use */
    size_t capseg;                  /* allocated */
    FILE *rf;                       /* reading segs[0], or NULL */
    FILE *wf;                       /* appending to segs[nseg-1], or NULL */
    uint64_t w_good;                /* wf: bytes known written (flushed) */
    uint64_t w_pending;             /* wf: records appended since the last flush */
    uint64_t w_pbytes;              /* wf: their bytes */
    struct spool_counts c;          /* counters (records, bytes, segments kept up to date) */
    char problem[PATH_BYTES + 256]; /* the last problem, "" if none: a path and why */
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

/* s as it fits in n bytes: whole, or "..." and its end (a path's last components). */
static void shorten(char *dst, size_t n, const char *s)
{
    size_t len = strlen(s);
    if (len < n)
        memcpy(dst, s, len + 1);
    else
        snprintf(dst, n, "...%s", s + len - (n - 4));
}

struct spool *spool_new(const char *dir, uint64_t max_bytes)
{
    struct spool *sp = xcalloc(1, sizeof *sp);
    sp->dir = strdup(dir);
    if (sp->dir == NULL)
        abort();
    shorten(sp->sdir, sizeof sp->sdir, dir);
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
        return err_set(e, "spool %s/lock: %s", sp->sdir, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) { /* [SPOOL-TWO-WRITERS] */
        int en = errno;
        close(fd);
        if (en == EWOULDBLOCK)
            return err_set(e,
                           "spool %s/ is in use by another postcard (give each its own "
                           "--redis-spool)",
                           sp->sdir);
        return err_set(e, "spool %s/lock: %s", sp->sdir, strerror(en));
    }
    sp->lock_fd = fd;
    return 0;
}

int spool_open(struct spool *sp, struct err *e)
{
    struct stat st;
    if (strlen(sp->dir) + 1 + SPOOL_NAME_LEN + sizeof ".tmp" > PATH_BYTES) /* [SPOOL-LONG-PATH] */
        return err_set(e, "spool directory name too long (%zu bytes; at most %zu)", strlen(sp->dir),
                       (size_t)PATH_BYTES - 1 - SPOOL_NAME_LEN - sizeof ".tmp");
    if (stat(sp->dir, &st) != 0) {
        if (errno == ENOENT)
            return 0; /* made when first needed */
        return err_set(e, "spool %s: %s", sp->sdir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return err_set(e, "spool %s: not a directory", sp->sdir);
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
        return err_set(e, "spool %s: %s", sp->sdir, strerror(errno));
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
    if (unlink(path) != 0 && errno != ENOENT) /* left behind, the next run would read it again */
        set_problem(sp, "spool %s: cannot remove %s: %s", sp->dir, path, strerror(errno));
    memmove(&sp->segs[0], &sp->segs[1], (sp->nseg - 1) * sizeof *sp->segs);
    sp->nseg--;
}

/* Remove the newest segment, which holds no record (a write to it failed), and its file. */
static void seg_drop_last(struct spool *sp)
{
    struct seg *s = &sp->segs[sp->nseg - 1];
    char path[PATH_BYTES];
    assert(s->records == s->read && sp->wf == NULL);
    if (sp->nseg == 1 && sp->rf != NULL) {
        fclose(sp->rf);
        sp->rf = NULL;
    }
    sp->c.bytes -= s->bytes;
    sp->c.segments--;
    seg_path(sp, s->num, "", path, sizeof path);
    unlink(path);
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
    uint64_t corrupt0 = sp->c.corrupt;
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
    if (s.records == 0 && sp->c.corrupt == corrupt0) { /* [SPOOL-EMPTY-FILE] nothing in it */
        unlink(path);
        return;
    }
    seg_insert(sp, sp->nseg, &s);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int spool_scan(struct spool *sp, struct err *e)
{
    if (sp->lock_fd < 0)
        return 0; /* no directory: nothing left by a previous run */
    DIR *d = opendir(sp->dir);
    if (d == NULL) {
        int en = errno;
        set_problem(sp, "spool %s: %s", sp->dir, strerror(en));
        return err_set(e, "spool %s: %s", sp->sdir, strerror(en));
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
    if (s->records == 0) /* [SPOOL-EMPTY-FILE] nothing of it was written */
        seg_drop_last(sp);
}

/* Flushed, then on disk (fsync): called once the run's last record went to the spool, so a
 * failure is said before the summary, not lost with the handle at spool_free. */
int spool_sync(struct spool *sp, struct err *e)
{
    if (spool_flush(sp, e) != 0)
        return -1;
    if (sp->wf != NULL && fsync(fileno(sp->wf)) != 0) {
        int en = errno;
        set_problem(sp, "spool %s: %s: the records kept may not be on disk", sp->dir, strerror(en));
        return err_set(e, "spool %s: %s: the records kept may not be on disk", sp->sdir,
                       strerror(en));
    }
    return 0;
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
        return err_set(e, "spool %s: %s: %" PRIu64 " records lost", sp->sdir, strerror(en), n);
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
        return err_set(e, "spool %s: cannot start a file: %s", sp->sdir, strerror(errno));
    sp->wf = fdopen(fd, "wb");
    if (sp->wf == NULL) {
        int en = errno;
        close(fd);
        unlink(path);
        return err_set(e, "spool %s: cannot start a file: %s", sp->sdir, strerror(en));
    }
    if (fwrite(SPOOL_MAGIC, 1, sizeof SPOOL_MAGIC - 1, sp->wf) != sizeof SPOOL_MAGIC - 1 ||
        fflush(sp->wf) != 0) {
        int en = errno;
        fclose(sp->wf);
        sp->wf = NULL;
        unlink(path);
        return err_set(e, "spool %s: cannot start a file: %s", sp->sdir, strerror(en));
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
        return err_set(e, "spool %s: %s: %" PRIu64 " records lost", sp->sdir, strerror(en), n);
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

static unsigned digits(uint64_t v)
{
    unsigned n = 1;
    for (; v >= 10; v /= 10)
        n++;
    return n;
}

uint64_t spool_item_bytes(const struct spool_item *it)
{
    /* "R " ms "-" seq " " len " " 8 hex digits "\n" data "\n": what put_record writes */
    return 2 + digits(it->ms) + 1 + digits(it->seq) + 1 + digits(it->len) + 1 + 8 + 1 + it->len + 1;
}

/* The segments written in front: temporary files, renamed once all are complete. */
struct front {
    struct spool *sp; /* whose */
    uint64_t first;   /* the number of the first */
    struct seg *segs; /* written so far; the last is open in f */
    size_t n;         /* in segs */
    size_t cap;       /* numbers reserved: first .. first + cap - 1 */
    FILE *f;          /* the one being written, or NULL */
    int err;          /* errno of the first failure, 0 if none */
};

static bool front_failed(struct front *fr, int en)
{
    if (fr->err == 0)
        fr->err = en != 0 ? en : EIO;
    return false;
}

/* The open file written out and synced: it will replace nothing, but must be whole. */
static bool front_close(struct front *fr)
{
    if (fr->f == NULL)
        return true;
    bool ok = fflush(fr->f) == 0 && fsync(fileno(fr->f)) == 0;
    int en = errno;
    if (fclose(fr->f) != 0 && ok) {
        ok = false;
        en = errno;
    }
    fr->f = NULL;
    return ok || front_failed(fr, en);
}

static bool front_put(struct front *fr, const struct spool_item *it)
{
    if (fr->f != NULL && fr->segs[fr->n - 1].bytes >= fr->sp->seg_max && !front_close(fr))
        return false;
    if (fr->f == NULL) {
        if (fr->n == fr->cap) /* more than announced in in_bytes: the caller's mistake */
            return front_failed(fr, EOVERFLOW);
        char tmp[PATH_BYTES];
        uint64_t num = fr->first + fr->n;
        seg_path(fr->sp, num, ".tmp", tmp, sizeof tmp);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        fr->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (fr->f == NULL) {
            int en = errno;
            if (fd >= 0) {
                close(fd);
                unlink(tmp);
            }
            return front_failed(fr, en);
        }
        fr->segs[fr->n++] = (struct seg){num, 0, 0, sizeof SPOOL_MAGIC - 1};
        if (fwrite(SPOOL_MAGIC, 1, sizeof SPOOL_MAGIC - 1, fr->f) != sizeof SPOOL_MAGIC - 1)
            return front_failed(fr, errno);
    }
    size_t w = 0;
    if (put_record(fr->f, it, &w) != 0)
        return front_failed(fr, errno);
    fr->segs[fr->n - 1].records++;
    fr->segs[fr->n - 1].bytes += w;
    return true;
}

/* Undo: the files renamed already (the first `renamed`) and the temporary ones go. */
static void front_discard(struct front *fr, size_t renamed)
{
    if (fr->f != NULL)
        fclose(fr->f);
    fr->f = NULL;
    char path[PATH_BYTES];
    for (size_t i = 0; i < fr->n; i++) {
        seg_path(fr->sp, fr->segs[i].num, i < renamed ? "" : ".tmp", path, sizeof path);
        unlink(path);
    }
}

int spool_put_front(struct spool *sp, int (*next)(void *ctx, struct spool_item *it), void *ctx,
                    uint64_t in_bytes, struct err *e)
{
    spool_flush(sp, NULL); /* what fails is counted lost and named in problem; go on */
    /* [SPOOL-READ-BACK] records spool_next() handed out are the caller's: the file they came
     * from goes, its unread rest copied behind the items */
    bool take_first = sp->nseg > 0 && sp->segs[0].read > 0;
    if (in_bytes == 0 && !take_first)
        return 0;
    if (ensure_dir(sp, e) != 0)
        return -1;
    struct seg *s0 = take_first ? &sp->segs[0] : NULL;
    uint64_t rest = 0; /* bytes of s0 not read yet */
    if (take_first && s0->read < s0->records) {
        assert(sp->rf != NULL); /* spool_next keeps the file it reads open */
        long off = ftell(sp->rf);
        rest = off > 0 && (uint64_t)off <= s0->bytes ? s0->bytes - (uint64_t)off : s0->bytes;
    }
    uint64_t base = sp->nseg > 0 ? sp->segs[0].num : SPOOL_FIRST_NUM;
    /* a file is closed once it holds seg_max bytes, at most 17 of them its first line: the
     * closed ones, the open one, one to spare */
    size_t cap = (size_t)((in_bytes + rest) / (sp->seg_max - 64)) + 2;
    if (base < cap)
        return err_set(e, "spool %s: no file number left below %" PRIu64, sp->sdir, base);
    /* [SPOOL-CAP-AT-EXIT] the cap holds here too: the oldest items are left out */
    uint64_t others = sp->c.bytes - (take_first ? s0->bytes : 0);
    uint64_t total = others + in_bytes + rest + (uint64_t)cap * (sizeof SPOOL_MAGIC - 1);
    uint64_t skip = total > sp->max_bytes ? total - sp->max_bytes : 0;
    struct front fr = {sp, base - cap, xcalloc(cap, sizeof(struct seg)), 0, cap, NULL, 0};
    uint64_t left_out = 0, left_bytes = 0, copied = 0;
    struct spool_item it;
    bool ok = true;
    while (ok && next(ctx, &it) == 1) {
        uint64_t b = spool_item_bytes(&it);
        if (left_bytes < skip) {
            left_bytes += b;
            left_out++;
            continue;
        }
        ok = front_put(&fr, &it);
    }
    const char *why = NULL;
    if (ok && take_first && s0->read < s0->records) {
        char *buf = xmalloc(JSON_LINE_MAX + 1);
        while (ok && s0->read + copied < s0->records) {
            enum rd rr = read_record(sp->rf, &it, buf, JSON_LINE_MAX + 1, &why);
            if (rr != RD_OK) { /* damaged: the rest is counted below */
                if (rr == RD_EOF)
                    why = "file shorter than it was";
                break;
            }
            why = NULL;
            ok = front_put(&fr, &it);
            copied++;
        }
        free(buf);
    }
    ok = ok && front_close(&fr);
    size_t renamed = 0;
    char tmp[PATH_BYTES], path[PATH_BYTES];
    for (; ok && renamed < fr.n; renamed++) { /* [SPOOL-PREPEND] whole files only */
        seg_path(sp, fr.segs[renamed].num, ".tmp", tmp, sizeof tmp);
        seg_path(sp, fr.segs[renamed].num, "", path, sizeof path);
        if (rename(tmp, path) != 0)
            ok = front_failed(&fr, errno);
    }
    if (!ok) { /* the old files stay as they were */
        front_discard(&fr, renamed);
        free(fr.segs);
        set_problem(sp, "spool %s: %s: the records held in memory could not be written", sp->dir,
                    strerror(fr.err));
        return err_set(e, "spool %s: %s", sp->sdir, strerror(fr.err));
    }
    if (take_first) {
        if (why != NULL) {
            seg_path(sp, s0->num, "", path, sizeof path);
            set_problem(sp, "spool %s: %s at record %" PRIu64 ": %" PRIu64 " records skipped", path,
                        why, s0->read + copied + 1, s0->records - s0->read - copied);
            sp->c.corrupt++;
        }
        s0->read += copied;
        sp->c.records -= copied;
        seg_drop_first(sp, &sp->c.corrupt_recs); /* unread now: only a damaged part */
    }
    for (size_t i = 0; i < fr.n; i++)
        seg_insert(sp, i, &fr.segs[i]);
    free(fr.segs);
    sp->c.dropped += left_out;
    if (sp->c.earlier > sp->c.records)
        sp->c.earlier = sp->c.records;
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
    /* [SPOOL-EMPTY-FILE] no file without an unread record stays: one read to its end (also
     * the one appended to), or one that never got a record */
    for (size_t i = 0; i < sp->nseg;) {
        if (sp->segs[i].read < sp->segs[i].records) {
            i++;
            continue;
        }
        char path[PATH_BYTES];
        seg_path(sp, sp->segs[i].num, "", path, sizeof path);
        unlink(path);
        sp->c.bytes -= sp->segs[i].bytes;
        sp->c.segments--;
        memmove(&sp->segs[i], &sp->segs[i + 1], (sp->nseg - i - 1) * sizeof *sp->segs);
        sp->nseg--;
    }
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
