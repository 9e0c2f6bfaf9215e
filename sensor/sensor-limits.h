/*
 * limits.h — every bound postcard puts on what hostile or merely large
 * input can make it hold. One line each, with the reason.
 */
#ifndef POSTCARD_LIMITS_H
#define POSTCARD_LIMITS_H

/* Link layer */
#define VLAN_MAX_DEPTH 4    /* 802.1ad QinQ is 2; more is a malformed or looping frame */
#define TUNNEL_MAX_DEPTH 3  /* IP-in-IP/GRE/GTP/VXLAN nested deeper is an evasion attempt */
#define IPV6_MAX_EXT_HDRS 8 /* RFC 8200 §4.1 order has at most ~7; more is an evasion attempt */

/* IP fragment reassembly (RFC 791, RFC 8200 §4.5) */
#define DEFRAG_MAX_DATAGRAMS                                                                       \
    512 /* datagrams in reassembly at once; legit traffic rarely has >10                           \
         */
#define DEFRAG_MAX_FRAGS                                                                           \
    64 /* fragments per datagram; 64 x 1024+ bytes covers any 64 KiB datagram */
#define DEFRAG_MAX_BYTES 65535             /* an IP datagram cannot be larger (16-bit length) */
#define DEFRAG_TIMEOUT_US (30 * 1000000LL) /* RFC 791 suggests 15 s; Linux uses 30 s */

/* Flow table */
#define FLOW_MAX_DEFAULT 200000 /* concurrent flows; 288 B a slot, a session 15-100 KiB more */
#define FLOW_MAX_LIMIT 20000000 /* upper bound accepted for --max-flows */
#define FLOW_TIMEOUT_TCP_OPEN_US (600 * 1000000LL) /* idle established TCP: SMTP idle is 300 s */
#define FLOW_TIMEOUT_TCP_NEW_US (30 * 1000000LL)   /* handshake never completed (scans) */
#define FLOW_TIMEOUT_TCP_CLOSED_US                                                                 \
    (10 * 1000000LL)                         /* after FIN both ways or RST: late ACKs only         \
                                              */
#define FLOW_TIMEOUT_UDP_US (60 * 1000000LL) /* UDP has no close; DNS-like exchanges are short */
#define FLOW_EXPIRE_BATCH 64 /* flows timed out per packet at most: bounds per-packet work */
#define FLOW_EXPIRE_TICK_BATCHES                                                                   \
    64 /* live: FLOW_EXPIRE_BATCH rounds per clock tick, 4096 flows: an idle link still ends a     \
        * burst of 20,000 flows a second, and a tick never holds the capture up for long */
#define FLOW_TIMEOUT_MAX_S 86400 /* --flow-timeout: a day; longer, the table never empties */

/* TCP reassembly */
#define REASM_BLOCK_BYTES 2048 /* pool block size; one MSS-sized segment fits in one block */
#define REASM_DIR_MAX_BYTES (512 * 1024) /* out-of-order bytes held per direction */
#define REASM_GLOBAL_MAX_BYTES_DEFAULT (256LL * 1024 * 1024) /* all held bytes, all flows */
#define REASM_SLAB_BLOCKS 512                /* blocks added to the pool at a time (1 MiB) */
#define REASM_SEQ_WINDOW (16u * 1024 * 1024) /* a segment this far ahead is not this stream */

/* Classification */
#define CLASSIFY_MAX_PKTS 24       /* nDPI gets this many packets to decide, then gives up */
#define CLASSIFY_SNIFF_BYTES 16    /* first server bytes kept for content sniffing */
#define NDPI_MAX_LIVE_FLOWS 100000 /* nDPI flow states at once (~2.7 KiB each with TLS) */

/* Mail sessions */
#define SESSION_BUF_BYTES                                                                          \
    8193                    /* unconsumed bytes kept per direction: one DISSECT_LINE_MAX line + 1 */
#define SESSION_MAX_CAPS 48 /* capabilities kept per session; EHLO lists ~15 */
#define SESSION_CAP_BYTES 96 /* bytes kept of one capability line (fits a uint8_t) */
#define SESSION_MAX_LOGINS                                                                         \
    16                         /* login attempts kept per session (brute force: counted, not kept) \
                                */
#define SESSION_MAX_RCPT 16    /* RCPT TO paths kept per session */
#define SESSION_TEXT_BYTES 256 /* bytes kept of a greeting, reply, HELO or path */
#define STARTTLS_MEMORY 65536  /* servers remembered as offering STARTTLS (for stripping) */

/* TLS */
#define CERT_CACHE_MAX 4096 /* distinct certificates kept parsed (~6 KiB each): LRU beyond */
#define TLS_CERTS_MAX 6     /* certificates of a chain analysed; real chains have 2-4 */

/* Output */
#define STATS_INTERVAL_LIVE 60 /* seconds between stats records live (files: one at the end) */
#define OUTPUT_PUSH_US (500 * 1000LL) /* live: outputs hand on what they buffer this often */
#define JSON_LINE_MAX 65536           /* one JSON record; longer fields are cut */
#define OUT_BUF_BYTES (256 * 1024)    /* whole records gathered per write(2) of the -w file */
#define OUT_TEE_MAX 8                 /* outputs behind the tee: main.c opens a file and Redis */

/* Summary (summary.c): keys kept per map for a run; past a cap, what does not fit is
 * counted under the map's "(other ...)" key, so totals stay exact and memory stays fixed */
#define SUM_PORTS_MAX 1024    /* "<proto>/<port>" keys: mail on 1024 distinct ports is a scan */
#define SUM_SERVERS_MAX 10000 /* servers with alerts: a large provider's MX farm; ~3 MiB */
#define SUM_GEO_MAX 4096      /* countries (~250 exist) and AS numbers each; ~1 MiB with AS names */
#define SUM_HOURS_MAX (24 * 400) /* hours of packet time: a run of 400 days */
#define SUM_MECHS_MAX 16    /* login mechanisms per port; IANA's SASL registry has ~30 in use */
#define SUM_VERSIONS_MAX 32 /* TLS version names per map: 7 real ones plus drafts and junk */
#define SUM_KEY_BYTES 64    /* a key: "[v6 address]:port" is at most 54 bytes with its NUL */
#define SUM_ORG_BYTES 128   /* an AS organisation name kept (cut at a UTF-8 boundary) */

/* Report (postcard report: jsonread.c, report*.c): summaries may come from anywhere */
#define REPORT_JSON_MAX_BYTES                                                                      \
    (64 * 1024 * 1024)           /* one summary file; a year of one sensor is ~5 MiB */
#define REPORT_JSON_MAX_DEPTH 32 /* nesting; the summary schema needs 4 */
#define REPORT_JSON_MAX_VALUES                                                                     \
    (1 << 21) /* values per file, ~100 bytes each held; a full run has ~150,000 */
#define REPORT_TOP_SERVERS                                                                         \
    20 /* rows of the servers, countries and AS tables; report.json has all */
#define REPORT_TIMELINE_MAX_BARS                                                                   \
    744 /* hourly bars in the timeline (31 days); longer spans go by day */
#define REPORT_TABLE_MAX_HOURS 48 /* rows of the hourly table; more hours are shown by day */
#define REPORT_CHART_MAX_ROWS 30  /* bars in one chart; the tables list every row */

/* Redis output (out-redis.c, redis-send.c, spool.c) */
#define REDIS_HANDOFF_BYTES                                                                        \
    (16 * 1024 * 1024) /* each capture->ingest buffer: ~0.1 s at 150k rec/s */
#define REDIS_QUEUE_MAX_BYTES                                                                      \
    (256LL * 1024 * 1024) /* records in memory, whatever --redis-queue says */
#define REDIS_BATCH_RECORDS                                                                        \
    512 /* commands pipelined before reading replies: ~10x fewer round trips */
#define REDIS_BATCH_BYTES (1024 * 1024) /* bytes of one pipelined batch (hiredis output buffer) */
#define REDIS_BACKOFF_MIN_MS 100        /* first reconnect delay; doubles up to backoff_max_ms */
#define REDIS_EXIT_BACKOFF_MS 400       /* reconnect delay cap while the run ends: within the 5 s */
#define REDIS_IDLE_WAKE_MS 200          /* the sender looks at its state this often when idle */
#define SPOOL_SEGMENT_MIN_BYTES (64 * 1024) /* spool file size: a 64th of the cap, within these */
#define SPOOL_SEGMENT_MAX_BYTES (16 * 1024 * 1024) /* ...so the cap is overshot by 1/64 at most */
#define SPOOL_MAX_FILES (1 << 20) /* spool files listed at start: 16 TiB of full segments */
#define PATH_BYTES 4096           /* a path built from a directory given on the command line */

/* Anonymisation (anon.c) */
#define ANON_CACHE_SLOTS 4096 /* pseudonyms remembered (direct-mapped, ~140 KiB); a power of 2 */
#define ANON_PRF_BATCH 128    /* AES blocks per EVP call: a whole IPv6 address (2 KiB of stack) */

/* Capture */
#define SNAPLEN_DEFAULT 262144                  /* tcpdump's default: whole packets */
#define PCAP_BUFSIZE_DEFAULT (64 * 1024 * 1024) /* kernel ring for bursts on a SPAN port */
#define CAPTURE_DRAIN_MAX (1u << 20) /* packets analysed after a stop: a ring's worth, bounded */
#define CAPTURE_TIMEOUT_MS                                                                         \
    200 /* libpcap read timeout: a part-filled TPACKET_V3 block waits this long */
#define CAPTURE_WAKE_MS 200 /* live: the loop wakes this often without packets: the clock ticks */
#define KERNEL_STATS_READ_US                                                                       \
    (1000 * 1000LL) /* live: pcap_stats read at least this often; its 32-bit counters must not     \
                     * wrap between two reads (2^32 packets: over 4 billion a second) */
#define DROP_WARN_PERCENT_DEFAULT 1.0 /* --drop-warn: losing 1 % of packets loses sessions */

#endif
