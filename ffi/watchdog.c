/*
 * The broker's remote-read watchdog. A broker reads a sandboxed process's
 * memory (process_vm_readv) to learn a call's path; a sandbox that
 * registers that page with userfaultfd and never resolves the fault makes
 * the read wait, killable only, for as long as it likes. Every broker
 * thread marks its reads in a slot of its own; one watchdog thread kills a
 * sandbox whose read has waited longer than the deadline (closing its
 * userfaultfd ends the read with EFAULT), and the daemon's pool gives new
 * runs to threads that are not stuck.
 */
#define _GNU_SOURCE
#include "landlockd.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct watch_slot {
	_Atomic int64_t since_ms; /* when the read began, 0 when none */
	_Atomic int32_t listener;
	_Atomic int32_t pidfd;
	_Atomic int32_t pid;
	_Atomic uint64_t id;
	_Atomic uint32_t kills;
};

static struct watch_slot slots[LL_WATCH_SLOTS];
static _Atomic uint32_t slots_used;
static __thread struct watch_slot *mine;
static _Atomic int32_t deadline_ms;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int32_t ll_watch_thread(void)
{
	if (mine)
		return (int32_t)(mine - slots);
	uint32_t i = atomic_fetch_add(&slots_used, 1);
	if (i >= LL_WATCH_SLOTS)
		return -ENOSPC;
	mine = &slots[i];
	return (int32_t)i;
}

void ll_watch_begin(int32_t listener, uint64_t id, int32_t pidfd, int32_t pid)
{
	if (!mine)
		return;
	atomic_store(&mine->listener, listener);
	atomic_store(&mine->id, id);
	atomic_store(&mine->pidfd, pidfd);
	atomic_store(&mine->pid, pid);
	atomic_store(&mine->since_ms, now_ms());
}

void ll_watch_end(void)
{
	if (mine)
		atomic_store(&mine->since_ms, 0);
}

int64_t ll_watch_busy_ms(int32_t slot)
{
	if (slot < 0 || slot >= LL_WATCH_SLOTS)
		return -EINVAL;
	int64_t since = atomic_load(&slots[slot].since_ms);
	return since ? now_ms() - since : 0;
}

uint32_t ll_watch_kills(int32_t slot)
{
	if (slot < 0 || slot >= LL_WATCH_SLOTS)
		return 0;
	return atomic_load(&slots[slot].kills);
}

/* Whether the notification is still pending (so its task is the same). */
static int still_pending(int32_t listener, uint64_t id)
{
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

static void kill_stuck(struct watch_slot *s)
{
	int32_t listener = atomic_load(&s->listener);
	uint64_t id = atomic_load(&s->id);

	/* The run's first process, through the pidfd its broker holds. */
	syscall(SYS_pidfd_send_signal, atomic_load(&s->pidfd), SIGKILL, NULL,
		0);
	/*
	 * The task whose memory is read, which may be a descendant. Its pid is
	 * pinned with a pidfd first; the notification still pending afterwards
	 * proves that pidfd names the task that made the call.
	 */
	int p = (int)syscall(SYS_pidfd_open, atomic_load(&s->pid), 0);
	if (p >= 0) {
		if (still_pending(listener, id))
			syscall(SYS_pidfd_send_signal, p, SIGKILL, NULL, 0);
		close(p);
	}
	atomic_fetch_add(&s->kills, 1);
}

static void *watchdog(void *arg)
{
	(void)arg;
	for (;;) {
		int32_t deadline = atomic_load(&deadline_ms);
		struct timespec tick = {
			.tv_sec = deadline / 4 / 1000,
			.tv_nsec = (long)(deadline / 4 % 1000) * 1000000,
		};
		nanosleep(&tick, NULL);
		int64_t now = now_ms();
		uint32_t n = atomic_load(&slots_used);
		if (n > LL_WATCH_SLOTS)
			n = LL_WATCH_SLOTS;
		for (uint32_t i = 0; i < n; i++) {
			int64_t since = atomic_load(&slots[i].since_ms);
			if (!since || now - since <= deadline)
				continue;
			kill_stuck(&slots[i]);
			/* Again after another deadline if the read still waits. */
			atomic_compare_exchange_strong(&slots[i].since_ms,
						       &since, now);
		}
	}
	return NULL;
}

int32_t ll_watchdog_start(int32_t deadline)
{
	static _Atomic int started;

	if (deadline < 4)
		return -EINVAL;
	atomic_store(&deadline_ms, deadline);
	if (atomic_exchange(&started, 1))
		return 0;
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&t, &attr, watchdog, NULL);
	pthread_attr_destroy(&attr);
	if (r) {
		atomic_store(&started, 0);
		return -r;
	}
	return 0;
}
