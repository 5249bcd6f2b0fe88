/*
 * What runs between clone and exec: the child side of ll_spawn() (the
 * parent side is in process.c). Read this file to audit the sandbox's
 * set-up; nothing else runs in the child before exec except
 * ll_become_init() (init.c), which forks the command off PID 1.
 *
 * The steps, in the order they run (the number reported on failure is the
 * enum ll_step value in landlockd.h, which is not this order):
 *
 * Without namespaces (ll_child_main: clone CLONE_VM | CLONE_VFORK):
 *   1. SIGNALS       drop the parent's handlers, keep inherited ignores, unblock
 *   2. PDEATHSIG     SIGKILL when the parent dies; exit if it is already gone
 *   3. STDIO         dup2 the given fds onto 0, 1, 2
 *   4. FDS           close-on-exec every fd >= 3 except keep_fds
 *   5. CAPS          with drop_caps: drop those capabilities from every set
 *                    (bounding, effective, permitted, inheritable, ambient)
 *   6. IDS           with LL_SPAWN_SET_IDS: setgroups, setresgid, setresuid
 *   7. CWD           chdir
 *   8. NO_NEW_PRIVS  with LL_SPAWN_NO_NEW_PRIVS
 *   9. LANDLOCK      landlock_restrict_self, one call per layer, in order
 *  10. SECCOMP       install the filter; send its listener fd to the parent
 *  11. EXEC          execve each candidate path (EACCES beats a later ENOENT)
 *
 * With namespaces (ll_child_ns: fork-like clone3 with clone_flags):
 *   1. SIGNALS, 2. PDEATHSIG  as above
 *   3. USERNS        with CLONE_NEWUSER: write setgroups "deny", uid_map, gid_map
 *   4. IDS           with LL_SPAWN_SET_IDS: resolve paths as the client
 *                    (setgroups, setfsgid, setfsuid)
 *   5. MOUNTS        each ll_mount in order (mount, mount_setattr, pivot_root)
 *   6. RULES         each late Landlock rule (on a mount target) added
 *   7. INIT          with CLONE_NEWPID: become PID 1, fork the mount helper
 *                    (if asked) and the command; PID 1 stays behind
 *   then, in the command, steps 3-11 of the list above (STDIO ... EXEC).
 *
 * The CLONE_VM child shares memory with a multithreaded runtime, so it
 * makes only raw, async-signal-safe system calls: no malloc, no locks, no
 * stdio. A failed step is sent to the parent as (step, errno) over a
 * close-on-exec socket; end-of-file means exec worked.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* Sends buf on a SEQPACKET socket, with pass_fd attached when >= 0. */
ssize_t ll_send_with_fd(int fd, const void *buf, size_t len, int pass_fd)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	/*
	 * Without an fd, send(2): a seccomp filter that sends sendmsg to the
	 * broker does not see it (see LL_LISTENER_SEND_FLAGS).
	 */
	if (pass_fd < 0) {
		while ((n = send(fd, buf, len, MSG_NOSIGNAL)) < 0 &&
		       errno == EINTR)
			;
		return n;
	}
	memset(&control, 0, sizeof(control));
	mh.msg_control = control.buf;
	mh.msg_controllen = sizeof(control.buf);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	while ((n = sendmsg(fd, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n;
}

/*
 * Hands the seccomp listener back with LL_LISTENER_SEND_FLAGS, then
 * installs the filter that refuses those flags from now on.
 */
static void send_listener(const struct child_ctx *c, int listener)
{
	static struct sock_filter refuse[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sendmsg, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, LL_LISTENER_SEND_FLAGS, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	static struct sock_fprog prog = {
		.len = sizeof(refuse) / sizeof(refuse[0]),
		.filter = refuse,
	};
	int32_t msg[4] = { REPORT_LISTENER, 0, 0, -1 };
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memset(&control, 0, sizeof(control));
	mh.msg_control = control.buf;
	mh.msg_controllen = sizeof(control.buf);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &listener, sizeof(int));
	while (sendmsg(c->report_fd, &mh, LL_LISTENER_SEND_FLAGS) < 0 &&
	       errno == EINTR)
		;
	close(listener);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		ll_fail(c, LL_STEP_SECCOMP, errno);
}

void ll_send_report(int fd, int32_t kind, int32_t step, int32_t err,
		    int32_t detail, int pass_fd)
{
	int32_t msg[4] = { kind, step, err, detail };
	ll_send_with_fd(fd, msg, sizeof(msg), pass_fd);
}

static __attribute__((noreturn)) void fail_at(const struct child_ctx *c,
					      int32_t step, int32_t err,
					      int32_t detail)
{
	ll_send_report(c->report_fd, REPORT_FAILURE, step, err, detail, -1);
	_exit(127);
}

__attribute__((noreturn)) void ll_fail(const struct child_ctx *c,
					int32_t step, int32_t err)
{
	fail_at(c, step, err, -1);
}

static int move_stdio(const struct child_ctx *c)
{
	int32_t src[3];

	/* Lift a source that sits on a low fd out of the way of the dup2s. */
	for (int i = 0; i < 3; i++) {
		src[i] = c->req->stdio[i];
		if (src[i] >= 0 && src[i] < 3 && src[i] != i) {
			src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3);
			if (src[i] < 0)
				return errno;
		}
	}
	for (int i = 0; i < 3; i++) {
		if (src[i] >= 0 && src[i] != i && dup2(src[i], i) < 0)
			return errno;
	}
	return 0;
}

/* Drops the parent's handlers, keeps inherited ignores, unblocks. */
static void reset_signals(const struct child_ctx *c)
{
	const struct ll_spawn_req *r = c->req;
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa.sa_handler = (sig <= 64 && (r->sig_ignore >> (sig - 1)) & 1) ?
					SIG_IGN :
					SIG_DFL;
		sigaction(sig, &sa, NULL); /* glibc-reserved signals: EINVAL */
	}
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		ll_fail(c, LL_STEP_SIGNALS, errno);
}

static void die_with_parent(const struct child_ctx *c)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		ll_fail(c, LL_STEP_PDEATHSIG, errno);
	/* In a new PID namespace the parent is outside it: getppid() is 0. */
	pid_t expected = (c->req->clone_flags & CLONE_NEWPID) ? 0 : c->parent;
	if (getppid() != expected)
		_exit(127); /* the parent is already gone */
}

/*
 * Drops the capabilities in mask (bit n: capability n) so that neither
 * this task nor anything it execs has them: from the bounding set
 * (PR_CAPBSET_DROP, which needs CAP_SETPCAP), the ambient set, and the
 * effective, permitted and inheritable sets (capset: lowering needs no
 * privilege). Runs before the ids change (a root task still has
 * CAP_SETPCAP) and before the seccomp filter exists (it refuses nothing
 * here). Without CAP_SETPCAP the bounding set cannot shrink: that is
 * harmless only where no exec can raise a capability, so EPERM unless the
 * task holds none of them (not permitted, inheritable or ambient) and
 * no_new_privs follows (file capabilities and set-user-ID are then
 * ignored). A capability this kernel does not know is skipped. Returns 0
 * or an errno.
 */
static int drop_caps(uint64_t mask, int no_new_privs)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return errno;
	for (int cap = 0; cap < 64; cap++) {
		if (!((mask >> cap) & 1))
			continue;
		uint32_t bit = 1u << (cap & 31);
		int word = cap >> 5;
		int ambient = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap,
				    0, 0);
		int held = ambient > 0 || (data[word].permitted & bit) ||
			   (data[word].inheritable & bit);
		int bounded = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (bounded < 0) {
			if (errno == EINVAL)
				continue; /* newer than this kernel */
			return errno;
		}
		if (bounded && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    (errno != EPERM || held || !no_new_privs))
			return errno;
		if (ambient > 0 &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, cap, 0, 0) < 0)
			return errno;
		data[word].effective &= ~bit;
		data[word].permitted &= ~bit;
		data[word].inheritable &= ~bit;
	}
	return syscall(SYS_capset, &hdr, data) < 0 ? errno : 0;
}

/* The common tail: caps, fds, no_new_privs, Landlock, seccomp, exec. */
static __attribute__((noreturn)) void sandbox_and_exec(const struct child_ctx *c)
{
	const struct ll_spawn_req *r = c->req;

	int err = move_stdio(c);
	if (err)
		ll_fail(c, LL_STEP_STDIO, err);

	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		ll_fail(c, LL_STEP_FDS, errno);
	for (uint32_t i = 0; i < r->n_keep; i++) {
		if (fcntl(r->keep_fds[i], F_SETFD, 0) < 0)
			ll_fail(c, LL_STEP_FDS, errno);
	}

	if (r->drop_caps) {
		err = drop_caps(r->drop_caps,
				(r->flags & LL_SPAWN_NO_NEW_PRIVS) != 0);
		if (err)
			ll_fail(c, LL_STEP_CAPS, err);
	}

	if (r->flags & LL_SPAWN_SET_IDS) {
		/* Raw calls: glibc's wrappers would signal every thread. */
		if (syscall(SYS_setgroups, r->n_groups, r->groups) < 0 ||
		    syscall(SYS_setresgid, r->run_gid, r->run_gid, r->run_gid) < 0 ||
		    syscall(SYS_setresuid, r->run_uid, r->run_uid, r->run_uid) < 0)
			ll_fail(c, LL_STEP_IDS, errno);
	}

	if (r->cwd && chdir(r->cwd) < 0)
		ll_fail(c, LL_STEP_CWD, errno);

	if ((r->flags & LL_SPAWN_NO_NEW_PRIVS) &&
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		ll_fail(c, LL_STEP_NO_NEW_PRIVS, errno);

	for (uint32_t i = 0; i < r->n_layers; i++) {
		if (syscall(SYS_landlock_restrict_self, r->layer_fds[i],
			    r->restrict_flags) < 0)
			ll_fail(c, LL_STEP_LANDLOCK, errno);
	}

	/*
	 * seccomp comes last. The filter must never notify on execve, nor on
	 * the sendmsg below (LL_LISTENER_SEND_FLAGS) or a report's send(2):
	 * the parent may sleep until exec, so nobody would answer.
	 */
	if (r->seccomp_prog) {
		long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				  r->seccomp_flags, r->seccomp_prog);
		if (fd < 0)
			ll_fail(c, LL_STEP_SECCOMP, errno);
		if (r->seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
			send_listener(c, (int)fd);
	}

	/* execvp-like: try each candidate; EACCES wins over a later ENOENT. */
	char *const *envp = (char *const *)(r->envp ? r->envp : (const char *const *)environ);
	int exec_err = ENOENT;
	for (const char *const *p = r->paths; *p; p++) {
		execve(*p, (char *const *)r->argv, envp);
		if (errno == EACCES)
			exec_err = EACCES;
		else if (errno != ENOENT && errno != ENOTDIR) {
			exec_err = errno;
			break;
		}
	}
	ll_fail(c, LL_STEP_EXEC, exec_err);
}

/* The CLONE_VM | CLONE_VFORK child: no namespaces, straight to exec. */
int ll_child_main(void *arg)
{
	const struct child_ctx *c = arg;
	reset_signals(c);
	die_with_parent(c);
	sandbox_and_exec(c);
}

/* Writes v in decimal without stdio; returns its length. */
static size_t put_uint(char *buf, uint32_t v)
{
	char tmp[16];
	size_t n = 0, len = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		buf[len++] = tmp[--n];
	return len;
}

static int write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int err = write(fd, text, len) == (ssize_t)len ? 0 : errno;
	close(fd);
	return err;
}

/* Maps the caller's uid and gid to themselves in the new user namespace. */
int ll_map_ids(uint32_t uid, uint32_t gid)
{
	char line[64];
	size_t n;
	int err = write_file("/proc/self/setgroups", "deny", 4);
	if (err && err != ENOENT)
		return err;
	n = put_uint(line, uid);
	line[n++] = ' ';
	n += put_uint(line + n, uid);
	memcpy(line + n, " 1\n", 3);
	if ((err = write_file("/proc/self/uid_map", line, n + 3)))
		return err;
	n = put_uint(line, gid);
	line[n++] = ' ';
	n += put_uint(line + n, gid);
	memcpy(line + n, " 1\n", 3);
	return write_file("/proc/self/gid_map", line, n + 3);
}

static int do_mount(const struct ll_mount *m)
{
	switch (m->op) {
	case LL_MOUNT:
		return mount(m->source, m->target, m->fstype, m->flags, m->data) < 0 ?
			       errno :
			       0;
	case LL_MOUNT_RDONLY: {
		struct ll_mount_attr attr = { .attr_set = LL_MOUNT_ATTR_RDONLY };
		return syscall(SYS_mount_setattr, AT_FDCWD, m->target,
			       AT_RECURSIVE, &attr, sizeof(attr)) < 0 ?
			       errno :
			       0;
	}
	case LL_PIVOT:
		/* pivot_root(".", ".") stacks the old root on the new one. */
		if (chdir(m->target) < 0 ||
		    syscall(SYS_pivot_root, ".", ".") < 0 ||
		    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
			return errno;
		return 0;
	}
	return EINVAL;
}

/*
 * Makes this task resolve paths as uid/gid with groups (fsuid, fsgid and
 * the supplementary groups; raw calls change this task only, where glibc's
 * wrappers would change every thread). Capabilities other than the file
 * ones stay, so a root task can still mount, but every path it names is
 * then looked up with that user's permissions. Returns 0 or an errno.
 * landlockd's one identity switch: TypeScript calls it too, for a thread
 * of its own (ll_thread_resolve_as, syscalls/identity.ts).
 */
int ll_resolve_as(uint32_t uid, uint32_t gid, const uint32_t *groups,
		  uint32_t n_groups)
{
	if (syscall(SYS_setgroups, n_groups, groups) < 0)
		return errno;
	syscall(SYS_setfsgid, gid);
	syscall(SYS_setfsuid, uid);
	/* Neither reports errors: read both back (-1 changes nothing). */
	if ((uint32_t)syscall(SYS_setfsuid, -1) != uid ||
	    (uint32_t)syscall(SYS_setfsgid, -1) != gid)
		return EPERM;
	return 0;
}

/*
 * With LL_SPAWN_SET_IDS (a root daemon serving another user), the mounts,
 * the pivot and the mount helper resolve paths as that user: the daemon
 * cannot be made to mount or pivot into what its client cannot reach.
 */
int ll_resolve_as_client(const struct ll_spawn_req *r)
{
	if (!(r->flags & LL_SPAWN_SET_IDS))
		return 0;
	return ll_resolve_as(r->run_uid, r->run_gid, r->groups, r->n_groups);
}

/* The clone3 child: namespaces, mounts, pivot, then as without them. */
__attribute__((noreturn)) void ll_child_ns(const struct child_ctx *c)
{
	const struct ll_spawn_req *r = c->req;
	reset_signals(c);
	die_with_parent(c);
	if (r->clone_flags & CLONE_NEWUSER) {
		/*
		 * landlockd is non-dumpable, and so is this fork of it: its
		 * /proc/self files belong to root, which is not mapped in the
		 * new namespace. Dumpable only while writing its own maps
		 * (this is a copy of landlockd's memory, not shared with it).
		 */
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		int err = ll_map_ids(r->map_uid, r->map_gid);
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		if (err)
			ll_fail(c, LL_STEP_USERNS, err);
	}
	/*
	 * From here to exec, paths are the client's to reach: the mounts, the
	 * pivot, the late rules and the mount helper (sandbox_and_exec then
	 * sets every id).
	 */
	int ids_err = ll_resolve_as_client(r);
	if (ids_err)
		ll_fail(c, LL_STEP_IDS, ids_err);
	for (uint32_t i = 0; i < r->n_mounts; i++) {
		int err = do_mount(&r->mounts[i]);
		if (err)
			fail_at(c, LL_STEP_MOUNTS, err, (int32_t)i);
	}
	for (uint32_t i = 0; i < r->n_late_rules; i++) {
		const struct ll_late_rule *lr = &r->late_rules[i];
		int fd = open(lr->path, O_PATH | O_CLOEXEC);
		if (fd < 0)
			fail_at(c, LL_STEP_RULES, errno, (int32_t)i);
		struct __attribute__((packed)) {
			uint64_t allowed_access;
			int32_t parent_fd;
		} attr = { lr->allowed_access, fd };
		long rc = syscall(SYS_landlock_add_rule, r->layer_fds[lr->layer],
				  1 /* LANDLOCK_RULE_PATH_BENEATH */, &attr, 0);
		int err = errno;
		close(fd);
		if (rc < 0)
			fail_at(c, LL_STEP_RULES, err, (int32_t)i);
	}
	if (r->clone_flags & CLONE_NEWPID)
		ll_become_init(c);
	sandbox_and_exec(c);
}
