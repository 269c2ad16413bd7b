// A socket-activated echo of a megabyte: fd 3 is a listening socket it
// was handed. It takes one connection, receives 1,000,000 bytes with one
// recv(MSG_WAITALL), sends them back with one send (more than the
// socket's buffer holds: it waits for room), and prints the counts and a
// checksum.
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define LEN 1000000

int main(void) {
    char *buf = malloc(LEN);
    int c = accept(3, NULL, NULL);
    if (!buf || c < 0) {
        perror("accept");
        return 1;
    }
    ssize_t n = recv(c, buf, LEN, MSG_WAITALL);
    unsigned long sum = 0;
    for (ssize_t i = 0; i < n; i++)
        sum = sum * 31 + (unsigned char)buf[i];
    ssize_t w = send(c, buf, n > 0 ? n : 0, 0);
    printf("received %zd, checksum %lu, sent %zd, shutdown %d\n", n, sum, w, shutdown(c, SHUT_WR));
    return 0;
}
