/*
 * lru.h — an intrusive doubly linked list kept in order of last use, for
 * the bounded tables that drop their least recently used entry: the flow
 * table (one list per timeout class), the certificate cache and the rule
 * threshold counters. Header only, libc only, no allocation.
 *
 * The entry embeds a struct lru_node; LRU_ENTRY() gets the entry back from
 * it. The list is circular through a sentinel head, so no operation tests
 * for a missing neighbour:
 *
 *     head ─next▶ newest ─next▶ ... ─next▶ oldest ─next▶ head
 *     head ─prev▶ oldest ─prev▶ ... ─prev▶ newest ─prev▶ head
 *
 * A node on no list has prev = next = NULL (a zeroed entry is unlinked).
 *
 * Hazards:
 *   [LRU-HEAD-MOVED]   the head and the nodes point at each other: a
 *                      struct lru is not copied or moved once initialised.
 *   [LRU-ENTRY-MOVED]  an entry copied to another slot (open addressing)
 *                      must call lru_relocate(), or its neighbours keep
 *                      pointing at the old slot.
 *   [LRU-NOT-LINKED]   unlink/touch/relocate of a node on no list is a bug
 *                      (assert), not something the list repairs.
 */
#ifndef POSTCARD_LRU_H
#define POSTCARD_LRU_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>

struct lru_node {
    struct lru_node *prev; /* towards the newest (the head after the newest) */
    struct lru_node *next; /* towards the oldest (the head after the oldest) */
};

struct lru {
    struct lru_node head; /* sentinel: next is the newest, prev the oldest */
};

/* The entry of type `type` whose member `member` is the node n (not NULL). */
#define LRU_ENTRY(n, type, member) ((type *)(void *)((char *)(n)-offsetof(type, member)))

/* l is empty; from now on it stays at this address. [LRU-HEAD-MOVED] */
static inline void lru_init(struct lru *l)
{
    l->head.prev = l->head.next = &l->head;
}

static inline bool lru_is_empty(const struct lru *l)
{
    return l->head.next == &l->head;
}

static inline bool lru_is_linked(const struct lru_node *n)
{
    return n->next != NULL;
}

/* n, on no list, becomes the newest of l. */
static inline void lru_push_front(struct lru *l, struct lru_node *n)
{
    assert(!lru_is_linked(n));
    n->prev = &l->head;
    n->next = l->head.next;
    l->head.next->prev = n;
    l->head.next = n;
}

/* Take n off its list; it is then on no list. [LRU-NOT-LINKED] */
static inline void lru_unlink(struct lru_node *n)
{
    assert(lru_is_linked(n));
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

/*
 * n, on l or on another list, becomes the newest of l (a use of its entry).
 * Already the newest of l: nothing is written. [LRU-NOT-LINKED]
 */
static inline void lru_touch(struct lru *l, struct lru_node *n)
{
    assert(lru_is_linked(n));
    if (l->head.next == n)
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = &l->head;
    n->next = l->head.next;
    l->head.next->prev = n;
    l->head.next = n;
}

/* The least recently used node of l, or NULL when l is empty. */
static inline struct lru_node *lru_oldest(const struct lru *l)
{
    return l->head.prev == &l->head ? NULL : l->head.prev;
}

/* The most recently used node of l, or NULL when l is empty. */
static inline struct lru_node *lru_newest(const struct lru *l)
{
    return l->head.next == &l->head ? NULL : l->head.next;
}

/* The node used just before n (towards the oldest), or NULL after the oldest. */
static inline struct lru_node *lru_older(const struct lru *l, const struct lru_node *n)
{
    return n->next == &l->head ? NULL : n->next;
}

/* The node used just after n (towards the newest), or NULL before the newest. */
static inline struct lru_node *lru_newer(const struct lru *l, const struct lru_node *n)
{
    return n->prev == &l->head ? NULL : n->prev;
}

/*
 * The entry of node from has moved to the slot of node to (its bytes may
 * already have been copied there): to takes from's place in the list, with
 * the same neighbours, and from is left on no list. [LRU-ENTRY-MOVED]
 */
static inline void lru_relocate(struct lru_node *from, struct lru_node *to)
{
    assert(lru_is_linked(from) && from != to);
    to->prev = from->prev;
    to->next = from->next;
    to->prev->next = to;
    to->next->prev = to;
    from->prev = from->next = NULL;
}

#endif
