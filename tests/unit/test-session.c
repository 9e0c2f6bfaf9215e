/*
 * test-session.c — what a mail session says when it did not see all of itself: a session
 * cut by eviction (is_cut) and one picked up mid-way (is_midstream) give STARTTLS "unknown"
 * exactly where the part seen does not show the outcome, keep every outcome it does show,
 * and take no greeting mid-way.
 *
 * Sessions are built with session_new and fed real protocol lines (session_data), or given
 * the facts a dissector would have set.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "app/session.h"
#include "packet/flow.h"
#include "test.h"

static struct flow flow_to(uint16_t port)
{
    struct flow f;
    memset(&f, 0, sizeof f);
    f.ipver = 4;
    f.proto = 6;
    f.srv[0] = 10;
    f.cli[0] = 192;
    f.cport = 40000;
    f.sport = port;
    return f;
}

/* Feed one direction's text to the session (0: to the server). */
static void feed(struct session *ss, struct starttls_memory *mem, const struct flow *f, int dir,
                 const char *text, struct stats *st)
{
    session_data(ss, mem, f, dir, (const uint8_t *)text, strlen(text), st);
}

TEST(a_session_picked_up_midway_takes_no_greeting)
{
    struct starttls_memory *mem = starttls_memory_new();
    struct stats st = {0};
    struct flow f = flow_to(587);
    for (int midstream = 0; midstream < 2; midstream++) {
        struct session *ss = session_new(PROTO_SMTP, false);
        ss->is_midstream = midstream;
        /* the answer to an AUTH sent before the capture began: a reply, not a greeting */
        feed(ss, mem, &f, 1, "235 2.7.0 Authentication successful\r\n", &st);
        feed(ss, mem, &f, 0, "MAIL FROM:<a@example.org>\r\n", &st);
        feed(ss, mem, &f, 1, "250 2.1.0 Ok\r\n", &st);
        ASSERT(session_close(ss, mem, &f, &st)); /* SMTP all the same */
        /* from the start, the first server line is the greeting, whatever it says */
        ASSERT_EQ(ss->greeting.n, midstream ? 0 : strlen("2.7.0 Authentication successful"));
        ASSERT_EQ(session_starttls(ss, NULL), midstream ? STARTTLS_UNKNOWN : STARTTLS_NOT_OFFERED);
        session_free(ss);
    }
    starttls_memory_free(mem);
}

TEST(a_listing_seen_midway_still_decides)
{
    struct starttls_memory *mem = starttls_memory_new();
    struct stats st = {0};
    struct flow f = flow_to(25);
    struct session *ss = session_new(PROTO_SMTP, false);
    ss->is_midstream = true;
    feed(ss, mem, &f, 0, "EHLO client.example\r\n", &st);
    feed(ss, mem, &f, 1, "250-mail.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", &st);
    feed(ss, mem, &f, 0, "MAIL FROM:<a@example.org>\r\n", &st);
    ASSERT(ss->caps_seen);
    ASSERT_EQ(session_starttls(ss, NULL), STARTTLS_NOT_OFFERED); /* the listing lacked it */
    ASSERT(session_starttls_settled(ss, NULL));
    session_free(ss);
    starttls_memory_free(mem);
}

/* The facts a dissector would have set, for each case below. */
enum seen {
    S_NOTHING,
    S_OFFERED,
    S_OFFERED_WENT_ON,
    S_LISTING_WITHOUT,
    S_MANGLED,
    S_ASKED,
    S_REFUSED,
    S_ACCEPTED
};

static struct session *with(enum seen what, bool is_cut, bool is_midstream)
{
    struct session *ss = session_new(PROTO_SMTP, false);
    ss->is_cut = is_cut;
    ss->is_midstream = is_midstream;
    ss->client_started = true;
    ss->caps_seen = what != S_NOTHING;
    ss->offers_starttls = what >= S_OFFERED && what != S_LISTING_WITHOUT && what != S_MANGLED;
    ss->went_on = what == S_OFFERED_WENT_ON;
    ss->starttls_mangled = what == S_MANGLED;
    ss->starttls_requested = what >= S_ASKED;
    ss->starttls_reply_seen = what >= S_REFUSED;
    ss->starttls_ok = what == S_ACCEPTED;
    ss->is_upgraded = what == S_ACCEPTED;
    ss->is_closed = true;
    return ss;
}

TEST(a_cut_session_says_unknown_where_only_its_missing_part_would_tell)
{
    static const struct {
        enum seen what;               /* what was seen before the end */
        enum starttls_outcome ended;  /* the outcome of a session that ended */
        enum starttls_outcome cut;    /* of one cut there */
        enum starttls_outcome midway; /* of one picked up mid-way that ended */
    } k[] = {
        {S_NOTHING, STARTTLS_NOT_OFFERED, STARTTLS_UNKNOWN, STARTTLS_UNKNOWN},
        {S_OFFERED, STARTTLS_OFFERED_UNUSED, STARTTLS_UNKNOWN, STARTTLS_OFFERED_UNUSED},
        {S_OFFERED_WENT_ON, STARTTLS_OFFERED_UNUSED, STARTTLS_OFFERED_UNUSED,
         STARTTLS_OFFERED_UNUSED},
        {S_LISTING_WITHOUT, STARTTLS_NOT_OFFERED, STARTTLS_NOT_OFFERED, STARTTLS_NOT_OFFERED},
        {S_MANGLED, STARTTLS_STRIPPED, STARTTLS_STRIPPED, STARTTLS_STRIPPED},
        {S_ASKED, STARTTLS_FAILED, STARTTLS_UNKNOWN, STARTTLS_FAILED},
        {S_REFUSED, STARTTLS_REFUSED, STARTTLS_REFUSED, STARTTLS_REFUSED},
        {S_ACCEPTED, STARTTLS_FAILED, STARTTLS_UNKNOWN, STARTTLS_FAILED}, /* no handshake seen */
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        struct session *a = with(k[i].what, false, false);
        struct session *b = with(k[i].what, true, false);
        struct session *c = with(k[i].what, false, true);
        ASSERT_EQ(session_starttls(a, NULL), k[i].ended);
        ASSERT_EQ(session_starttls(b, NULL), k[i].cut);
        ASSERT_EQ(session_starttls(c, NULL), k[i].midway);
        ASSERT(session_starttls_settled(a, NULL)); /* ended: everything is final */
        /* cut: settled exactly where the outcome is known */
        ASSERT_EQ(session_starttls_settled(b, NULL), k[i].cut != STARTTLS_UNKNOWN);
        session_free(a);
        session_free(b);
        session_free(c);
    }
}

TEST(tls_first_midway_is_implicit_only_on_an_implicit_tls_port)
{
    struct session *ss = session_new(PROTO_SMTP, true);
    ASSERT_EQ(session_starttls(ss, NULL), STARTTLS_IMPLICIT);
    ss->is_midstream = true; /* on 25 or 587 the bytes may follow a STARTTLS not seen */
    ASSERT_EQ(session_starttls(ss, NULL), STARTTLS_UNKNOWN);
    ss->is_tls_port = true; /* on 465 TLS is there from the first byte */
    ASSERT_EQ(session_starttls(ss, NULL), STARTTLS_IMPLICIT);
    session_free(ss);
}
