/*
 * The parent's side of starting a sandboxed process (ll_spawn: clone, then
 * read the child's reports; the child's side is spawn.c; ll_spawn_queued:
 * the same on a long-lived spawner thread), the namespace
 * probe, waiting for a pidfd, switching the calling thread's filesystem
 * identity (ll_resolve_as, for TypeScript), and the raw syscall entry.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILD_STACK_SIZE (256 * 1024)

/*
 * The CLONE_VM|CLONE_VFORK child's stack, one per calling thread (the JS
 * thread and the spawner threads), made on first use and kept. The child
 * uses it only while its parent thread is suspended: CLONE_VFORK returns
 * once the child has executed (its old memory released) or exited, so the
 * next spawn from this thread finds it free. Mapping and unmapping it per
 * run cost an mmap, page faults and an munmap (with a TLB flush on every
 * CPU running one of the daemon's threads) each time.
 */
static __thread void *child_stack;
static pthread_key_t child_stack_key;
static pthread_once_t child_stack_once = PTHREAD_ONCE_INIT;
static int child_stack_keyed;

/* A thread that ends (a Worker's, say) unmaps its stack. */
static void drop_child_stack(void *s)
{
	munmap(s, CHILD_STACK_SIZE);
}

static void make_child_stack_key(void)
{
	child_stack_keyed =
		pthread_key_create(&child_stack_key, drop_child_stack) == 0;
}

static void *thread_child_stack(void)
{
	if (child_stack)
		return child_stack;
	void *s = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (s == MAP_FAILED)
		return NULL;
	pthread_once(&child_stack_once, make_child_stack_key);
	if (child_stack_keyed && pthread_setspecific(child_stack_key, s) == 0)
		child_stack = s; /* else used once, unmapped after the clone */
	return s;
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
	void *stack = req->clone_flags ? NULL : thread_child_stack();
	if (!req->clone_flags && !stack) {
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
			if (stack && stack != child_stack)
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
			ll_child_ns(&ctx);
	} else {
		pid = clone(ll_child_main, (char *)stack + CHILD_STACK_SIZE,
			    CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &ctx,
			    &pidfd);
	}
	int clone_err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (stack && stack != child_stack)
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

/*
 * The spawners: LL_SPAWNERS threads, started on first use and never ended,
 * that make the children handed to ll_spawn_queued(). PR_SET_PDEATHSIG
 * fires when the thread that forked a child exits, so a child must not
 * come from a runtime's pool thread, which may retire while the child
 * runs. A caller on such a thread (Deno's nonblocking FFI: the daemon's JS
 * thread then goes on while the child sets up and executes) hands its
 * request to an idle spawner and waits. Several, so that children set up
 * in parallel on several CPUs; they run only C, with every signal blocked
 * (the child unblocks them, spawn.c).
 */
#define LL_SPAWNERS 4

struct spawn_job {
	const struct ll_spawn_req *req;
	int32_t *out;
	int32_t result;
	int done;
};

static pthread_mutex_t spawner_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spawner_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t spawner_done = PTHREAD_COND_INITIALIZER;
static struct spawn_job *spawner_slot;
static int spawner_started;

static void *spawner(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&spawner_mu);
	for (;;) {
		while (!spawner_slot)
			pthread_cond_wait(&spawner_wake, &spawner_mu);
		struct spawn_job *job = spawner_slot;
		spawner_slot = NULL;
		pthread_cond_broadcast(&spawner_done); /* the slot is free */
		pthread_mutex_unlock(&spawner_mu);
		int32_t r = ll_spawn(job->req, job->out);
		pthread_mutex_lock(&spawner_mu);
		job->result = r;
		job->done = 1;
		pthread_cond_broadcast(&spawner_done);
	}
	return NULL;
}

int32_t ll_spawn_queued(const struct ll_spawn_req *req, int32_t *out)
{
	struct spawn_job job = { .req = req, .out = out };

	pthread_mutex_lock(&spawner_mu);
	if (spawner_started < LL_SPAWNERS) {
		pthread_t t;
		pthread_attr_t attr;
		sigset_t all, old;
		int err = 0;
		sigfillset(&all);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		/* New threads inherit this mask: no handler ever runs on them. */
		pthread_sigmask(SIG_SETMASK, &all, &old);
		while (spawner_started < LL_SPAWNERS &&
		       !(err = pthread_create(&t, &attr, spawner, NULL)))
			spawner_started++;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
		if (!spawner_started) {
			pthread_mutex_unlock(&spawner_mu);
			return -err;
		}
	}
	while (spawner_slot)
		pthread_cond_wait(&spawner_done, &spawner_mu);
	spawner_slot = &job;
	pthread_cond_signal(&spawner_wake);
	while (!job.done)
		pthread_cond_wait(&spawner_done, &spawner_mu);
	pthread_mutex_unlock(&spawner_mu);
	return job.result;
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
			err = ll_map_ids(uid, gid);
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

int32_t ll_thread_resolve_as(uint32_t uid, uint32_t gid,
			     const uint32_t *groups, uint32_t n_groups)
{
	return -ll_resolve_as(uid, gid, groups, n_groups);
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

int32_t ll_add_path_rules(int32_t ruleset_fd, const char *paths, uint32_t n,
			  const uint64_t *masks, const uint8_t *optional,
			  int32_t *out)
{
	const char *path = paths;

	for (uint32_t i = 0; i < n; i++, path += strlen(path) + 1) {
		int fd = open(path, O_PATH | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT && optional[i])
				continue;
			out[0] = LL_RULE_OPEN;
			out[1] = errno;
			return (int32_t)i;
		}
		struct statx stx;
		if (statx(fd, "", AT_EMPTY_PATH, STATX_TYPE, &stx) < 0) {
			out[0] = LL_RULE_STATX;
			out[1] = errno;
			close(fd);
			return (int32_t)i;
		}
		uint64_t mask = S_ISDIR(stx.stx_mode) ? masks[2 * i] :
							 masks[2 * i + 1];
		if (mask) {
			struct __attribute__((packed)) {
				uint64_t allowed_access;
				int32_t parent_fd;
			} attr = { mask, fd };
			if (syscall(SYS_landlock_add_rule, ruleset_fd,
				    1 /* LANDLOCK_RULE_PATH_BENEATH */, &attr,
				    0) < 0) {
				out[0] = LL_RULE_ADD;
				out[1] = errno;
				close(fd);
				return (int32_t)i;
			}
		}
		close(fd);
	}
	return (int32_t)n;
}
