/*
 * test-imap.c — imap.c against RFC 9051 / 3501 / 7888 / 2595 / 4959 sessions.
 *
 * Each test plays a conversation through dissect-harness.h, which runs it
 * whole, byte by byte and in 50 random splits, and compares the one event
 * log they all give with the exact text expected.
 */
#include <stdlib.h>
#include <string.h>

#include "dissect-harness.h"
#include "dissector.h"
#include "test.h"

#define D (&imap_dissector)

#define GREET SRV("* OK IMAP4rev1 Service Ready\r\n")
#define GREET_LOG "GREETING IMAP4rev1 Service Ready\n"

#define TLS_CLIENT_BYTES "\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03\r\na9 LOGIN eve secret\r\n"
#define TLS_SERVER_BYTES "\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03\r\na9 OK\r\n"

TEST(imap_greeting_with_capability_code)
{
    struct chunk s[] = {
        SRV("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED AUTH=PLAIN] Dovecot ready.\r\n"),
        CLI("a1 LOGOUT\r\n"), SRV("* BYE Logging out\r\na1 OK Logout completed.\r\n")};
    ASSERT_LOG(D, s,
               "GREETING [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED AUTH=PLAIN] Dovecot "
               "ready.\n"
               "CAPA IMAP4rev1 ''\n"
               "CAPA STARTTLS ''\n"
               "CAPA LOGINDISABLED ''\n"
               "CAPA AUTH=PLAIN ''\n"
               "CAPA_END\n");
}

TEST(imap_capability_response)
{
    struct chunk s[] = {GREET, CLI("a1 CAPABILITY\r\n"),
                        SRV("* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR STARTTLS AUTH=PLAIN "
                            "AUTH=XOAUTH2\r\n"
                            "a1 OK Pre-login capabilities listed, post-login capabilities have "
                            "more.\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "CAPA IMAP4rev1 ''\n"
                         "CAPA LITERAL+ ''\n"
                         "CAPA SASL-IR ''\n"
                         "CAPA STARTTLS ''\n"
                         "CAPA AUTH=PLAIN ''\n"
                         "CAPA AUTH=XOAUTH2 ''\n"
                         "CAPA_END\n");
}

TEST(imap_starttls_ok_upgrades)
{
    struct chunk s[] = {GREET, CLI("a1 STARTTLS\r\n"), SRV("a1 OK Begin TLS negotiation now\r\n"),
                        CLI(TLS_CLIENT_BYTES), SRV(TLS_SERVER_BYTES)};
    ASSERT_LOG(D, s,
               GREET_LOG "STARTTLS\n"
                         "STARTTLS_REPLY ok=1 a1 OK Begin TLS negotiation now\n"
                         "UPGRADE\n");
}

TEST(imap_starttls_no_and_bad_refused)
{
    struct chunk s[] = {GREET,
                        CLI("a1 STARTTLS\r\n"),
                        SRV("a1 NO [UNAVAILABLE] TLS not available\r\n"),
                        CLI("a2 starttls\r\n"),
                        SRV("a2 BAD Unknown command\r\n"),
                        CLI("a3 LOGIN bob secret\r\n"),
                        SRV("a3 OK Logged in\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "STARTTLS\n"
                         "STARTTLS_REPLY ok=0 a1 NO [UNAVAILABLE] TLS not available\n"
                         "STARTTLS\n"
                         "STARTTLS_REPLY ok=0 a2 BAD Unknown command\n"
                         "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=a3 OK Logged in\n");
}

TEST(imap_login_atoms)
{
    struct chunk s[] = {GREET, CLI("a1 LOGIN bob secret\r\n"),
                        SRV("a1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "CAPA IMAP4rev1 ''\n"
                         "CAPA IDLE ''\n"
                         "CAPA_END\n"
                         "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=a1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\n");
}

TEST(imap_login_quoted_strings_with_escaped_quote)
{
    /* RFC 9051 §4.3: quoted strings; "\"" inside the password does not end it. */
    struct chunk s[] = {GREET, CLI("a1 LOGIN \"bob smith\" \"open\\\"sesame\"\r\n"),
                        SRV("a1 OK Logged in\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=LOGIN user=bob smith secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=a1 OK Logged in\n");
}

TEST(imap_login_quoted_user_is_unescaped)
{
    /* The user name a quoted string stands for is its content without the
     * quoting backslashes (RFC 9051 §4.3): "bo\"b\\x" is bo"b\x, the same
     * name a literal {6} would carry. (The log prints '\' as \x5c.) */
    struct chunk s[] = {GREET, CLI("a1 LOGIN \"bo\\\"b\\\\x\" secret\r\n"),
                        SRV("a1 OK Logged in\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=LOGIN user=bo\"b\\x5cx secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=a1 OK Logged in\n");
}

TEST(imap_login_sync_literal_user)
{
    /* RFC 9051 §4.3: the client waits for "+" before sending a {n} literal. */
    struct chunk s[] = {GREET, CLI("a1 LOGIN {5}\r\n"), SRV("+ Ready for literal data\r\n"),
                        CLI("alice secret\r\n"), SRV("a1 OK Logged in\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=LOGIN user=alice secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=a1 OK Logged in\n");
}

TEST(imap_login_nonsync_literal_password)
{
    /* RFC 7888 LITERAL+: {17+} is sent at once. */
    struct chunk s[] = {GREET, CLI("a1 LOGIN alice {17+}\r\nTr0ub4dor&3secret\r\n"),
                        SRV("a1 OK Logged in\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=LOGIN user=alice secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=a1 OK Logged in\n");
}

TEST(imap_login_both_literals)
{
    struct chunk s[] = {GREET,
                        CLI("a1 LOGIN {5}\r\n"),
                        SRV("+ Ready for literal data\r\n"),
                        CLI("alice {17}\r\n"),
                        SRV("+ Ready for literal data\r\n"),
                        CLI("Tr0ub4dor&3secret\r\n"),
                        SRV("a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=LOGIN user=alice secret=1 readable=1 token=0 cmd=1 "
                         "result=failure reply=a1 NO [AUTHENTICATIONFAILED] Authentication "
                         "failed.\n");
}

TEST(imap_login_sync_literal_refused)
{
    /* RFC 9051 §4.3 (and §7.1 [TOOBIG]): the server may refuse a synchronising
     * literal with a tagged NO/BAD instead of "+"; the client then does not
     * send it, and the next bytes are a new command. They must not be read
     * as the literal (here they would put a2's password in a1's user name). */
    struct chunk s[] = {GREET, CLI("a1 LOGIN {21}\r\n"), SRV("a1 NO [TOOBIG] Literal too big\r\n"),
                        CLI("a2 LOGIN bob secret\r\n"), SRV("a2 OK Logged in\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=LOGIN user= secret=0 readable=0 token=0 cmd=1 "
                         "result=failure reply=a1 NO [TOOBIG] Literal too big\n"
                         "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=a2 OK Logged in\n");
}

TEST(imap_authenticate_plain_continuation)
{
    struct chunk s[] = {GREET,
                        CLI("a1 AUTHENTICATE PLAIN\r\n"),
                        SRV("+ \r\n"),
                        CLI(B64_PLAIN_BOB "\r\n"),
                        SRV("a1 OK Logged in\r\n"),
                        CLI("a2 SELECT INBOX\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=PLAIN user=bob secret=1 readable=1 token=0 cmd=0 "
                         "result=success reply=a1 OK Logged in\n");
}

TEST(imap_authenticate_plain_sasl_ir)
{
    /* RFC 4959: the initial response on the command line. */
    struct chunk s[] = {GREET, CLI("a1 AUTHENTICATE PLAIN " B64_PLAIN_AUTHZ "\r\n"),
                        SRV("a1 OK Logged in\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=PLAIN user=bob secret=1 readable=1 token=0 cmd=0 "
                         "result=success reply=a1 OK Logged in\n");
}

TEST(imap_authenticate_login)
{
    struct chunk s[] = {GREET,
                        CLI("a1 AUTHENTICATE LOGIN\r\n"),
                        SRV("+ " B64_USERNAME "\r\n"),
                        CLI(B64_ALICE "\r\n"),
                        SRV("+ " B64_PASSWORD "\r\n"),
                        CLI(B64_HUNTER2 "\r\n"),
                        SRV("a1 OK Logged in\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=LOGIN user=alice secret=1 readable=1 token=0 cmd=0 "
                         "result=success reply=a1 OK Logged in\n");
}

TEST(imap_authenticate_xoauth2)
{
    struct chunk s[] = {GREET, CLI("a1 AUTHENTICATE XOAUTH2 " B64_XOAUTH2_BOB "\r\n"),
                        SRV("a1 OK Success\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=XOAUTH2 user=bob@example.com secret=1 readable=1 token=1 "
                         "cmd=0 result=success reply=a1 OK Success\n");
}

TEST(imap_authenticate_cancelled)
{
    struct chunk s[] = {GREET,
                        CLI("a1 AUTHENTICATE LOGIN\r\n"),
                        SRV("+ " B64_USERNAME "\r\n"),
                        CLI("*\r\n"),
                        SRV("a1 BAD Authentication aborted by client\r\n"),
                        CLI("a2 LOGIN bob secret\r\n"),
                        SRV("a2 OK Logged in\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=LOGIN user= secret=0 readable=0 token=0 cmd=0 "
                         "result=failure reply=a1 BAD Authentication aborted by client\n"
                         "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=a2 OK Logged in\n");
}

TEST(imap_login_tagged_no_failure)
{
    struct chunk s[] = {GREET, CLI("a1 LOGIN bob secret\r\n"),
                        SRV("a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
                        CLI("a2 LOGIN alice hunter2\r\n"), SRV("a2 OK Logged in\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=failure reply=a1 NO [AUTHENTICATIONFAILED] Authentication "
                         "failed.\n"
                         "LOGIN mech=LOGIN user=alice secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=a2 OK Logged in\n");
}

TEST(imap_pipelined_tags_answered_out_of_order)
{
    /* a2's OK comes first and must not end a1's login; a1's NO does. */
    struct chunk s[] = {GREET, CLI("a1 LOGIN bob secret\r\na2 CAPABILITY\r\n"),
                        SRV("* CAPABILITY IMAP4rev1\r\n"
                            "a2 OK Capability completed.\r\n"
                            "a1 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "CAPA IMAP4rev1 ''\n"
                         "CAPA_END\n"
                         "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=failure reply=a1 NO [AUTHENTICATIONFAILED] Invalid "
                         "credentials\n");
}

TEST(imap_fetch_body_literal_is_one_message)
{
    /* The literal's 137 bytes hold lines that look like IMAP responses: a
     * tagged OK, a capability code, another FETCH literal, a continuation.
     * None of them may be parsed. */
    struct chunk s[] = {GREET,
                        CLI("a1 LOGIN bob secret\r\n"),
                        SRV("a1 OK Logged in\r\n"),
                        CLI("a2 FETCH 1 BODY[]\r\n"),
                        SRV("* 1 FETCH (BODY[] {137}\r\n"
                            "From: alice@example.com\r\n"
                            "Subject: looks like IMAP\r\n"
                            "\r\n"
                            "a1 OK fake\r\n"),
                        SRV("* OK [CAPABILITY FAKE] fake\r\n"
                            "* 2 FETCH (BODY[] {3}\r\n"
                            "+ fake\r\n"
                            "a2 OK fake\r\n"
                            ")\r\n"
                            "a2 OK Fetch completed.\r\n"),
                        CLI("a3 STARTTLS\r\n"),
                        SRV("a3 NO already in TLS\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=a1 OK Logged in\n"
                         "MESSAGE 137 from=server\n"
                         "STARTTLS\n"
                         "STARTTLS_REPLY ok=0 a3 NO already in TLS\n");
}

TEST(imap_fetch_header_literal_is_not_a_message)
{
    struct chunk s[] = {GREET, CLI("a2 UID FETCH 7 (FLAGS BODY.PEEK[HEADER])\r\n"),
                        SRV("* 1 FETCH (UID 7 FLAGS (\\Seen) BODY[HEADER] {40}\r\n"
                            "From: alice@example.com\r\n"
                            "Subject: hi\r\n"
                            "\r\n"
                            ")\r\n"
                            "a2 OK Fetch completed.\r\n"),
                        CLI("a3 STARTTLS\r\n"), SRV("a3 BAD no\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "STARTTLS\n"
                         "STARTTLS_REPLY ok=0 a3 BAD no\n");
}

TEST(imap_fetch_empty_body_literal)
{
    /* A message with headers only: BODY[TEXT] is the empty literal {0}. The
     * ")" after it is the rest of the FETCH response, not a new response. */
    struct chunk s[] = {GREET, CLI("a2 FETCH 1 BODY[TEXT]\r\n"),
                        SRV("* 1 FETCH (BODY[TEXT] {0}\r\n)\r\na2 OK Fetch completed.\r\n"),
                        CLI("a3 STARTTLS\r\n"), SRV("a3 BAD no\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "MESSAGE 0 from=server\n"
                         "STARTTLS\n"
                         "STARTTLS_REPLY ok=0 a3 BAD no\n");
}

TEST(imap_append_client_literal_skipped)
{
    struct chunk s[] = {GREET,
                        CLI("a3 APPEND INBOX (\\Seen) {80}\r\n"),
                        SRV("+ Ready for literal data\r\n"),
                        CLI("From: bob@example.com\r\n"
                            "Subject: draft\r\n"
                            "\r\n"
                            "a9 STARTTLS\r\n"
                            "* OK [CAPABILITY FAKE] x\r\n"
                            "\r\n"),
                        SRV("a3 OK [APPENDUID 38505 3955] APPEND completed\r\n"),
                        CLI("a4 LOGOUT\r\n"),
                        SRV("* BYE\r\na4 OK\r\n")};
    ASSERT_LOG(D, s, GREET_LOG);
}

TEST(imap_overlong_line_then_next_line_parsed)
{
    size_t n = 10000;
    const char *tail = "\r\na1 LOGIN bob secret\r\n";
    char *line = malloc(n + strlen(tail));
    ASSERT(line != NULL);
    memcpy(line, "a0 NOOP ", 8);
    memset(line + 8, 'A', n - 8);
    memcpy(line + n, tail, strlen(tail));
    struct chunk s[] = {GREET,
                        {DIR_TO_SERVER, line, n + strlen(tail)},
                        SRV("* BAD line too long\r\na1 OK Logged in\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "ANOMALY line-too-long from=client\n"
                         "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=a1 OK Logged in\n");
    free(line);
}

TEST(imap_bad_literal_size)
{
    struct chunk s[] = {GREET,
                        CLI("a1 SELECT {abc}\r\n"),
                        SRV("a1 BAD Invalid literal\r\n"),
                        CLI("a2 FETCH 1 BODY[]\r\n"),
                        SRV("* 1 FETCH (BODY[] {12x}\r\na2 OK\r\n"),
                        CLI("a3 LOGIN bob secret\r\n"),
                        SRV("a3 OK Logged in\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "ANOMALY bad-literal from=client\n"
                         "ANOMALY bad-literal from=server\n"
                         "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=a3 OK Logged in\n");
}

TEST(imap_gap_in_server_literal)
{
    struct chunk s[] = {GREET,
                        CLI("a2 FETCH 1 BODY[]\r\n"),
                        SRV("* 1 FETCH (BODY[] {100}\r\nFrom: a@example.com\r\n"),
                        GAP_SRV(60),
                        SRV("xxxxxxxxxxxxxxxxxxx)\r\na2 OK Fetch completed.\r\n"),
                        CLI("a3 STARTTLS\r\n"),
                        SRV("a3 OK go\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "ANOMALY stream-gap from=server\n"
                         "MESSAGE 100 from=server\n"
                         "STARTTLS\n"
                         "STARTTLS_REPLY ok=1 a3 OK go\n"
                         "UPGRADE\n");
}

TEST(imap_login_unanswered_reported_at_finish)
{
    struct chunk s[] = {GREET, CLI("a1 LOGIN bob secret\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=unknown reply=\n");
}

TEST(imap_pipelined_login_unanswered_reported_at_finish)
{
    /* The capture ends before the answer; the password crossed the wire in
     * clear all the same, whatever command the client pipelined after it. */
    struct chunk s[] = {GREET, CLI("a1 LOGIN bob secret\r\na2 SELECT INBOX\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=unknown reply=\n");
}

TEST(imap_gap_at_end_of_body_literal)
{
    /* The last 79 bytes of a 100-byte BODY[] literal are lost: the message
     * still crossed the wire in clear, 100 bytes long, as when the gap is
     * in its middle (imap_gap_in_server_literal). */
    struct chunk s[] = {GREET,
                        CLI("a2 FETCH 1 BODY[]\r\n"),
                        SRV("* 1 FETCH (BODY[] {100}\r\nFrom: a@example.com\r\n"),
                        GAP_SRV(79),
                        SRV(")\r\na2 OK Fetch completed.\r\n"),
                        CLI("a3 STARTTLS\r\n"),
                        SRV("a3 OK go\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "ANOMALY stream-gap from=server\n"
                         "MESSAGE 100 from=server\n"
                         "STARTTLS\n"
                         "STARTTLS_REPLY ok=1 a3 OK go\n"
                         "UPGRADE\n");
}

/* The moments the rules act on: LOGIN's credentials once the whole command is in (literals
 * too), AUTHENTICATE's at the response carrying the secret; CAPABILITY, STARTTLS, NOOP and ID
 * carry nothing on. */
TEST(imap_moments_login_with_a_literal_password_and_commands_in_clear)
{
    struct chunk s[] = {GREET,
                        CLI("a1 CAPABILITY\r\n"),
                        SRV("* CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN\r\na1 OK done\r\n"),
                        CLI("a2 ID NIL\r\n"),
                        SRV("* ID NIL\r\na2 OK\r\n"),
                        CLI("a3 NOOP\r\n"),
                        SRV("a3 OK\r\n"),
                        CLI("a4 LOGIN bob {6+}\r\n"),
                        CLI("secret\r\n"),
                        SRV("a4 OK Logged in\r\n"),
                        CLI("a5 LOGOUT\r\n"),
                        SRV("* BYE\r\na5 OK\r\n")};
    ASSERT_MOMENTS(D, s,
                   GREET_LOG "CAPA IMAP4rev1 ''\n"
                             "CAPA LITERAL+ ''\n"
                             "CAPA AUTH=PLAIN ''\n"
                             "CAPA_END\n"
                             "COMMAND LOGIN\n"
                             "LOGIN_SENT mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=1 "
                             "result=unknown reply=\n"
                             "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=1 "
                             "result=success reply=a4 OK Logged in\n"
                             "COMMAND LOGOUT\n");
}

TEST(imap_moments_authenticate_continuation)
{
    struct chunk s[] = {GREET, CLI("a1 AUTHENTICATE PLAIN\r\n"), SRV("+ \r\n"),
                        CLI(B64_PLAIN_BOB "\r\n"), SRV("a1 NO [AUTHENTICATIONFAILED] no\r\n")};
    ASSERT_MOMENTS(D, s,
                   GREET_LOG "COMMAND AUTHENTICATE\n"
                             "LOGIN_SENT mech=PLAIN user=bob secret=1 readable=1 token=0 cmd=0 "
                             "result=unknown reply=\n"
                             "LOGIN mech=PLAIN user=bob secret=1 readable=1 token=0 cmd=0 "
                             "result=failure reply=a1 NO [AUTHENTICATIONFAILED] no\n");
}
