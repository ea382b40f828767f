/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blkfuse private interfaces: the structures shared between the daemon's
 * source files.  The public control ABI lives in blkfuse_ioctl.h.
 */
#ifndef BLKFUSE_H
#define BLKFUSE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/types.h>

#define BLKFUSE_VERSION "0.1.0"

/* The kernel's own limit (DISK_MAX_PARTS); also bounds a looping EBR chain. */
#define BLK_MAX_PARTS 256

/* ---- source.c: the disk or image, opened read-only ---------------------- */

struct blk_source {
	char *path;		/* as the user gave it */
	int fd;			/* O_RDONLY; the only way the source is opened */
	int fd_direct;		/* O_RDONLY|O_DIRECT once source_io=direct, else -1 */
	bool is_blockdev;
	uint64_t size;		/* bytes */
	unsigned int sector_size;	/* logical sector size used for the table */
	const char *sector_size_from;	/* "BLKSSZGET", "--sector-size", "default" */
	char opened[64];		/* how: "O_RDONLY", "+O_EXCL", "+flock" */
	struct stat st;
};

int blk_source_open(struct blk_source *src, const char *path,
		    unsigned int sector_size_opt);
int blk_source_open_direct(struct blk_source *src);
void blk_source_close(struct blk_source *src);

/* forensic.c */
#define BLK_EXIT_VERIFY 3	/* --verify found another hash */

struct blk_ctx;

struct blk_forensic_opts {
	const char *verify;		/* ALGO:HEX or NULL */
	const char *audit;		/* file or NULL */
	bool set_ro;
	bool verify_after;
	const char *mountpoint;
	int argc;			/* for the audit's start record */
	char **argv;
};

int blk_forensic_start(struct blk_ctx *ctx, const struct blk_forensic_opts *o);
void blk_forensic_stop(struct blk_ctx *ctx, const struct blk_forensic_opts *o,
		       int ret);
int blk_source_exclusive(struct blk_source *src);
int blk_source_set_ro(const struct blk_source *src);
void blk_source_restore_ro(void);

/* ---- partitions.c: libblkid -> a table of byte ranges (no FUSE here) ---- */

enum blk_part_flag {
	BLK_PART_CLIPPED = 1 << 0,	/* ran past the end; size cut to fit */
	BLK_PART_BEYOND_END = 1 << 1,	/* starts past the end; not exposed */
	BLK_PART_CONTAINER = 1 << 2,	/* DOS extended: exposed as the kernel does */
	BLK_PART_NESTED = 1 << 3,	/* from a table nested inside a partition */
};

struct blk_part {
	int partno;			/* as the kernel numbers sdaN */
	uint64_t start;			/* bytes from the start of the source */
	uint64_t size;			/* bytes exposed (after clipping) */
	uint64_t table_size;		/* bytes as the table says */
	char scheme[16];		/* table holding this entry: dos, gpt, bsd... */
	char type[40];			/* GPT type GUID or 0xNN */
	char name[144];			/* GPT/Mac label, UTF-8 */
	char uuid[40];			/* partition UUID */
	unsigned long long attrs;	/* GPT attributes or DOS boot flag */
	unsigned int flags;		/* enum blk_part_flag */
	char fs_uuid[40];		/* file system UUID inside, if any */
	char fs_type[16];		/* file system type inside, if any */
};

/* A byte range no data partition covers: the free/ files. */
struct blk_gap {
	uint64_t start, size;		/* bytes */
};

struct blk_layout {
	char pttype[16];		/* top-level table type, "" if none */
	char ptuuid[40];		/* disk GUID or DOS disk id */
	bool gpt_backup_used;		/* primary GPT header was bad */
	bool pmbr_only;			/* protective MBR but no valid GPT */
	bool truncated;			/* more than BLK_MAX_PARTS entries */
	unsigned int nparts;
	struct blk_part *parts;
	unsigned int ngaps;
	struct blk_gap *gaps;
};

int blk_layout_probe(const struct blk_source *src, struct blk_layout *lo);
int blk_layout_find_gaps(const struct blk_source *src, struct blk_layout *lo);
void blk_layout_free(struct blk_layout *lo);

/* ---- list.c: --list output ---------------------------------------------- */

void blk_list_print(const struct blk_source *src,
		    const struct blk_layout *lo, bool json);
void blk_layout_json(FILE *f, const struct blk_source *src,
		     const struct blk_layout *lo);
void blk_gap_name(char *buf, size_t len, const struct blk_gap *g,
		  unsigned int ssz);

/* ---- log.c --------------------------------------------------------------- */

enum blk_log_level { BLK_LOG_ERR = 3, BLK_LOG_WARN = 4, BLK_LOG_NOTICE = 5,
		     BLK_LOG_INFO = 6, BLK_LOG_DEBUG = 7 };

extern _Atomic int blk_log_level;
void blk_log_init(void);
void blk_log_to_syslog(void);
void blk_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define blk_err(...)	blk_log(BLK_LOG_ERR, __VA_ARGS__)
#define blk_warn(...)	blk_log(BLK_LOG_WARN, __VA_ARGS__)
#define blk_notice(...)	blk_log(BLK_LOG_NOTICE, __VA_ARGS__)
#define blk_info(...)	blk_log(BLK_LOG_INFO, __VA_ARGS__)
#define blk_debug(...)	blk_log(BLK_LOG_DEBUG, __VA_ARGS__)


/* ---- fs_tree.c: the files the mount shows (no FUSE here) ----------------- */

enum blk_node_kind {
	BLK_NODE_DIR,
	BLK_NODE_DATA,		/* a byte range of the source */
	BLK_NODE_LINK,		/* text is the target */
	BLK_NODE_TEXT,		/* text is the contents */
	BLK_NODE_CTL,		/* the control file (no CUSE) */
};

struct blk_node {
	uint64_t parent;		/* inode number of the parent */
	char *name;
	enum blk_node_kind kind;
	uint64_t start;			/* DATA: offset in the source */
	uint64_t size;			/* DATA and TEXT: bytes */
	char *text;
	_Atomic uint64_t reads;		/* READ requests answered */
	_Atomic uint64_t bytes;		/* bytes returned */
};

/* Inode number N is nodes[N - 1]; the root is inode 1. */
struct blk_tree {
	struct blk_node *nodes;
	size_t count, cap;
};

#define BLK_ROOT_INO 1

uint64_t blk_tree_add(struct blk_tree *t, uint64_t parent, const char *name,
		      enum blk_node_kind kind);
struct blk_node *blk_tree_get(const struct blk_tree *t, uint64_t ino);
uint64_t blk_tree_lookup(const struct blk_tree *t, uint64_t parent,
			 const char *name);
#define BLK_CTL_FILE ".blkfuse-ctl"

struct blk_tree_opts {
	bool ctl_file;			/* the control file (no CUSE) */
	bool no_free;			/* --no-free: hide free/ */
};

int blk_tree_build(struct blk_tree *t, const struct blk_source *src,
		   const struct blk_layout *lo, const struct blk_tree_opts *o);
void blk_tree_free(struct blk_tree *t);
void blk_node_path(const struct blk_tree *t, const struct blk_node *n,
		   char *buf, size_t len);

/* ---- stats and tunables (shared by the read path and the control node) -- */

enum blk_fallback {
	BLK_FB_SPLICE_OFF,	/* splice=0: copied by choice */
	BLK_FB_SMALL,		/* under BLK_SPLICE_MIN: copying is cheaper */
	BLK_FB_PIPE_LIMIT,	/* the pipe cannot hold header + data */
	BLK_FB_PIPE_ERROR,	/* pipe creation or header write failed */
	BLK_FB_SOURCE,		/* splice from the source failed or was short */
	BLK_FB_FUSE_WRITE,	/* splice into /dev/fuse failed */
	BLK_FB_NR
};

/* Below this a reply is copied: 3 syscalls of splice cost more than
 * copying two pages (libfuse draws the same line). */
#define BLK_SPLICE_MIN 8192

#define BLK_OPS_MAX 64
#define BLK_ERRNO_MAX 134
#define BLK_LAT_BUCKETS 32

struct blk_stats {
	struct timespec started;
	_Atomic uint64_t ops[BLK_OPS_MAX];	/* by FUSE opcode */
	_Atomic uint64_t read_bytes;
	_Atomic uint64_t spliced_bytes, spliced_reqs;
	_Atomic uint64_t copied_bytes, copied_reqs;
	_Atomic uint64_t fallback[BLK_FB_NR];
	_Atomic uint64_t errors[BLK_ERRNO_MAX];	/* replies by errno */
	_Atomic int64_t inflight;
	_Atomic int64_t inflight_peak;
	_Atomic uint64_t lat[BLK_LAT_BUCKETS];	/* bucket i: < 2^i us */
	_Atomic unsigned int threads;
	_Atomic uint64_t zeroed_bytes;		/* --on-error=zero fills */
};

struct blk_tunables {
	_Atomic bool splice;		/* off: pread + copy */
	_Atomic uint32_t pipe_size;	/* bytes per worker pipe; 0 = as needed */
	_Atomic bool source_direct;	/* read through the O_DIRECT fd */
	_Atomic uint64_t rate_limit;	/* bytes/s over all readers; 0 = none */
	_Atomic bool pause;		/* new reads wait until resumed */
};

const char *blk_fallback_name(enum blk_fallback fb);

/* ---- the daemon's state ------------------------------------------------- */

struct fuse_session;

struct blk_ctx {
	struct blk_source src;
	struct blk_layout layout;
	struct blk_tree tree;
	struct blk_stats stats;
	struct blk_tunables tun;
	struct fuse_session *se;
	struct fuse_conn_info_opts *conn_opts;
	uint32_t max_reply;		/* largest READ the kernel may send */
	uint32_t pipe_max;		/* /proc/sys/fs/pipe-max-size at start */
	unsigned int threads;
	char *mountpoint;		/* absolute */
	char conn_dev[32];		/* MAJ:MIN of the mount, for sysfs */
	char ctl_name[64];		/* CUSE device name, "" without CUSE */
	int ctl_mode;			/* CUSE node mode */
	_Atomic bool aborted;		/* abort requested through the control */
	pthread_mutex_t ctl_lock;	/* serialises tunable writes */
	char last_error[256];		/* under ctl_lock */
	pthread_mutex_t throttle_lock;
	pthread_cond_t throttle_cond;
	uint64_t rate_next_ns;		/* under throttle_lock */
	bool stopping;			/* under throttle_lock */
	void *cuse;			/* cuse_ctl.c's state */
	struct blk_audit *audit;	/* audit.c's state, NULL without --audit */
	bool on_error_zero;		/* --on-error=zero */
};

/* ctl.c: the control protocol, shared by the CUSE node and the file */
struct blk_ctl_handle;

struct blk_ctl_handle *blk_ctl_open(struct blk_ctx *ctx);
void blk_ctl_release(struct blk_ctl_handle *h);
size_t blk_ctl_read(struct blk_ctl_handle *h, size_t size, const char **data);
int blk_ctl_write(struct blk_ctx *ctx, const char *buf, size_t len);
int blk_ctl_ioctl(struct blk_ctx *ctx, unsigned int cmd, const void *in,
		  size_t in_size, void *out, size_t *out_size);
void blk_ctl_init(struct blk_ctx *ctx);
void blk_ctl_mounted(struct blk_ctx *ctx);
void blk_ctl_abort_now(struct blk_ctx *ctx);
void blk_ctl_fini(struct blk_ctx *ctx);

#ifdef FUSE_LOWLEVEL_H_
void blk_ctl_reply_open(fuse_req_t req, struct blk_ctx *ctx,
			struct fuse_file_info *fi);
void blk_ctl_reply_read(fuse_req_t req, struct fuse_file_info *fi,
			size_t size);
void blk_ctl_reply_ioctl(fuse_req_t req, struct blk_ctx *ctx,
			 unsigned int cmd, unsigned int flags,
			 const void *in_buf, size_t in_bufsz, size_t out_bufsz);
#endif

/* throttle.c: pause and rate_limit, on the read path */
void blk_throttle(struct blk_ctx *ctx, size_t bytes);
void blk_throttle_release_all(struct blk_ctx *ctx);

/* cuse_ctl.c */
bool blk_cuse_available(void);
int blk_cuse_start(struct blk_ctx *ctx);
void blk_cuse_stop(struct blk_ctx *ctx);

/* ctl_client.c: blkfuse ctl ... */
int blk_ctl_main(int argc, char *argv[]);

/* fs_ops.c */
extern const struct fuse_lowlevel_ops blk_fs_ops;

/* splice_io.c: one per worker thread */
struct blk_io_thread {
	int pipe_rd, pipe_wr;
	size_t pipe_bytes;		/* current capacity */
	uint32_t pipe_wanted;		/* tunable value it was sized for */
	void *buf;			/* copy path, page aligned */
	size_t buf_size;
	size_t buf_min;			/* allocate at least this (max_reply) */
};

int blk_io_thread_init(struct blk_io_thread *t, const struct blk_ctx *ctx);
void blk_io_thread_fini(struct blk_io_thread *t);
struct fuse_in_header;

void blk_reply_read(struct blk_ctx *ctx, struct blk_io_thread *t, int fuse_fd,
		    const struct fuse_in_header *in, struct blk_node *node,
		    uint64_t off, uint32_t size);
void blk_reply_error(struct blk_ctx *ctx, int fuse_fd, uint64_t unique,
		     int err);

/* audit.c */
struct blk_audit;

int blk_audit_open(struct blk_ctx *ctx, const char *path);
void blk_json_escape(char *dst, size_t len, const char *s);
void blk_audit_io(struct blk_ctx *ctx, const struct timespec *when,
		  const char *ev, const char *file, uint64_t off, uint64_t len,
		  int64_t ret, int err, uint32_t pid, uint32_t uid, uint32_t gid);
void blk_audit_record(struct blk_ctx *ctx, const char *ev, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));
void blk_audit_flush(struct blk_ctx *ctx);
void blk_audit_reopen(struct blk_ctx *ctx);
void blk_audit_close(struct blk_ctx *ctx);

/* workers.c */
int blk_workers_start(struct blk_ctx *ctx);
void blk_workers_stop(struct blk_ctx *ctx);

#endif /* BLKFUSE_H */
