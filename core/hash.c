// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkfuse hash: digests of the source and its partitions in one pass.
 *
 * The calling thread reads the source in CHUNK-sized pieces into a ring
 * of NSLOTS buffers; worker threads feed each chunk to every digest
 * ("job": one algorithm over one range) whose range overlaps it.  A job
 * takes chunks strictly in order, but different jobs run on different
 * threads, so sha256, sha1 and md5 of disk and of p1 are computed in
 * parallel while the next chunks are being read.  A slot is reused only
 * once every job is past the chunk it holds.
 */
#include <errno.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "volume/layout.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/util.h"

#define CHUNK		(4u << 20)
#define NSLOTS		8
#define MAX_WORKERS	16

/* ---- algorithms --------------------------------------------------------- */

static const struct {
	const char *name;	/* as --algo and --verify spell it */
	const char *tag;	/* as the BSD tagged format spells it */
	const EVP_MD *(*md)(void);
	unsigned int len;
} algos[BLK_HASH_NR] = {
	[BLK_HASH_SHA256] = { "sha256", "SHA256", EVP_sha256, 32 },
	[BLK_HASH_SHA1]	  = { "sha1", "SHA1", EVP_sha1, 20 },
	[BLK_HASH_MD5]	  = { "md5", "MD5", EVP_md5, 16 },
};

int blk_hash_algo_parse(const char *name)
{
	for (int a = 0; a < BLK_HASH_NR; a++)
		if (strcasecmp(name, algos[a].name) == 0)
			return a;
	return -1;
}

const char *blk_hash_algo_tag(enum blk_hash_algo algo)
{
	return algos[algo].tag;
}

const char *blk_hash_algo_name(enum blk_hash_algo algo)
{
	return algos[algo].name;
}

unsigned int blk_hash_algo_len(enum blk_hash_algo algo)
{
	return algos[algo].len;
}

void blk_hash_hex(char *out, const unsigned char *md, enum blk_hash_algo algo)
{
	blk_hex(out, md, algos[algo].len);
}

/* ---- reading ------------------------------------------------------------ */

/* 0, or -1 with *at where reading stopped and errno (0: end of file). */
static int read_full(const struct blk_source *src, unsigned char *buf,
		     size_t len, uint64_t off, uint64_t *at)
{
	size_t done = 0;
	uint64_t bad;

	while (done < len) {
		ssize_t n = blk_source_pread(src, buf + done, len - done,
					     off + done, &bad);

		if (n == -EINTR)
			continue;
		if (n <= 0) {
			errno = -n;
			/* a container's failing chunk may start before off */
			*at = n < 0 && src->img && bad > off + done ? bad :
								      off + done;
			return -1;
		}
		done += n;
	}
	return 0;
}

/*
 * On an error, read the rest again one sector at a time: that names the
 * sector that fails rather than the start of a 4 MiB read, and an error
 * that does not repeat costs nothing.
 */
static int read_chunk(const struct blk_source *src, unsigned char *buf,
		      size_t len, uint64_t off, uint64_t *at)
{
	size_t ssz = src->sector_size, from;

	if (read_full(src, buf, len, off, at) == 0)
		return 0;
	if (errno == 0)
		return -1;
	from = *at - off;
	for (size_t o = from - from % ssz; o < len; o += ssz)
		if (read_full(src, buf + o, len - o < ssz ? len - o : ssz,
			      off + o, at) != 0)
			return -1;
	return 0;
}

/* ---- one pass, many digests --------------------------------------------- */

struct job {
	EVP_MD_CTX *ctx;
	uint64_t start, end;		/* the range: [start, end) */
	uint64_t next;			/* the first chunk not yet fed */
	bool busy;			/* a worker is feeding it */
	int algo;
};

struct slot {
	unsigned char *buf;
	uint64_t off;
	size_t len;
};

struct pass {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a chunk was read or fed, or the end */
	struct slot slot[NSLOTS];	/* chunk c is in slot[c % NSLOTS] */
	uint64_t nread;			/* chunks read */
	bool eof;			/* no more chunks will come */
	bool stop;			/* give up: an error */
	struct job *jobs;
	unsigned int njobs;
};

static uint64_t min_next(const struct pass *p)
{
	uint64_t m = UINT64_MAX;

	for (unsigned int i = 0; i < p->njobs; i++)
		if (p->jobs[i].next < m)
			m = p->jobs[i].next;
	return m;
}

/* The job furthest behind that has chunks waiting and no worker. */
static struct job *pick(struct pass *p)
{
	struct job *best = NULL;

	for (unsigned int i = 0; i < p->njobs; i++) {
		struct job *j = &p->jobs[i];

		if (!j->busy && j->next < p->nread &&
		    (!best || j->next < best->next))
			best = j;
	}
	return best;
}

/*
 * Without the lock: the reader leaves chunks [from, to) alone until this
 * job is past them, and no other worker touches a busy job.
 */
static int feed(struct pass *p, struct job *j, uint64_t from, uint64_t to)
{
	for (uint64_t c = from; c < to; c++) {
		const struct slot *s = &p->slot[c % NSLOTS];
		uint64_t lo = s->off > j->start ? s->off : j->start;
		uint64_t hi = s->off + s->len < j->end ? s->off + s->len : j->end;

		if (lo < hi &&
		    !EVP_DigestUpdate(j->ctx, s->buf + (lo - s->off), hi - lo))
			return -EIO;
	}
	return 0;
}

static void *worker(void *arg)
{
	struct pass *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct job *j = pick(p);
		uint64_t from, to;
		int res;

		if (!j) {
			if (p->eof && min_next(p) == p->nread)
				break;
			pthread_cond_wait(&p->cond, &p->lock);
			continue;
		}
		from = j->next;
		to = p->nread;
		j->busy = true;
		pthread_mutex_unlock(&p->lock);
		res = feed(p, j, from, to);
		pthread_mutex_lock(&p->lock);
		j->busy = false;
		j->next = to;
		if (res) {
			blk_err("%s: EVP_DigestUpdate failed",
				algos[j->algo].name);
			p->stop = true;
		}
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static unsigned int cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
}

static int cmp_start(const void *a, const void *b)
{
	const struct blk_hash_range *x = *(const struct blk_hash_range *const *)a;
	const struct blk_hash_range *y = *(const struct blk_hash_range *const *)b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Set eof or stop, and wake every worker to see it. */
static void pass_set(struct pass *p, bool *flag)
{
	pthread_mutex_lock(&p->lock);
	*flag = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* The slot for the next chunk, once all jobs are done with it; NULL: stop. */
static struct slot *wait_slot(struct pass *p)
{
	struct slot *s = NULL;

	pthread_mutex_lock(&p->lock);
	p->stop |= atomic_load(&blk_hash_cancel);
	while (!p->stop && p->nread >= min_next(p) + NSLOTS)
		pthread_cond_wait(&p->cond, &p->lock);
	if (!p->stop)
		s = &p->slot[p->nread % NSLOTS];
	pthread_mutex_unlock(&p->lock);
	return s;
}

/* The chunk in slot s is read: the workers may have it. */
static void publish(struct pass *p, struct slot *s, uint64_t off, size_t len)
{
	pthread_mutex_lock(&p->lock);
	s->off = off;
	s->len = len;
	p->nread++;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* Read [start, end) of the source into the ring; it is one covered span. */
static int read_span(struct pass *p, const struct blk_source *src,
		     uint64_t start, uint64_t end, struct blk_progress *pg)
{
	for (uint64_t off = start; off < end;) {
		/* chunks on CHUNK boundaries of the source, not of the span */
		uint64_t edge = (off / CHUNK + 1) * CHUNK;
		size_t len = (edge < end ? edge : end) - off;
		struct slot *s = wait_slot(p);
		uint64_t at;

		if (!s)
			return -ECANCELED;
		if (read_chunk(src, s->buf, len, off, &at) != 0) {
			int e = errno;

			blk_progress_end(pg);
			if (e)
				blk_err("%s: read error at byte %llu: %s",
					src->path, (unsigned long long)at,
					strerror(e));
			else
				blk_err("%s: ends at byte %llu, expected %llu bytes",
					src->path, (unsigned long long)at,
					(unsigned long long)src->size);
			return BLK_HASH_EREAD;	/* printed */
		}
		publish(p, s, off, len);
		blk_progress_add(pg, len);
		off += len;
	}
	return 0;
}

/* [start, end) of the source that some range needs; spans do not touch. */
struct span {
	uint64_t start, end;
};

/* The union of the ranges as sorted spans; returns how many. */
static unsigned int make_spans(const struct blk_hash_range **by_start,
			       unsigned int n, struct span *sp)
{
	unsigned int ns = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t start = by_start[i]->start;
		uint64_t end = start + by_start[i]->size;

		if (start == end)
			continue;
		if (ns && start <= sp[ns - 1].end) {
			if (end > sp[ns - 1].end)
				sp[ns - 1].end = end;
			continue;
		}
		sp[ns].start = start;
		sp[ns++].end = end;
	}
	return ns;
}

static int read_all(struct pass *p, const struct blk_source *src,
		    const struct blk_hash_range *r, unsigned int n,
		    bool progress)
{
	const struct blk_hash_range **by_start;
	struct blk_progress pg;
	struct span *sp;
	unsigned int ns;
	uint64_t total = 0;
	int res = 0;

	by_start = malloc(n * sizeof(*by_start));
	sp = malloc(n * sizeof(*sp));
	if (!by_start || !sp) {
		blk_err("%s", strerror(ENOMEM));
		res = -ENOMEM;
		goto out_free;
	}
	for (unsigned int i = 0; i < n; i++)
		by_start[i] = &r[i];
	qsort(by_start, n, sizeof(*by_start), cmp_start);
	ns = make_spans(by_start, n, sp);

	for (unsigned int i = 0; i < ns; i++)
		total += sp[i].end - sp[i].start;
	blk_progress_start(&pg, progress, total);
	for (unsigned int i = 0; i < ns && res == 0; i++)
		res = read_span(p, src, sp[i].start, sp[i].end, &pg);
	blk_progress_end(&pg);
out_free:
	free(sp);
	free(by_start);
	return res;
}

static int jobs_init(struct pass *p, const struct blk_hash_range *r,
		     unsigned int n, unsigned int mask)
{
	unsigned int nalgo = __builtin_popcount(mask);

	p->jobs = calloc((size_t)n * nalgo, sizeof(*p->jobs));
	if (!p->jobs) {
		blk_err("%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < n; i++) {
		for (int a = 0; a < BLK_HASH_NR; a++) {
			struct job *j = &p->jobs[p->njobs];

			if (!(mask & 1u << a))
				continue;
			j->algo = a;
			j->start = r[i].start;
			j->end = r[i].start + r[i].size;
			j->ctx = EVP_MD_CTX_new();
			if (!j->ctx) {
				blk_err("%s", strerror(ENOMEM));
				return -ENOMEM;
			}
			p->njobs++;
			/* FIPS-only builds of OpenSSL have no md5 */
			if (!EVP_DigestInit_ex(j->ctx, algos[a].md(), NULL)) {
				blk_err("%s: not available in this OpenSSL",
					algos[a].name);
				return -ENOTSUP;
			}
		}
	}
	return 0;
}

static int jobs_final(struct pass *p, struct blk_hash_range *r,
		      unsigned int n, unsigned int mask)
{
	struct job *j = p->jobs;

	for (unsigned int i = 0; i < n; i++) {
		for (int a = 0; a < BLK_HASH_NR; a++) {
			if (!(mask & 1u << a))
				continue;
			if (!EVP_DigestFinal_ex(j++->ctx, r[i].md[a], NULL)) {
				blk_err("EVP_DigestFinal_ex failed");
				return -EIO;
			}
		}
	}
	return 0;
}

int blk_hash_ranges(const struct blk_source *src, struct blk_hash_range *r,
		    unsigned int n, unsigned int mask, bool progress)
{
	struct pass p = { .lock = PTHREAD_MUTEX_INITIALIZER,
			  .cond = PTHREAD_COND_INITIALIZER };
	pthread_t tid[MAX_WORKERS];
	unsigned int nthreads = 0, want;
	unsigned char *bufs;
	int res = -1, e;

	mask &= (1u << BLK_HASH_NR) - 1;
	if (n == 0 || mask == 0)
		return 0;
	for (unsigned int i = 0; i < n; i++) {
		if (r[i].start > src->size || r[i].size > src->size - r[i].start) {
			blk_err("%s: %s: bytes %llu+%llu are past the end",
				src->path, r[i].name,
				(unsigned long long)r[i].start,
				(unsigned long long)r[i].size);
			return -EINVAL;
		}
	}

	bufs = aligned_alloc(4096, (size_t)NSLOTS * CHUNK);
	if (!bufs) {
		blk_err("%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (int i = 0; i < NSLOTS; i++)
		p.slot[i].buf = bufs + (size_t)i * CHUNK;
	if (jobs_init(&p, r, n, mask) != 0)
		goto out_free_jobs;

	/* more threads than jobs would only wait */
	want = cpus();
	if (want > p.njobs)
		want = p.njobs;
	if (want > MAX_WORKERS)
		want = MAX_WORKERS;
	for (; nthreads < want; nthreads++) {
		e = pthread_create(&tid[nthreads], NULL, worker, &p);
		if (e && nthreads == 0) {
			blk_err("cannot start a hashing thread: %s",
				strerror(e));
			goto out_free_jobs;
		}
		if (e)
			break;	/* fewer threads: slower, still right */
	}

	res = read_all(&p, src, r, n, progress);
	pass_set(&p, res ? &p.stop : &p.eof);
	for (unsigned int i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	if (res == 0 && p.stop)
		res = -EIO;	/* a worker failed, and said so */
	if (res == 0)
		res = jobs_final(&p, r, n, mask);
out_free_jobs:
	for (unsigned int i = 0; i < p.njobs; i++)
		EVP_MD_CTX_free(p.jobs[i].ctx);
	free(p.jobs);
	free(bufs);
	return res;
}
