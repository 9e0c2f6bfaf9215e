/*
 * test-pop3.c — pop3.c against RFC 1939 / 2449 / 2595 / 5034 sessions.
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

#define D (&pop3_dissector)

/* RFC 1939 §7: the APOP timestamp is the <...> in the greeting. */
#define GREET SRV("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n")
#define GREET_LOG "GREETING POP3 server ready <1896.697170952@dbc.mtview.ca.us>\n"

#define TLS_CLIENT_BYTES                                                                           \
    "\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03\r\nUSER eve\r\nPASS secret\r\n"
#define TLS_SERVER_BYTES "\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03\r\n+OK\r\n"

TEST(pop3_greeting_with_apop_timestamp)
{
    struct chunk s[] = {GREET, CLI("QUIT\r\n"), SRV("+OK dewey POP3 server signing off\r\n")};
    ASSERT_LOG(D, s, GREET_LOG);
}

TEST(pop3_capa_listing)
{
    struct chunk s[] = {GREET, CLI("CAPA\r\n"),
                        SRV("+OK Capability list follows\r\n"
                            "TOP\r\n"
                            "USER\r\n"
                            "SASL PLAIN LOGIN\r\n"
                            "STLS\r\n"
                            "PIPELINING\r\n"
                            "IMPLEMENTATION Dovecot\r\n"
                            ".\r\n"),
                        CLI("USER bob\r\n"), SRV("+OK\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "CAPA TOP ''\n"
                         "CAPA USER ''\n"
                         "CAPA SASL 'PLAIN LOGIN'\n"
                         "CAPA STLS ''\n"
                         "CAPA PIPELINING ''\n"
                         "CAPA IMPLEMENTATION 'Dovecot'\n"
                         "CAPA_END\n");
}

TEST(pop3_capa_refused)
{
    struct chunk s[] = {GREET,
                        CLI("CAPA\r\n"),
                        SRV("-ERR unknown command\r\n"),
                        CLI("USER bob\r\n"),
                        SRV("+OK\r\n"),
                        CLI("PASS secret\r\n"),
                        SRV("+OK Logged in.\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=USER user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=+OK Logged in.\n");
}

TEST(pop3_stls_accepted)
{
    struct chunk s[] = {GREET,
                        CLI("CAPA\r\n"),
                        SRV("+OK\r\nSTLS\r\nUSER\r\n.\r\n"),
                        CLI("STLS\r\n"),
                        SRV("+OK Begin TLS negotiation\r\n"),
                        CLI(TLS_CLIENT_BYTES),
                        SRV(TLS_SERVER_BYTES)};
    ASSERT_LOG(D, s,
               GREET_LOG "CAPA STLS ''\n"
                         "CAPA USER ''\n"
                         "CAPA_END\n"
                         "STARTTLS\n"
                         "STARTTLS_REPLY ok=1 +OK Begin TLS negotiation\n"
                         "UPGRADE\n");
}

TEST(pop3_stls_refused)
{
    struct chunk s[] = {GREET,
                        CLI("STLS\r\n"),
                        SRV("-ERR TLS not available\r\n"),
                        CLI("USER bob\r\n"),
                        SRV("+OK\r\n"),
                        CLI("PASS secret\r\n"),
                        SRV("+OK Logged in.\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "STARTTLS\n"
                         "STARTTLS_REPLY ok=0 -ERR TLS not available\n"
                         "LOGIN mech=USER user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=+OK Logged in.\n");
}

TEST(pop3_user_pass_success)
{
    struct chunk s[] = {GREET, CLI("USER bob\r\n"), SRV("+OK\r\n"), CLI("PASS secret\r\n"),
                        SRV("+OK Logged in.\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=USER user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=+OK Logged in.\n");
}

TEST(pop3_user_pass_failure_then_retry)
{
    struct chunk s[] = {GREET,
                        CLI("USER bob\r\n"),
                        SRV("+OK\r\n"),
                        CLI("PASS secret\r\n"),
                        SRV("-ERR [AUTH] Authentication failed.\r\n"),
                        CLI("USER alice\r\n"),
                        SRV("+OK\r\n"),
                        CLI("PASS hunter2\r\n"),
                        SRV("+OK Logged in.\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=USER user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=failure reply=-ERR [AUTH] Authentication failed.\n"
                         "LOGIN mech=USER user=alice secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=+OK Logged in.\n");
}

TEST(pop3_pass_unanswered_reported_at_finish)
{
    struct chunk s[] = {GREET, CLI("USER bob\r\n"), SRV("+OK\r\n"), CLI("PASS secret\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=USER user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=unknown reply=\n");
}

TEST(pop3_apop_secret_not_readable)
{
    struct chunk s[] = {GREET, CLI("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
                        SRV("+OK mrose's maildrop has 2 messages (320 octets)\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=APOP user=mrose secret=1 readable=0 token=0 cmd=1 "
                         "result=success reply=+OK mrose's maildrop has 2 messages (320 "
                         "octets)\n");
}

TEST(pop3_auth_plain_initial_response)
{
    struct chunk s[] = {GREET, CLI("AUTH PLAIN " B64_PLAIN_BOB "\r\n"), SRV("+OK Logged in.\r\n"),
                        CLI("STAT\r\n"), SRV("+OK 0 0\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=PLAIN user=bob secret=1 readable=1 token=0 cmd=0 "
                         "result=success reply=+OK Logged in.\n");
}

TEST(pop3_auth_login_two_step)
{
    struct chunk s[] = {GREET,
                        CLI("AUTH LOGIN\r\n"),
                        SRV("+ " B64_USERNAME "\r\n"),
                        CLI(B64_BOB "\r\n"),
                        SRV("+ " B64_PASSWORD "\r\n"),
                        CLI(B64_SECRET "\r\n"),
                        SRV("+OK Logged in.\r\n"),
                        CLI("USER alice\r\n"),
                        SRV("-ERR already authenticated\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=0 "
                         "result=success reply=+OK Logged in.\n");
}

TEST(pop3_auth_cancelled)
{
    struct chunk s[] = {GREET,
                        CLI("AUTH PLAIN\r\n"),
                        SRV("+ \r\n"),
                        CLI("*\r\n"),
                        SRV("-ERR Authentication aborted\r\n"),
                        CLI("USER bob\r\n"),
                        SRV("+OK\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=PLAIN user= secret=0 readable=0 token=0 cmd=0 "
                         "result=failure reply=-ERR Authentication aborted\n");
}

TEST(pop3_auth_without_mechanism_lists_mechanisms)
{
    /* RFC 1734: "AUTH" alone lists the mechanisms in a multi-line answer. */
    struct chunk s[] = {GREET, CLI("AUTH\r\n"), SRV("+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n"),
                        CLI("AUTH PLAIN " B64_PLAIN_BOB "\r\n"), SRV("+OK Logged in.\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=PLAIN user=bob secret=1 readable=1 token=0 cmd=0 "
                         "result=success reply=+OK Logged in.\n");
}

TEST(pop3_retr_dot_stuffed_message)
{
    /* 94 bytes up to the last CRLF; "..leading dot" and ".." are stuffed
     * lines (RFC 1939 §3), and status-like lines inside are message text. */
    struct chunk s[] = {GREET,
                        CLI("RETR 1\r\n"),
                        SRV("+OK 92 octets\r\n"
                            "From: alice@example.com\r\n"
                            "Subject: dots\r\n"
                            "\r\n"
                            "..leading dot\r\n"
                            "..\r\n"
                            "+OK fake status\r\n"),
                        SRV("-ERR fake\r\n"
                            "end\r\n."),
                        SRV("\r\n"),
                        CLI("DELE 1\r\n"),
                        SRV("+OK message 1 deleted\r\n"),
                        CLI("USER bob\r\nPASS secret\r\n"),
                        SRV("+OK\r\n+OK\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "MESSAGE 94 from=server\n"
                         "LOGIN mech=USER user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=+OK\n");
}

TEST(pop3_retr_error_is_not_a_message)
{
    struct chunk s[] = {GREET,
                        CLI("RETR 9\r\n"),
                        SRV("-ERR no such message\r\n"),
                        CLI("USER bob\r\n"),
                        SRV("+OK\r\n"),
                        CLI("PASS secret\r\n"),
                        SRV("-ERR nope\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=USER user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=failure reply=-ERR nope\n");
}

TEST(pop3_top_message)
{
    struct chunk s[] = {GREET, CLI("TOP 1 0\r\n"), SRV("+OK\r\nSubject: x\r\n\r\n.\r\n"),
                        CLI("NOOP\r\n"), SRV("+OK\r\n")};
    ASSERT_LOG(D, s, GREET_LOG "MESSAGE 14 from=server\n");
}

TEST(pop3_list_and_uidl_listings_are_not_messages)
{
    struct chunk s[] = {GREET,
                        CLI("LIST\r\n"),
                        SRV("+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n"),
                        CLI("LIST 2\r\n"),
                        SRV("+OK 2 200\r\n"),
                        CLI("UIDL\r\n"),
                        SRV("+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n"),
                        CLI("USER bob\r\n"),
                        SRV("+OK\r\n"),
                        CLI("PASS secret\r\n"),
                        SRV("+OK\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "LOGIN mech=USER user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=+OK\n");
}

TEST(pop3_pipelined_commands)
{
    /* RFC 2449 §6.6: replies come in the order of the commands. */
    struct chunk s[] = {GREET, CLI("CAPA\r\n"), SRV("+OK\r\nPIPELINING\r\nUSER\r\n.\r\n"),
                        CLI("USER bob\r\nPASS secret\r\nSTAT\r\nLIST\r\nRETR 1\r\nQUIT\r\n"),
                        SRV("+OK\r\n"
                            "+OK Logged in.\r\n"
                            "+OK 1 5\r\n"
                            "+OK 1 messages\r\n1 5\r\n.\r\n"
                            "+OK 5 octets\r\nabc\r\n.\r\n"
                            "+OK Bye\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "CAPA PIPELINING ''\n"
                         "CAPA USER ''\n"
                         "CAPA_END\n"
                         "LOGIN mech=USER user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=+OK Logged in.\n"
                         "MESSAGE 5 from=server\n");
}

TEST(pop3_greeting_missed_client_speaks_first)
{
    struct chunk s[] = {CLI("CAPA\r\n"), SRV("+OK\r\nUSER\r\nSTLS\r\n.\r\n"), CLI("STLS\r\n"),
                        SRV("+OK Begin TLS\r\n"), CLI(TLS_CLIENT_BYTES)};
    ASSERT_LOG(D, s,
               "CAPA USER ''\n"
               "CAPA STLS ''\n"
               "CAPA_END\n"
               "STARTTLS\n"
               "STARTTLS_REPLY ok=1 +OK Begin TLS\n"
               "UPGRADE\n");
}

TEST(pop3_overlong_line_then_next_line_parsed)
{
    size_t n = 10000;
    const char *tail = "\r\nUSER bob\r\n";
    char *line = malloc(n + strlen(tail));
    ASSERT(line != NULL);
    memset(line, 'A', n);
    memcpy(line + n, tail, strlen(tail));
    struct chunk s[] = {GREET,
                        {DIR_TO_SERVER, line, n + strlen(tail)},
                        SRV("-ERR line too long\r\n+OK\r\n"),
                        CLI("PASS secret\r\n"),
                        SRV("+OK\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "ANOMALY line-too-long from=client\n"
                         "LOGIN mech=USER user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=+OK\n");
    free(line);
}

TEST(pop3_bad_reply_line)
{
    struct chunk s[] = {GREET, CLI("NOOP\r\n"), SRV("* OK this is IMAP\r\n+OK\r\n")};
    ASSERT_LOG(D, s, GREET_LOG "ANOMALY bad-reply from=server\n");
}

TEST(pop3_gap_in_message_counted)
{
    struct chunk s[] = {GREET,          CLI("RETR 1\r\n"),      SRV("+OK\r\nline one\r\nli"),
                        GAP_SRV(50),    SRV("ne\r\n.\r\n"),     CLI("USER bob\r\n"),
                        SRV("+OK\r\n"), CLI("PASS secret\r\n"), SRV("+OK\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "ANOMALY stream-gap from=server\n"
                         "MESSAGE 66 from=server\n"
                         "LOGIN mech=USER user=bob secret=1 readable=1 token=0 cmd=1 "
                         "result=success reply=+OK\n");
}

TEST(pop3_gap_in_listing_then_message)
{
    /* A gap inside a LIST answer: the dissector drops bytes to the next LF,
     * which puts it at the start of a line, so the ".\r\n" that follows ends
     * the listing and the RETR after it is a message. */
    struct chunk s[] = {GREET,
                        CLI("LIST\r\n"),
                        SRV("+OK 2 messages\r\n1 120\r\n2 2"),
                        GAP_SRV(2),
                        SRV("0\r\n.\r\n"),
                        CLI("RETR 1\r\n"),
                        SRV("+OK\r\nSubject: x\r\n\r\n.\r\n"),
                        CLI("USER bob\r\n"),
                        SRV("+OK\r\n")};
    ASSERT_LOG(D, s,
               GREET_LOG "ANOMALY stream-gap from=server\n"
                         "MESSAGE 14 from=server\n");
}

/* The moments the rules act on: USER/PASS's credentials at PASS, APOP's at APOP, SASL's at
 * the response that carries the secret; CAPA, STLS, NOOP and an AUTH listing carry nothing on. */
TEST(pop3_moments_credentials_and_commands_in_clear)
{
    struct chunk s[] = {GREET,
                        CLI("CAPA\r\n"),
                        SRV("+OK\r\nUSER\r\nSTLS\r\n.\r\n"),
                        CLI("AUTH\r\n"),
                        SRV("+OK\r\nPLAIN\r\n.\r\n"),
                        CLI("NOOP\r\n"),
                        SRV("+OK\r\n"),
                        CLI("USER bob\r\n"),
                        SRV("+OK\r\n"),
                        CLI("PASS secret\r\n"),
                        SRV("-ERR [AUTH] Authentication failed.\r\n"),
                        CLI("AUTH PLAIN\r\n"),
                        SRV("+ \r\n"),
                        CLI(B64_PLAIN_BOB "\r\n"),
                        SRV("+OK Logged in.\r\n"),
                        CLI("QUIT\r\n"),
                        SRV("+OK Bye\r\n")};
    ASSERT_MOMENTS(D, s,
                   GREET_LOG "CAPA USER ''\n"
                             "CAPA STLS ''\n"
                             "CAPA_END\n"
                             "COMMAND USER\n"
                             "COMMAND PASS\n"
                             "LOGIN_SENT mech=USER user=bob secret=1 readable=1 token=0 cmd=1 "
                             "result=unknown reply=\n"
                             "LOGIN mech=USER user=bob secret=1 readable=1 token=0 cmd=1 "
                             "result=failure reply=-ERR [AUTH] Authentication failed.\n"
                             "COMMAND AUTH\n"
                             "LOGIN_SENT mech=PLAIN user=bob secret=1 readable=1 token=0 cmd=0 "
                             "result=unknown reply=\n"
                             "LOGIN mech=PLAIN user=bob secret=1 readable=1 token=0 cmd=0 "
                             "result=success reply=+OK Logged in.\n"
                             "COMMAND QUIT\n");
}

TEST(pop3_moments_apop_credentials_with_the_command)
{
    struct chunk s[] = {GREET, CLI("APOP bob c4c9334bac560ecc979e58001b3e22fb\r\n"),
                        SRV("+OK maildrop has 1 message\r\n")};
    ASSERT_MOMENTS(D, s,
                   GREET_LOG "COMMAND APOP\n"
                             "LOGIN_SENT mech=APOP user=bob secret=1 readable=0 token=0 cmd=1 "
                             "result=unknown reply=\n"
                             "LOGIN mech=APOP user=bob secret=1 readable=0 token=0 cmd=1 "
                             "result=success reply=+OK maildrop has 1 message\n");
}
