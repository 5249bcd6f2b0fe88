/*
 * Prints the sizes and offsets of the structs in ffi/layout.ts as the C
 * compiler sees them with this machine's kernel headers, as JSON lines:
 * {"struct":"...","size":N,"fields":{"name":offset,...}}.
 * Structs the installed headers do not define print {"struct":"...","missing":true}.
 * The last line holds every number ffi/layout.ts shares with landlockd.h
 * (steps, out[] indices, flags, ops, limits): {"constants":{"NAME":N,...}},
 * and the next the kernel's seccomp notification numbers both sides use:
 * {"kernel":{"NAME":N,...}}.
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <stddef.h>
#include <stdio.h>

#include "landlockd.h"

#define FIELD(s, f) printf("%s\"%s\":%zu", first ? "" : ",", field_name(#f), offsetof(s, f)), first = 0

#define CONST(name) printf("%s\"%s\":%lld", first ? "" : ",", #name, (long long)(name)), first = 0

/* "data.nr" is printed as "data_nr", the name ffi/layout.ts uses. */
static const char *field_name(const char *f)
{
	static char buf[64];
	size_t i = 0;
	for (; f[i] && i < sizeof(buf) - 1; i++)
		buf[i] = f[i] == '.' ? '_' : f[i];
	buf[i] = 0;
	return buf;
}

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
	printf("{\"struct\":\"seccomp_notif\",\"size\":%zu,\"fields\":{",
	       sizeof(struct seccomp_notif));
	FIELD(struct seccomp_notif, id);
	FIELD(struct seccomp_notif, pid);
	FIELD(struct seccomp_notif, flags);
	FIELD(struct seccomp_notif, data.nr);
	FIELD(struct seccomp_notif, data.arch);
	FIELD(struct seccomp_notif, data.instruction_pointer);
	FIELD(struct seccomp_notif, data.args);
	printf("}}\n");

	first = 1;
	printf("{\"struct\":\"seccomp_notif_resp\",\"size\":%zu,\"fields\":{",
	       sizeof(struct seccomp_notif_resp));
	FIELD(struct seccomp_notif_resp, id);
	FIELD(struct seccomp_notif_resp, val);
	FIELD(struct seccomp_notif_resp, error);
	FIELD(struct seccomp_notif_resp, flags);
	printf("}}\n");

	first = 1;
	printf("{\"struct\":\"seccomp_notif_addfd\",\"size\":%zu,\"fields\":{",
	       sizeof(struct seccomp_notif_addfd));
	FIELD(struct seccomp_notif_addfd, id);
	FIELD(struct seccomp_notif_addfd, flags);
	FIELD(struct seccomp_notif_addfd, srcfd);
	FIELD(struct seccomp_notif_addfd, newfd);
	FIELD(struct seccomp_notif_addfd, newfd_flags);
	printf("}}\n");

	first = 1;
	printf("{\"struct\":\"open_how\",\"size\":%zu,\"fields\":{",
	       sizeof(struct open_how));
	FIELD(struct open_how, flags);
	FIELD(struct open_how, mode);
	FIELD(struct open_how, resolve);
	printf("}}\n");

	first = 1;
	printf("{\"struct\":\"iovec\",\"size\":%zu,\"fields\":{",
	       sizeof(struct iovec));
	FIELD(struct iovec, iov_base);
	FIELD(struct iovec, iov_len);
	printf("}}\n");

	first = 1;
	printf("{\"struct\":\"msghdr\",\"size\":%zu,\"fields\":{",
	       sizeof(struct msghdr));
	FIELD(struct msghdr, msg_name);
	FIELD(struct msghdr, msg_namelen);
	FIELD(struct msghdr, msg_iov);
	FIELD(struct msghdr, msg_iovlen);
	FIELD(struct msghdr, msg_control);
	FIELD(struct msghdr, msg_controllen);
	FIELD(struct msghdr, msg_flags);
	printf("}}\n");

	first = 1;
	printf("{\"struct\":\"mmsghdr\",\"size\":%zu,\"fields\":{",
	       sizeof(struct mmsghdr));
	FIELD(struct mmsghdr, msg_hdr);
	FIELD(struct mmsghdr, msg_len);
	printf("}}\n");

	first = 1;
	printf("{\"struct\":\"pollfd\",\"size\":%zu,\"fields\":{",
	       sizeof(struct pollfd));
	FIELD(struct pollfd, fd);
	FIELD(struct pollfd, events);
	FIELD(struct pollfd, revents);
	printf("}}\n");

	first = 1;
	printf("{\"struct\":\"ll_broker\",\"size\":%zu,\"fields\":{",
	       sizeof(struct ll_broker));
	FIELD(struct ll_broker, listener);
	FIELD(struct ll_broker, pidfd);
	FIELD(struct ll_broker, prefixes);
	FIELD(struct ll_broker, open_nrs);
	FIELD(struct ll_broker, path_args);
	FIELD(struct ll_broker, n_open);
	FIELD(struct ll_broker, listening);
	FIELD(struct ll_broker, continued);
	FIELD(struct ll_broker, sync_wake_tried);
	FIELD(struct ll_broker, path_len);
	FIELD(struct ll_broker, path_out);
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
	FIELD(struct ll_spawn_req, mounts);
	FIELD(struct ll_spawn_req, n_mounts);
	FIELD(struct ll_spawn_req, clone_flags);
	FIELD(struct ll_spawn_req, map_uid);
	FIELD(struct ll_spawn_req, map_gid);
	FIELD(struct ll_spawn_req, late_rules);
	FIELD(struct ll_spawn_req, n_late_rules);
	FIELD(struct ll_spawn_req, n_groups);
	FIELD(struct ll_spawn_req, groups);
	FIELD(struct ll_spawn_req, run_uid);
	FIELD(struct ll_spawn_req, run_gid);
	FIELD(struct ll_spawn_req, drop_caps);
	printf("}}\n");

	first = 1;
	printf("{\"struct\":\"ll_mount_req\",\"size\":%zu,\"fields\":{",
	       sizeof(struct ll_mount_req));
	FIELD(struct ll_mount_req, op);
	FIELD(struct ll_mount_req, flags);
	FIELD(struct ll_mount_req, read_only);
	FIELD(struct ll_mount_req, attr_clr);
	FIELD(struct ll_mount_req, source);
	FIELD(struct ll_mount_req, target);
	FIELD(struct ll_mount_req, data);
	printf("}}\n");

	first = 1;
	printf("{\"struct\":\"ll_late_rule\",\"size\":%zu,\"fields\":{",
	       sizeof(struct ll_late_rule));
	FIELD(struct ll_late_rule, path);
	FIELD(struct ll_late_rule, allowed_access);
	FIELD(struct ll_late_rule, layer);
	printf("}}\n");

	first = 1;
	printf("{\"struct\":\"ll_mount\",\"size\":%zu,\"fields\":{",
	       sizeof(struct ll_mount));
	FIELD(struct ll_mount, source);
	FIELD(struct ll_mount, target);
	FIELD(struct ll_mount, fstype);
	FIELD(struct ll_mount, data);
	FIELD(struct ll_mount, flags);
	FIELD(struct ll_mount, op);
	printf("}}\n");

	first = 1;
	printf("{\"constants\":{");
	CONST(LL_STEP_NONE);
	CONST(LL_STEP_SIGNALS);
	CONST(LL_STEP_PDEATHSIG);
	CONST(LL_STEP_STDIO);
	CONST(LL_STEP_FDS);
	CONST(LL_STEP_MOUNTS);
	CONST(LL_STEP_CWD);
	CONST(LL_STEP_NO_NEW_PRIVS);
	CONST(LL_STEP_LANDLOCK);
	CONST(LL_STEP_SECCOMP);
	CONST(LL_STEP_EXEC);
	CONST(LL_STEP_USERNS);
	CONST(LL_STEP_INIT);
	CONST(LL_STEP_RULES);
	CONST(LL_STEP_IDS);
	CONST(LL_STEP_CAPS);
	CONST(LL_OUT_PID);
	CONST(LL_OUT_PIDFD);
	CONST(LL_OUT_STEP);
	CONST(LL_OUT_ERRNO);
	CONST(LL_OUT_LISTENER);
	CONST(LL_OUT_DETAIL);
	CONST(LL_OUT_HELPER);
	CONST(LL_OUT_LENGTH);
	CONST(LL_SPAWN_NO_NEW_PRIVS);
	CONST(LL_SPAWN_MOUNT_HELPER);
	CONST(LL_SPAWN_SET_IDS);
	CONST(LL_MOUNT);
	CONST(LL_MOUNT_RDONLY);
	CONST(LL_PIVOT);
	CONST(LL_REQ_TMPFS);
	CONST(LL_REQ_BIND);
	CONST(LL_REQ_UMOUNT);
	CONST(LL_REQ_OPEN_TREE);
	CONST(LL_REQ_MOVE_MOUNT);
	CONST(LL_REQ_FSOPEN);
	CONST(LL_REQ_FSCONFIG);
	CONST(LL_REQ_FSMOUNT);
	CONST(LL_REQ_SETATTR);
	CONST(LL_BROKER_MAX);
	CONST(LL_BROKER_PATH_SIZE);
	CONST(LL_SOCK_MAX_FDS);
	CONST(LL_WATCH_SLOTS);
	CONST(LL_LISTENER_SEND_FLAGS);
	CONST(LL_STAMP_OWN);
	CONST(LL_STAMP_OWN_ONLY);
	CONST(LL_STAMP_HEAD_SIZE);
	printf("}}\n");

	/* Kernel numbers the C and TypeScript brokers both use. */
	first = 1;
	printf("{\"kernel\":{");
	CONST(SECCOMP_IOCTL_NOTIF_SEND);
	CONST(SECCOMP_IOCTL_NOTIF_ID_VALID);
#ifdef SECCOMP_IOCTL_NOTIF_ADDFD
	CONST(SECCOMP_IOCTL_NOTIF_ADDFD);
#endif
	CONST(SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	printf("}}\n");
	return 0;
}
