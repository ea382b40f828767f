// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The readers of tests/soak.  Usage:
 *
 *   soak_reader IMAGE SECONDS READERS HANG_SECONDS < FILES
 *
 * FILES has one "PATH OFFSET SIZE" a line: a file of the mount and where
 * its bytes are in IMAGE.  READERS processes read at random until SECONDS
 * have passed, mixing O_DIRECT (aligned), buffered reads of odd sizes at
 * odd offsets, and ranges crossing or past EOF; every byte returned is
 * compared with pread() of IMAGE at OFFSET, and the length with what the
 * file must return.  The parent watches: a reader whose read has not
 * returned for HANG_SECONDS is a hang.
 *
 * Prints "reads N bytes N errors N wrong N" and exits 0 (all verified),
 * 1 (a wrong byte or length), 2 (read errors), 3 (a hang; the stuck
 * readers are sent SIGKILL and left to whoever aborts the connection).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 256
#define MAX_LEN (1 << 20)

struct file {
	char path[4096];
	uint64_t off, size;
};

struct slot {			/* one per reader, shared with the parent */
	_Atomic uint64_t reads, bytes, errors, wrong;
	_Atomic uint64_t op_start_ns;	/* 0: not in a read */
	_Atomic int file, done;
	_Atomic uint64_t op_off, op_len;
	pid_t pid;
};

static struct file files[MAX_FILES];
static int nfiles;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static uint64_t rnd(uint64_t *s)	/* xorshift64* */
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void reader(int id, struct slot *sl, const char *image, uint64_t end_ns)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull * (id + 1) ^ (uint64_t)getpid() << 20;
	int img = open(image, O_RDONLY);
	int fds[MAX_FILES][2];
	unsigned char *buf, *want;
	unsigned int printed = 0;

	if (img < 0 || posix_memalign((void **)&buf, 4096, MAX_LEN + 4096) ||
	    !(want = malloc(MAX_LEN + 4096))) {
		perror("soak_reader: setup");
		_exit(2);
	}
	for (int i = 0; i < nfiles; i++) {
		fds[i][0] = open(files[i].path, O_RDONLY);
		fds[i][1] = open(files[i].path, O_RDONLY | O_DIRECT);
		if (fds[i][0] < 0 || fds[i][1] < 0) {
			fprintf(stderr, "soak_reader: %s: %s\n", files[i].path, strerror(errno));
			_exit(2);
		}
	}
	while (now_ns() < end_ns) {
		int f = rnd(&seed) % nfiles, mode = rnd(&seed) % 4, direct = 0;
		uint64_t size = files[f].size, off, len, expect;
		ssize_t r;

		switch (mode) {
		case 0:		/* O_DIRECT, aligned */
			direct = 1;
			len = 4096 * (1 + rnd(&seed) % (MAX_LEN / 4096));
			off = size ? 4096 * (rnd(&seed) % ((size + 4095) / 4096)) : 0;
			break;
		case 1:		/* buffered, odd size and offset */
			len = 1 + rnd(&seed) % (MAX_LEN - 1);
			off = size ? rnd(&seed) % size : 0;
			break;
		default:	/* crossing or past EOF, either way */
			direct = mode == 3;
			len = direct ? 4096 * (1 + rnd(&seed) % 64) : 1 + rnd(&seed) % 300000;
			{
				int64_t o = (int64_t)size + 8192 - (int64_t)len -
					    (int64_t)(rnd(&seed) % 16384);

				off = o > 0 ? o : 0;
			}
			if (direct)
				off &= ~4095ull;
			else
				off += rnd(&seed) % 512;
			break;
		}
		if (len > MAX_LEN)
			len = MAX_LEN;
		expect = off >= size ? 0 : (size - off < len ? size - off : len);

		atomic_store(&sl->file, f);
		atomic_store(&sl->op_off, off);
		atomic_store(&sl->op_len, len);
		atomic_store(&sl->op_start_ns, now_ns());
		r = pread(fds[f][direct], buf, len, off);
		atomic_store(&sl->op_start_ns, 0);
		atomic_fetch_add(&sl->reads, 1);
		if (r < 0) {
			atomic_fetch_add(&sl->errors, 1);
			if (printed++ < 5)
				fprintf(stderr, "soak_reader: ERROR %s %s off %" PRIu64 " len %" PRIu64 ": %s\n",
					files[f].path, direct ? "O_DIRECT" : "buffered", off, len,
					strerror(errno));
			continue;
		}
		atomic_fetch_add(&sl->bytes, r);
		if ((uint64_t)r != expect ||
		    (r && pread(img, want, r, files[f].off + off) != r) ||
		    (r && memcmp(buf, want, r))) {
			uint64_t i = 0;

			while (i < (uint64_t)r && i < expect && buf[i] == want[i])
				i++;
			atomic_fetch_add(&sl->wrong, 1);
			if (printed++ < 5)
				fprintf(stderr, "soak_reader: WRONG %s %s off %" PRIu64 " len %" PRIu64
					": returned %zd (want %" PRIu64 "), first bad byte at +%" PRIu64 "\n",
					files[f].path, direct ? "O_DIRECT" : "buffered", off, len, r,
					expect, i);
		}
		/* now and then drop the file's page cache: reads reach the daemon */
		if (rnd(&seed) % 64 == 0)
			posix_fadvise(fds[f][0], 0, 0, POSIX_FADV_DONTNEED);
	}
	_exit(0);
}

static char *wchan(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	buf[0] = '\0';
	f = fopen(path, "re");
	if (f) {
		if (!fgets(buf, len, f))
			buf[0] = '\0';
		fclose(f);
	}
	return buf;
}

int main(int argc, char **argv)
{
	uint64_t seconds, hang_ns, end_ns, reads = 0, bytes = 0, errors = 0, wrong = 0;
	int nreaders, alive, hung = 0;
	struct slot *slots;
	char line[4200];

	if (argc != 5) {
		fprintf(stderr, "usage: soak_reader IMAGE SECONDS READERS HANG_SECONDS < FILES\n");
		return 2;
	}
	seconds = strtoull(argv[2], NULL, 10);
	nreaders = atoi(argv[3]);
	hang_ns = strtoull(argv[4], NULL, 10) * 1000000000ull;
	while (nfiles < MAX_FILES && fgets(line, sizeof(line), stdin)) {
		struct file *f = &files[nfiles];

		if (sscanf(line, "%4095s %" SCNu64 " %" SCNu64, f->path, &f->off, &f->size) == 3)
			nfiles++;
	}
	if (!nfiles || nreaders < 1) {
		fprintf(stderr, "soak_reader: no files or no readers\n");
		return 2;
	}
	slots = mmap(NULL, sizeof(*slots) * nreaders, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED)
		return 2;
	end_ns = now_ns() + seconds * 1000000000ull;
	for (int i = 0; i < nreaders; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 2;
		if (!pid)
			reader(i, &slots[i], argv[1], end_ns);
		slots[i].pid = pid;
	}
	for (alive = nreaders; alive > 0 && !hung;) {
		struct timespec ts = { 0, 200000000 };
		uint64_t now;
		int status;
		pid_t pid;

		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (int i = 0; i < nreaders; i++)
				if (slots[i].pid == pid) {
					slots[i].done = 1;
					alive--;
					if (!WIFEXITED(status) || WEXITSTATUS(status))
						errors++;
				}
		now = now_ns();
		for (int i = 0; i < nreaders; i++) {
			uint64_t t = atomic_load(&slots[i].op_start_ns);
			char wc[128];

			/* t > now: a read that began after now was taken */
			if (slots[i].done || !t || t > now || now - t < hang_ns)
				continue;
			fprintf(stderr, "soak_reader: HANG reader %d (pid %d) stuck %.0f s in a read of %s off %"
				PRIu64 " len %" PRIu64 " (wchan %s)\n", i, slots[i].pid,
				(now - t) / 1e9, files[slots[i].file].path,
				(uint64_t)slots[i].op_off, (uint64_t)slots[i].op_len,
				wchan(slots[i].pid, wc, sizeof(wc)));
			hung = 1;
		}
		if (!hung)
			nanosleep(&ts, NULL);
	}
	for (int i = 0; i < nreaders; i++) {
		if (hung && !slots[i].done)
			kill(slots[i].pid, SIGKILL);
		reads += slots[i].reads;
		bytes += slots[i].bytes;
		errors += slots[i].errors;
		wrong += slots[i].wrong;
	}
	printf("reads %" PRIu64 " bytes %" PRIu64 " errors %" PRIu64 " wrong %" PRIu64 "\n",
	       reads, bytes, errors, wrong);
	if (wrong)
		return 1;
	if (hung)
		return 3;
	return errors ? 2 : 0;
}
