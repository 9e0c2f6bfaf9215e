/*
 * proto.c — the tables behind proto.h: names, and the well-known mail ports.
 */
#include "proto.h"

#include <stddef.h>

const char *const proto_names[PROTO_COUNT] = {
    [PROTO_SMTP] = "smtp", [PROTO_POP3] = "pop3",   [PROTO_IMAP] = "imap",
    [PROTO_TLS] = "tls",   [PROTO_OTHER] = "other", [PROTO_UNKNOWN] = "unknown",
};

const char *proto_name(unsigned p)
{
    return p < PROTO_COUNT ? proto_names[p] : proto_names[PROTO_UNKNOWN];
}

const char *const port_class_names[PORT_CLASS_COUNT] = {
    [PORT_CLASS_RELAY] = "relay",   [PORT_CLASS_SUBMISSION] = "submission",
    [PORT_CLASS_ACCESS] = "access", [PORT_CLASS_IMPLICIT_TLS] = "implicit-tls",
    [PORT_CLASS_OTHER] = "other",
};

/* RFC 5321 (25), RFC 6409 (587), RFC 8314 (465, 993, 995), RFC 1939 (110), RFC 9051 (143) */
static const struct mail_port MAIL_PORTS[] = {
    {25, PROTO_SMTP, PORT_CLASS_RELAY, false},
    {587, PROTO_SMTP, PORT_CLASS_SUBMISSION, false},
    {465, PROTO_SMTP, PORT_CLASS_IMPLICIT_TLS, true},
    {110, PROTO_POP3, PORT_CLASS_ACCESS, false},
    {995, PROTO_POP3, PORT_CLASS_IMPLICIT_TLS, true},
    {143, PROTO_IMAP, PORT_CLASS_ACCESS, false},
    {993, PROTO_IMAP, PORT_CLASS_IMPLICIT_TLS, true},
};

const struct mail_port *mail_port_find(uint16_t port)
{
    for (size_t i = 0; i < sizeof MAIL_PORTS / sizeof MAIL_PORTS[0]; i++)
        if (MAIL_PORTS[i].port == port)
            return &MAIL_PORTS[i];
    return NULL;
}

enum port_class port_class_of(uint16_t port)
{
    const struct mail_port *mp = mail_port_find(port);
    return mp != NULL ? mp->cls : PORT_CLASS_OTHER;
}

const char *const starttls_outcome_names[STARTTLS_OUTCOME_COUNT] = {
    [STARTTLS_IMPLICIT] = "implicit",       [STARTTLS_UPGRADED] = "upgraded",
    [STARTTLS_FAILED] = "failed",           [STARTTLS_REFUSED] = "refused",
    [STARTTLS_STRIPPED] = "stripped",       [STARTTLS_OFFERED_UNUSED] = "offered-unused",
    [STARTTLS_NOT_OFFERED] = "not-offered", [STARTTLS_UNKNOWN] = "unknown",
};
