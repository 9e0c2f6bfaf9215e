/*
 * lexer.c — the text layer of the rule language: physical lines joined
 * into logical lines at a trailing backslash (with a map back to each
 * byte's line and column), quoted strings, words and numbers.
 *
 *   physical:  alert smtp any any -> any any ( \      line 7
 *                msg:"x"; sid:1; )                    line 8
 *   logical:   alert smtp any any -> any any (   msg:"x"; sid:1; )
 *              seg[0] = {off 0, line 7}  seg[1] = {off 31, line 8}
 *
 * Lines end at LF; a CR before the LF is dropped. The backslash must be the
 * line's last byte (before CR): it and the line end are removed and the
 * next line follows with nothing inserted, as Suricata does. Columns count
 * bytes from 1.
 *
 * Hazards: [RULES-LINE-RUNAWAY] a file of backslash-ended lines would join
 * into one endless rule: past RULES_MAX_RULE_BYTES the text is no longer
 * kept (the line is consumed and reported as too long).
 * [RULES-STRING-LONG] strings are cut off at RULES_MAX_STRING_BYTES.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules-int.h"

void rl_line_init(struct rl_line *ln)
{
    memset(ln, 0, sizeof *ln);
}

void rl_line_free(struct rl_line *ln)
{
    free(ln->s);
    free(ln->seg);
    memset(ln, 0, sizeof *ln);
}

static void line_add_seg(struct rl_line *ln, uint32_t line)
{
    void *p = ln->seg;
    rl_grow(&p, &ln->cap_seg, ln->n_seg + 1, sizeof ln->seg[0]);
    ln->seg = p;
    ln->seg[ln->n_seg].off = ln->n;
    ln->seg[ln->n_seg].line = line;
    ln->n_seg++;
}

static void line_add_text(struct rl_line *ln, const char *p, size_t n)
{
    void *s = ln->s;
    rl_grow(&s, &ln->cap, ln->n + n + 1, 1);
    ln->s = s;
    memcpy(ln->s + ln->n, p, n);
    ln->n += n;
    ln->s[ln->n] = '\0';
}

bool rl_line_next(struct rl_line *ln, const char *text, size_t n, size_t *pos, uint32_t *lineno)
{
    if (*pos >= n)
        return false;
    ln->n = 0;
    ln->n_seg = 0;
    ln->is_too_long = false;
    line_add_text(ln, "", 0);
    for (;;) {
        size_t start = *pos;
        const char *lf = memchr(text + start, '\n', n - start);
        size_t end = lf ? (size_t)(lf - text) : n;
        *pos = lf ? end + 1 : n;
        uint32_t line = (*lineno)++;
        size_t len = end - start;
        if (len > 0 && text[start + len - 1] == '\r')
            len--;
        bool is_cont = len > 0 && text[start + len - 1] == '\\';
        if (is_cont)
            len--;
        if (!ln->is_too_long && ln->n + len > RULES_MAX_RULE_BYTES) {
            ln->is_too_long = true; /* [RULES-LINE-RUNAWAY] keep consuming, stop keeping */
            line_add_seg(ln, line); /* what fits: where it starts, and whether it is a comment */
            line_add_text(ln, text + start, RULES_MAX_RULE_BYTES - ln->n);
        }
        if (!ln->is_too_long) {
            line_add_seg(ln, line);
            line_add_text(ln, text + start, len);
        }
        if (!is_cont || *pos >= n)
            break;
    }
    return true;
}

void rl_line_set(struct rl_line *ln, const char *s, size_t n, uint32_t line)
{
    ln->n = 0;
    ln->n_seg = 0;
    ln->is_too_long = false;
    line_add_seg(ln, line);
    line_add_text(ln, s, n);
}

void rl_line_where(const struct rl_line *ln, size_t off, uint32_t *line, uint32_t *col)
{
    if (ln->n_seg == 0) {
        *line = 1;
        *col = 1;
        return;
    }
    size_t lo = 0, hi = ln->n_seg; /* the last segment starting at or before off */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (ln->seg[mid].off <= off)
            lo = mid;
        else
            hi = mid;
    }
    *line = ln->seg[lo].line;
    *col = (uint32_t)(off - ln->seg[lo].off + 1);
}

/* ---- characters and words ------------------------------------------------ */

bool rl_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

bool rl_is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool rl_is_word_char(char c)
{
    return rl_is_name_char(c) || c == '-';
}

void rl_skip_space(const char *s, size_t end, size_t *pos)
{
    while (*pos < end && rl_is_space(s[*pos]))
        (*pos)++;
}

size_t rl_word_len(const char *s, size_t end, size_t pos, bool dots)
{
    size_t i = pos;
    while (i < end && (rl_is_word_char(s[i]) || (dots && s[i] == '.')))
        i++;
    return i - pos;
}

bool rl_word_eq(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

const char *rl_show(const char *s, size_t end, size_t pos, char *buf, size_t size)
{
    enum { SHOW_MAX = 24 }; /* enough to recognise, short enough for one line */
    if (pos >= end) {
        snprintf(buf, size, "the end of the line");
        return buf;
    }
    size_t i = pos;
    while (i < end && !rl_is_space(s[i]) && i - pos < SHOW_MAX)
        i++;
    bool is_cut = i < end && !rl_is_space(s[i]);
    snprintf(buf, size, "'%.*s%s'", (int)(i - pos), s + pos, is_cut ? "..." : "");
    return buf;
}

int rl_string(const char *s, size_t end, size_t *pos, char **out, struct rl_perr *pe)
{
    size_t open = *pos, i = *pos + 1;
    char buf[RULES_MAX_STRING_BYTES];
    size_t n = 0;
    for (;;) {
        if (i >= end)
            return rl_perr_set(pe, open, "unterminated string");
        char c = s[i];
        if (c == '"')
            break;
        if (c == '\\') {
            if (i + 1 >= end)
                return rl_perr_set(pe, open, "unterminated string");
            char e = s[i + 1];
            if (e != '"' && e != '\\' && e != ';')
                return rl_perr_set(pe, i,
                                   "unknown escape '\\%c' (a string knows \\\", \\\\ and \\;)", e);
            c = e;
            i++;
        }
        if (n >= sizeof buf) /* [RULES-STRING-LONG] */
            return rl_perr_set(pe, open, "string longer than %d bytes", RULES_MAX_STRING_BYTES);
        buf[n++] = c;
        i++;
    }
    *pos = i + 1;
    *out = rl_xstrndup(buf, n);
    return 0;
}

int rl_parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}
