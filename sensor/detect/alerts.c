/*
 * alerts.c — a session judged by the rules, each time its facts change.
 *
 *   session + tls_session (so far) ─▶ struct rule_facts (by rule field, each
 *        with how settled it is: final, growing, open)
 *     ─▶ rule_engine_match_session (index, certainty, pass, suppress,
 *        thresholds; what was decided for the session before)
 *     ─▶ one "alert" record per rule that is certain now, stamped with the
 *        time of the packet that made it certain
 *
 * When each fact settles is the session's and the TLS session's business
 * (session_starttls_settled, pending logins, the chain's end); this file
 * only maps it onto the rule fields. At the flow's end every fact is final
 * and what was not decided before is decided then, as one match. A session
 * cut by eviction has no end: it is judged once more with its facts as they
 * stood, so no finding is decided from the part that was not seen [ALERT-CUT].
 *
 * The facts are the values the "mail" and "tls" records show (docs/eve.md),
 * read from the same structures, so a rule tests what the analyst reads.
 * The alert carries those objects too: what triggered it is in the line.
 * With --anonymize the rules still match the real facts (addresses against
 * HOME_NET, user names, certificate names), so the same alerts fire; only
 * what is written is anonymised (eve.c, session.c, tlssess.c).
 *
 * Hazards: [ALERT-CUT] a cut session's facts are not final: judging them as
 *          final would raise findings from the part never seen.
 */
#include "detect/alerts.h"

#include <stdlib.h>
#include <string.h>

#include "eve/eve.h"
#include "tls-ciphers.h"

static void set_num(struct rule_fact *v, int64_t num)
{
    v->is_set = true;
    v->num = num;
}

static void set_state(struct rule_fact *v, bool settled, enum rule_fact_state otherwise)
{
    v->state = (uint8_t)(settled ? RULE_FACT_FINAL : otherwise);
}

static void set_str(struct rule_fact *v, const char *s, size_t n)
{
    v->is_set = true;
    v->str = s;
    v->len = n;
}

/* A wire version as enum rule_version, or -1 (unknown versions are absent). */
static int version_index(uint16_t v)
{
    switch (v) {
    case 0x0002:
        return RULE_VER_SSLV2;
    case 0x0300:
        return RULE_VER_SSLV3;
    case 0x0301:
        return RULE_VER_TLS10;
    case 0x0302:
        return RULE_VER_TLS11;
    case 0x0303:
        return RULE_VER_TLS12;
    case 0x0304:
        return RULE_VER_TLS13;
    default:
        return (v & 0xff00) == 0x7f00 ? RULE_VER_TLS13 : -1; /* TLS 1.3 drafts */
    }
}

static void mail_facts(struct rule_facts *rf, const struct session *ss, const struct flow *f,
                       const struct tls_session *ts, struct rule_login_facts *lf, bool fin)
{
    static const enum rule_login_result results[] = {
        [LOGIN_UNKNOWN] = RULE_LOGIN_UNKNOWN,
        [LOGIN_SUCCESS] = RULE_LOGIN_SUCCESS,
        [LOGIN_FAILURE] = RULE_LOGIN_FAILURE,
    };
    rf->is_mail = true;
    rf->mail_proto = (enum rule_proto)ss->proto; /* the same numbers (rules.h) */
    set_num(&rf->f[RULE_F_MAIL_STARTTLS], session_starttls(ss, ts));
    set_state(&rf->f[RULE_F_MAIL_STARTTLS], fin || session_starttls_settled(ss, ts),
              RULE_FACT_OPEN);
    set_num(&rf->f[RULE_F_MAIL_PORT_CLASS], port_class_of(f->sport));
    set_num(&rf->f[RULE_F_MAIL_LOGIN], ss->n_logins > 0);
    set_state(&rf->f[RULE_F_MAIL_LOGIN], fin, RULE_FACT_GROWING);
    set_num(&rf->f[RULE_F_MAIL_CLEARTEXT_MESSAGES], ss->cleartext_messages);
    set_state(&rf->f[RULE_F_MAIL_CLEARTEXT_MESSAGES], fin, RULE_FACT_GROWING);
    if (ss->proto == PROTO_IMAP) {
        set_num(&rf->f[RULE_F_MAIL_LOGIN_DISABLED_VIOLATED], ss->login_disabled_violated);
        set_state(&rf->f[RULE_F_MAIL_LOGIN_DISABLED_VIOLATED], fin, RULE_FACT_GROWING);
    }
    for (unsigned i = 0; i < ss->n_logins; i++) {
        const struct login_fact *l = &ss->logins[i];
        struct rule_fact *v = lf[i].f;
        memset(&lf[i], 0, sizeof lf[i]);
        set_str(&v[RULE_F_MAIL_LOGIN_MECHANISM - RULE_LOGIN_FIRST], l->mech, strlen(l->mech));
        set_num(&v[RULE_F_MAIL_LOGIN_CLEARTEXT - RULE_LOGIN_FIRST], l->cleartext);
        set_num(&v[RULE_F_MAIL_LOGIN_BEARER_TOKEN - RULE_LOGIN_FIRST], l->is_token);
        set_num(&v[RULE_F_MAIL_LOGIN_RESULT - RULE_LOGIN_FIRST],
                results[l->result < 3 ? l->result : LOGIN_UNKNOWN]);
        set_state(&v[RULE_F_MAIL_LOGIN_RESULT - RULE_LOGIN_FIRST], fin || !l->is_pending,
                  RULE_FACT_OPEN); /* the answer is still to come */
        set_str(&v[RULE_F_MAIL_LOGIN_USER - RULE_LOGIN_FIRST], l->user.s, l->user.n);
    }
    rf->n_logins = ss->n_logins;
    rf->logins = lf;
    rf->logins_state = (uint8_t)(fin ? RULE_FACT_FINAL : RULE_FACT_GROWING);
}

/* The TLS facts the rules read, with how settled each is (fin: the flow ended). */
static void tls_states(struct rule_facts *rf, const struct tls_session *ts, bool fin)
{
    bool over = fin || ts->is_done; /* the handshake is over: nothing more is looked at */
    static const enum rule_field sh_fields[] = {RULE_F_TLS_VERSION, RULE_F_TLS_CIPHER,
                                                RULE_F_TLS_CIPHER_WEAKNESS};
    for (size_t i = 0; i < sizeof sh_fields / sizeof sh_fields[0]; i++)
        set_state(&rf->f[sh_fields[i]], over || ts->seen_sh, RULE_FACT_OPEN);
    set_state(&rf->f[RULE_F_TLS_CLIENT_MAX_VERSION], over || ts->seen_ch, RULE_FACT_OPEN);
    set_state(&rf->f[RULE_F_TLS_SNI], over || ts->seen_ch, RULE_FACT_OPEN);
    set_state(&rf->f[RULE_F_TLS_HANDSHAKE_COMPLETE],
              over || tls_session_succeeded(ts) || tls_session_failed(ts), RULE_FACT_OPEN);
    set_state(&rf->f[RULE_F_TLS_ALERT], over, RULE_FACT_GROWING);
    set_state(&rf->f[RULE_F_TLS_ALERT_DESCRIPTION], over || ts->alert_seen, RULE_FACT_OPEN);
    bool certs = over || (ts->certs_judged && !ts->is_chain_cut) || ts->certs_encrypted;
    for (int k = RULE_F_TLS_CERT_EXPIRED; k <= RULE_F_TLS_CERT_ISSUER; k++)
        set_state(&rf->f[k], certs, RULE_FACT_OPEN);
}

static void tls_facts(struct rule_facts *rf, const struct tls_session *ts)
{
    rf->is_tls = true;
    int v;
    if (ts->has_sh) {
        if ((v = version_index(ts->is_sslv2 ? 0x0002 : ts->version)) >= 0)
            set_num(&rf->f[RULE_F_TLS_VERSION], v);
        set_str(&rf->f[RULE_F_TLS_CIPHER], ts->cipher_name, strlen(ts->cipher_name));
        /* the rule field's values are tls_weakness_names: bit i is value i */
        set_num(&rf->f[RULE_F_TLS_CIPHER_WEAKNESS], ts->weak);
    }
    if (ts->seen_ch && (v = version_index(ts->client_max)) >= 0)
        set_num(&rf->f[RULE_F_TLS_CLIENT_MAX_VERSION], v);
    if (ts->sni[0])
        set_str(&rf->f[RULE_F_TLS_SNI], ts->sni, strlen(ts->sni));
    if (ts->from_proto >= 0 && proto_is_mail((unsigned)ts->from_proto))
        set_num(&rf->f[RULE_F_TLS_FROM_PROTO], ts->from_proto); /* values: proto_names */
    set_num(&rf->f[RULE_F_TLS_HANDSHAKE_COMPLETE], tls_session_succeeded(ts));
    set_num(&rf->f[RULE_F_TLS_ALERT], ts->alert_seen);
    if (ts->alert_seen && !ts->alert_encrypted)
        set_num(&rf->f[RULE_F_TLS_ALERT_DESCRIPTION], ts->alert_desc);
    if (ts->certs_encrypted || ts->n_certs == 0 || !ts->certs[0].parsed)
        return;
    const struct x509_info *in = &ts->certs[0].info;
    const struct tls_cert_verdict *cv = &ts->verdicts[0];
    set_num(&rf->f[RULE_F_TLS_CERT_EXPIRED], cv->expired);
    set_num(&rf->f[RULE_F_TLS_CERT_NOT_YET_VALID], cv->not_yet_valid);
    set_num(&rf->f[RULE_F_TLS_CERT_SELF_SIGNED], in->self_signed);
    if (cv->trusted >= 0)
        set_num(&rf->f[RULE_F_TLS_CERT_TRUSTED], cv->trusted);
    set_num(&rf->f[RULE_F_TLS_CERT_WEAK_KEY], cv->weak_key);
    set_num(&rf->f[RULE_F_TLS_CERT_WEAK_SIGNATURE], in->sig_weak);
    if (cv->name_mismatch >= 0)
        set_num(&rf->f[RULE_F_TLS_CERT_NAME_MISMATCH], cv->name_mismatch);
    set_num(&rf->f[RULE_F_TLS_CERT_VALIDITY_TOO_LONG], cv->validity_too_long);
    set_num(&rf->f[RULE_F_TLS_CERT_DAYS_LEFT], cv->days_left);
    set_num(&rf->f[RULE_F_TLS_CERT_KEY_BITS], in->key_bits);
    set_str(&rf->f[RULE_F_TLS_CERT_SUBJECT], in->subject, strlen(in->subject));
    set_str(&rf->f[RULE_F_TLS_CERT_ISSUER], in->issuer, strlen(in->issuer));
    rf->cert_id = in->sha256;
}

/* EVE's alert.metadata: {"key": ["value", ...]}, keys in the order first written. */
static void write_metadata(struct jbuf *j, const struct rule *r)
{
    if (r->n_meta == 0)
        return;
    j_obj(j, "metadata");
    for (size_t i = 0; i < r->n_meta; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(r->meta[k].key, r->meta[i].key) == 0;
        if (seen)
            continue;
        j_arr(j, r->meta[i].key);
        for (size_t k = i; k < r->n_meta; k++)
            if (strcmp(r->meta[k].key, r->meta[i].key) == 0)
                j_str(j, NULL, r->meta[k].value);
        j_arr_end(j);
    }
    j_obj_end(j);
}

static void alert_record(struct jbuf *j, const struct eve_ctx *ec, const struct rule *r,
                         const struct flow *f, const struct session *ss,
                         const struct tls_session *ts, pc_time now)
{
    eve_begin(j, ec, now, f, "alert");
    const char *app = "tls";
    if (ss != NULL && r->proto != RULE_PROTO_TLS)
        app = session_proto_name(ss);
    j_str(j, "app_proto", app);
    j_obj(j, "alert");
    j_str(j, "action", "allowed"); /* EVE's word for an alert that blocked nothing */
    j_u64(j, "gid", 1);
    j_u64(j, "signature_id", r->sid);
    j_u64(j, "rev", r->rev);
    j_str(j, "signature", r->msg != NULL ? r->msg : "");
    j_str(j, "category", rule_class_name(r->classtype));
    j_u64(j, "severity", (uint64_t)r->priority);
    j_str(j, "severity_name", rule_severity_name(r->severity));
    write_metadata(j, r);
    j_obj_end(j);
    if (ss != NULL) /* as written; the rules read the real facts */
        session_write(ss, f, ts, ec != NULL ? ec->anon : NULL, j);
    if (ts != NULL)
        tls_session_write(ts, ec != NULL ? ec->anon : NULL, j);
    j_end(j);
}

/* Is TLS still to be seen on this flow (is_tls may become true)? */
static bool tls_may_come(const struct session *ss, const struct tls_session *ts)
{
    if (ts != NULL)
        return true; /* a TLS session was started: its hellos are still to come */
    return ss != NULL &&
           (ss->is_implicit || ss->is_upgraded || !session_starttls_settled(ss, NULL));
}

size_t alerts_judge(struct alerting *al, struct output *out, const struct eve_ctx *ec,
                    struct jbuf *j, struct flow *f, const struct session *ss,
                    const struct tls_session *ts, pc_time now, bool fin)
{
    struct alert_state *as = f->alerts;
    if (al->engine == NULL || (ss == NULL && ts == NULL) || (as != NULL && as->rs.passed))
        return 0;
    if (fin && ((ss != NULL && ss->is_cut) || (ts != NULL && ts->is_cut))) {
        fin = false;       /* [ALERT-CUT] only what is certain already */
        al->ms.sessions++; /* counted as the engine counts an ended one */
    }
    struct rule_facts rf;
    struct rule_login_facts lf[SESSION_MAX_LOGINS];
    rule_facts_init(&rf);
    rf.is_final = fin;
    memcpy(rf.cli, f->cli, 16);
    memcpy(rf.srv, f->srv, 16);
    rf.ipver = f->ipver;
    rf.cport = f->cport;
    rf.sport = f->sport;
    if (ss != NULL)
        mail_facts(&rf, ss, f, ts, lf, fin);
    if (ts != NULL) {
        tls_facts(&rf, ts);
        tls_states(&rf, ts, fin);
    }
    rf.tls_state =
        (uint8_t)(fin || ts != NULL || !tls_may_come(ss, ts) ? RULE_FACT_FINAL : RULE_FACT_OPEN);
    struct alert_state tmp = {0};
    struct alert_state *st = as != NULL ? as : &tmp;
    const struct rule *hits[RULES_MAX_ALERTS_PER_SESSION];
    size_t n = rule_engine_match_session(al->engine, al->thr, &rf, now / 1000000, &st->rs, hits,
                                         RULES_MAX_ALERTS_PER_SESSION, &al->ms);
    if (as == NULL && (tmp.rs.n > 0 || tmp.rs.passed)) { /* the first decision: keep it */
        as = f->alerts = xmalloc(sizeof *as);
        *as = tmp;
        st = as;
    }
    for (size_t i = 0; i < n; i++) {
        alert_record(j, ec, hits[i], f, ss, ts, now);
        out->write(out, REC_ALERT, j->buf, j->len);
        if (st->n_classes < RULES_MAX_ALERTS_PER_SESSION)
            st->classes[st->n_classes++] = (uint8_t)hits[i]->classtype;
    }
    al->written += n;
    return n;
}

void alerts_release(struct flow *f)
{
    if (f->alerts == NULL)
        return;
    rule_session_release(&f->alerts->rs);
    free(f->alerts);
    f->alerts = NULL;
}
