/*
 * stuck_futex.c: a runaway for the sandbox's signal forwarding: one thread
 * waits forever on a futex nobody wakes, the main thread waits for it
 * forever. Only a signal ends it.
 */
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static int word;

static void *stuck(void *arg)
{
	for (;;)
		syscall(SYS_futex, &word, FUTEX_WAIT, 0, NULL, NULL, 0);
	return arg;
}

int main(void)
{
	pthread_t t;

	pthread_create(&t, NULL, stuck, NULL);
	pthread_join(t, NULL);
	return 0;
}
