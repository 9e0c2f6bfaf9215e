/*
 * test-smtp.c — smtp.c against RFC 5321 / 3207 / 4954 / 2920 / 3030 sessions.
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

#define D (&smtp_dissector)

#define GREET SRV("220 mail.example.com ESMTP Postfix\r\n")
#define EHLO_SHORT                                                                                 \
    CLI("EHLO client.example\r\n"), SRV("250-mail.example.com\r\n250 AUTH PLAIN LOGIN\r\n")
#define EHLO_SHORT_LOG                                                                             \
    "GREETING mail.example.com ESMTP Postfix\n"                                                    \
    "HELO client.example\n"                                                                        \
    "CAPA AUTH 'PLAIN LOGIN'\n"                                                                    \
    "CAPA_END\n"

/* A TLS ClientHello / ServerHello start, with lines of SMTP inside that must not count. */
#define TLS_CLIENT_BYTES                                                                           \
    "\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03"                                                 \
    "\r\nMAIL FROM:<tls@example.com>\r\nAUTH PLAIN " B64_PLAIN_BOB "\r\n\x00\x01\xff"
#define TLS_SERVER_BYTES                                                                           \
    "\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03"                                                 \
    "\r\n250-STARTTLS\r\n220 hello\r\n\x80\x00"

TEST(smtp_greeting)
{
    struct chunk s[] = {GREET, CLI("QUIT\r\n"), SRV("221 2.0.0 Bye\r\n")};
    ASSERT_LOG(D, s, "GREETING mail.example.com ESMTP Postfix\n");
}

TEST(smtp_greeting_multiline)
{
    struct chunk s[] = {SRV("220-mail.example.com ESMTP\r\n220-no UCE\r\n220 ready\r\n"),
                        CLI("HELO client.example\r\n"), SRV("250 mail.example.com\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP\n"
               "HELO client.example\n"
               "CAPA_END\n");
}

TEST(smtp_ehlo_capabilities)
{
    struct chunk s[] = {GREET, CLI("EHLO client.example\r\n"),
                        SRV("250-mail.example.com Hello client.example\r\n"
                            "250-PIPELINING\r\n"
                            "250-SIZE 35882577\r\n"
                            "250-CHUNKING\r\n"
                            "250-STARTTLS\r\n"
                            "250 AUTH PLAIN LOGIN CRAM-MD5\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP Postfix\n"
               "HELO client.example\n"
               "CAPA PIPELINING ''\n"
               "CAPA SIZE '35882577'\n"
               "CAPA CHUNKING ''\n"
               "CAPA STARTTLS ''\n"
               "CAPA AUTH 'PLAIN LOGIN CRAM-MD5'\n"
               "CAPA_END\n");
}

TEST(smtp_helo_lists_no_capabilities)
{
    struct chunk s[] = {GREET, CLI("HELO client.example\r\n"), SRV("250 mail.example.com\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP Postfix\n"
               "HELO client.example\n"
               "CAPA_END\n");
}

TEST(smtp_starttls_accepted_then_tls_bytes_are_not_smtp)
{
    struct chunk s[] = {GREET,
                        CLI("EHLO client.example\r\n"),
                        SRV("250-mail.example.com\r\n250 STARTTLS\r\n"),
                        CLI("STARTTLS\r\n"),
                        SRV("220 2.0.0 Ready to start TLS\r\n"),
                        CLI(TLS_CLIENT_BYTES),
                        SRV(TLS_SERVER_BYTES),
                        CLI("\x14\x03\x03\x00\x01\x01\r\nQUIT\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP Postfix\n"
               "HELO client.example\n"
               "CAPA STARTTLS ''\n"
               "CAPA_END\n"
               "STARTTLS\n"
               "STARTTLS_REPLY ok=1 220 2.0.0 Ready to start TLS\n"
               "UPGRADE\n");
}

TEST(smtp_starttls_accepted_tls_in_same_segment)
{
    /* The server's TLS bytes follow its 220 in the same segment. */
    struct chunk s[] = {GREET, CLI("STARTTLS\r\n"),
                        SRV("220 2.0.0 Ready to start TLS\r\n" TLS_SERVER_BYTES),
                        CLI(TLS_CLIENT_BYTES)};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP Postfix\n"
               "STARTTLS\n"
               "STARTTLS_REPLY ok=1 220 2.0.0 Ready to start TLS\n"
               "UPGRADE\n");
}

TEST(smtp_starttls_refused)
{
    struct chunk s[] = {GREET,
                        EHLO_SHORT,
                        CLI("STARTTLS\r\n"),
                        SRV("454 4.7.0 TLS not available due to temporary reason\r\n"),
                        CLI("MAIL FROM:<alice@example.com>\r\n"),
                        SRV("250 2.1.0 Ok\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG "STARTTLS\n"
                              "STARTTLS_REPLY ok=0 454 4.7.0 TLS not available due to "
                              "temporary reason\n"
                              "MAIL_FROM <alice@example.com>\n");
}

TEST(smtp_auth_plain_initial_response)
{
    struct chunk s[] = {GREET, EHLO_SHORT, CLI("AUTH PLAIN " B64_PLAIN_BOB "\r\n"),
                        SRV("235 2.7.0 Authentication successful\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG
               "LOGIN mech=PLAIN user=bob secret=1 readable=1 token=0 cmd=0 result=success "
               "reply=235 2.7.0 Authentication successful\n");
}

TEST(smtp_auth_plain_two_step_with_authzid)
{
    struct chunk s[] = {GREET,
                        EHLO_SHORT,
                        CLI("auth plain\r\n"),
                        SRV("334 \r\n"),
                        CLI(B64_PLAIN_AUTHZ "\r\n"),
                        SRV("235 2.7.0 Authentication successful\r\n"),
                        CLI("MAIL FROM:<bob@example.com>\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG
               "LOGIN mech=PLAIN user=bob secret=1 readable=1 token=0 cmd=0 result=success "
               "reply=235 2.7.0 Authentication successful\n"
               "MAIL_FROM <bob@example.com>\n");
}

TEST(smtp_auth_login)
{
    struct chunk s[] = {GREET,
                        EHLO_SHORT,
                        CLI("AUTH LOGIN\r\n"),
                        SRV("334 " B64_USERNAME "\r\n"),
                        CLI(B64_BOB "\r\n"),
                        SRV("334 " B64_PASSWORD "\r\n"),
                        CLI(B64_SECRET "\r\n"),
                        SRV("235 2.7.0 Authentication successful\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG
               "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=0 result=success "
               "reply=235 2.7.0 Authentication successful\n");
}

TEST(smtp_auth_login_initial_response)
{
    struct chunk s[] = {GREET,
                        EHLO_SHORT,
                        CLI("AUTH LOGIN " B64_ALICE "\r\n"),
                        SRV("334 " B64_PASSWORD "\r\n"),
                        CLI(B64_HUNTER2 "\r\n"),
                        SRV("235 2.7.0 Authentication successful\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG
               "LOGIN mech=LOGIN user=alice secret=1 readable=1 token=0 cmd=0 result=success "
               "reply=235 2.7.0 Authentication successful\n");
}

TEST(smtp_auth_cram_md5_secret_not_readable)
{
    struct chunk s[] = {
        GREET,
        EHLO_SHORT,
        CLI("AUTH CRAM-MD5\r\n"),
        SRV("334 PDQxOTI5NDIzNDEuMTI4Mjg0NzJAc291cmNlZm91ci5hbmRyZXcuY211LmVkdT4=\r\n"),
        CLI(B64_CRAM_BOB "\r\n"),
        SRV("235 2.7.0 Authentication successful\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG "LOGIN mech=CRAM-MD5 user=bob secret=1 readable=0 token=0 cmd=0 "
                              "result=success reply=235 2.7.0 Authentication successful\n");
}

TEST(smtp_auth_xoauth2_token)
{
    struct chunk s[] = {GREET, EHLO_SHORT, CLI("AUTH XOAUTH2 " B64_XOAUTH2_BOB "\r\n"),
                        SRV("235 2.7.0 Accepted\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG "LOGIN mech=XOAUTH2 user=bob@example.com secret=1 readable=1 "
                              "token=1 cmd=0 result=success reply=235 2.7.0 Accepted\n");
}

TEST(smtp_auth_oauthbearer_token)
{
    struct chunk s[] = {GREET, EHLO_SHORT, CLI("AUTH OAUTHBEARER " B64_OAUTHBEARER_BOB "\r\n"),
                        SRV("235 2.7.0 Accepted\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG "LOGIN mech=OAUTHBEARER user=bob@example.com secret=1 "
                              "readable=1 token=1 cmd=0 result=success reply=235 2.7.0 "
                              "Accepted\n");
}

TEST(smtp_auth_oauthbearer_failure_json_challenge)
{
    /* RFC 7628 §3.2.2: on failure the server sends a JSON challenge in a 334
     * and the client answers with a dummy ^A; then 535. */
    struct chunk s[] = {GREET,
                        EHLO_SHORT,
                        CLI("AUTH OAUTHBEARER " B64_OAUTHBEARER_BOB "\r\n"),
                        SRV("334 eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=\r\n"),
                        CLI("AQ==\r\n"),
                        SRV("535 5.7.8 Authentication credentials invalid\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG "LOGIN mech=OAUTHBEARER user=bob@example.com secret=1 "
                              "readable=1 token=1 cmd=0 result=failure reply=535 5.7.8 "
                              "Authentication credentials invalid\n");
}

TEST(smtp_auth_scram_user_from_client_first)
{
    struct chunk s[] = {
        GREET,
        EHLO_SHORT,
        CLI("AUTH SCRAM-SHA-256 " B64_SCRAM_FIRST_BOB "\r\n"),
        SRV("334 cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRixzPVcy"
            "MlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=\r\n"),
        CLI(B64_SCRAM_FINAL "\r\n"),
        SRV("334 dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ==\r\n"),
        CLI("\r\n"),
        SRV("235 2.7.0 Authentication successful\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG "LOGIN mech=SCRAM-SHA-256 user=bob secret=1 readable=0 token=0 "
                              "cmd=0 result=success reply=235 2.7.0 Authentication "
                              "successful\n");
}

TEST(smtp_auth_cancelled_by_client)
{
    struct chunk s[] = {GREET,
                        EHLO_SHORT,
                        CLI("AUTH LOGIN\r\n"),
                        SRV("334 " B64_USERNAME "\r\n"),
                        CLI("*\r\n"),
                        SRV("501 5.7.0 Authentication aborted\r\n"),
                        CLI("QUIT\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG "LOGIN mech=LOGIN user= secret=0 readable=0 token=0 cmd=0 "
                              "result=failure reply=501 5.7.0 Authentication aborted\n");
}

TEST(smtp_auth_failure_535)
{
    struct chunk s[] = {GREET,
                        EHLO_SHORT,
                        CLI("AUTH PLAIN " B64_PLAIN_BOB "\r\n"),
                        SRV("535 5.7.8 Error: authentication failed\r\n"),
                        CLI("AUTH LOGIN " B64_ALICE "\r\n"),
                        SRV("334 " B64_PASSWORD "\r\n"),
                        CLI(B64_HUNTER2 "\r\n"),
                        SRV("235 2.7.0 Ok\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG
               "LOGIN mech=PLAIN user=bob secret=1 readable=1 token=0 cmd=0 result=failure "
               "reply=535 5.7.8 Error: authentication failed\n"
               "LOGIN mech=LOGIN user=alice secret=1 readable=1 token=0 cmd=0 result=success "
               "reply=235 2.7.0 Ok\n");
}

TEST(smtp_auth_unanswered_reported_at_finish)
{
    struct chunk s[] = {GREET, EHLO_SHORT, CLI("AUTH PLAIN " B64_PLAIN_BOB "\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG "LOGIN mech=PLAIN user=bob secret=1 readable=1 token=0 cmd=0 "
                              "result=unknown reply=\n");
}

TEST(smtp_auth_bad_base64)
{
    struct chunk s[] = {GREET,
                        EHLO_SHORT,
                        CLI("AUTH LOGIN\r\n"),
                        SRV("334 " B64_USERNAME "\r\n"),
                        CLI("not base64!\r\n"),
                        SRV("501 5.5.2 Cannot decode response\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG "ANOMALY bad-base64 from=client\n"
                              "LOGIN mech=LOGIN user= secret=0 readable=0 token=0 cmd=0 "
                              "result=failure reply=501 5.5.2 Cannot decode response\n");
}

TEST(smtp_mail_from_rcpt_to)
{
    struct chunk s[] = {GREET,
                        EHLO_SHORT,
                        CLI("MAIL FROM:<alice@example.com> SIZE=1024 BODY=8BITMIME\r\n"),
                        SRV("250 2.1.0 Ok\r\n"),
                        CLI("RCPT TO:<bob@example.org>\r\n"),
                        SRV("250 2.1.5 Ok\r\n"),
                        CLI("rcpt to: <carol@example.org> NOTIFY=NEVER\r\n"),
                        SRV("250 2.1.5 Ok\r\n"),
                        CLI("MAIL FROM:<>\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG "MAIL_FROM <alice@example.com>\n"
                              "RCPT_TO <bob@example.org>\n"
                              "RCPT_TO <carol@example.org>\n"
                              "MAIL_FROM <>\n");
}

TEST(smtp_data_dot_stuffed_body_counted_once)
{
    /* 72 bytes of body up to and including the last line's CRLF; the ".."
     * lines are dot-stuffed (RFC 5321 §4.5.2) and do not end it; the final
     * CRLF.CRLF is cut across three segments. */
    struct chunk s[] = {GREET,
                        EHLO_SHORT,
                        CLI("MAIL FROM:<alice@example.com>\r\n"),
                        SRV("250 2.1.0 Ok\r\n"),
                        CLI("RCPT TO:<bob@example.org>\r\n"),
                        SRV("250 2.1.5 Ok\r\n"),
                        CLI("DATA\r\n"),
                        SRV("354 End data with <CR><LF>.<CR><LF>\r\n"),
                        CLI("From: alice@example.com\r\n"
                            "Subject: dots\r\n"
                            "\r\n"
                            "..leading dot\r\n"
                            "..\r\n"
                            "last line\r"),
                        CLI("\n.\r"),
                        CLI("\n"),
                        SRV("250 2.0.0 Ok: queued as 4ABC\r\n"),
                        CLI("MAIL FROM:<carol@example.com>\r\n"),
                        SRV("250 2.1.0 Ok\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG "MAIL_FROM <alice@example.com>\n"
                              "RCPT_TO <bob@example.org>\n"
                              "MESSAGE 72 from=client\n"
                              "MAIL_FROM <carol@example.com>\n");
}

TEST(smtp_data_commands_inside_body_are_not_parsed)
{
    struct chunk s[] = {GREET,
                        CLI("MAIL FROM:<a@example.com>\r\n"),
                        SRV("250 Ok\r\n"),
                        CLI("RCPT TO:<b@example.com>\r\n"),
                        SRV("250 Ok\r\n"),
                        CLI("DATA\r\n"),
                        SRV("354 go\r\n"),
                        CLI("MAIL FROM:<inside@example.com>\r\n"
                            "AUTH PLAIN " B64_PLAIN_BOB "\r\n"
                            ". not the end\r\n"
                            ".\r\n"),
                        SRV("250 Ok\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP Postfix\n"
               "MAIL_FROM <a@example.com>\n"
               "RCPT_TO <b@example.com>\n"
               "MESSAGE 76 from=client\n");
}

TEST(smtp_data_empty_body)
{
    struct chunk s[] = {GREET,        CLI("DATA\r\n"),   SRV("354 go\r\n"),
                        CLI(".\r\n"), SRV("250 Ok\r\n"), CLI("MAIL FROM:<a@example.com>\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP Postfix\n"
               "MESSAGE 0 from=client\n"
               "MAIL_FROM <a@example.com>\n");
}

TEST(smtp_data_refused_then_commands_parsed)
{
    struct chunk s[] = {GREET,
                        EHLO_SHORT,
                        CLI("MAIL FROM:<alice@example.com>\r\n"),
                        SRV("250 2.1.0 Ok\r\n"),
                        CLI("RCPT TO:<nobody@example.org>\r\n"),
                        SRV("550 5.1.1 <nobody@example.org>: Recipient address rejected\r\n"),
                        CLI("DATA\r\n"),
                        SRV("554 5.5.1 Error: no valid recipients\r\n"),
                        CLI("RSET\r\n"),
                        SRV("250 2.0.0 Ok\r\n"),
                        CLI("MAIL FROM:<alice@example.com>\r\n"),
                        SRV("250 2.1.0 Ok\r\n"),
                        CLI("RCPT TO:<dave@example.org>\r\n"),
                        SRV("250 2.1.5 Ok\r\n"),
                        CLI("AUTH PLAIN " B64_PLAIN_BOB "\r\n"),
                        SRV("503 5.5.1 Error: MAIL transaction in progress\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG "MAIL_FROM <alice@example.com>\n"
                              "RCPT_TO <nobody@example.org>\n"
                              "MAIL_FROM <alice@example.com>\n"
                              "RCPT_TO <dave@example.org>\n"
                              "LOGIN mech=PLAIN user=bob secret=1 readable=1 token=0 cmd=0 "
                              "result=failure reply=503 5.5.1 Error: MAIL transaction in "
                              "progress\n");
}

TEST(smtp_bdat_two_chunks_last)
{
    /* RFC 3030: the chunks are raw bytes; a command line inside one is data. */
    struct chunk s[] = {GREET,
                        CLI("EHLO client.example\r\n"),
                        SRV("250-mail.example.com\r\n250 CHUNKING\r\n"),
                        CLI("MAIL FROM:<alice@example.com>\r\n"),
                        SRV("250 2.1.0 Ok\r\n"),
                        CLI("RCPT TO:<bob@example.org>\r\n"),
                        SRV("250 2.1.5 Ok\r\n"),
                        CLI("BDAT 18\r\nMAIL FROM:<no@t>\r\n"),
                        SRV("250 2.0.0 18 octets received\r\n"),
                        CLI("BDAT 7 LAST\r\nhi\r\nbye"),
                        SRV("250 2.0.0 Message accepted\r\n"),
                        CLI("RCPT TO:<after@example.org>\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP Postfix\n"
               "HELO client.example\n"
               "CAPA CHUNKING ''\n"
               "CAPA_END\n"
               "MAIL_FROM <alice@example.com>\n"
               "RCPT_TO <bob@example.org>\n"
               "MESSAGE 25 from=client\n"
               "RCPT_TO <after@example.org>\n");
}

TEST(smtp_pipelined_transaction)
{
    struct chunk s[] = {GREET,
                        CLI("EHLO client.example\r\n"),
                        SRV("250-mail.example.com\r\n250 PIPELINING\r\n"),
                        CLI("MAIL FROM:<a@example.com>\r\n"
                            "RCPT TO:<b@example.com>\r\n"
                            "RCPT TO:<c@example.com>\r\n"
                            "DATA\r\n"),
                        SRV("250 2.1.0 Ok\r\n"
                            "250 2.1.5 Ok\r\n"
                            "250 2.1.5 Ok\r\n"
                            "354 End data with <CR><LF>.<CR><LF>\r\n"),
                        CLI("Subject: p\r\n\r\nhello\r\n.\r\n"),
                        SRV("250 2.0.0 Ok: queued\r\n"),
                        CLI("RSET\r\nEHLO again.example\r\n"),
                        SRV("250 2.0.0 Ok\r\n250-mail.example.com\r\n250 SIZE 1000\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP Postfix\n"
               "HELO client.example\n"
               "CAPA PIPELINING ''\n"
               "CAPA_END\n"
               "MAIL_FROM <a@example.com>\n"
               "RCPT_TO <b@example.com>\n"
               "RCPT_TO <c@example.com>\n"
               "MESSAGE 21 from=client\n"
               "HELO again.example\n"
               "CAPA SIZE '1000'\n"
               "CAPA_END\n");
}

TEST(smtp_pipelined_data_refused)
{
    /* The third reply (554) answers DATA: no body follows, commands go on. */
    struct chunk s[] = {GREET,
                        CLI("MAIL FROM:<a@example.com>\r\n"
                            "RCPT TO:<nobody@example.com>\r\n"
                            "DATA\r\n"),
                        SRV("250 2.1.0 Ok\r\n"
                            "550 5.1.1 User unknown\r\n"
                            "554 5.5.1 Error: no valid recipients\r\n"),
                        CLI("MAIL FROM:<z@example.com>\r\n"), SRV("250 2.1.0 Ok\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP Postfix\n"
               "MAIL_FROM <a@example.com>\n"
               "RCPT_TO <nobody@example.com>\n"
               "MAIL_FROM <z@example.com>\n");
}

TEST(smtp_overlong_line_then_next_line_parsed)
{
    size_t n = 10000;
    const char *tail = "\r\nMAIL FROM:<a@example.com>\r\n";
    char *line = malloc(n + strlen(tail));
    ASSERT(line != NULL);
    memset(line, 'A', n);
    memcpy(line + n, tail, strlen(tail));
    struct chunk s[] = {GREET,
                        {DIR_TO_SERVER, line, n + strlen(tail)},
                        SRV("500 5.5.2 Line too long\r\n250 2.1.0 Ok\r\n"),
                        CLI("RCPT TO:<b@example.com>\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP Postfix\n"
               "ANOMALY line-too-long from=client\n"
               "MAIL_FROM <a@example.com>\n"
               "RCPT_TO <b@example.com>\n");
    free(line);
}

TEST(smtp_overlong_server_line)
{
    size_t n = 10000;
    char *line = malloc(n + 2);
    ASSERT(line != NULL);
    memcpy(line, "250-", 4);
    memset(line + 4, 'x', n - 4);
    memcpy(line + n, "\r\n", 2);
    /* The ehlo-line in the middle is lost; the reply goes on with the next line. */
    struct chunk s[] = {GREET,
                        CLI("EHLO client.example\r\n"),
                        SRV("250-mail.example.com\r\n"),
                        {DIR_TO_CLIENT, line, n + 2},
                        SRV("250 STARTTLS\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP Postfix\n"
               "HELO client.example\n"
               "ANOMALY line-too-long from=server\n"
               "CAPA STARTTLS ''\n"
               "CAPA_END\n");
    free(line);
}

TEST(smtp_gap_in_command_resyncs_on_next_line)
{
    struct chunk s[] = {GREET,
                        EHLO_SHORT,
                        CLI("MAIL FROM:<alice@exa"),
                        GAP_CLI(20),
                        CLI("mple.com>\r\nRCPT TO:<bob@example.org>\r\n"),
                        SRV("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"),
                        CLI("DATA\r\n"),
                        SRV("354 go\r\n"),
                        CLI("x\r\n.\r\n")};
    ASSERT_LOG(D, s,
               EHLO_SHORT_LOG "ANOMALY stream-gap from=client\n"
                              "RCPT_TO <bob@example.org>\n"
                              "MESSAGE 3 from=client\n");
}

TEST(smtp_greeting_missed_ehlo_reply_first)
{
    /* The capture starts after the greeting: the first server line answers EHLO. */
    struct chunk s[] = {CLI("EHLO client.example\r\n"),
                        SRV("250-mail.example.com\r\n250-STARTTLS\r\n250 8BITMIME\r\n"),
                        CLI("STARTTLS\r\n"), SRV("220 2.0.0 Ready to start TLS\r\n"),
                        CLI(TLS_CLIENT_BYTES)};
    ASSERT_LOG(D, s,
               "HELO client.example\n"
               "CAPA STARTTLS ''\n"
               "CAPA 8BITMIME ''\n"
               "CAPA_END\n"
               "STARTTLS\n"
               "STARTTLS_REPLY ok=1 220 2.0.0 Ready to start TLS\n"
               "UPGRADE\n");
}

TEST(smtp_greeting_missed_starttls_first)
{
    /* The capture starts after the greeting and EHLO: the first command seen
     * is STARTTLS, and its 220 must be taken as the answer to it, not as a
     * greeting (a server greets before any command, RFC 5321 §3.1). */
    struct chunk s[] = {CLI("STARTTLS\r\n"), SRV("220 2.0.0 Ready to start TLS\r\n"),
                        CLI(TLS_CLIENT_BYTES), SRV(TLS_SERVER_BYTES)};
    ASSERT_LOG(D, s,
               "STARTTLS\n"
               "STARTTLS_REPLY ok=1 220 2.0.0 Ready to start TLS\n"
               "UPGRADE\n");
}

TEST(smtp_bad_reply_line)
{
    struct chunk s[] = {GREET, CLI("NOOP\r\n"), SRV("hello there\r\n250 2.0.0 Ok\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP Postfix\n"
               "ANOMALY bad-reply from=server\n");
}

TEST(smtp_multiline_greeting_client_talks_early)
{
    /* postscreen (Postfix) sends the first line of a multi-line greeting and
     * waits: a client that talks now sends EHLO before the last "220 " line.
     * That line still ends the greeting; the EHLO is answered by the 250s. */
    struct chunk s[] = {SRV("220-mail.example.com ESMTP\r\n"), CLI("EHLO bot.example\r\n"),
                        SRV("220 mail.example.com ESMTP\r\n"),
                        SRV("250-mail.example.com\r\n250 PIPELINING\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP\n"
               "HELO bot.example\n"
               "CAPA PIPELINING ''\n"
               "CAPA_END\n");
}

TEST(smtp_gap_at_end_of_last_bdat_chunk)
{
    /* The last 10 bytes of a BDAT LAST chunk are lost: the message still ended
     * (RFC 3030 §2: LAST), with 20 bytes, as a gap in a DATA body is counted. */
    struct chunk s[] = {GREET,
                        CLI("MAIL FROM:<a@example.com>\r\n"),
                        SRV("250 2.1.0 Ok\r\n"),
                        CLI("BDAT 20 LAST\r\n0123456789"),
                        GAP_CLI(10),
                        SRV("250 2.0.0 Message accepted\r\n"),
                        CLI("MAIL FROM:<b@example.com>\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP Postfix\n"
               "MAIL_FROM <a@example.com>\n"
               "ANOMALY stream-gap from=client\n"
               "MESSAGE 20 from=client\n"
               "MAIL_FROM <b@example.com>\n");
}

TEST(smtp_gap_in_data_body)
{
    struct chunk s[] = {GREET,
                        CLI("DATA\r\n"),
                        SRV("354 go\r\n"),
                        CLI("line one\r\nline"),
                        GAP_CLI(100),
                        CLI(" end\r\n.\r\n"),
                        SRV("250 Ok\r\n"),
                        CLI("MAIL FROM:<b@example.com>\r\n")};
    ASSERT_LOG(D, s,
               "GREETING mail.example.com ESMTP Postfix\n"
               "ANOMALY stream-gap from=client\n"
               "MESSAGE 120 from=client\n"
               "MAIL_FROM <b@example.com>\n");
}

/* The moments the rules act on: a command that carries the session on in clear (not EHLO,
 * STARTTLS, NOOP, RSET, HELP), and the credentials before the answer to them. */
TEST(smtp_moments_credentials_before_the_answer_and_commands_in_clear)
{
    struct chunk s[] = {GREET,
                        CLI("EHLO client.example\r\n"),
                        SRV("250-mail.example.com\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"),
                        CLI("NOOP\r\n"),
                        SRV("250 2.0.0 Ok\r\n"),
                        CLI("AUTH LOGIN\r\n"),
                        SRV("334 " B64_USERNAME "\r\n"),
                        CLI(B64_BOB "\r\n"),
                        SRV("334 " B64_PASSWORD "\r\n"),
                        CLI(B64_SECRET "\r\n"),
                        SRV("235 2.7.0 Authentication successful\r\n"),
                        CLI("RSET\r\n"),
                        SRV("250 2.0.0 Ok\r\n"),
                        CLI("MAIL FROM:<bob@example.com>\r\n"),
                        SRV("250 2.1.0 Ok\r\n"),
                        CLI("QUIT\r\n"),
                        SRV("221 2.0.0 Bye\r\n")};
    ASSERT_MOMENTS(D, s,
                   "GREETING mail.example.com ESMTP Postfix\n"
                   "HELO client.example\n"
                   "CAPA STARTTLS ''\n"
                   "CAPA AUTH 'PLAIN LOGIN'\n"
                   "CAPA_END\n"
                   "COMMAND AUTH\n"
                   "LOGIN_SENT mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=0 "
                   "result=unknown reply=\n"
                   "LOGIN mech=LOGIN user=bob secret=1 readable=1 token=0 cmd=0 result=success "
                   "reply=235 2.7.0 Authentication successful\n"
                   "COMMAND MAIL\n"
                   "MAIL_FROM <bob@example.com>\n"
                   "COMMAND QUIT\n");
}

/* An initial response carries the credentials with the command; a cancelled exchange never
 * sent any; an exchange with no answer before the end is still one login. */
TEST(smtp_moments_initial_response_cancel_and_unanswered)
{
    struct chunk s[] = {GREET,
                        EHLO_SHORT,
                        CLI("AUTH LOGIN\r\n"),
                        SRV("334 " B64_USERNAME "\r\n"),
                        CLI("*\r\n"),
                        SRV("501 5.7.0 Authentication aborted\r\n"),
                        CLI("AUTH PLAIN " B64_PLAIN_BOB "\r\n")};
    ASSERT_MOMENTS(D, s,
                   EHLO_SHORT_LOG "COMMAND AUTH\n"
                                  "LOGIN mech=LOGIN user= secret=0 readable=0 token=0 cmd=0 "
                                  "result=failure reply=501 5.7.0 Authentication aborted\n"
                                  "COMMAND AUTH\n"
                                  "LOGIN_SENT mech=PLAIN user=bob secret=1 readable=1 token=0 "
                                  "cmd=0 result=unknown reply=\n"
                                  "LOGIN mech=PLAIN user=bob secret=1 readable=1 token=0 cmd=0 "
                                  "result=unknown reply=\n");
}
