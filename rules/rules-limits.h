/*
 * rules-limits.h — every bound the rule loader puts on what a rule file or
 * a variable file can make it hold. One line each, with the reason.
 * (rules/ may not include sensor/limits.h: these live beside the code.)
 */
#ifndef POSTCARD_RULES_LIMITS_H
#define POSTCARD_RULES_LIMITS_H

/* Files */
#define RULES_MAX_FILE_BYTES (64u << 20)  /* a file; 100000 rules of 500 bytes is 48 MiB */
#define RULES_MAX_INCLUDE_DEPTH 8         /* nested includes; real layouts need 2 */
#define RULES_MAX_FILES 1024              /* files read by one load: bounds diamond includes */
#define RULES_MAX_CONFIG_BYTES (1u << 20) /* a variable file: a few dozen lines */

/* One rule */
#define RULES_MAX_RULE_BYTES 16384  /* a rule and its continuations; defaults are < 400 */
#define RULES_MAX_OPTIONS 100       /* options in a rule: a backstop, each kind has a bound */
#define RULES_MAX_PREDICATES 64     /* predicates in a rule: each of 31 fields twice (a range) */
#define RULES_MAX_STRING_BYTES 1024 /* a quoted string; facts' texts are at most 256 */
#define RULES_MAX_VALUE_ITEMS 64    /* values in a predicate's [a,b]: more than any enum */
#define RULES_MAX_REFERENCES 16     /* reference options in one rule */
#define RULES_MAX_METADATA 32       /* metadata pairs in one rule */

/* Address and port sets */
#define RULES_MAX_LIST_DEPTH 8            /* nested [ ] in a set: bounds the recursion */
#define RULES_MAX_LIST_ITEMS 1024         /* items in one [ ] list: bounds the range arithmetic */
#define RULES_MAX_EXPAND_BYTES (1u << 20) /* variable text parsed for one set: $A=[$B,$B] */

/* Variables */
#define RULES_MAX_VARS 256       /* variables in a table; Suricata's config has about 30 */
#define RULES_MAX_VAR_NAME 64    /* bytes of a variable name */
#define RULES_MAX_VAR_BYTES 8192 /* bytes of a value: a few hundred networks */
#define RULES_MAX_VAR_DEPTH 8    /* variables naming variables; !$HOME_NET is 2 */

/* Thresholds */
#define RULES_MAX_THRESHOLD_COUNT 1000000    /* matches counted in one window */
#define RULES_MAX_THRESHOLD_SECONDS 31622400 /* a window of a leap year; longer is a typo */

/* The set */
#define RULES_MAX_RULES 100000   /* rules in a set: five times Suricata's ET Open */
#define RULES_MAX_SUPPRESS 10000 /* suppress lines in a set */

/* Matching */
#define RULES_MAX_ALERTS_PER_SESSION                                                               \
    64 /* alerts one session raises; the default set has 41 rules */
#define RULES_MAX_THRESHOLD_ENTRIES 65536 /* threshold counters (~100 bytes each): LRU beyond */
#define RULES_INDEX_MAX_ADDRS 16          /* server addresses of a rule put in the address index */

/* Diagnostics */
#define RULES_MAX_DIAG_LINES 100  /* problems kept as text; the rest only counted */
#define RULES_MSG_BYTES 512       /* one message: fits the list of all 22 classtypes */
#define RULES_SUGGEST_DISTANCE 2  /* edit distance that earns a "did you mean" */
#define RULES_SUGGEST_MAX_WORD 64 /* longer words get no suggestion (O(n*m) distance) */

#endif
