/*
 * Prints the sizes and offsets of the structs in ffi/layout.ts as the C
 * compiler sees them with this machine's kernel headers, as JSON lines:
 * {"struct":"...","size":N,"fields":{"name":offset,...}}.
 * Structs the installed headers do not define print {"struct":"...","missing":true}.
 */
#include <linux/filter.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <stdio.h>

#include "landlockd.h"

#define FIELD(s, f) printf("%s\"%s\":%zu", first ? "" : ",", #f, offsetof(s, f)), first = 0

int main(void)
{
	int first;

	first = 1;
	printf("{\"struct\":\"landlock_ruleset_attr\",\"size\":%zu,\"fields\":{",
	       sizeof(struct landlock_ruleset_attr));
	FIELD(struct landlock_ruleset_attr, handled_access_fs);
#ifdef LANDLOCK_ACCESS_NET_BIND_TCP
	FIELD(struct landlock_ruleset_attr, handled_access_net);
#endif
#ifdef LANDLOCK_SCOPE_SIGNAL
	FIELD(struct landlock_ruleset_attr, scoped);
#endif
	printf("}}\n");

	first = 1;
	printf("{\"struct\":\"landlock_path_beneath_attr\",\"size\":%zu,\"fields\":{",
	       sizeof(struct landlock_path_beneath_attr));
	FIELD(struct landlock_path_beneath_attr, allowed_access);
	FIELD(struct landlock_path_beneath_attr, parent_fd);
	printf("}}\n");

#ifdef LANDLOCK_ACCESS_NET_BIND_TCP
	first = 1;
	printf("{\"struct\":\"landlock_net_port_attr\",\"size\":%zu,\"fields\":{",
	       sizeof(struct landlock_net_port_attr));
	FIELD(struct landlock_net_port_attr, allowed_access);
	FIELD(struct landlock_net_port_attr, port);
	printf("}}\n");
#else
	printf("{\"struct\":\"landlock_net_port_attr\",\"missing\":true}\n");
#endif

	first = 1;
	printf("{\"struct\":\"sock_fprog\",\"size\":%zu,\"fields\":{",
	       sizeof(struct sock_fprog));
	FIELD(struct sock_fprog, len);
	FIELD(struct sock_fprog, filter);
	printf("}}\n");

	first = 1;
	printf("{\"struct\":\"ll_spawn_req\",\"size\":%zu,\"fields\":{",
	       sizeof(struct ll_spawn_req));
	FIELD(struct ll_spawn_req, paths);
	FIELD(struct ll_spawn_req, argv);
	FIELD(struct ll_spawn_req, envp);
	FIELD(struct ll_spawn_req, layer_fds);
	FIELD(struct ll_spawn_req, keep_fds);
	FIELD(struct ll_spawn_req, cwd);
	FIELD(struct ll_spawn_req, seccomp_prog);
	FIELD(struct ll_spawn_req, n_layers);
	FIELD(struct ll_spawn_req, n_keep);
	FIELD(struct ll_spawn_req, stdio);
	FIELD(struct ll_spawn_req, flags);
	FIELD(struct ll_spawn_req, seccomp_flags);
	FIELD(struct ll_spawn_req, restrict_flags);
	FIELD(struct ll_spawn_req, sig_ignore);
	printf("}}\n");
	return 0;
}
