/*
 * many_threads.c: 1000 threads alive at once in one process. Each thread
 * waits at a barrier until all are running, then returns its index; the
 * main thread joins them in order and prints the sum.
 */
#include <pthread.h>
#include <stdio.h>

#define N 1000

static pthread_barrier_t barrier;

static void *worker(void *arg)
{
	pthread_barrier_wait(&barrier);
	return arg;
}

int main(void)
{
	static pthread_t t[N];
	pthread_attr_t attr;
	long sum = 0;
	int made = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	pthread_barrier_init(&barrier, NULL, N + 1);
	for (long i = 0; i < N; i++) {
		if (pthread_create(&t[i], &attr, worker, (void *)i) != 0)
			break;
		made++;
	}
	printf("created %d\n", made);
	if (made != N)
		return 1;
	pthread_barrier_wait(&barrier);
	for (int i = 0; i < N; i++) {
		void *r;
		pthread_join(t[i], &r);
		sum += (long)r;
	}
	printf("joined %d, sum %ld\n", N, sum);
	return 0;
}
