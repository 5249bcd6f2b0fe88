/**
 * The one symbol table of landlockd's C library (ffi/*.c, declared in
 * ffi/landlockd.h), with each entry's C prototype beside it. ffi/mod.ts
 * maps the library once per process and binds each symbol on first use.
 * Nothing outside `ffi/` and the modules that wrap them names these symbols.
 *
 * @module
 */

import { stampSymbols } from "./library.ts";

/** Every symbol of liblandlockd.so that TypeScript calls. */
export const symbols = {
  /** int32_t ll_spawn(const struct ll_spawn_req *req, int32_t *out); */
  ll_spawn: { parameters: ["buffer", "buffer"], result: "i32" },
  /** int32_t ll_spawn_queued(const struct ll_spawn_req *req, int32_t *out);
   *  called off the JS thread: the spawner thread makes the child. */
  ll_spawn_queued: {
    parameters: ["buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  /** int32_t ll_wait(int32_t pidfd); for callers on a thread of their own. */
  ll_wait_sync: { name: "ll_wait", parameters: ["i32"], result: "i32" },
  /** int64_t ll_syscall(int64_t nr, int64_t a0, ..., int64_t a5); */
  ll_syscall: {
    parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"],
    result: "i64",
  },
  /** ll_syscall again, off the JS thread: `run --socket`'s client calls
   *  only such symbols (the first one called on the JS thread costs about
   *  half a millisecond more to bind). */
  ll_syscall_async: {
    name: "ll_syscall",
    parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"],
    result: "i64",
    nonblocking: true,
  },
  /** int32_t ll_probe_namespaces(uint32_t clone_flags); */
  ll_probe_namespaces: { parameters: ["u32"], result: "i32" },
  /** int32_t ll_broker_next(struct ll_broker *b, void *notif); blocks. */
  ll_broker_next: { parameters: ["buffer", "buffer"], result: "i32" },
  /** int32_t ll_read_remote_path(int32_t pid, uint64_t addr, char *buf,
   *  uint32_t size); */
  ll_read_remote_path: {
    parameters: ["i32", "u64", "buffer", "u32"],
    result: "i32",
  },
  /** int32_t ll_helper_call(int32_t sock, const void *req, uint32_t len,
   *  int32_t send_fd, int32_t *recv_fd); */
  ll_helper_call: {
    parameters: ["i32", "buffer", "u32", "i32", "buffer"],
    result: "i32",
  },
  /** int32_t ll_forward_signals(const int32_t *sigs, uint32_t n); */
  ll_forward_signals: { parameters: ["buffer", "u32"], result: "i32" },
  /** void ll_forward_to(int32_t pidfd); */
  ll_forward_to: { parameters: ["i32"], result: "void" },
  /** uint32_t ll_forwarded(int32_t sig); */
  ll_forwarded: { parameters: ["i32"], result: "u32" },
  /** int32_t ll_watch_thread(void); this thread's watchdog slot. */
  ll_watch_thread: { parameters: [], result: "i32" },
  /** void ll_watch_begin(int32_t listener, uint64_t id, int32_t pidfd,
   *  int32_t pid); */
  ll_watch_begin: { parameters: ["i32", "u64", "i32", "i32"], result: "void" },
  /** void ll_watch_end(void); */
  ll_watch_end: { parameters: [], result: "void" },
  /** uint32_t ll_watch_kills(int32_t slot); */
  ll_watch_kills: { parameters: ["i32"], result: "u32" },
  /** int32_t ll_watchdog_start(int32_t deadline_ms); */
  ll_watchdog_start: { parameters: ["i32"], result: "i32" },
  // The daemon's: sockets, epoll, many brokers on one thread.
  /** int32_t ll_sock_peer(int32_t fd, int32_t *cred, uint32_t *groups,
   *  uint32_t max_groups); */
  ll_sock_peer: {
    parameters: ["i32", "buffer", "buffer", "u32"],
    result: "i32",
  },
  /** int64_t ll_watch_busy_ms(int32_t slot); */
  ll_watch_busy_ms: { parameters: ["i32"], result: "i64" },
  /** int32_t ll_wait_now(int32_t pidfd); -EAGAIN while it runs. */
  ll_wait_now: { parameters: ["i32"], result: "i32" },
  /** int32_t ll_thread_resolve_as(uint32_t uid, uint32_t gid,
   *  const uint32_t *groups, uint32_t n_groups); this thread only. */
  ll_thread_resolve_as: {
    parameters: ["u32", "u32", "buffer", "u32"],
    result: "i32",
  },
  /** int32_t ll_broker_next_any(struct ll_broker *const *bs, uint32_t count,
   *  int32_t wake_fd, void *const *notifs, int32_t *which); blocks. */
  ll_broker_next_any: {
    parameters: ["buffer", "u32", "i32", "buffer", "buffer"],
    result: "i32",
  },
  /** int32_t ll_sock_listen(const char *path, int32_t backlog); */
  ll_sock_listen: { parameters: ["buffer", "i32"], result: "i32" },
  /** int32_t ll_sock_connect(const char *path); */
  ll_sock_connect: { parameters: ["buffer"], result: "i32" },
  /** ll_sock_connect again, off the JS thread (`run --socket`'s client). */
  ll_sock_connect_async: {
    name: "ll_sock_connect",
    parameters: ["buffer"],
    result: "i32",
    nonblocking: true,
  },
  /** int32_t ll_sock_accept(int32_t fd); on a non-blocking listening fd. */
  ll_sock_accept: { parameters: ["i32"], result: "i32" },
  /** int64_t ll_sock_send(int32_t fd, const void *buf, uint64_t len,
   *  const int32_t *fds, uint32_t nfds, int32_t flags); */
  ll_sock_send: {
    parameters: ["i32", "buffer", "u64", "buffer", "u32", "i32"],
    result: "i64",
  },
  /** ll_sock_send again, blocking, off the JS thread (a peer that reads
   *  slowly). */
  ll_sock_send_async: {
    name: "ll_sock_send",
    parameters: ["i32", "buffer", "u64", "buffer", "u32", "i32"],
    result: "i64",
    nonblocking: true,
  },
  /** int64_t ll_sock_recv(int32_t fd, void *buf, uint64_t len, int32_t *fds,
   *  int32_t *nfds, int32_t flags); blocks, so off the JS thread. */
  ll_sock_recv: {
    parameters: ["i32", "buffer", "u64", "buffer", "buffer", "i32"],
    result: "i64",
    nonblocking: true,
  },
  /** ll_sock_recv again, on this thread, for MSG_DONTWAIT reads of a
   *  ready socket. */
  ll_sock_recv_now: {
    name: "ll_sock_recv",
    parameters: ["i32", "buffer", "u64", "buffer", "buffer", "i32"],
    result: "i64",
  },
  /** int32_t ll_add_path_rules(int32_t ruleset_fd, const char *paths,
   *  uint32_t n, const uint64_t *masks, const uint8_t *optional,
   *  int32_t *out); */
  ll_add_path_rules: {
    parameters: ["i32", "buffer", "u32", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  /** int32_t ll_poll_ctl(int32_t epfd, int32_t op, int32_t fd, uint32_t events); */
  ll_poll_ctl: { parameters: ["i32", "i32", "i32", "u32"], result: "i32" },
  /** ll_poll_wait again, on this thread: what is ready now (timeout 0),
   *  or soon (a short timeout, see daemon/server/reactor.ts). */
  ll_poll_now: {
    name: "ll_poll_wait",
    parameters: ["i32", "buffer", "u32", "i32"],
    result: "i32",
  },
  /** int32_t ll_poll_wait(int32_t epfd, uint32_t *out, uint32_t max,
   *  int32_t timeout_ms); blocks, so off the JS thread. */
  ll_poll_wait: {
    parameters: ["i32", "buffer", "u32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  /** ll_stamps_check, declared in ./library.ts (which imports nothing). */
  ...stampSymbols,
  // The functions a direct run calls on its JS thread, each returning
  // `struct ll_result { int64_t value; }` (ffi/short_run.c): Deno compiles
  // no fast-call trampoline for a signature with a struct, which saves a
  // fresh process about 0.7 ms; syscalls/sys.ts `shortRun`.
  /** struct ll_result ll_syscall_r(int64_t nr, int64_t a0, ..., int64_t a5); */
  ll_syscall_r: {
    parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"],
    result: { struct: ["i64"] },
  },
  /** struct ll_result ll_spawn_r(const struct ll_spawn_req *req, int32_t *out); */
  ll_spawn_r: { parameters: ["buffer", "buffer"], result: { struct: ["i64"] } },
  /** struct ll_result ll_wait_r(int32_t pidfd); */
  ll_wait_r: { parameters: ["i32"], result: { struct: ["i64"] } },
  /** struct ll_result ll_add_path_rules_r(int32_t ruleset_fd,
   *  const char *paths, uint32_t n, const uint64_t *masks,
   *  const uint8_t *optional, int32_t *out); */
  ll_add_path_rules_r: {
    parameters: ["i32", "buffer", "u32", "buffer", "buffer", "buffer"],
    result: { struct: ["i64"] },
  },
  /** struct ll_result ll_forward_signals_r(const int32_t *sigs, uint32_t n); */
  ll_forward_signals_r: {
    parameters: ["buffer", "u32"],
    result: { struct: ["i64"] },
  },
  /** struct ll_result ll_forward_to_r(int32_t pidfd); value 0 */
  ll_forward_to_r: { parameters: ["i32"], result: { struct: ["i64"] } },
  /** struct ll_result ll_forwarded_r(int32_t sig); */
  ll_forwarded_r: { parameters: ["i32"], result: { struct: ["i64"] } },
} as const satisfies Deno.ForeignLibraryInterface;

/** landlockd's C library (ffi/mod.ts `library()`). */
export type Library = Deno.DynamicLibrary<typeof symbols>["symbols"];
