/*
 * report-out.c — headings, paragraphs and tables written as Markdown
 * (CommonMark with GitHub tables) or as HTML, behind one interface, so
 * report-doc.c says once what the report contains. Also the two page
 * frames: report.md as it is, report.html with its style sheet.
 *
 * Every string that came from a summary (sensor names, ports, servers, AS
 * names: all data, some of it typed by whoever controls a server) goes
 * through ro_str/ro_cell, which escape it for the format; only literals of
 * this program go through ro_text/ro_printf.
 *
 * Hazards:
 *   [REPORT-HTML-ESCAPE]  & < > " ' become entities and control bytes U+FFFD, in text
 *                         and in attributes alike, so no input can open a tag, close
 *                         an attribute or start a script
 *   [REPORT-MD-ESCAPE]    Markdown punctuation that could start a link, an image,
 *                         raw HTML, emphasis or a new table cell is backslash-escaped
 *                         (CommonMark §2.4), and line breaks become spaces, so a
 *                         cell stays one cell and a row one row
 *   [REPORT-NO-NETWORK]   report.html loads nothing: a Content-Security-Policy of
 *                         default-src 'none' holds even if something slipped through
 */
#include "report/report.h"

#include <stdarg.h>
#include <string.h>

#include "sensor-limits.h"

void ro_html_escape(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) { /* [REPORT-HTML-ESCAPE] */
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                fputs("&#xfffd;", f);
            else
                putc(c, f);
        }
    }
}

static void md_escape(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) { /* [REPORT-MD-ESCAPE] */
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            putc(c == 0 ? '?' : ' ', f);
            continue;
        }
        if (strchr("\\`*_[]<>|&#~!", c) != NULL)
            putc('\\', f);
        putc(c, f);
    }
}

void ro_str(struct rep_out *o, const char *s, size_t n)
{
    if (o->fmt == REP_HTML)
        ro_html_escape(o->f, s, n);
    else
        md_escape(o->f, s, n);
}

void ro_text(struct rep_out *o, const char *trusted)
{
    fputs(trusted, o->f);
}

void ro_printf(struct rep_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(o->f, fmt, ap);
    va_end(ap);
}

void ro_heading(struct rep_out *o, int level, const char *id, const char *text)
{
    if (o->fmt == REP_HTML) {
        fprintf(o->f, "<h%d id=\"%s\">%s</h%d>\n", level, id, text, level);
        return;
    }
    for (int i = 0; i < level; i++)
        putc('#', o->f);
    fprintf(o->f, " %s\n\n", text);
}

void ro_para_begin(struct rep_out *o)
{
    if (o->fmt == REP_HTML)
        fputs("<p>", o->f);
}

void ro_para_end(struct rep_out *o)
{
    fputs(o->fmt == REP_HTML ? "</p>\n" : "\n\n", o->f);
}

void ro_table_begin(struct rep_out *o, unsigned cols, const char *const *heads)
{
    o->cols = cols < REP_MAX_COLS ? cols : REP_MAX_COLS;
    o->col = 0;
    o->in_row = false;
    for (unsigned i = 0; i < o->cols; i++)
        o->is_num[i] = heads[i][0] == '>';
    if (o->fmt == REP_HTML) {
        fputs("<div class=\"table\"><table>\n<thead><tr>", o->f);
        for (unsigned i = 0; i < o->cols; i++)
            fprintf(o->f, "<th%s>%s</th>", o->is_num[i] ? " class=\"num\"" : "",
                    heads[i] + o->is_num[i]);
        fputs("</tr></thead>\n<tbody>\n", o->f);
        return;
    }
    fputs("|", o->f);
    for (unsigned i = 0; i < o->cols; i++)
        fprintf(o->f, " %s |", heads[i] + o->is_num[i]);
    fputs("\n|", o->f);
    for (unsigned i = 0; i < o->cols; i++)
        fputs(o->is_num[i] ? "--:|" : "---|", o->f);
    fputs("\n", o->f);
}

void ro_cell_begin(struct rep_out *o)
{
    if (!o->in_row) {
        fputs(o->fmt == REP_HTML ? "<tr>" : "|", o->f);
        o->in_row = true;
        o->col = 0;
    }
    if (o->fmt == REP_HTML)
        fputs(o->col < o->cols && o->is_num[o->col] ? "<td class=\"num\">" : "<td>", o->f);
    else
        putc(' ', o->f);
}

void ro_cell_end(struct rep_out *o)
{
    fputs(o->fmt == REP_HTML ? "</td>" : " |", o->f);
    if (++o->col == o->cols) {
        if (o->fmt == REP_HTML)
            fputs("</tr>", o->f);
        putc('\n', o->f);
        o->in_row = false;
    }
}

void ro_cell(struct rep_out *o, const char *s, size_t n)
{
    ro_cell_begin(o);
    ro_str(o, s, n);
    ro_cell_end(o);
}

void ro_cell_text(struct rep_out *o, const char *trusted)
{
    ro_cell_begin(o);
    fputs(trusted, o->f);
    ro_cell_end(o);
}

void ro_cell_count(struct rep_out *o, uint64_t v)
{
    char b[40];
    rv_count(b, sizeof b, v);
    ro_cell_text(o, b);
}

void ro_cell_pct(struct rep_out *o, uint64_t part, uint64_t whole)
{
    char b[24];
    rv_pct(b, sizeof b, part, whole);
    ro_cell_text(o, b);
}

void ro_table_end(struct rep_out *o)
{
    while (o->in_row) /* a row left short is filled, so the table stays rectangular */
        ro_cell_text(o, "");
    fputs(o->fmt == REP_HTML ? "</tbody></table></div>\n" : "\n", o->f);
}

/* ---- the two files ------------------------------------------------------------------- */

int report_write_md(FILE *f, const struct jval *doc)
{
    struct rep_out o = {.f = f, .fmt = REP_MD};
    report_sections(&o, doc, NULL);
    fputs("*Written by `postcard report` " POSTCARD_VERSION " from summary schema 1.*\n", f);
    return ferror(f) ? -1 : 0;
}

/* Okabe-Ito colours (readable with the common colour-vision deficiencies). */
static const char css[] =
    ":root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--ink);"
    "font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif}\n"
    "main{max-width:62rem;margin:0 auto;padding:1rem 1.25rem 3rem}\n"
    "h1{font-size:1.7rem;margin:.5rem 0 1rem;line-height:1.2}\n"
    "h2{font-size:1.3rem;margin:2.2rem 0 .6rem;padding-bottom:.2rem;"
    "border-bottom:1px solid var(--line)}\n"
    "h3{font-size:1.05rem;margin:1.4rem 0 .4rem}\n"
    "p{max-width:46rem}\n"
    ".meta{color:var(--muted)}\n"
    ".table{overflow-x:auto;-webkit-overflow-scrolling:touch}\n"
    "table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.9rem}\n"
    "th,td{padding:.3rem .7rem;border-bottom:1px solid var(--line);text-align:left;"
    "vertical-align:top}\n"
    "th{background:#f6f8fa}\n"
    ".num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "figure{margin:1rem 0 1.2rem}\n"
    "figcaption{color:var(--muted);font-size:.85rem;margin-top:.3rem}\n"
    "svg.chart{display:block;width:100%;max-width:100%;height:auto}\n"
    "svg.chart text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',"
    "sans-serif}\n"
    "footer{margin-top:3rem;color:var(--muted);font-size:.85rem}\n"
    /* a phone: charts keep a readable text size and scroll sideways, as tables do */
    "@media (max-width:40rem){body{font-size:15px}main{padding:.6rem .7rem 2rem}"
    "th,td{padding:.25rem .4rem}figure{overflow-x:auto;-webkit-overflow-scrolling:touch}"
    "svg.chart{min-width:34rem}figcaption{position:sticky;left:0}}\n"
    "@media print{body{font-size:10.5pt}main{max-width:none;padding:0}"
    "h2{break-after:avoid}figure,table,tr{break-inside:avoid}"
    "th{background:none}.table{overflow:visible}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

static void chart_html(FILE *f, const struct jval *doc, const char *which)
{
    report_svg_chart(f, doc, which);
}

int report_write_html(FILE *f, const struct jval *doc)
{
    struct rep_out o = {.f = f, .fmt = REP_HTML};
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          /* [REPORT-NO-NETWORK] nothing is fetched, nothing runs */
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">\n"
          "<title>postcard report</title>\n<style>\n",
          f);
    fputs(css, f);
    fputs("</style>\n</head>\n<body>\n<main>\n", f);
    report_sections(&o, doc, chart_html);
    fputs("<footer>Written by <code>postcard report</code> " POSTCARD_VERSION
          " from summary schema 1. This page loads nothing from the network.</footer>\n"
          "</main>\n</body>\n</html>\n",
          f);
    return ferror(f) ? -1 : 0;
}
