/*
 * test-lru.c — the list behind every least-recently-used table (lru.h):
 * order after pushes, touches and unlinks, the empty list, an entry moved
 * to another slot, and a long seeded run of random operations checked
 * against a plain array that holds the ids from newest to oldest.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lru.h"
#include "test.h"

struct item {
    int id;               /* names the entry */
    uint64_t pad;         /* the node is not the first member */
    struct lru_node node; /* place in a list */
};

static int id_of(const struct lru_node *n)
{
    return LRU_ENTRY(n, const struct item, node)->id;
}

/*
 * The ids of l from newest to oldest as a string of digits ("" when empty),
 * after checking that the walk towards the newest gives the reverse.
 */
static const char *order(const struct lru *l)
{
    static char buf[64];
    char back[64];
    size_t n = 0, m = 0;
    for (const struct lru_node *x = lru_newest(l); x != NULL; x = lru_older(l, x)) {
        ASSERT(n + 1 < sizeof buf);
        buf[n++] = (char)('0' + id_of(x));
    }
    buf[n] = '\0';
    for (const struct lru_node *x = lru_oldest(l); x != NULL; x = lru_newer(l, x)) {
        ASSERT(m < n);
        back[m++] = (char)('0' + id_of(x));
    }
    ASSERT_EQ(m, n);
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ(back[i], buf[n - 1 - i]);
    ASSERT_EQ(lru_is_empty(l), n == 0);
    return buf;
}

/* Items 0..n-1, unlinked. */
static void items(struct item *it, int n)
{
    memset(it, 0, (size_t)n * sizeof *it);
    for (int i = 0; i < n; i++)
        it[i].id = i;
}

/* ---- the empty list ----------------------------------------------------- */

TEST(a_new_list_is_empty_with_no_oldest_and_no_newest)
{
    struct lru l;
    lru_init(&l);
    ASSERT(lru_is_empty(&l));
    ASSERT(lru_oldest(&l) == NULL);
    ASSERT(lru_newest(&l) == NULL);
    ASSERT_STREQ(order(&l), "");
}

TEST(unlinking_the_only_entry_leaves_the_list_empty)
{
    struct lru l;
    struct item it[1];
    lru_init(&l);
    items(it, 1);
    lru_push_front(&l, &it[0].node);
    ASSERT(!lru_is_empty(&l));
    ASSERT(lru_oldest(&l) == &it[0].node);
    ASSERT(lru_newest(&l) == &it[0].node);
    lru_unlink(&it[0].node);
    ASSERT(lru_is_empty(&l));
    ASSERT(lru_oldest(&l) == NULL);
    ASSERT(!lru_is_linked(&it[0].node));
}

TEST(a_zeroed_node_is_on_no_list)
{
    struct item it[1];
    items(it, 1);
    ASSERT(!lru_is_linked(&it[0].node));
}

/* ---- order -------------------------------------------------------------- */

TEST(each_push_becomes_the_newest_and_the_first_push_stays_the_oldest)
{
    struct lru l;
    struct item it[5];
    lru_init(&l);
    items(it, 5);
    for (int i = 0; i < 5; i++) {
        lru_push_front(&l, &it[i].node);
        ASSERT(lru_newest(&l) == &it[i].node);
        ASSERT(lru_oldest(&l) == &it[0].node);
    }
    ASSERT_STREQ(order(&l), "43210");
}

TEST(the_entry_macro_finds_the_entry_around_its_node)
{
    struct item it[1];
    items(it, 1);
    it[0].id = 7;
    ASSERT(LRU_ENTRY(&it[0].node, struct item, node) == &it[0]);
    ASSERT_EQ(id_of(&it[0].node), 7);
}

TEST(touching_an_entry_makes_it_the_newest_and_keeps_the_others_in_order)
{
    struct lru l;
    struct item it[5];
    lru_init(&l);
    items(it, 5);
    for (int i = 0; i < 5; i++)
        lru_push_front(&l, &it[i].node);
    lru_touch(&l, &it[2].node); /* a middle one */
    ASSERT_STREQ(order(&l), "24310");
    lru_touch(&l, &it[0].node); /* the oldest */
    ASSERT_STREQ(order(&l), "02431");
    ASSERT(lru_oldest(&l) == &it[1].node);
}

TEST(touching_the_newest_changes_nothing)
{
    struct lru l;
    struct item it[3];
    lru_init(&l);
    items(it, 3);
    for (int i = 0; i < 3; i++)
        lru_push_front(&l, &it[i].node);
    lru_touch(&l, &it[2].node);
    ASSERT_STREQ(order(&l), "210");
}

TEST(touching_the_only_entry_keeps_it_alone)
{
    struct lru l;
    struct item it[1];
    lru_init(&l);
    items(it, 1);
    lru_push_front(&l, &it[0].node);
    lru_touch(&l, &it[0].node);
    ASSERT_STREQ(order(&l), "0");
}

TEST(touching_an_entry_of_another_list_moves_it_over_as_the_newest)
{
    struct lru a, b;
    struct item it[5];
    lru_init(&a);
    lru_init(&b);
    items(it, 5);
    for (int i = 0; i < 3; i++)
        lru_push_front(&a, &it[i].node);
    for (int i = 3; i < 5; i++)
        lru_push_front(&b, &it[i].node);
    lru_touch(&b, &it[1].node);
    ASSERT_STREQ(order(&a), "20");
    ASSERT_STREQ(order(&b), "143");
    lru_touch(&b, &it[2].node); /* the newest of a, not of b */
    ASSERT_STREQ(order(&a), "0");
    ASSERT_STREQ(order(&b), "2143");
    lru_touch(&b, &it[0].node); /* a's last entry */
    ASSERT_STREQ(order(&a), "");
    ASSERT_STREQ(order(&b), "02143");
}

TEST(unlinking_the_newest_a_middle_or_the_oldest_keeps_the_rest_in_order)
{
    struct lru l;
    struct item it[6];
    lru_init(&l);
    items(it, 6);
    for (int i = 0; i < 6; i++)
        lru_push_front(&l, &it[i].node);
    lru_unlink(&it[5].node);
    ASSERT_STREQ(order(&l), "43210");
    lru_unlink(&it[2].node);
    ASSERT_STREQ(order(&l), "4310");
    lru_unlink(&it[0].node);
    ASSERT_STREQ(order(&l), "431");
    ASSERT(!lru_is_linked(&it[5].node));
    ASSERT(!lru_is_linked(&it[2].node));
    ASSERT(!lru_is_linked(&it[0].node));
}

TEST(an_unlinked_entry_can_be_pushed_again_as_the_newest)
{
    struct lru l;
    struct item it[3];
    lru_init(&l);
    items(it, 3);
    for (int i = 0; i < 3; i++)
        lru_push_front(&l, &it[i].node);
    lru_unlink(&it[0].node);
    lru_push_front(&l, &it[0].node);
    ASSERT_STREQ(order(&l), "021");
}

/* ---- an entry moved to another slot ------------------------------------- */

/* Entry `from` of slots is copied to slot `to`, as open addressing does. */
static void move_slot(struct item *slots, int from, int to)
{
    slots[to] = slots[from];
    lru_relocate(&slots[from].node, &slots[to].node);
    memset(&slots[from], 0, sizeof slots[from]);
}

TEST(a_relocated_entry_keeps_its_place_and_its_neighbours)
{
    struct lru l;
    struct item slots[8];
    lru_init(&l);
    items(slots, 8);
    for (int i = 0; i < 4; i++)
        lru_push_front(&l, &slots[i].node);
    move_slot(slots, 2, 6); /* a middle one */
    ASSERT_STREQ(order(&l), "3210");
    ASSERT(lru_newer(&l, &slots[6].node) == &slots[3].node);
    ASSERT(lru_older(&l, &slots[6].node) == &slots[1].node);
    ASSERT(!lru_is_linked(&slots[2].node));
    move_slot(slots, 3, 7); /* the newest */
    ASSERT(lru_newest(&l) == &slots[7].node);
    move_slot(slots, 0, 5); /* the oldest */
    ASSERT(lru_oldest(&l) == &slots[5].node);
    ASSERT_STREQ(order(&l), "3210");
    lru_touch(&l, &slots[5].node); /* the moved entries work as any other */
    ASSERT_STREQ(order(&l), "0321");
}

TEST(a_relocated_only_entry_is_still_both_newest_and_oldest)
{
    struct lru l;
    struct item slots[2];
    lru_init(&l);
    items(slots, 2);
    lru_push_front(&l, &slots[0].node);
    move_slot(slots, 0, 1);
    ASSERT(lru_newest(&l) == &slots[1].node);
    ASSERT(lru_oldest(&l) == &slots[1].node);
    ASSERT_STREQ(order(&l), "0");
    lru_unlink(&slots[1].node);
    ASSERT(lru_is_empty(&l));
}

/* ---- random operations against an array model --------------------------- */

#define MODEL_IDS 40   /* distinct entries */
#define MODEL_SLOTS 64 /* slots they move between */
#define MODEL_OPS 200000

static uint64_t rnd_state;

static uint32_t rnd(uint32_t n)
{
    rnd_state ^= rnd_state << 13; /* xorshift64 */
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (uint32_t)(rnd_state % n);
}

struct model {
    int ids[MODEL_IDS]; /* on the list, newest first */
    int n;              /* how many */
};

static int model_find(const struct model *m, int id)
{
    for (int i = 0; i < m->n; i++)
        if (m->ids[i] == id)
            return i;
    return -1;
}

static void model_remove(struct model *m, int id)
{
    int i = model_find(m, id);
    memmove(&m->ids[i], &m->ids[i + 1], (size_t)(m->n - i - 1) * sizeof m->ids[0]);
    m->n--;
}

static void model_push(struct model *m, int id)
{
    memmove(&m->ids[1], &m->ids[0], (size_t)m->n * sizeof m->ids[0]);
    m->ids[0] = id;
    m->n++;
}

/* The list holds exactly the model's ids in the model's order, both ways. */
static void assert_same(const struct lru *l, const struct model *m, const struct item *slots)
{
    int i = 0;
    for (const struct lru_node *x = lru_newest(l); x != NULL; x = lru_older(l, x), i++) {
        ASSERT(i < m->n);
        ASSERT_EQ(LRU_ENTRY(x, const struct item, node)->id, m->ids[i]);
        ASSERT(x >= &slots[0].node && x <= &slots[MODEL_SLOTS - 1].node);
    }
    ASSERT_EQ(i, m->n);
    for (const struct lru_node *x = lru_oldest(l); x != NULL; x = lru_newer(l, x))
        ASSERT_EQ(LRU_ENTRY(x, const struct item, node)->id, m->ids[--i]);
    ASSERT_EQ(i, 0);
    ASSERT_EQ(lru_is_empty(l), m->n == 0);
}

TEST(random_pushes_touches_unlinks_and_relocations_agree_with_an_array_model)
{
    for (uint64_t seed = 1; seed <= 5; seed++) {
        rnd_state = seed * 0x9e3779b97f4a7c15ULL;
        struct lru l;
        lru_init(&l);
        static struct item slots[MODEL_SLOTS]; /* id -1: free */
        int slot_of[MODEL_IDS];                /* where each id lives, -1 when off the list */
        struct model m = {{0}, 0};
        memset(slots, 0, sizeof slots);
        for (int s = 0; s < MODEL_SLOTS; s++)
            slots[s].id = -1;
        for (int id = 0; id < MODEL_IDS; id++)
            slot_of[id] = -1;
        for (int op = 0; op < MODEL_OPS; op++) {
            int id = (int)rnd(MODEL_IDS);
            int s = slot_of[id];
            switch (rnd(5)) {
            case 0: /* push (into a free slot) or touch */
                if (s < 0) {
                    do
                        s = (int)rnd(MODEL_SLOTS);
                    while (slots[s].id >= 0);
                    slots[s].id = id;
                    slot_of[id] = s;
                    lru_push_front(&l, &slots[s].node);
                    model_push(&m, id);
                    break;
                }
                /* fall through */
            case 1: /* touch */
                if (s >= 0) {
                    lru_touch(&l, &slots[s].node);
                    model_remove(&m, id);
                    model_push(&m, id);
                }
                break;
            case 2: /* unlink */
                if (s >= 0) {
                    lru_unlink(&slots[s].node);
                    slots[s].id = -1;
                    slot_of[id] = -1;
                    model_remove(&m, id);
                }
                break;
            case 3: { /* relocate to a free slot: the order does not change */
                if (s < 0)
                    break;
                int t;
                do
                    t = (int)rnd(MODEL_SLOTS);
                while (slots[t].id >= 0);
                move_slot(slots, s, t);
                slots[s].id = -1;
                slot_of[id] = t;
                break;
            }
            default: /* drop the oldest, as a full table does */
                if (m.n > 0) {
                    struct lru_node *o = lru_oldest(&l);
                    int oid = LRU_ENTRY(o, struct item, node)->id;
                    ASSERT_EQ(oid, m.ids[m.n - 1]);
                    lru_unlink(o);
                    slots[slot_of[oid]].id = -1;
                    slot_of[oid] = -1;
                    model_remove(&m, oid);
                }
                break;
            }
            if (op % 64 == 0 || op == MODEL_OPS - 1)
                assert_same(&l, &m, slots);
        }
    }
}
