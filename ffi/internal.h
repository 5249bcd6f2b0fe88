/*
 * Declarations shared by the C files of liblandlockd.so and private to it:
 * syscall numbers older libc headers may lack, the kernel structs used
 * without their headers, and the functions one file calls in another.
 * Nothing here is exported from the library (hidden visibility).
 */
#ifndef LANDLOCKD_INTERNAL_H
#define LANDLOCKD_INTERNAL_H

#include "landlockd.h"

#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

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

/* struct clone_args and struct mount_attr, as in the kernel's uapi. */
struct ll_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
		stack_size, tls, set_tid, set_tid_size, cgroup;
};
struct ll_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/* What the child reports to ll_spawn() over its socket: int32_t[4]. */
enum report_kind { REPORT_LISTENER = 1, REPORT_FAILURE = 2 };

/* The child's view of ll_spawn()'s state. */
struct child_ctx {
	const struct ll_spawn_req *req;
	int report_fd;
	pid_t parent;
	int helper_fd; /* the helper's end of the mount helper socket, or -1 */
};

#pragma GCC visibility push(hidden)

/* spawn.c: the pre-exec path. */
int ll_child_main(void *ctx); /* the CLONE_VM | CLONE_VFORK child */
__attribute__((noreturn)) void ll_child_ns(const struct child_ctx *c);
__attribute__((noreturn)) void ll_fail(const struct child_ctx *c,
				       int32_t step, int32_t err);
int ll_map_ids(uint32_t uid, uint32_t gid);
int ll_resolve_as(uint32_t uid, uint32_t gid, const uint32_t *groups,
		  uint32_t n_groups);
int ll_resolve_as_client(const struct ll_spawn_req *r);
ssize_t ll_send_with_fd(int fd, const void *buf, size_t len, int pass_fd);
void ll_send_report(int fd, int32_t kind, int32_t step, int32_t err,
		    int32_t detail, int pass_fd);

/* init.c: PID 1 of a new PID namespace, and the mount helper it starts. */
void ll_become_init(const struct child_ctx *c);

#pragma GCC visibility pop

#endif
