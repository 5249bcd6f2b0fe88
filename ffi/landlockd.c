/*
 * landlockd's pre-exec trampoline.
 *
 * The parent (TypeScript) prepares every fd, string and filter. ll_spawn()
 * clones with CLONE_VM | CLONE_VFORK, so the calling thread sleeps until the
 * child has executed or exited. Sharing memory with a multithreaded runtime
 * means the child may only make raw, async-signal-safe system calls: no
 * malloc, no locks, no stdio. A failed step is sent to the parent as
 * (step, errno) over a close-on-exec socket; end-of-file means exec worked.
 */
#define _GNU_SOURCE
#include "landlockd.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pivot_root
#define SYS_pivot_root 155
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#define LL_MOUNT_ATTR_RDONLY 0x00000001
#define LL_MOUNT_ATTR_NOSUID 0x00000002
#define LL_MOUNT_ATTR_NODEV 0x00000004
#define LL_MOUNT_ATTR_NOEXEC 0x00000008
#define LL_OPEN_TREE_CLONE 1
#define LL_MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define LL_MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#define LL_FSCONFIG_SET_FLAG 0
#define LL_FSCONFIG_SET_STRING 1
#define LL_FSCONFIG_CMD_CREATE 6
#define LL_RESOLVE_NO_SYMLINKS 0x04

/* struct clone_args and struct mount_attr, as in the kernel's uapi. */
struct ll_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
		stack_size, tls, set_tid, set_tid_size, cgroup;
};
struct ll_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

#define CHILD_STACK_SIZE (256 * 1024)

enum report_kind { REPORT_LISTENER = 1, REPORT_FAILURE = 2 };

struct child_ctx {
	const struct ll_spawn_req *req;
	int report_fd;
	pid_t parent;
	int helper_fd; /* the helper's end of the mount helper socket, or -1 */
};

/* Sends buf on a SEQPACKET socket, with pass_fd attached when >= 0. */
static ssize_t send_with_fd(int fd, const void *buf, size_t len, int pass_fd)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (pass_fd >= 0) {
		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof(control.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	while ((n = sendmsg(fd, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n;
}

static void send_report(int fd, int32_t kind, int32_t step, int32_t err,
			int32_t detail, int pass_fd)
{
	int32_t msg[4] = { kind, step, err, detail };
	send_with_fd(fd, msg, sizeof(msg), pass_fd);
}

static __attribute__((noreturn)) void fail_at(const struct child_ctx *c,
					      int32_t step, int32_t err,
					      int32_t detail)
{
	send_report(c->report_fd, REPORT_FAILURE, step, err, detail, -1);
	_exit(127);
}

static __attribute__((noreturn)) void fail(const struct child_ctx *c,
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
		fail(c, LL_STEP_SIGNALS, errno);
}

static void die_with_parent(const struct child_ctx *c)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail(c, LL_STEP_PDEATHSIG, errno);
	/* In a new PID namespace the parent is outside it: getppid() is 0. */
	pid_t expected = (c->req->clone_flags & CLONE_NEWPID) ? 0 : c->parent;
	if (getppid() != expected)
		_exit(127); /* the parent is already gone */
}

/* The common tail: fds, no_new_privs, Landlock, seccomp, exec. */
static __attribute__((noreturn)) void sandbox_and_exec(const struct child_ctx *c)
{
	const struct ll_spawn_req *r = c->req;

	int err = move_stdio(c);
	if (err)
		fail(c, LL_STEP_STDIO, err);

	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		fail(c, LL_STEP_FDS, errno);
	for (uint32_t i = 0; i < r->n_keep; i++) {
		if (fcntl(r->keep_fds[i], F_SETFD, 0) < 0)
			fail(c, LL_STEP_FDS, errno);
	}

	if (r->flags & LL_SPAWN_SET_IDS) {
		/* Raw calls: glibc's wrappers would signal every thread. */
		if (syscall(SYS_setgroups, r->n_groups, r->groups) < 0 ||
		    syscall(SYS_setresgid, r->run_gid, r->run_gid, r->run_gid) < 0 ||
		    syscall(SYS_setresuid, r->run_uid, r->run_uid, r->run_uid) < 0)
			fail(c, LL_STEP_IDS, errno);
	}

	if (r->cwd && chdir(r->cwd) < 0)
		fail(c, LL_STEP_CWD, errno);

	if ((r->flags & LL_SPAWN_NO_NEW_PRIVS) &&
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(c, LL_STEP_NO_NEW_PRIVS, errno);

	for (uint32_t i = 0; i < r->n_layers; i++) {
		if (syscall(SYS_landlock_restrict_self, r->layer_fds[i],
			    r->restrict_flags) < 0)
			fail(c, LL_STEP_LANDLOCK, errno);
	}

	/*
	 * seccomp comes last. The filter must never notify on sendmsg or
	 * execve: the parent may sleep until exec, so nobody would answer.
	 */
	if (r->seccomp_prog) {
		long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				  r->seccomp_flags, r->seccomp_prog);
		if (fd < 0)
			fail(c, LL_STEP_SECCOMP, errno);
		if (r->seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
			send_report(c->report_fd, REPORT_LISTENER, 0, 0, -1,
				    (int)fd);
			close((int)fd);
		}
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
	fail(c, LL_STEP_EXEC, exec_err);
}

/* The CLONE_VM | CLONE_VFORK child: no namespaces, straight to exec. */
static int child_main(void *arg)
{
	const struct child_ctx *c = arg;
	reset_signals(c);
	die_with_parent(c);
	sandbox_and_exec(c);
}

/* Writes a decimal number and a suffix without stdio. */
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
static int map_ids(uint32_t uid, uint32_t gid)
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
 */
static int resolve_as(uint32_t uid, uint32_t gid, const uint32_t *groups,
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
static int resolve_as_client(const struct ll_spawn_req *r)
{
	if (!(r->flags & LL_SPAWN_SET_IDS))
		return 0;
	return resolve_as(r->run_uid, r->run_gid, r->groups, r->n_groups);
}

/*
 * The mount helper's paths are as the sandbox names them, in a tree the
 * sandbox may change: each is opened (O_PATH) without following any
 * symlink, so a symlink swapped in for a declared source or target, or for
 * a directory above one, fails with ELOOP instead of redirecting the mount.
 * Mounts are then made through those fds (open_tree, fsmount, move_mount).
 */
struct ll_open_how {
	uint64_t flags, mode, resolve;
};

static int open_nofollow(const char *path)
{
	struct ll_open_how how = { .flags = O_PATH | O_CLOEXEC,
				   .resolve = LL_RESOLVE_NO_SYMLINKS };
	return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
}

/* Closes fd, keeping errno. */
static void close_keep(int fd)
{
	int e = errno;
	close(fd);
	errno = e;
}

/* A detached copy of the tree at source (open_tree(OPEN_TREE_CLONE)). */
static int clone_tree(const char *source, uint32_t flags)
{
	int src = open_nofollow(source);
	if (src < 0)
		return -1;
	int tree = (int)syscall(SYS_open_tree, src, "",
				LL_OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH |
					(flags & AT_RECURSIVE));
	close_keep(src);
	return tree;
}

/* Makes a detached mount read-only before anyone can reach it. */
static int make_rdonly(int mnt)
{
	struct ll_mount_attr attr = { .attr_set = LL_MOUNT_ATTR_RDONLY };
	return (int)syscall(SYS_mount_setattr, mnt, "",
			    AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
}

/* Attaches the detached mount mnt on target. */
static int attach(int mnt, const char *target)
{
	int dst = open_nofollow(target);
	if (dst < 0)
		return -1;
	int rc = (int)syscall(SYS_move_mount, mnt, "", dst, "",
			      LL_MOVE_MOUNT_F_EMPTY_PATH |
				      LL_MOVE_MOUNT_T_EMPTY_PATH);
	close_keep(dst);
	return rc;
}

/* A tmpfs on target: options "k=v,k" (already checked), nosuid, nodev. */
static int mount_tmpfs(const char *target, uint32_t ms_flags, char *data)
{
	int fs = (int)syscall(SYS_fsopen, "tmpfs", 1 /* FSOPEN_CLOEXEC */);
	if (fs < 0)
		return -1;
	char *save = NULL;
	for (char *opt = strtok_r(data, ",", &save); opt;
	     opt = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(opt, '=');
		if (eq)
			*eq = 0;
		if (syscall(SYS_fsconfig, fs,
			    eq ? LL_FSCONFIG_SET_STRING : LL_FSCONFIG_SET_FLAG,
			    opt, eq ? eq + 1 : NULL, 0) < 0) {
			close_keep(fs);
			return -1;
		}
	}
	if (syscall(SYS_fsconfig, fs, LL_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		close_keep(fs);
		return -1;
	}
	uint32_t attrs = LL_MOUNT_ATTR_NOSUID | LL_MOUNT_ATTR_NODEV |
			 (ms_flags & MS_RDONLY ? LL_MOUNT_ATTR_RDONLY : 0) |
			 (ms_flags & MS_NOEXEC ? LL_MOUNT_ATTR_NOEXEC : 0);
	int mnt = (int)syscall(SYS_fsmount, fs, 1 /* FSMOUNT_CLOEXEC */, attrs);
	close_keep(fs);
	if (mnt < 0)
		return -1;
	int rc = attach(mnt, target);
	close_keep(mnt);
	return rc;
}

/* A bind of source on target, read-only from the start when declared so. */
static int bind_tree(const char *source, const char *target, int read_only)
{
	int tree = clone_tree(source, AT_RECURSIVE);
	if (tree < 0)
		return -1;
	int rc = read_only ? make_rdonly(tree) : 0;
	if (rc == 0)
		rc = attach(tree, target);
	close_keep(tree);
	return rc;
}

/* umount2 of target; its path is checked to hold no symlink first. */
static int umount_nofollow(const char *target, uint32_t flags)
{
	int dst = open_nofollow(target);
	if (dst < 0)
		return -1;
	close(dst);
	return umount2(target, (int)(flags & MNT_DETACH) | UMOUNT_NOFOLLOW);
}

/* mount_setattr on target, through an fd. */
static int setattr_nofollow(const char *target, uint32_t flags,
			    struct ll_mount_attr *attr)
{
	int dst = open_nofollow(target);
	if (dst < 0)
		return -1;
	int rc = (int)syscall(SYS_mount_setattr, dst, "",
			      AT_EMPTY_PATH | (flags & AT_RECURSIVE), attr,
			      sizeof(*attr));
	close_keep(dst);
	return rc;
}

/*
 * The mount helper: lives in the sandbox's namespaces, outside its Landlock
 * domain and seccomp filter, and performs the mounts the broker has
 * already approved. It answers one request at a time until the broker
 * hangs up.
 */
static __attribute__((noreturn)) void mount_helper(int sock)
{
	static struct ll_mount_req r; /* own copy of memory: not shared */
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} control;
		struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = control.buf,
				     .msg_controllen = sizeof(control.buf) };
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			_exit(0);
		int in_fd = -1, out_fd = -1;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (cm && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&in_fd, CMSG_DATA(cm), sizeof(int));
		int err = 0;
		r.source[sizeof(r.source) - 1] = 0;
		r.target[sizeof(r.target) - 1] = 0;
		r.data[sizeof(r.data) - 1] = 0;
		struct ll_mount_attr attr = { 0 };
		long rc = 0;
		if (n != (ssize_t)sizeof(r)) {
			err = EINVAL;
		} else {
			switch (r.op) {
			case LL_REQ_TMPFS:
				rc = mount_tmpfs(r.target, r.flags, r.data);
				break;
			case LL_REQ_BIND:
				rc = bind_tree(r.source, r.target, r.read_only);
				break;
			case LL_REQ_UMOUNT:
				rc = umount_nofollow(r.target, r.flags);
				break;
			case LL_REQ_OPEN_TREE:
				rc = out_fd = clone_tree(r.source, r.flags);
				break;
			case LL_REQ_MOVE_MOUNT:
				rc = r.read_only ? make_rdonly(in_fd) : 0;
				if (rc == 0)
					rc = attach(in_fd, r.target);
				break;
			case LL_REQ_FSOPEN:
				rc = out_fd = (int)syscall(SYS_fsopen, r.source,
							   1 /* FSOPEN_CLOEXEC */);
				break;
			case LL_REQ_FSCONFIG:
				rc = syscall(SYS_fsconfig, in_fd, r.flags,
					     r.source[0] ? r.source : NULL,
					     r.data[0] ? r.data : NULL, 0);
				break;
			case LL_REQ_FSMOUNT:
				rc = out_fd = (int)syscall(SYS_fsmount, in_fd,
							   1 /* FSMOUNT_CLOEXEC */, r.flags);
				break;
			case LL_REQ_SETATTR:
				attr.attr_set = r.read_only;
				attr.attr_clr = r.attr_clr;
				rc = setattr_nofollow(r.target, r.flags, &attr);
				break;
			default:
				rc = -1;
				errno = EINVAL;
			}
			if (rc < 0)
				err = errno;
		}
		if (in_fd >= 0)
			close(in_fd);
		int32_t reply = -err;
		send_report(sock, reply, 0, 0, 0, err ? -1 : out_fd);
		if (out_fd >= 0)
			close(out_fd);
	}
}

/*
 * PID 1 of a new PID namespace: starts the command as its child, passes
 * on the signals landlockd forwards, reaps every orphan, and exits with
 * the command's status (128 + N if a signal killed it).
 */
static void become_init(const struct child_ctx *c)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	struct ll_clone_args a = { .exit_signal = SIGCHLD };
	if (c->helper_fd >= 0) {
		long helper = syscall(SYS_clone3, &a, sizeof(a));
		if (helper < 0)
			fail(c, LL_STEP_INIT, errno);
		if (helper == 0) {
			/* Keep only the helper's socket, as fd 3. */
			if (dup2(c->helper_fd, 3) < 0)
				_exit(1);
			syscall(SYS_close_range, 4, ~0U, 0);
			syscall(SYS_close_range, 0, 2, 0);
			if (resolve_as_client(c->req))
				_exit(1);
			mount_helper(3);
		}
		close(c->helper_fd);
	}
	long command = syscall(SYS_clone3, &a, sizeof(a));
	if (command < 0)
		fail(c, LL_STEP_INIT, errno);
	if (command == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		return; /* the command's side: on to sandbox_and_exec */
	}
	syscall(SYS_close_range, 3, ~0U, 0);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill((pid_t)command, sig);
			continue;
		}
		int status;
		pid_t p;
		while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
			if (p != command)
				continue;
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) :
						  128 + WTERMSIG(status));
		}
	}
}

/* The clone3 child: namespaces, mounts, pivot, then as without them. */
static __attribute__((noreturn)) void child_ns(const struct child_ctx *c)
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
		int err = map_ids(r->map_uid, r->map_gid);
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		if (err)
			fail(c, LL_STEP_USERNS, err);
	}
	/*
	 * From here to exec, paths are the client's to reach: the mounts, the
	 * pivot, the late rules and the mount helper (sandbox_and_exec then
	 * sets every id).
	 */
	int ids_err = resolve_as_client(r);
	if (ids_err)
		fail(c, LL_STEP_IDS, ids_err);
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
		become_init(c);
	sandbox_and_exec(c);
}

static void read_reports(int fd, int32_t *out, int block)
{
	for (;;) {
		int32_t msg[4];
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} control;
		struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = control.buf,
				     .msg_controllen = sizeof(control.buf) };
		ssize_t n = recvmsg(fd, &mh,
				    (block ? 0 : MSG_DONTWAIT) | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(msg))
			return; /* end of file: the child executed or exited */
		if (msg[0] == REPORT_FAILURE) {
			out[LL_OUT_STEP] = msg[1];
			out[LL_OUT_ERRNO] = msg[2];
			out[LL_OUT_DETAIL] = msg[3];
		}
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (msg[0] == REPORT_LISTENER && cm &&
		    cm->cmsg_type == SCM_RIGHTS)
			memcpy(&out[LL_OUT_LISTENER], CMSG_DATA(cm), sizeof(int));
	}
}

int32_t ll_spawn(const struct ll_spawn_req *req, int32_t *out)
{
	int sv[2];
	sigset_t all, old;

	out[LL_OUT_PID] = -1;
	out[LL_OUT_PIDFD] = -1;
	out[LL_OUT_STEP] = LL_STEP_NONE;
	out[LL_OUT_ERRNO] = 0;
	out[LL_OUT_LISTENER] = -1;
	out[LL_OUT_DETAIL] = -1;
	out[LL_OUT_HELPER] = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	void *stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		int err = errno;
		close(sv[0]);
		close(sv[1]);
		return -err;
	}

	struct child_ctx ctx = { .req = req,
				 .report_fd = sv[1],
				 .parent = getpid(),
				 .helper_fd = -1 };
	int helper[2] = { -1, -1 };
	if (req->flags & LL_SPAWN_MOUNT_HELPER) {
		if (!(req->clone_flags & CLONE_NEWPID) ||
		    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, helper) < 0) {
			int err = (req->clone_flags & CLONE_NEWPID) ? errno : EINVAL;
			close(sv[0]);
			close(sv[1]);
			munmap(stack, CHILD_STACK_SIZE);
			return -err;
		}
		ctx.helper_fd = helper[1];
	}
	int pidfd = -1;
	pid_t pid;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (req->clone_flags) {
		/*
		 * Namespaces: a fork-like clone3 (no shared memory), so the
		 * child may stay on as PID 1. Only this thread exists in it, and
		 * it still makes nothing but system calls.
		 */
		struct ll_clone_args a = {
			.flags = CLONE_PIDFD | req->clone_flags,
			.pidfd = (uint64_t)(uintptr_t)&pidfd,
			.exit_signal = SIGCHLD,
		};
		pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
		if (pid == 0)
			child_ns(&ctx);
	} else {
		pid = clone(child_main, (char *)stack + CHILD_STACK_SIZE,
			    CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &ctx,
			    &pidfd);
	}
	int clone_err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	munmap(stack, CHILD_STACK_SIZE);
	close(sv[1]);
	if (helper[1] >= 0)
		close(helper[1]);
	if (pid < 0) {
		close(sv[0]);
		if (helper[0] >= 0)
			close(helper[0]);
		return -clone_err;
	}
	out[LL_OUT_HELPER] = helper[0];

	out[LL_OUT_PID] = pid;
	out[LL_OUT_PIDFD] = pidfd;
	/* After CLONE_VFORK the child has executed or exited; otherwise wait. */
	read_reports(sv[0], out, req->clone_flags != 0);
	close(sv[0]);
	if (out[LL_OUT_STEP] == LL_STEP_NONE)
		return 0;

	siginfo_t si;
	while (waitid(P_PIDFD, pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	close(pidfd);
	out[LL_OUT_PIDFD] = -1;
	if (out[LL_OUT_HELPER] >= 0) {
		close(out[LL_OUT_HELPER]);
		out[LL_OUT_HELPER] = -1;
	}
	if (out[LL_OUT_LISTENER] >= 0) {
		close(out[LL_OUT_LISTENER]);
		out[LL_OUT_LISTENER] = -1;
	}
	return out[LL_OUT_STEP];
}

int32_t ll_probe_namespaces(uint32_t clone_flags)
{
	uint32_t uid = getuid(), gid = getgid();
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	struct ll_clone_args a = { .flags = clone_flags, .exit_signal = SIGCHLD };
	long pid = syscall(SYS_clone3, &a, sizeof(a));
	if (pid == 0) {
		int err = 0;
		if (clone_flags & CLONE_NEWUSER)
			err = map_ids(uid, gid);
		if (!err && (clone_flags & CLONE_NEWNS) &&
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			err = errno;
		if (!err && (clone_flags & CLONE_NEWNS) &&
		    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, NULL) < 0)
			err = errno;
		if (write(pipefd[1], &err, sizeof(err)) < 0)
			_exit(1);
		_exit(0);
	}
	int clone_err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return -clone_err;
	}
	int err = EIO;
	if (read(pipefd[0], &err, sizeof(err)) != sizeof(err))
		err = EIO;
	close(pipefd[0]);
	while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR)
		;
	return -err;
}

int32_t ll_helper_call(int32_t sock, const void *req, uint32_t len,
		       int32_t send_fd, int32_t *recv_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	*recv_fd = -1;
	if (send_with_fd(sock, req, len, send_fd) != (ssize_t)len)
		return -EPIPE;
	/* The reply is a report message: {reply, 0, 0, 0} and maybe an fd. */
	int32_t msg[4];
	struct iovec riov = { .iov_base = msg, .iov_len = sizeof(msg) };
	struct msghdr rh = { .msg_iov = &riov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf) };
	ssize_t n;
	while ((n = recvmsg(sock, &rh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(msg))
		return -EPIPE;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&rh);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(recv_fd, CMSG_DATA(cm), sizeof(int));
	return msg[0];
}

struct reach_job {
	uint32_t uid, gid, n_groups;
	const uint32_t *groups;
	const char *paths;
	int32_t *errs;
	int err;
};

static void *reach_thread(void *arg)
{
	struct reach_job *j = arg;
	j->err = resolve_as(j->uid, j->gid, j->groups, j->n_groups);
	if (j->err)
		return NULL;
	int32_t *out = j->errs;
	for (const char *p = j->paths; *p; p += strlen(p) + 1) {
		int fd = open(p, O_PATH | O_CLOEXEC);
		*out++ = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

int32_t ll_reach_as(uint32_t uid, uint32_t gid, const uint32_t *groups,
		    uint32_t n_groups, const char *paths, int32_t *errs)
{
	struct reach_job j = { .uid = uid, .gid = gid, .n_groups = n_groups,
			       .groups = groups, .paths = paths, .errs = errs };
	pthread_t t;
	int err = pthread_create(&t, NULL, reach_thread, &j);
	if (err)
		return -err;
	pthread_join(t, NULL);
	return -j.err;
}

static int32_t wait_pidfd(int32_t pidfd, int options)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PIDFD, pidfd, &si, WEXITED | options) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (si.si_pid == 0)
		return -EAGAIN;
	if (si.si_code == CLD_EXITED)
		return si.si_status & 0xff;
	return 256 + si.si_status;
}

int32_t ll_wait(int32_t pidfd)
{
	return wait_pidfd(pidfd, 0);
}

int32_t ll_wait_now(int32_t pidfd)
{
	return wait_pidfd(pidfd, WNOHANG);
}

int64_t ll_syscall(int64_t nr, int64_t a0, int64_t a1, int64_t a2, int64_t a3,
		   int64_t a4, int64_t a5)
{
	long r = syscall(nr, a0, a1, a2, a3, a4, a5);
	return r == -1 ? -(int64_t)errno : (int64_t)r;
}

/* Signal forwarding: set up in the parent, never inherited (see child_main). */
static volatile int32_t fwd_pidfd = -1;
static volatile sig_atomic_t fwd_pending[65];
static volatile uint32_t fwd_count[65];

static void forward(int sig)
{
	if (syscall(SYS_pidfd_send_signal, fwd_pidfd, sig, NULL, 0) == 0)
		fwd_count[sig]++;
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	/*
	 * A signal the kernel raised from the terminal (Ctrl-C, hangup) went
	 * to the whole foreground process group, the child included, so
	 * forwarding it would deliver it twice.
	 */
	if (si && si->si_code == SI_KERNEL) {
		errno = saved;
		return;
	}
	if (fwd_pidfd >= 0)
		forward(sig);
	else if (sig > 0 && sig <= 64)
		fwd_pending[sig] = 1;
	errno = saved;
}

int32_t ll_forward_signals(const int32_t *sigs, uint32_t n)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (uint32_t i = 0; i < n; i++) {
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	}
	return 0;
}

void ll_forward_to(int32_t pidfd)
{
	fwd_pidfd = pidfd;
	if (pidfd < 0)
		return;
	for (int sig = 1; sig <= 64; sig++) {
		if (fwd_pending[sig]) {
			fwd_pending[sig] = 0;
			forward(sig);
		}
	}
}

uint32_t ll_forwarded(int32_t sig)
{
	return (sig > 0 && sig <= 64) ? fwd_count[sig] : 0;
}

/* The broker's fast path (see struct ll_broker). */

static int is_simple_absolute(const char *p)
{
	if (p[0] != '/')
		return 0;
	for (const char *c = p; *c; c++) {
		if (c[0] != '/')
			continue;
		if (c[1] == '/')
			return 0;
		if (c[1] == '.' && (c[2] == '/' || c[2] == 0))
			return 0;
		if (c[1] == '.' && c[2] == '.' && (c[3] == '/' || c[3] == 0))
			return 0;
	}
	return 1;
}

static int under_prefix(const char *path, const char *prefixes)
{
	for (const char *p = prefixes; *p; p += strlen(p) + 1) {
		size_t n = strlen(p);
		if (strncmp(path, p, n) == 0 &&
		    (path[n] == 0 || path[n] == '/' || (n == 1 && p[0] == '/')))
			return 1;
	}
	return 0;
}

/* Reads a NUL-terminated string from pid, page by page; 0 or -errno. */
static int read_remote_path(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;
	while (got < size) {
		uint64_t here = addr + got;
		size_t chunk = 4096 - (here & 4095);
		if (chunk > size - got)
			chunk = size - got;
		struct iovec local = { buf + got, chunk };
		struct iovec remote = { (void *)(uintptr_t)here, chunk };
		ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			return n < 0 ? -errno : -EFAULT;
		if (memchr(buf + got, 0, n))
			return 0;
		got += n;
	}
	return -ENAMETOOLONG;
}

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP once per listener (Linux 6.6+). */
static void broker_sync_wake(struct ll_broker *b)
{
	/*
	 * Wake the broker and the task on the same CPU, handing it over
	 * directly; without it every call pays for waking an idle CPU. Older
	 * kernels say EINVAL and keep the ordinary wake-up.
	 */
	if (!b->sync_wake_tried) {
		b->sync_wake_tried = 1;
		ioctl(b->listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
		      SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	}
}

/*
 * Receives one notification from a ready listener: 1 when JavaScript must
 * decide (n holds it), 2 when it was answered here or vanished, -errno.
 */
static int32_t broker_recv(struct ll_broker *b, struct seccomp_notif *n)
{
	char path[4096];

	b->path_len = -1;
	memset(n, 0, sizeof(*n));
	if (ioctl(b->listener, SECCOMP_IOCTL_NOTIF_RECV, n) < 0)
		return (errno == ENOENT || errno == EINTR) ? 2 : -errno;
	int arg = -1;
	for (uint32_t i = 0; i < b->n_open; i++) {
		if (b->open_nrs[i] == n->data.nr) {
			arg = b->path_args[i];
			break;
		}
	}
	if (arg < 0)
		return 1;
	ll_watch_begin(b->listener, n->id, b->pidfd, (int32_t)n->pid);
	int read = read_remote_path(n->pid, n->data.args[arg], path,
				    sizeof(path));
	ll_watch_end();
	if (read < 0)
		return 1;
	if (!is_simple_absolute(path) || under_prefix(path, b->prefixes)) {
		/* Hand the path over: JavaScript need not read it again. */
		size_t len = strlen(path);
		memcpy(b->path_out, path, len + 1);
		b->path_len = (int32_t)len;
		return 1;
	}
	struct seccomp_notif_resp r = {
		.id = n->id,
		.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE,
	};
	if (ioctl(b->listener, SECCOMP_IOCTL_NOTIF_SEND, &r) < 0 &&
	    errno != ENOENT)
		return -errno;
	b->continued++;
	return 2;
}

int32_t ll_broker_next(struct ll_broker *b, void *notif_out)
{
	int32_t which;

	return ll_broker_next_any(&b, 1, -1, &notif_out, &which);
}

int32_t ll_broker_next_any(struct ll_broker *const *bs, uint32_t count,
			   int32_t wake_fd, void *const *notifs, int32_t *which)
{
	struct pollfd fds[2 * LL_BROKER_MAX + 1];

	if (count > LL_BROKER_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < count; i++)
		broker_sync_wake(bs[i]);
	for (;;) {
		for (uint32_t i = 0; i < count; i++) {
			fds[2 * i] = (struct pollfd){
				.fd = bs[i]->listening ? bs[i]->listener : -1,
				.events = POLLIN,
			};
			fds[2 * i + 1] = (struct pollfd){ .fd = bs[i]->pidfd,
							  .events = POLLIN };
		}
		fds[2 * count] = (struct pollfd){ .fd = wake_fd, .events = POLLIN };
		if (poll(fds, 2 * count + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (fds[2 * count].revents) {
			uint64_t v;
			if (read(wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return -errno;
			return 2;
		}
		for (uint32_t i = 0; i < count; i++) {
			struct ll_broker *b = bs[i];
			*which = (int32_t)i;
			if (fds[2 * i + 1].revents)
				return 0;
			if (!(fds[2 * i].revents & POLLIN)) {
				if (fds[2 * i].revents)
					b->listening = 0; /* POLLHUP: wait for the exit */
				continue;
			}
			int32_t r = broker_recv(b, notifs[i]);
			if (r != 2)
				return r;
		}
	}
}
