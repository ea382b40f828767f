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
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blkfuse.h"
#include "blkfuse_hash.h"

#define CHUNK		(4u << 20)
#define NSLOTS		8
#define MAX_WORKERS	16
#define EXIT_READ	2	/* documented in usage() */

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

#define KNOWN_ALGOS "sha256, sha1, md5"

int blk_hash_algo_parse(const char *name)
{
	for (int a = 0; a < BLK_HASH_NR; a++)
		if (strcasecmp(name, algos[a].name) == 0)
			return a;
	return -1;
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
	for (unsigned int i = 0; i < algos[algo].len; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* ---- progress on stderr ------------------------------------------------- */

struct progress {
	bool on;
	uint64_t total, done;
	double started, drawn;	/* seconds, CLOCK_MONOTONIC */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void human(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
					     "PiB" };
	double v = bytes;
	unsigned int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void progress_draw(struct progress *pg, double t)
{
	char done[16], total[16], eta[24] = "--:--", bar[21];
	double secs = t - pg->started;
	double rate = secs > 0 ? pg->done / secs : 0;
	unsigned int pct = pg->total ? pg->done * 100 / pg->total : 100;

	if (rate > 0) {
		unsigned long left = (pg->total - pg->done) / rate + 0.5;

		if (left >= 3600)
			snprintf(eta, sizeof(eta), "%lu:%02lu:%02lu", left / 3600,
				 left / 60 % 60, left % 60);
		else
			snprintf(eta, sizeof(eta), "%lu:%02lu", left / 60,
				 left % 60);
	}
	memset(bar, ' ', 20);
	memset(bar, '#', pct / 5);
	bar[20] = '\0';
	human(done, sizeof(done), pg->done);
	human(total, sizeof(total), pg->total);
	/* \033[K: a shorter line must not leave the end of a longer one */
	fprintf(stderr, "\r[%s] %3u%%  %s / %s  %.1f MiB/s  ETA %s\033[K",
		bar, pct, done, total, rate / (1 << 20), eta);
	pg->drawn = t;
}

static void progress_start(struct progress *pg, bool on, uint64_t total)
{
	pg->on = on;
	pg->total = total;
	pg->done = 0;
	pg->started = now();
	if (on)
		progress_draw(pg, pg->started);
}

/* At most four times a second: a terminal is slow, and eyes are slower. */
static void progress_add(struct progress *pg, uint64_t bytes)
{
	double t;

	pg->done += bytes;
	if (!pg->on)
		return;
	t = now();
	if (t - pg->drawn >= 0.25)
		progress_draw(pg, t);
}

/* Leave the line empty for whatever is printed next. */
static void progress_end(struct progress *pg)
{
	if (pg->on)
		fputs("\r\033[K", stderr);
	pg->on = false;
}

/* ---- reading ------------------------------------------------------------ */

/* 0, or -1 with *at where reading stopped and errno (0: end of file). */
static int read_full(int fd, unsigned char *buf, size_t len, uint64_t off,
		     uint64_t *at)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, off + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			*at = off + done;
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

	if (read_full(src->fd, buf, len, off, at) == 0)
		return 0;
	if (errno == 0)
		return -1;
	from = *at - off;
	for (size_t o = from - from % ssz; o < len; o += ssz)
		if (read_full(src->fd, buf + o, len - o < ssz ? len - o : ssz,
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
			return -1;
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
		     uint64_t start, uint64_t end, struct progress *pg)
{
	for (uint64_t off = start; off < end;) {
		/* chunks on CHUNK boundaries of the source, not of the span */
		uint64_t edge = (off / CHUNK + 1) * CHUNK;
		size_t len = (edge < end ? edge : end) - off;
		struct slot *s = wait_slot(p);
		uint64_t at;

		if (!s)
			return -1;
		if (read_chunk(src, s->buf, len, off, &at) != 0) {
			int e = errno;

			progress_end(pg);
			if (e)
				blk_err("%s: read error at byte %llu: %s",
					src->path, (unsigned long long)at,
					strerror(e));
			else
				blk_err("%s: ends at byte %llu, expected %llu bytes",
					src->path, (unsigned long long)at,
					(unsigned long long)src->size);
			return BLK_HASH_EREAD;
		}
		publish(p, s, off, len);
		progress_add(pg, len);
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
	struct progress pg;
	struct span *sp;
	unsigned int ns;
	uint64_t total = 0;
	int res = 0;

	by_start = malloc(n * sizeof(*by_start));
	sp = malloc(n * sizeof(*sp));
	if (!by_start || !sp) {
		blk_err("%s", strerror(ENOMEM));
		res = -1;
		goto out_free;
	}
	for (unsigned int i = 0; i < n; i++)
		by_start[i] = &r[i];
	qsort(by_start, n, sizeof(*by_start), cmp_start);
	ns = make_spans(by_start, n, sp);

	for (unsigned int i = 0; i < ns; i++)
		total += sp[i].end - sp[i].start;
	progress_start(&pg, progress, total);
	for (unsigned int i = 0; i < ns && res == 0; i++)
		res = read_span(p, src, sp[i].start, sp[i].end, &pg);
	progress_end(&pg);
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
		return -1;
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
				return -1;
			}
			p->njobs++;
			/* FIPS-only builds of OpenSSL have no md5 */
			if (!EVP_DigestInit_ex(j->ctx, algos[a].md(), NULL)) {
				blk_err("%s: not available in this OpenSSL",
					algos[a].name);
				return -1;
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
				return -1;
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
			return -1;
		}
	}

	bufs = aligned_alloc(4096, (size_t)NSLOTS * CHUNK);
	if (!bufs) {
		blk_err("%s", strerror(ENOMEM));
		return -1;
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
		res = -1;	/* a worker failed, and said so */
	if (res == 0)
		res = jobs_final(&p, r, n, mask);
out_free_jobs:
	for (unsigned int i = 0; i < p.njobs; i++)
		EVP_MD_CTX_free(p.jobs[i].ctx);
	free(p.jobs);
	free(bufs);
	return res;
}

/* ---- --verify ALGO:HEX -------------------------------------------------- */

static int unhex(unsigned char c)
{
	c = tolower(c);
	return isdigit(c) ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int blk_hash_verify(const struct blk_source *src, const char *spec,
		    char *got, size_t gotlen)
{
	struct blk_hash_range r = { .name = "disk", .size = src->size };
	unsigned char want[BLK_HASH_MAX_LEN];
	char name[16], hex[2 * BLK_HASH_MAX_LEN + 1];
	const char *colon = strchr(spec, ':'), *h;
	unsigned int len;
	int a;

	if (got && gotlen)
		got[0] = '\0';
	if (!colon || colon == spec || colon - spec >= (int)sizeof(name)) {
		blk_err("%s: expected ALGO:HEX, ALGO one of %s", spec,
			KNOWN_ALGOS);
		return -1;
	}
	memcpy(name, spec, colon - spec);
	name[colon - spec] = '\0';
	a = blk_hash_algo_parse(name);
	if (a < 0) {
		blk_err("%s: unknown algorithm '%s' (known: %s)", spec, name,
			KNOWN_ALGOS);
		return -1;
	}
	len = algos[a].len;
	h = colon + 1;
	for (unsigned int i = 0; i < len; i++) {
		int hi = unhex(h[0]), lo = hi < 0 ? -1 : unhex(h[1]);

		if (lo < 0)
			break;
		want[i] = hi << 4 | lo;
		h += 2;
	}
	if (*h || h - colon - 1 != 2 * len) {
		blk_err("%s: expected %u hex digits after '%s:'", spec, 2 * len,
			name);
		return -1;
	}

	if (blk_hash_ranges(src, &r, 1, 1u << a,
			    isatty(STDERR_FILENO)) != 0)
		return -1;
	blk_hash_hex(hex, r.md[a], a);
	if (got && gotlen)
		snprintf(got, gotlen, "%s:%s", algos[a].name, hex);
	return memcmp(r.md[a], want, len) ? 1 : 0;
}

/* ---- blkfuse hash ------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
"Usage:\n"
" blkfuse hash [--algo ALGO[,ALGO...]] [--tag] [--sector-size N]\n"
"              SOURCE [NAME...]\n"
"\n"
"Print digests of a block device or raw disk image and of its partitions,\n"
"computed in one sequential read of SOURCE (the digests themselves run in\n"
"parallel, up to one thread per CPU). NAME is 'disk', the whole source\n"
"(the default when no NAME is given), or 'pN', partition N as\n"
"'blkfuse --list SOURCE' shows it. Each NAME covers exactly the bytes of\n"
"MOUNTPOINT/NAME in a blkfuse mount of SOURCE: a partition running past\n"
"the end is clipped there, a DOS extended partition is its first 1 KiB\n"
"(or sector, if larger) as the kernel shows it. SOURCE is opened O_RDONLY\n"
"and nothing is ever written to it.\n"
"\n"
"Options:\n"
" -a, --algo LIST          digests to compute, comma-separated, in the order\n"
"                          printed: sha256, sha1, md5, in any case (default:\n"
"                          sha256); may be repeated\n"
"     --tag                print the BSD tagged format even for one digest\n"
"     --sector-size N      logical sector size the partition table was\n"
"                          written for, as for mounting (default: BLKSSZGET\n"
"                          for block devices, else 512)\n"
" -h, --help               print this help and exit\n"
"\n"
"Output, on stdout: for each ALGO in --algo order, one line per NAME in the\n"
"order given (a NAME given twice is printed once). With one ALGO a line is\n"
"'HEX  NAME', as sha256sum prints it; with several, or with --tag, it is\n"
"'SHA256 (NAME) = HEX', as sha256sum --tag prints it. Both are what\n"
"'sha256sum -c', 'sha1sum -c' and 'md5sum -c' check, in a directory holding\n"
"files named NAME such as a blkfuse mount of SOURCE. Given a file with\n"
"several ALGOs, each of those checks its own lines and warns about the\n"
"rest; 'cksum -c' (coreutils 9) checks them all.\n"
"\n"
"While stderr is a terminal, a progress line shows the bytes read, the\n"
"rate and the time left, at most four times a second; it is erased at the\n"
"end. Nothing is drawn when stderr is not a terminal.\n"
"\n"
"Exit status:\n"
" 0  every digest printed\n"
" 1  usage error, unknown ALGO or NAME, SOURCE cannot be opened, or\n"
"    stdout cannot be written\n"
" %d  read error: one line on stderr gives SOURCE and the byte offset of\n"
"    the first read that failed, narrowed down to one sector; nothing is\n"
"    printed on stdout, not even for NAMEs read before the error\n"
"\n"
"Examples:\n"
" blkfuse hash -a sha256,md5 /dev/sdb disk p1 p2 > sdb.sums\n"
" blkfuse hash evidence.dd disk p1 p2 > ~/evidence.sha256\n"
" blkfuse evidence.dd /mnt/ev && cd /mnt/ev && sha256sum -c ~/evidence.sha256\n"
"\n", EXIT_READ);
}

static int hash_usage_error(const char *what, const char *msg)
{
	blk_err("%s: %s; see 'blkfuse hash --help'", what, msg);
	return EXIT_FAILURE;
}

/* Add each name in "sha256,md5" to order[], once; "" is no name. */
static int parse_algos(char *list, int *order, unsigned int *norder)
{
	for (char *tok; (tok = strsep(&list, ","));) {
		int a = blk_hash_algo_parse(tok);
		unsigned int i;

		if (a < 0) {
			blk_err("--algo: unknown algorithm '%s' (known: %s)",
				tok, KNOWN_ALGOS);
			return -1;
		}
		for (i = 0; i < *norder && order[i] != a; i++)
			;
		if (i == *norder)
			order[(*norder)++] = a;
	}
	return 0;
}

/* "disk" -> 0, "pN" -> N, else -1.  Only the spelling a mount uses. */
static int parse_name(const char *name)
{
	char *end;
	long n;

	if (strcmp(name, "disk") == 0)
		return 0;
	if (name[0] != 'p' || name[1] < '1' || name[1] > '9')
		return -1;
	errno = 0;
	n = strtol(name + 1, &end, 10);
	if (*end || errno || n > BLK_MAX_PARTS * 16)
		return -1;
	return n;
}

static const struct blk_part *find_part(const struct blk_layout *lo, int nr)
{
	for (unsigned int i = 0; i < lo->nparts; i++)
		if (lo->parts[i].partno == nr)
			return &lo->parts[i];
	return NULL;
}

/* One range per distinct NAME, in the order given. */
static int make_ranges(const struct blk_source *src,
		       const struct blk_layout *lo, char **names,
		       unsigned int nnames, struct blk_hash_range *r,
		       unsigned int *n)
{
	for (unsigned int i = 0; i < nnames; i++) {
		int nr = parse_name(names[i]);
		const struct blk_part *part;
		unsigned int k;

		for (k = 0; k < *n && strcmp(r[k].name, names[i]); k++)
			;
		if (k < *n)
			continue;
		r[*n].name = names[i];
		if (nr == 0) {
			r[*n].start = 0;
			r[*n].size = src->size;
			(*n)++;
			continue;
		}
		part = find_part(lo, nr);
		if (!part) {
			blk_err("%s: no such partition in %s (see 'blkfuse --list %s')",
				names[i], src->path, src->path);
			return -1;
		}
		if (part->flags & BLK_PART_BEYOND_END) {
			blk_err("%s: starts past the end of %s; nothing to hash",
				names[i], src->path);
			return -1;
		}
		r[*n].start = part->start;
		r[*n].size = part->size;
		(*n)++;
	}
	return 0;
}

static int print_sums(const struct blk_hash_range *r, unsigned int n,
		      const int *order, unsigned int norder, bool tag)
{
	char hex[2 * BLK_HASH_MAX_LEN + 1];

	for (unsigned int k = 0; k < norder; k++) {
		int a = order[k];

		for (unsigned int i = 0; i < n; i++) {
			blk_hash_hex(hex, r[i].md[a], a);
			if (tag)
				printf("%s (%s) = %s\n", algos[a].tag,
				       r[i].name, hex);
			else
				printf("%s  %s\n", hex, r[i].name);
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		blk_err("stdout: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int parse_sector_size(const char *arg, unsigned int *ss)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || v < 512 || v > 65536 ||
	    (v & (v - 1)))
		return -1;
	*ss = v;
	return 0;
}

int blk_hash_main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "algo", required_argument, NULL, 'a' },
		{ "tag", no_argument, NULL, 'T' },
		{ "sector-size", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static char disk[] = "disk";
	char *default_names[] = { disk };
	struct blk_source src;
	struct blk_layout lo = { 0 };
	struct blk_hash_range *r;
	int order[BLK_HASH_NR], c, ret = EXIT_FAILURE, res;
	unsigned int norder = 0, nr = 0, ss = 0, mask = 0, nnames;
	char **names;
	bool tag = false, need_table = false;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":a:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (parse_algos(optarg, order, &norder) != 0)
				return EXIT_FAILURE;
			break;
		case 'T':
			tag = true;
			break;
		case 'S':
			if (parse_sector_size(optarg, &ss) != 0)
				return hash_usage_error("--sector-size",
					"must be a power of two from 512 to 65536");
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case ':':
			return hash_usage_error(argv[optind - 1],
						"needs an argument");
		default:
			if (optopt) {
				char opt[3] = { '-', optopt, '\0' };

				return hash_usage_error(opt, "unknown option");
			}
			return hash_usage_error(argv[optind - 1],
						"unknown option");
		}
	}
	if (optind >= argc)
		return hash_usage_error("hash", "no SOURCE given");
	if (norder == 0)
		order[norder++] = BLK_HASH_SHA256;
	for (unsigned int k = 0; k < norder; k++)
		mask |= 1u << order[k];
	tag = tag || norder > 1;

	names = argv + optind + 1;
	nnames = argc - optind - 1;
	if (nnames == 0) {
		names = default_names;
		nnames = 1;
	}
	for (unsigned int i = 0; i < nnames; i++) {
		int n = parse_name(names[i]);

		if (n < 0)
			return hash_usage_error(names[i],
				"not 'disk' or 'pN' (p1, p2, ...)");
		need_table |= n > 0;
	}

	/* "no partition table found" is no news here; warnings still are */
	blk_log_level = BLK_LOG_WARN;
	if (blk_source_open(&src, argv[optind], ss) != 0)
		return EXIT_FAILURE;
	/* 'disk' alone needs no table, nor warnings about one */
	if (need_table && blk_layout_probe(&src, &lo) != 0)
		goto out_close_source;
	r = calloc(nnames, sizeof(*r));
	if (!r) {
		blk_err("%s", strerror(ENOMEM));
		goto out_free_layout;
	}
	if (make_ranges(&src, &lo, names, nnames, r, &nr) != 0)
		goto out_free_ranges;

	res = blk_hash_ranges(&src, r, nr, mask, isatty(STDERR_FILENO));
	if (res == BLK_HASH_EREAD)
		ret = EXIT_READ;
	else if (res == 0 && print_sums(r, nr, order, norder, tag) == 0)
		ret = EXIT_SUCCESS;

out_free_ranges:
	free(r);
out_free_layout:
	blk_layout_free(&lo);
out_close_source:
	blk_source_close(&src);
	return ret;
}
