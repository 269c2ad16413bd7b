/*
 * many_processes.c: 200 child processes alive at once. Each child says it
 * is running through a pipe, then waits for the parent to close another
 * pipe and exits with its index modulo 100; the parent counts them, lets
 * them go, and reaps them all.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 200

int main(void)
{
	int ready[2], go[2];
	long sum = 0;
	int running = 0;
	char c;

	if (pipe(ready) || pipe(go))
		return 1;
	for (int i = 0; i < N; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			printf("fork %d failed\n", i);
			return 1;
		}
		if (pid == 0) {
			close(go[1]);
			write(ready[1], "r", 1);
			read(go[0], &c, 1);
			_exit(i % 100);
		}
	}
	close(ready[1]);
	close(go[0]);
	while (running < N && read(ready[0], &c, 1) == 1)
		running++;
	printf("running together: %d\n", running);
	close(go[1]);
	for (int i = 0; i < N; i++) {
		int st;
		if (wait(&st) < 0)
			break;
		sum += WEXITSTATUS(st);
	}
	printf("reaped, sum of statuses %ld\n", sum);
	return 0;
}
