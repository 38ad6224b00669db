/* memfd-exec SRC ARGV0 [ARGS...]: copies SRC into a memfd and executes it (fileless execution, as droppers do).
 * Exit 126 with the errno text when the exec fails. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char buf[65536];
	ssize_t n;
	if (argc < 3) {
		fprintf(stderr, "usage: memfd-exec SRC ARGV0 [ARGS...]\n");
		return 2;
	}
	int in = open(argv[1], O_RDONLY);
	int mfd = memfd_create("payload", 0);
	if (in < 0 || mfd < 0) {
		perror("open/memfd_create");
		return 2;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(mfd, buf, n) != n) {
			perror("write");
			return 2;
		}
	char *envp[] = { "PATH=/bin", NULL };
	fexecve(mfd, argv + 2, envp);
	printf("fexecve: %s\n", strerror(errno));
	return 126;
}
