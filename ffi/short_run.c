/*
 * The C functions a direct `landlockd run` calls on its JS thread, once
 * more, each returning its result in a one-member struct (see
 * landlockd.h). Deno compiles a fast-call trampoline with Cranelift for
 * each synchronous FFI symbol it binds whose signature has no struct;
 * starting Cranelift and compiling costs a fresh process about 0.7 ms, and
 * V8 calls a trampoline only from optimized code, which a run of a few
 * milliseconds never has. syscalls/sys.ts binds these for a direct run;
 * the daemon and broker threads keep the plain ones.
 */
#include "internal.h"

struct ll_result ll_syscall_r(int64_t nr, int64_t a0, int64_t a1, int64_t a2,
			      int64_t a3, int64_t a4, int64_t a5)
{
	return (struct ll_result){ ll_syscall(nr, a0, a1, a2, a3, a4, a5) };
}

struct ll_result ll_spawn_r(const struct ll_spawn_req *req, int32_t *out)
{
	return (struct ll_result){ ll_spawn(req, out) };
}

struct ll_result ll_wait_r(int32_t pidfd)
{
	return (struct ll_result){ ll_wait(pidfd) };
}

struct ll_result ll_add_path_rules_r(int32_t ruleset_fd, const char *paths,
				     uint32_t n, const uint64_t *masks,
				     const uint8_t *optional, int32_t *out)
{
	return (struct ll_result){ ll_add_path_rules(ruleset_fd, paths, n,
						     masks, optional, out) };
}

struct ll_result ll_forward_signals_r(const int32_t *sigs, uint32_t n)
{
	return (struct ll_result){ ll_forward_signals(sigs, n) };
}

struct ll_result ll_forward_to_r(int32_t pidfd)
{
	ll_forward_to(pidfd);
	return (struct ll_result){ 0 };
}

struct ll_result ll_forwarded_r(int32_t sig)
{
	return (struct ll_result){ ll_forwarded(sig) };
}
