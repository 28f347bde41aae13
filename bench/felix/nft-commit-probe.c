// Times single nf_tables transactions against an existing inet table (kernel work only: one
// batch per transaction, then a getgen round trip to wait for it). Used by kernel-commit.sh.
//   nft-commit-probe <table> [samples]
// Each kind is timed `samples` times in a loop of its own (median, p90, min in microseconds):
// a rule with a verdict (makes the kernel validate the table's jump graph), the flush that
// removes it, a counter-only rule (no expression with a validate op: no validation), a new
// named set, its deletion, and a new set plus one element addressed by name or by batch id.
// With FX_PROBE_CHAIN=<chain> the rules go into that existing chain and are left there (no
// flush), and only the two rule kinds are timed: what a chain's size adds to a commit (the
// kernel rebuilds a changed chain's rule blob, every rule of it copied).
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static struct mnl_socket *nl;
static uint32_t seq = 1;
static char buf[1 << 16];
static const char *table;
static const char *chain = "fxprobe";
static const char *setname = "fxprobe-set";

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

typedef void (*build_fn)(struct mnl_nlmsg_batch *b);

static struct nlmsghdr *next_msg(struct mnl_nlmsg_batch *b, uint16_t type, uint16_t flags) {
    return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), type, NFPROTO_INET, flags, seq++);
}

static double run(build_fn build) {
    struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, sizeof buf);
    nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
    mnl_nlmsg_batch_next(b);
    build(b);
    nftnl_batch_end(mnl_nlmsg_batch_current(b), seq++);
    mnl_nlmsg_batch_next(b);
    double t = now_us();
    if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0) { perror("send"); exit(1); }
    mnl_nlmsg_batch_stop(b);
    // Without NLM_F_ACK only errors are answered: a getgen after the batch says it is done.
    char rb[8192];
    struct nlmsghdr *nh = nftnl_nlmsg_build_hdr(rb, NFT_MSG_GETGEN, NFPROTO_UNSPEC, 0, seq++);
    if (mnl_socket_sendto(nl, nh, nh->nlmsg_len) < 0) { perror("send"); exit(1); }
    for (;;) {
        if (mnl_socket_recvfrom(nl, rb, sizeof rb) <= 0) { perror("recv"); exit(1); }
        struct nlmsghdr *h = (struct nlmsghdr *)rb;
        if (h->nlmsg_type == NLMSG_ERROR) {
            struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
            if (e->error) { fprintf(stderr, "nf_tables error %d (does table inet %s exist?)\n", e->error, table); exit(1); }
            continue;
        }
        if ((h->nlmsg_type & 0xff) == NFT_MSG_NEWGEN) break;
    }
    return now_us() - t;
}

static void nothing(struct mnl_nlmsg_batch *b) { (void)b; }

static void add_chain(struct mnl_nlmsg_batch *b) {
    struct nftnl_chain *c = nftnl_chain_alloc();
    nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
    nftnl_chain_nlmsg_build_payload(next_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
    mnl_nlmsg_batch_next(b);
    nftnl_chain_free(c);
}

static void add_rule_with(struct mnl_nlmsg_batch *b, struct nftnl_expr *e) {
    struct nftnl_rule *r = nftnl_rule_alloc();
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
    nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
    nftnl_rule_add_expr(r, e);
    nftnl_rule_nlmsg_build_payload(next_msg(b, NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE), r);
    mnl_nlmsg_batch_next(b);
    nftnl_rule_free(r);
}

static void add_verdict_rule(struct mnl_nlmsg_batch *b) {
    struct nftnl_expr *e = nftnl_expr_alloc("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
    add_rule_with(b, e);
}

static void add_counter_rule(struct mnl_nlmsg_batch *b) { add_rule_with(b, nftnl_expr_alloc("counter")); }

static void flush_chain(struct mnl_nlmsg_batch *b) {
    struct nftnl_rule *r = nftnl_rule_alloc();
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
    nftnl_rule_nlmsg_build_payload(next_msg(b, NFT_MSG_DELRULE, 0), r);
    mnl_nlmsg_batch_next(b);
    nftnl_rule_free(r);
}

static struct nftnl_set *probe_set(void) {
    struct nftnl_set *s = nftnl_set_alloc();
    nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
    nftnl_set_set_str(s, NFTNL_SET_NAME, setname);
    nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 7);   // ipv4_addr
    nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
    return s;
}

static void add_set(struct mnl_nlmsg_batch *b) {
    struct nftnl_set *s = probe_set();
    nftnl_set_nlmsg_build_payload(next_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE), s);
    mnl_nlmsg_batch_next(b);
    nftnl_set_free(s);
}

static void delete_set(struct mnl_nlmsg_batch *b) {
    struct nftnl_set *s = probe_set();
    nftnl_set_nlmsg_build_payload(next_msg(b, NFT_MSG_DELSET, 0), s);
    mnl_nlmsg_batch_next(b);
    nftnl_set_free(s);
}

static void element(struct mnl_nlmsg_batch *b, int by_name) {
    struct nftnl_set *s = probe_set();
    if (!by_name) nftnl_set_unset(s, NFTNL_SET_NAME);
    struct nftnl_set_elem *e = nftnl_set_elem_alloc();
    uint32_t key = htonl(0xc0000201);
    nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &key, sizeof key);
    nftnl_set_elem_add(s, e);
    nftnl_set_elems_nlmsg_build_payload(next_msg(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE), s);
    mnl_nlmsg_batch_next(b);
    nftnl_set_free(s);
}

static void add_set_element_by_name(struct mnl_nlmsg_batch *b) { add_set(b); element(b, 1); }
static void add_set_element_by_id(struct mnl_nlmsg_batch *b) { add_set(b); element(b, 0); }

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

// Times `timed` n times, running `undo` after each (untimed).
static void measure(const char *label, build_fn timed, build_fn undo, int n) {
    double v[n];
    for (int i = 0; i < n; i++) { v[i] = run(timed); run(undo); }
    qsort(v, n, sizeof *v, by_value);
    printf("%s: median %.0f us, p90 %.0f us, min %.0f us\n", label, v[n / 2], v[n * 9 / 10], v[0]);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s <inet table> [samples]\n", argv[0]); return 2; }
    table = argv[1];
    int n = argc > 2 ? atoi(argv[2]) : 40;
    if (n < 1) n = 1;
    nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) { perror("netlink"); return 1; }
    const char *existing = getenv("FX_PROBE_CHAIN");
    if (existing && *existing) {
        chain = existing;
        measure("rule with a verdict (validates)", add_verdict_rule, nothing, n);
        measure("counter-only rule (no validation)", add_counter_rule, nothing, n);
        return 0;
    }
    run(add_chain);   // an orphan chain: where a rule goes does not change the validation
    measure("rule with a verdict (validates)", add_verdict_rule, flush_chain, n);
    measure("counter-only rule (no validation)", add_counter_rule, flush_chain, n);
    measure("new set", add_set, delete_set, n);
    measure("new set + element by name", add_set_element_by_name, delete_set, n);
    measure("new set + element by batch id", add_set_element_by_id, delete_set, n);
    return 0;
}
