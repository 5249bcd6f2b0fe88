/*
 * What the kernel alone charges for a sandboxed run: a loop of vfork +
 * (no_new_privs, landlock_restrict_self, seccomp) + execve + wait, with the
 * policy's rulesets made per run (landlock_create_ruleset, an O_PATH open
 * and landlock_add_rule per rule), as landlockd's daemon must make them.
 * With "bare", the same loop without any restriction. bench/floor_spawn.ts
 * compiles and runs it; bench/floors.ts writes SPEC from a policy's plan.
 *
 * Usage: floor_spawn SPEC MODE RUNS IN_FLIGHT COMMAND
 *   MODE: sandbox | bare. IN_FLIGHT threads share the RUNS; with 1, each
 *   run is timed. Prints one JSON object.
 *
 * SPEC lines:
 *   seccomp FLAGS HEX        the BPF program (8 bytes per instruction)
 *   layer SIZE HEX           a struct landlock_ruleset_attr (SIZE bytes)
 *   rule ACCESS PATH         a path_beneath rule of the last layer
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif
#define RULE_PATH_BENEATH 1
#define MAX_LAYERS 16
#define MAX_RULES 256

extern char **environ;

struct path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

static struct {
	unsigned char attr[64];
	size_t size;
	int first_rule, n_rules;
} layers[MAX_LAYERS];
static int n_layers;
static struct {
	uint64_t access;
	char *path;
} rules[MAX_RULES];
static int n_rules;
static struct sock_filter filter[4096];
static struct sock_fprog prog;
static unsigned seccomp_flags;
static int sandbox;
static char *command;

static long runs;
static atomic_long next_run;
static double *times_us;

static void die(const char *what)
{
	fprintf(stderr, "floor_spawn: %s: %s\n", what, strerror(errno));
	exit(1);
}

static size_t unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	while (s[0] && s[1] && n < max) {
		unsigned v;
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (unsigned char)v;
		s += 2;
	}
	return n;
}

static void read_spec(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die(path);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = 0;
		char *hex = malloc(cap);
		unsigned long long a;
		if (sscanf(line, "seccomp %u %s", &seccomp_flags, hex) == 2) {
			size_t n = unhex(hex, (unsigned char *)filter,
					 sizeof(filter));
			prog.len = (unsigned short)(n / sizeof(filter[0]));
			prog.filter = filter;
		} else if (sscanf(line, "layer %llu %s", &a, hex) == 2) {
			if (n_layers == MAX_LAYERS)
				die("too many layers");
			layers[n_layers].size = a;
			unhex(hex, layers[n_layers].attr,
			      sizeof(layers[0].attr));
			layers[n_layers].first_rule = n_rules;
			n_layers++;
		} else if (sscanf(line, "rule %llu", &a) == 1 && n_layers &&
			   n_rules < MAX_RULES) {
			rules[n_rules].access = a;
			rules[n_rules].path = strdup(strchr(line + 5, ' ') + 1);
			n_rules++;
			layers[n_layers - 1].n_rules++;
		}
		free(hex);
	}
	free(line);
	fclose(f);
}

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* One run: the rulesets, vfork, restrict, exec, wait. */
static void once(void)
{
	int fds[MAX_LAYERS];
	int n = sandbox ? n_layers : 0;
	for (int i = 0; i < n; i++) {
		fds[i] = (int)syscall(__NR_landlock_create_ruleset,
				      layers[i].attr, layers[i].size, 0);
		if (fds[i] < 0)
			die("landlock_create_ruleset");
		for (int r = layers[i].first_rule;
		     r < layers[i].first_rule + layers[i].n_rules; r++) {
			struct path_beneath pb = { rules[r].access, -1 };
			pb.parent_fd = open(rules[r].path, O_PATH | O_CLOEXEC);
			if (pb.parent_fd < 0)
				die(rules[r].path);
			if (syscall(__NR_landlock_add_rule, fds[i],
				    RULE_PATH_BENEATH, &pb, 0))
				die("landlock_add_rule");
			close(pb.parent_fd);
		}
	}
	char *argv[] = { command, NULL };
	pid_t pid = vfork();
	if (pid == 0) {
		if (sandbox) {
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
				_exit(120);
			for (int i = 0; i < n; i++)
				if (syscall(__NR_landlock_restrict_self, fds[i],
					    0))
					_exit(121);
			if (prog.len && syscall(__NR_seccomp,
						SECCOMP_SET_MODE_FILTER,
						seccomp_flags, &prog))
				_exit(122);
		}
		execve(command, argv, environ);
		_exit(127);
	}
	if (pid < 0)
		die("vfork");
	for (int i = 0; i < n; i++)
		close(fds[i]);
	int status;
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "floor_spawn: %s: status %d\n", command,
			status);
		exit(1);
	}
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		long i = atomic_fetch_add(&next_run, 1);
		if (i >= runs)
			return NULL;
		double t = now_us();
		once();
		times_us[i] = now_us() - t;
	}
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr,
			"usage: floor_spawn SPEC sandbox|bare RUNS IN_FLIGHT COMMAND\n");
		return 2;
	}
	read_spec(argv[1]);
	sandbox = strcmp(argv[2], "sandbox") == 0;
	runs = atol(argv[3]);
	int in_flight = atoi(argv[4]);
	command = argv[5];
	if (runs < 1 || in_flight < 1 || in_flight > 256)
		return 2;
	times_us = calloc(runs, sizeof(double));
	for (int i = 0; i < 20; i++)
		once(); /* warm-up */
	pthread_t threads[256];
	double t0 = now_us();
	for (int i = 0; i < in_flight; i++)
		if (pthread_create(&threads[i], NULL, worker, NULL))
			die("pthread_create");
	for (int i = 0; i < in_flight; i++)
		pthread_join(threads[i], NULL);
	double total = now_us() - t0;
	qsort(times_us, runs, sizeof(double), by_value);
	double sum = 0;
	for (long i = 0; i < runs; i++)
		sum += times_us[i];
	long p95 = (long)(runs * 0.95);
	printf("{\"mode\":\"%s\",\"runs\":%ld,\"in_flight\":%d,"
	       "\"mean_ms\":%.4f,\"median_ms\":%.4f,\"p95_ms\":%.4f,"
	       "\"runs_per_s\":%.1f}\n",
	       argv[2], runs, in_flight, sum / runs / 1000,
	       times_us[runs / 2] / 1000,
	       times_us[p95 < runs ? p95 : runs - 1] / 1000,
	       runs / (total / 1e6));
	return 0;
}
