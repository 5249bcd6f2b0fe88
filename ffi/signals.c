/*
 * Signal forwarding: landlockd passes the signals it receives on to the
 * sandboxed command's pidfd. Set up in the parent; the child resets every
 * handler before exec (spawn.c, step SIGNALS), so nothing here is inherited.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The child to forward to, and what arrived before it was known. */
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
