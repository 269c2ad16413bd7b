// A socket-activated server: fd 3 is a listening TCP socket it was
// handed (as systemd's LISTEN_FDS or `runsc run --preserve-fds 1` hand
// it). It names the socket, then serves two connections: each gets its
// peer's family, one line received with recv, an answer sent with send
// and recvmsg/sendmsg in turn, and shutdown of its writing side.
// It asks the socket's type, domain and listening state, as Python's
// socket(fileno=3) does, and sets TCP_NODELAY on a connection. Prints
// what it observes.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void) {
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    if (getsockname(3, (struct sockaddr *)&me, &len) != 0) {
        printf("getsockname: %s\n", strerror(errno));
        return 1;
    }
    printf("listening: family %d, loopback %d, len %u\n", me.sin_family,
           me.sin_addr.s_addr == htonl(INADDR_LOOPBACK), (unsigned)len);
    int type = 0, domain = 0, listening = 0;
    socklen_t ol = sizeof type;
    getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &ol);
    getsockopt(3, SOL_SOCKET, SO_DOMAIN, &domain, &ol);
    getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol);
    int odd = 0;
    int bad = getsockopt(3, SOL_SOCKET, SO_PEERSEC, &odd, &ol);
    printf("type %d (stream %d), domain %d, listening %d, an option not kept: %d %s\n", type, SOCK_STREAM, domain,
           listening, bad, bad ? strerror(errno) : "");
    for (int i = 0; i < 2; i++) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        int c = i == 0 ? accept(3, (struct sockaddr *)&peer, &plen)
                       : accept4(3, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
        if (c < 0) {
            printf("accept: %s\n", strerror(errno));
            return 1;
        }
        int one = 1, nodelay = 0;
        socklen_t nl = sizeof nodelay;
        int set = setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &nodelay, &nl);
        int idle = 42, got_idle = 0;
        socklen_t il = sizeof got_idle;
        int kset = setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        getsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &got_idle, &il);
        printf("conn %d: TCP_NODELAY set %d, reads %d; TCP_KEEPIDLE set %d, reads %d\n", i, set, nodelay != 0, kset,
               got_idle);
        struct sockaddr_in p2;
        socklen_t p2len = sizeof p2;
        int named = getpeername(c, (struct sockaddr *)&p2, &p2len) == 0 && p2.sin_port == peer.sin_port;
        char buf[256];
        struct iovec iv = {buf, sizeof buf - 1};
        struct msghdr mh = {.msg_iov = &iv, .msg_iovlen = 1};
        ssize_t n = i == 0 ? recv(c, buf, sizeof buf - 1, 0) : recvmsg(c, &mh, 0);
        if (n < 0) {
            printf("recv: %s\n", strerror(errno));
            return 1;
        }
        buf[n] = 0;
        char out[300];
        int m = snprintf(out, sizeof out, "echo %d: %s", i, buf);
        struct iovec ov[2] = {{out, 5}, {out + 5, m - 5}};
        struct msghdr om = {.msg_iov = ov, .msg_iovlen = 2};
        ssize_t w = i == 0 ? send(c, out, m, MSG_NOSIGNAL) : sendmsg(c, &om, 0);
        printf("conn %d: peer family %d, len %u, getpeername agrees %d, got %zd bytes (msg flags %d, namelen %u), sent "
               "%zd, shutdown %d\n",
               i, peer.sin_family, (unsigned)plen, named, n, mh.msg_flags, (unsigned)mh.msg_namelen, w,
               shutdown(c, SHUT_WR));
        // The client closes: the next read sees the end.
        printf("conn %d: then read %zd\n", i, recv(c, buf, sizeof buf, MSG_WAITALL));
        close(c);
    }
    printf("bad shutdown: %d\n", shutdown(3, 7) == -1 && errno == EINVAL);
    return 0;
}
