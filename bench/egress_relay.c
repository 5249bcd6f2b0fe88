/*
 * bench/egress_relay.ts's helper: a 100 MB HTTP server and two bare TCP
 * relays in C, to measure what any relay in the egress proxy's place could
 * reach on this machine (a measurement, not part of landlockd).
 *
 *   egress_relay server               serves 100 MB per request (1 MiB writes)
 *   egress_relay copy TARGET_PORT     relays with read/write, 1 MiB buffer
 *   egress_relay splice TARGET_PORT   relays with splice(2): socket -> pipe
 *                                     -> socket, the bytes never in userspace
 *
 * Each listens on 127.0.0.1, an ephemeral port, printed as one line on
 * stdout. A connection gets a process of its own (fork), and a relay one
 * thread per direction, each ending with shutdown(SHUT_WR) on the other
 * side at EOF, as the proxy does.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BYTES (100L * 1024 * 1024)
#define CHUNK (1L << 20)

static int listen_any(void) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 64) ||
      getsockname(s, (struct sockaddr *)&a, &len)) {
    perror("egress_relay: listen");
    exit(1);
  }
  printf("%d\n", ntohs(a.sin_port));
  fflush(stdout);
  return s;
}

static int connect_to(int port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons(port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a)) return -1;
  return s;
}

static int write_all(int fd, const char *p, long n) {
  while (n > 0) {
    long w = write(fd, p, n);
    if (w <= 0) return -1;
    p += w;
    n -= w;
  }
  return 0;
}

static void serve(int c) {
  static char buf[CHUNK];
  char head[16384];
  long n = 0;
  memset(buf, 'x', sizeof buf);
  for (;;) {
    long r = read(c, head + n, sizeof head - 1 - n);
    if (r <= 0) return;
    n += r;
    head[n] = 0;
    if (strstr(head, "\r\n\r\n")) break;
    if (n == sizeof head - 1) return;
  }
  int len = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Length: %ld\r\n"
                     "Connection: close\r\n\r\n",
                     BYTES);
  if (write_all(c, head, len)) return;
  for (long sent = 0; sent < BYTES; sent += CHUNK) {
    if (write_all(c, buf, CHUNK)) return;
  }
}

struct direction {
  int from, to, splice;
};

static void *pump(void *arg) {
  struct direction *d = arg;
  if (!d->splice) {
    char *buf = malloc(CHUNK);
    for (;;) {
      long n = read(d->from, buf, CHUNK);
      if (n <= 0 || write_all(d->to, buf, n)) break;
    }
    free(buf);
  } else {
    int p[2];
    if (pipe2(p, O_CLOEXEC)) return NULL;
    fcntl(p[1], F_SETPIPE_SZ, CHUNK); /* as large as the copy's buffer */
    for (;;) {
      long n = splice(d->from, NULL, p[1], NULL, CHUNK, SPLICE_F_MOVE);
      if (n <= 0) break;
      while (n > 0) {
        long w = splice(p[0], NULL, d->to, NULL, n, SPLICE_F_MOVE);
        if (w <= 0) goto out;
        n -= w;
      }
    }
  out:
    close(p[0]);
    close(p[1]);
  }
  shutdown(d->to, SHUT_WR);
  return NULL;
}

static void relay(int client, int target, int use_splice) {
  int up = connect_to(target);
  if (up < 0) return;
  struct direction a = {client, up, use_splice}, b = {up, client, use_splice};
  pthread_t ta, tb;
  pthread_create(&ta, NULL, pump, &a);
  pthread_create(&tb, NULL, pump, &b);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
}

int main(int argc, char **argv) {
  int server = argc == 2 && !strcmp(argv[1], "server");
  int copy = argc == 3 && !strcmp(argv[1], "copy");
  int spl = argc == 3 && !strcmp(argv[1], "splice");
  if (!server && !copy && !spl) {
    fprintf(stderr, "usage: egress_relay server | copy PORT | splice PORT\n");
    return 2;
  }
  signal(SIGCHLD, SIG_IGN); /* no zombies */
  signal(SIGPIPE, SIG_IGN);
  int l = listen_any();
  for (;;) {
    int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) continue;
    if (fork() == 0) {
      close(l);
      if (server) serve(c);
      else relay(c, atoi(argv[2]), spl);
      _exit(0);
    }
    close(c);
  }
}
