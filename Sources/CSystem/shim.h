#ifndef CALICO_CSYSTEM_SHIM_H
#define CALICO_CSYSTEM_SHIM_H

// The C libraries calico-node links: nftables netlink (libnftnl over libmnl),
// kernel routing tables (libnl-route-3), and the types of libcurl (loaded at run time, see below).
// glibc's socket headers first: linux/libc-compat.h then suppresses the kernel's duplicate
// definitions (IPPROTO_*, in_addr) that libnl and libnftnl pull in.
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <libmnl/libmnl.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/expr.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netlink/netlink.h>
#include <netlink/version.h>
#include <netlink/route/route.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/neighbour.h>
#include <curl/curl.h>

// libcurl is not linked: Core/Kubernetes/HTTP/LibCurl.swift loads it with dlopen on first use
// (its ~30 dependencies cost every process start otherwise), so only curl.h's types are used
// from here. curl_easy_setopt/getinfo are variadic and so not callable from Swift; these typed
// trampolines call the dlsym'd function (`fn`) with C's variadic convention.
typedef CURLcode (*cs_curl_easy_setopt_fn)(CURL *, CURLoption, ...);
typedef CURLcode (*cs_curl_easy_getinfo_fn)(CURL *, CURLINFO, ...);
static inline CURLcode cs_curl_setopt_long(void *fn, CURL *h, CURLoption o, long v) { return ((cs_curl_easy_setopt_fn)fn)(h, o, v); }
static inline CURLcode cs_curl_setopt_ptr(void *fn, CURL *h, CURLoption o, const void *v) { return ((cs_curl_easy_setopt_fn)fn)(h, o, v); }
static inline CURLcode cs_curl_setopt_off(void *fn, CURL *h, CURLoption o, curl_off_t v) { return ((cs_curl_easy_setopt_fn)fn)(h, o, v); }
typedef size_t (*cs_curl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode cs_curl_setopt_write(void *fn, CURL *h, cs_curl_data_cb f) { return ((cs_curl_easy_setopt_fn)fn)(h, CURLOPT_WRITEFUNCTION, f); }
static inline CURLcode cs_curl_getinfo_long(void *fn, CURL *h, CURLINFO i, long *v) { return ((cs_curl_easy_getinfo_fn)fn)(h, i, v); }
typedef CURLMcode (*cs_curl_multi_setopt_fn)(CURLM *, CURLMoption, ...);
static inline CURLMcode cs_curl_multi_setopt_long(void *fn, CURLM *m, CURLMoption o, long v) { return ((cs_curl_multi_setopt_fn)fn)(m, o, v); }

#endif

// Kernel/ (netlink links): veth pairs.
#ifndef CALICO_CSYSTEM_SHIM_KERNEL_H
#define CALICO_CSYSTEM_SHIM_KERNEL_H
#include <netlink/route/link/veth.h>
#include <unistd.h>
#include <sys/syscall.h>
// setns/unshare are GNU extensions that Swift's Glibc module does not export.
#define CS_CLONE_NEWNET 0x40000000
static inline int cs_setns(int fd, int nstype) { return (int)syscall(SYS_setns, fd, nstype); }
static inline int cs_unshare(int flags) { return (int)syscall(SYS_unshare, flags); }

// Sends one netlink request from a forked child that then exits; returns the child's pid (or -1).
// The kernel runs a request in its sender's context, and deleting a link holds the sender in
// rcu_barrier (netdev_run_todo, ~15 ms at HZ=250) after the link is already unregistered, so the
// parent reads the outcome (the RTM_DELLINK broadcast, or the ack) from the shared socket instead.
// After fork in a threaded process the child may only make async-signal-safe calls, so it makes
// raw system calls alone; it closes every other descriptor first, so it holds no pipe of the
// caller's runtime (which waits for EOF) and no lock file open.
static inline int cs_fork_send(int fd, const void *msg, size_t len) {
    pid_t pid = fork();
    if (pid != 0) return (int)pid;
    if (dup2(fd, 0) < 0) _exit(1);
    if (syscall(SYS_close_range, 1U, ~0U, 0) != 0) {
        for (int i = 1; i < 4096; i++) close(i);
    }
    (void)send(0, msg, len, 0);
    _exit(0);
}
#endif

// Socket types as plain ints: with <sys/socket.h> imported through this module, a whole-module
// (release) build no longer finds Glibc's SOCK_STREAM/SOCK_DGRAM enum cases.
#ifndef CALICO_CSYSTEM_SHIM_SOCKET_H
#define CALICO_CSYSTEM_SHIM_SOCKET_H
static const int cs_sock_stream = SOCK_STREAM;
static const int cs_sock_dgram = SOCK_DGRAM;
#include <sys/prctl.h>
// Names the calling thread for ps, top and /proc/<pid>/task/*/comm (the kernel keeps 15 bytes).
// prctl is variadic, which Swift cannot call, and Foundation on Linux does not apply Thread.name.
static inline int cs_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

#endif
