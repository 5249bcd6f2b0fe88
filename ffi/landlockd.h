/*
 * landlockd's C library (liblandlockd.so), called from TypeScript through
 * Deno.dlopen (the one symbol table is ffi/symbols.ts):
 *   spawn.c        what runs between clone and exec (the pre-exec path)
 *   process.c      ll_spawn's parent side and spawner thread, namespace probe,
 *                  wait, raw syscall
 *   init.c         PID 1 of a new PID namespace and the mount helper
 *   broker_fast.c  the seccomp broker's fast path
 *   signals.c      signal forwarding to the sandboxed command
 *   unix_socket.c  Unix sockets and epoll for the daemon
 *   watchdog.c     the broker's remote-read watchdog
 *   stamps.c       the bundle's freshness check, one call for every file
 * Private declarations shared between them are in internal.h.
 *
 * Every number and byte layout below that TypeScript relies on is printed
 * by ffi/layout_check.c and checked against ffi/layout.ts by
 * tests/layout_test.ts.
 */
#ifndef LANDLOCKD_H
#define LANDLOCKD_H

#include <stdint.h>

/*
 * The child's pre-exec steps, reported back as (step, errno). These are
 * numbers, not the order: spawn.c lists the steps in the order they run.
 */
enum ll_step {
	LL_STEP_NONE = 0,
	LL_STEP_SIGNALS = 1,
	LL_STEP_PDEATHSIG = 2,
	LL_STEP_STDIO = 3,
	LL_STEP_FDS = 4,
	LL_STEP_MOUNTS = 5,
	LL_STEP_CWD = 6,
	LL_STEP_NO_NEW_PRIVS = 7,
	LL_STEP_LANDLOCK = 8,
	LL_STEP_SECCOMP = 9,
	LL_STEP_EXEC = 10,
	LL_STEP_USERNS = 11,
	LL_STEP_INIT = 12,
	LL_STEP_RULES = 13,
	LL_STEP_IDS = 14,
	LL_STEP_CAPS = 15,
};

/*
 * A Landlock rule on a mount target, added in the child after the mount:
 * a fresh tmpfs or proc exists only there, and Landlock does not look
 * through a mount to the directory it hides.
 */
struct ll_late_rule {
	const char *path; /* as the child sees it, after any pivot */
	uint64_t allowed_access;
	uint32_t layer; /* index into layer_fds */
	uint32_t reserved;
};

/* ll_mount.op */
enum ll_mount_op {
	LL_MOUNT = 1, /* mount(source, target, fstype, flags, data) */
	LL_MOUNT_RDONLY = 2, /* mount_setattr(target, AT_RECURSIVE, +RDONLY) */
	LL_PIVOT = 3, /* pivot_root into target, detach the old root */
};

/* One step of the child's mount sequence, prepared by the parent. */
struct ll_mount {
	const char *source;
	const char *target;
	const char *fstype;
	const char *data;
	uint64_t flags;
	uint32_t op;
	uint32_t reserved;
};

/* ll_spawn_req.flags */
#define LL_SPAWN_NO_NEW_PRIVS (1u << 0)
/*
 * The flags of the one sendmsg the child makes under its seccomp filter
 * (handing the listener back): MSG_NOSIGNAL | MSG_CMSG_CLOEXEC. A filter
 * that sends sendmsg to the broker lets exactly these flags through, since
 * nobody listens yet; a second filter installed right after refuses them
 * (EPERM), so the sandboxed command cannot use them to pass unchecked.
 */
#define LL_LISTENER_SEND_FLAGS 0x40004000u
/* Start a mount helper in the sandbox's namespaces (needs CLONE_NEWPID). */
#define LL_SPAWN_MOUNT_HELPER (1u << 1)
/*
 * Run the command as run_uid/run_gid with groups (a root daemon serving
 * another user): set after the mounts, before cwd and no_new_privs.
 */
#define LL_SPAWN_SET_IDS (1u << 2)

/* ll_mount_req.op: what the mount helper does on the broker's behalf. */
enum ll_mount_req_op {
	LL_REQ_TMPFS = 1, /* mount a tmpfs on target (nosuid, nodev) */
	LL_REQ_BIND = 2, /* bind source on target; read_only before attaching */
	LL_REQ_UMOUNT = 3, /* umount2(target, flags & MNT_DETACH) */
	LL_REQ_OPEN_TREE = 4, /* open_tree(source, CLONE | flags) -> fd */
	LL_REQ_MOVE_MOUNT = 5, /* move_mount(fd, "", target); read_only before */
	LL_REQ_FSOPEN = 6, /* fsopen(source = fs type) -> fd */
	LL_REQ_FSCONFIG = 7, /* fsconfig(fd, flags = cmd, source = key, data = value) */
	LL_REQ_FSMOUNT = 8, /* fsmount(fd, 0, flags = attrs) -> fd */
	LL_REQ_SETATTR = 9, /* mount_setattr(target, flags, set = attr_set, clr) */
};

/* One request to the mount helper; the reply is an int32_t: 0 or -errno. */
struct ll_mount_req {
	uint32_t op;
	uint32_t flags; /* per op, see enum ll_mount_req_op */
	uint32_t read_only; /* LL_REQ_SETATTR: the attr_set mask instead */
	uint32_t attr_clr; /* LL_REQ_SETATTR */
	char source[4096];
	char target[4096];
	char data[256]; /* tmpfs options or an fsconfig value, already checked */
};

/*
 * A call to the mount helper: sends req (and send_fd, if >= 0), returns
 * the helper's reply (0 or -errno) and any fd it sent back in *recv_fd.
 */
int32_t ll_helper_call(int32_t sock, const void *req, uint32_t len,
		       int32_t send_fd, int32_t *recv_fd);

/*
 * Makes the calling thread resolve paths as uid/gid with groups (fsuid,
 * fsgid and supplementary groups; the real and effective ids stay). The
 * same code as the spawned child's and the mount helper's IDS step
 * (ll_resolve_as in spawn.c), for TypeScript's syscalls/identity.ts.
 * Returns 0 or -errno (-EPERM when an id did not take).
 */
int32_t ll_thread_resolve_as(uint32_t uid, uint32_t gid,
			     const uint32_t *groups, uint32_t n_groups);

/*
 * What the parent prepared. Every pointer stays valid for the duration of
 * ll_spawn(); the child only reads it.
 */
struct ll_spawn_req {
	const char *const *paths; /* executable candidates, NULL-terminated */
	const char *const *argv; /* NULL-terminated */
	const char *const *envp; /* NULL-terminated; NULL keeps environ */
	const int32_t *layer_fds; /* Landlock ruleset fds, restricted in order */
	const int32_t *keep_fds; /* fds >= 3 the child keeps across exec */
	const char *cwd; /* NULL keeps the current directory */
	const void *seccomp_prog; /* struct sock_fprog *, or NULL */
	uint32_t n_layers;
	uint32_t n_keep;
	int32_t stdio[3]; /* fd to become 0, 1, 2; -1 keeps the inherited one */
	uint32_t flags; /* LL_SPAWN_* */
	uint32_t seccomp_flags; /* SECCOMP_FILTER_FLAG_* */
	uint32_t restrict_flags; /* landlock_restrict_self() flags */
	uint64_t sig_ignore; /* bit (n - 1) set: signal n stays ignored */
	const struct ll_mount *mounts; /* run in order after the namespaces */
	uint32_t n_mounts;
	uint32_t clone_flags; /* CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID; 0: none */
	uint32_t map_uid; /* with CLONE_NEWUSER: map this uid and gid to itself */
	uint32_t map_gid;
	const struct ll_late_rule *late_rules;
	uint32_t n_late_rules;
	uint32_t n_groups;
	const uint32_t *groups; /* with LL_SPAWN_SET_IDS: supplementary groups */
	uint32_t run_uid; /* with LL_SPAWN_SET_IDS: the command's uid and gid */
	uint32_t run_gid;
	/*
	 * Capabilities (bit n: capability n) the command must not have nor
	 * regain by any exec: dropped from the bounding, effective, permitted,
	 * inheritable and ambient sets before the ids change. 0: none.
	 */
	uint64_t drop_caps;
};

/* Indices into the int32_t[LL_OUT_LENGTH] result of ll_spawn(). */
enum ll_spawn_out {
	LL_OUT_PID = 0,
	LL_OUT_PIDFD = 1,
	LL_OUT_STEP = 2,
	LL_OUT_ERRNO = 3,
	LL_OUT_LISTENER = 4,
	LL_OUT_DETAIL = 5, /* for LL_STEP_MOUNTS: the index of the failed step */
	LL_OUT_HELPER = 6, /* the broker's end of the mount helper socket, or -1 */
	LL_OUT_LENGTH = 8,
};

/*
 * Start req->argv in a child (out: int32_t[LL_OUT_LENGTH]). Returns 0 once
 * the child has executed, a positive ll_step when a step failed (the child
 * is reaped and out holds the errno), or a negative errno when the parent
 * could not start a child.
 */
int32_t ll_spawn(const struct ll_spawn_req *req, int32_t *out);

/*
 * ll_spawn() made by one of landlockd's spawner threads (started on first
 * use, they live as long as the process, so PR_SET_PDEATHSIG does not fire
 * early): for callers on threads that may end, such as Deno's nonblocking
 * FFI calls. Blocks its caller until the child has executed; same results.
 */
int32_t ll_spawn_queued(const struct ll_spawn_req *req, int32_t *out);

/*
 * The broker's fast path. Prepared by the parent; ll_broker_next() reads it.
 * An open-family call whose path is absolute, already normalised and under
 * no declared prefix is answered CONTINUE here, without a round trip
 * through JavaScript: Landlock decides it, so this can never grant access.
 */
struct ll_broker {
	int32_t listener;
	int32_t pidfd;
	const char *prefixes; /* NUL-separated declared paths, ended by "" */
	const int32_t *open_nrs; /* syscall numbers handled on the fast path */
	const int32_t *path_args; /* for each, the index of its path argument */
	uint32_t n_open;
	uint32_t listening; /* cleared when every user of the filter is gone */
	uint64_t continued; /* count of fast-path answers */
	uint32_t sync_wake_tried; /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP asked for */
	int32_t path_len; /* length of the path read for the returned call, or -1 */
	char *path_out; /* LL_BROKER_PATH_SIZE bytes: that path, NUL-terminated */
};

/* The size of ll_broker.path_out, and the longest path the fast path reads. */
#define LL_BROKER_PATH_SIZE 4096

/*
 * Waits for the next notification that needs a decision and copies it
 * (struct seccomp_notif) to notif. Returns 1 for a notification, 0 when the
 * child behind pidfd has exited, or -errno.
 */
int32_t ll_broker_next(struct ll_broker *b, void *notif);

/*
 * Reads the NUL-terminated path at addr in pid's memory into buf (size
 * bytes), page by page with process_vm_readv: the broker's one reader of
 * a path from the sandbox, used by the fast path and, for the calls it
 * hands over, by TypeScript. Returns the path's length, -ENAMETOOLONG when
 * no NUL comes within size bytes, or -errno (-EFAULT for an unmapped or
 * unreadable address).
 */
int32_t ll_read_remote_path(int32_t pid, uint64_t addr, char *buf,
			    uint32_t size);

/* How many brokers one thread may serve at once. */
#define LL_BROKER_MAX 64

/*
 * The same for count brokers served by one thread: waits on all of them
 * and on wake_fd (an eventfd, or -1). Returns 1 with *which set when
 * broker *which has a notification (in notifs[*which]), 0 when broker
 * *which's child has exited, 2 when wake_fd was signalled, or -errno.
 */
int32_t ll_broker_next_any(struct ll_broker *const *bs, uint32_t count,
			   int32_t wake_fd, void *const *notifs, int32_t *which);

/*
 * Whether a child can be created with these namespace flags here: 0, or the
 * -errno of clone3 or of the first step that failed inside.
 */
int32_t ll_probe_namespaces(uint32_t clone_flags);

/* Wait for the process behind pidfd: exit status 0-255, 256 + signal, or -errno. */
int32_t ll_wait(int32_t pidfd);
/* The same without blocking: -EAGAIN while the child is still running. */
int32_t ll_wait_now(int32_t pidfd);

/* Unix stream sockets (ffi/unix_socket.c); each returns -errno on failure. */
#define LL_SOCK_MAX_FDS 8
/* socket + bind + listen on path; returns the listening fd (close-on-exec). */
int32_t ll_sock_listen(const char *path, int32_t backlog);
/* socket + connect to path; returns the connected fd (close-on-exec). */
int32_t ll_sock_connect(const char *path);
/* accept4(SOCK_CLOEXEC), retrying EINTR and ECONNABORTED; blocks. */
int32_t ll_sock_accept(int32_t fd);
/* sendmsg of buf with fds (at most LL_SOCK_MAX_FDS) as SCM_RIGHTS. */
int64_t ll_sock_send(int32_t fd, const void *buf, uint64_t len,
		     const int32_t *fds, uint32_t nfds, int32_t flags);
/*
 * recvmsg into buf; fds passed with it (close-on-exec) go to fds[0..*nfds),
 * which has room for LL_SOCK_MAX_FDS. Returns 0 at end of file.
 */
int64_t ll_sock_recv(int32_t fd, void *buf, uint64_t len, int32_t *fds,
		     int32_t *nfds, int32_t flags);
/*
 * The peer's SO_PEERCRED as cred[0..3) = pid, uid, gid, and its
 * supplementary groups (SO_PEERGROUPS); returns how many groups.
 */
int32_t ll_sock_peer(int32_t fd, int32_t *cred, uint32_t *groups,
		     uint32_t max_groups);
/* epoll_ctl(epfd, op, fd) for events, with fd itself as the event's data. */
int32_t ll_poll_ctl(int32_t epfd, int32_t op, int32_t fd, uint32_t events);
/*
 * epoll_wait for up to max (at most 64) events, retrying EINTR: out holds
 * (fd, events) pairs as uint32_t. Returns how many; blocks up to timeout_ms.
 */
int32_t ll_poll_wait(int32_t epfd, uint32_t *out, uint32_t max,
		     int32_t timeout_ms);

/* ll_add_path_rules: the step that failed, in out[0]. */
enum ll_rule_step {
	LL_RULE_OPEN = 1, /* open(path, O_PATH) */
	LL_RULE_STATX = 2, /* statx on that fd, for its type */
	LL_RULE_ADD = 3, /* landlock_add_rule */
};
/*
 * Adds a path_beneath rule for each of n paths (NUL-terminated, one after
 * another in paths) to ruleset_fd, in order, in one call: opens the path
 * (O_PATH), reads its type, adds the rule with masks[2i] for a directory
 * or masks[2i + 1] for anything else (no rule when that is 0), closes it.
 * A missing path (ENOENT) whose optional[i] is set is skipped. Returns n,
 * or the index of the path that failed with out = {ll_rule_step, errno}.
 */
int32_t ll_add_path_rules(int32_t ruleset_fd, const char *paths, uint32_t n,
			  const uint64_t *masks, const uint8_t *optional,
			  int32_t *out);

/* A raw syscall: the kernel's result, with failures as -errno. */
int64_t ll_syscall(int64_t nr, int64_t a0, int64_t a1, int64_t a2, int64_t a3,
		   int64_t a4, int64_t a5);

/*
 * The remote-read watchdog (ffi/watchdog.c). A broker thread takes a slot
 * (ll_watch_thread: its index, or -ENOSPC past LL_WATCH_SLOTS threads) and
 * brackets each read of a sandbox's memory with ll_watch_begin/end; after
 * ll_watchdog_start(deadline_ms), a read waiting longer than the deadline
 * gets its sandbox killed (the run's pidfd, and the calling task while the
 * notification id is still pending), again every deadline while it waits.
 */
#define LL_WATCH_SLOTS 256
int32_t ll_watch_thread(void);
void ll_watch_begin(int32_t listener, uint64_t id, int32_t pidfd, int32_t pid);
void ll_watch_end(void);
/* How long the slot's current read has waited, in ms (0: none). */
int64_t ll_watch_busy_ms(int32_t slot);
/* How many times the watchdog killed for the slot's reads. */
uint32_t ll_watch_kills(int32_t slot);
int32_t ll_watchdog_start(int32_t deadline_ms);

/* Forward the listed signals to the child once ll_forward_to() names it. */
int32_t ll_forward_signals(const int32_t *sigs, uint32_t n);
void ll_forward_to(int32_t pidfd);
uint32_t ll_forwarded(int32_t sig);

/*
 * The functions a direct run calls on its JS thread, again (short_run.c):
 * the same result (0 for ll_forward_to), as the one member of a struct, so
 * that Deno compiles no fast-call trampoline for them.
 */
struct ll_result {
	int64_t value;
};
struct ll_result ll_syscall_r(int64_t nr, int64_t a0, int64_t a1, int64_t a2,
			      int64_t a3, int64_t a4, int64_t a5);
struct ll_result ll_spawn_r(const struct ll_spawn_req *req, int32_t *out);
struct ll_result ll_wait_r(int32_t pidfd);
struct ll_result ll_add_path_rules_r(int32_t ruleset_fd, const char *paths,
				     uint32_t n, const uint64_t *masks,
				     const uint8_t *optional, int32_t *out);
struct ll_result ll_forward_signals_r(const int32_t *sigs, uint32_t n);
struct ll_result ll_forward_to_r(int32_t pidfd);
struct ll_result ll_forwarded_r(int32_t sig);

/*
 * The bundle's freshness check (ffi/stamps.c has the request's layout):
 * 0 when every listed file (relative to the directory `root`) still has
 * its stamp, i + 1 when the i-th (counting from 0) does not, is gone or,
 * with LL_STAMP_OWN or LL_STAMP_OWN_ONLY, is a symlink, owned by someone
 * other than root or the caller, or writable by its group or others;
 * -EINVAL for a malformed request.
 */
#define LL_STAMP_OWN 1 /* lstat, and the bundle file ownership rules */
#define LL_STAMP_OWN_ONLY 2 /* LL_STAMP_OWN without the stamp */
#define LL_STAMP_HEAD_SIZE 40 /* the entry's fixed part, before its path */
int32_t ll_stamps_check(const char *root, const uint8_t *req, uint32_t len);

#endif
