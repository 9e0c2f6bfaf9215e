/*
 * test-stats.c — the kernel's capture counters (stats.c): the difference of
 * two readings of a counter libpcap keeps in 32 bits, across its wrap; the
 * run's totals built from readings; the drop share and the --drop-warn test.
 */
#include <stdint.h>

#include "stats.h"
#include "test.h"

#define WRAP (1ULL << 32) /* where a pcap_stats counter starts again from 0 */

TEST(counter_delta32_is_the_difference_modulo_2_32)
{
    ASSERT_EQ(counter_delta32(0, 0), 0);
    ASSERT_EQ(counter_delta32(10, 25), 15);
    ASSERT_EQ(counter_delta32(WRAP - 1, WRAP - 1), 0);
    ASSERT_EQ(counter_delta32(WRAP - 5, 3), 8); /* wrapped between the readings */
    ASSERT_EQ(counter_delta32(WRAP - 1, 0), 1); /* wrapped by one */
    ASSERT_EQ(counter_delta32(1, 0), WRAP - 1); /* the most it can tell: 2^32 - 1 */
    ASSERT_EQ(counter_delta32(7, WRAP + 9), 2); /* only the low 32 bits count */
}

TEST(totals_add_up_readings_from_zero_and_across_a_wrap)
{
    struct stats st = {0};
    struct kcounts r = {100, 3, 1}; /* the first reading: since the capture started */
    stats_kernel_sample(&st, &r);
    ASSERT_EQ(st.kernel.recv, 100);
    ASSERT_EQ(st.kernel.drop, 3);
    ASSERT_EQ(st.kernel.ifdrop, 1);
    stats_kernel_sample(&st, &r); /* read again, nothing new: nothing added */
    ASSERT_EQ(st.kernel.recv, 100);
    r = (struct kcounts){WRAP - 10, 3, 1};
    stats_kernel_sample(&st, &r);
    ASSERT_EQ(st.kernel.recv, WRAP - 10);
    r = (struct kcounts){20, 5, 1}; /* recv wrapped: 30 more */
    stats_kernel_sample(&st, &r);
    ASSERT_EQ(st.kernel.recv, WRAP + 20);
    ASSERT_EQ(st.kernel.drop, 5);
    ASSERT_EQ(st.kernel_raw.recv, 20);
    for (int i = 0; i < 3; i++) { /* three more wraps, read often enough */
        r.recv = (r.recv + WRAP / 2) % WRAP;
        stats_kernel_sample(&st, &r);
        r.recv = (r.recv + WRAP / 2) % WRAP;
        stats_kernel_sample(&st, &r);
    }
    ASSERT_EQ(st.kernel.recv, 4 * WRAP + 20);
}

TEST(an_interval_is_the_difference_of_two_totals)
{
    struct kcounts a = {1000, 40, 2}, b = {400, 10, 2};
    struct kcounts d = kcounts_sub(&a, &b);
    ASSERT_EQ(d.recv, 600);
    ASSERT_EQ(d.drop, 30);
    ASSERT_EQ(d.ifdrop, 0);
}

TEST(share_of_is_part_over_whole_and_zero_of_nothing)
{
    ASSERT(share_of(0, 0) == 0.0);
    ASSERT(share_of(5, 0) == 0.0);
    ASSERT(share_of(0, 10) == 0.0);
    ASSERT(share_of(1, 4) == 0.25);
    ASSERT(share_of(10, 10) == 1.0);
}

TEST(drops_over_a_percentage_warn_and_0_never_does)
{
    struct kcounts d = {1000, 10, 0};     /* 1 % */
    ASSERT(!kcounts_drops_over(&d, 1.0)); /* over, not at */
    ASSERT(kcounts_drops_over(&d, 0.99));
    ASSERT(!kcounts_drops_over(&d, 0)); /* 0: never */
    d.drop = 11;
    ASSERT(kcounts_drops_over(&d, 1.0));
    ASSERT(!kcounts_drops_over(&d, 100));
    d = (struct kcounts){0, 0, 0}; /* a quiet interval */
    ASSERT(!kcounts_drops_over(&d, 0.001));
    d = (struct kcounts){500, 0, 7}; /* the interface's drops are not the kernel's */
    ASSERT(!kcounts_drops_over(&d, 0.001));
}
