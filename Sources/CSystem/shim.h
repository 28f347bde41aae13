#ifndef CALICO_CSYSTEM_SHIM_H
#define CALICO_CSYSTEM_SHIM_H

// The C libraries calico-node links: nftables netlink (libnftnl over libmnl),
// kernel routing tables (libnl-route-3), and HTTP to the Kubernetes API (libcurl).
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

// libcurl's curl_easy_setopt/getinfo are variadic and so not callable from Swift;
// these typed wrappers are.
static inline CURLcode cs_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode cs_curl_setopt_ptr(CURL *h, CURLoption o, const void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode cs_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode cs_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*cs_curl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode cs_curl_setopt_write(CURL *h, cs_curl_data_cb f) { return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f); }
static inline CURLcode cs_curl_setopt_header(CURL *h, cs_curl_data_cb f) { return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, f); }
static inline CURLcode cs_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode cs_curl_getinfo_ptr(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLMcode cs_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

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
#endif

// Socket types as plain ints: with <sys/socket.h> imported through this module, a whole-module
// (release) build no longer finds Glibc's SOCK_STREAM/SOCK_DGRAM enum cases.
#ifndef CALICO_CSYSTEM_SHIM_SOCKET_H
#define CALICO_CSYSTEM_SHIM_SOCKET_H
static const int cs_sock_stream = SOCK_STREAM;
static const int cs_sock_dgram = SOCK_DGRAM;
#endif
