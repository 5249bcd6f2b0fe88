/*
 * Stands in for code another user wants landlockd to run: a shared object
 * whose constructor writes "uid N" to MARKER (given at compile time) as
 * whoever loads it. libmemfd_plant.py hands it to landlockd in a memfd
 * named like landlockd's own copy of its C library.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void planted(void)
{
	char line[32];
	int fd = open(MARKER, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return;
	snprintf(line, sizeof(line), "uid %u\n", (unsigned)getuid());
	if (write(fd, line, strlen(line)) < 0) {
		/* nothing to do */
	}
	close(fd);
}
