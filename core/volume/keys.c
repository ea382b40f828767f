// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The keyring: passphrases from --passphrase-file (one a line) and from the
 * terminal (--ask-passphrase), and the bytes of --key-file (a BitLocker .BEK
 * startup key, or a raw LUKS volume key).  Everything is read straight into
 * locked memory (secret.c); nothing is copied to the heap, printed or
 * logged, and blk_keyring_free wipes it all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "base/log.h"
#include "volume/keys.h"
#include "volume/secret.h"

#define MAX_FILE (1u << 20)	/* a key or passphrase file this big is not one */
#define MAX_PIPE (16u << 10)	/* from a pipe: passphrases, a .BEK, a key */
#define MAX_TYPED 1024
#define MAX_LINES 4096

struct blk_keyring {
	char *arena;		/* locked: the passphrases, back to back */
	size_t cap, used;
	unsigned int n, dropped;
	struct { size_t off, len; } line[MAX_LINES];
	char *key;		/* locked: --key-file */
	size_t keylen, keycap;
};

/*
 * The whole file into locked memory: 0, or -errno printed.  A pipe
 * (--passphrase-file <(pass show x)) is read up to MAX_PIPE bytes.
 */
static int slurp(const char *path, char **out, size_t *len, size_t *cap,
		 size_t extra)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	size_t want;
	ssize_t n = 0;
	int err;

	if (fd < 0 || fstat(fd, &st) != 0)
		goto out_err;
	want = S_ISFIFO(st.st_mode) ? MAX_PIPE + 1 : (size_t)st.st_size;
	if (!(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)) ||
	    st.st_size > MAX_FILE) {
		close(fd);
		blk_err("%s: not a key file (a regular file of at most 1 MiB, "
			"or a pipe)", path);
		return -EINVAL;
	}
	/* twice the size: room for the dashed recovery forms */
	*cap = 2 * want + extra;
	*out = blk_secret_alloc(*cap);
	if (!*out)
		goto out_err;
	for (*len = 0; *len < want; *len += n) {
		n = read(fd, *out + *len, want - *len);
		if (n == 0)
			break;
		if (n < 0 && errno != EINTR)
			goto out_err;
		n = n < 0 ? 0 : n;
	}
	close(fd);
	if (*len > MAX_PIPE && S_ISFIFO(st.st_mode)) {
		blk_err("%s: more than %u bytes from a pipe", path, MAX_PIPE);
		return -EFBIG;
	}
	return 0;
out_err:
	err = errno;
	blk_err("%s: %s", path, strerror(err));
	if (fd >= 0)
		close(fd);
	return -err;
}

static void add_line(struct blk_keyring *kr, size_t off, size_t len)
{
	if (len == 0)
		return;
	if (kr->n == MAX_LINES) {
		kr->dropped++;
		return;
	}
	kr->line[kr->n].off = off;
	kr->line[kr->n].len = len;
	kr->n++;
}

/* The lines of the arena's first used bytes: '\n' or "\r\n" ends one. */
static void split_lines(struct blk_keyring *kr)
{
	size_t start = 0;

	for (size_t i = 0; i <= kr->used; i++) {
		size_t end = i;

		if (i < kr->used && kr->arena[i] != '\n')
			continue;
		if (end > start && kr->arena[end - 1] == '\r')
			end--;
		add_line(kr, start, end - start);
		start = i + 1;
	}
}

/* A 48-digit recovery password typed without its dashes gets the dashed
 * form too (8 groups of 6), which is how BitLocker's protector takes it. */
static void add_recovery_forms(struct blk_keyring *kr)
{
	unsigned int n = kr->n;

	for (unsigned int i = 0; i < n; i++) {
		const char *s = kr->arena + kr->line[i].off;
		size_t len = kr->line[i].len, digits = 0, at = kr->used;

		for (size_t j = 0; j < len; j++)
			if (s[j] >= '0' && s[j] <= '9')
				digits++;
			else if (s[j] != '-' && s[j] != ' ')
				digits = 99;
		if (digits != 48 || len == 55 || kr->used + 55 > kr->cap)
			continue;
		for (size_t j = 0, d = 0; j < len; j++) {
			if (s[j] < '0' || s[j] > '9')
				continue;
			if (d && d % 6 == 0)
				kr->arena[kr->used++] = '-';
			kr->arena[kr->used++] = s[j];
			d++;
		}
		add_line(kr, at, kr->used - at);
	}
}

/* One line from the terminal, without echo, appended to the arena. */
static int ask(struct blk_keyring *kr)
{
	static const char prompt[] = "Passphrase for encrypted volumes: ";
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	struct termios old, quiet;
	size_t at = kr->used;
	char c;

	if (fd < 0 || tcgetattr(fd, &old) != 0) {
		blk_err("--ask-passphrase: no terminal to ask on");
		if (fd >= 0)
			close(fd);
		return -ENOTTY;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, sizeof(prompt) - 1) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		blk_err("--ask-passphrase: cannot use the terminal: %s",
			strerror(errno));
		close(fd);
		return -EIO;
	}
	while (kr->used - at < MAX_TYPED && read(fd, &c, 1) == 1 && c != '\n')
		kr->arena[kr->used++] = c;
	explicit_bzero(&c, sizeof(c));
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		(void)0;	/* the prompt's newline is cosmetic */
	close(fd);
	add_line(kr, at, kr->used - at);
	return 0;
}

static int load_passphrases(struct blk_keyring *kr,
			    const struct blk_key_sources *ks)
{
	int err = 0;

	if (ks->passphrase_file) {
		err = slurp(ks->passphrase_file, &kr->arena, &kr->used,
			    &kr->cap, MAX_TYPED);
		if (!err)
			split_lines(kr);
	} else {
		kr->cap = MAX_TYPED * 2;
		kr->arena = blk_secret_alloc(kr->cap);
		if (!kr->arena)
			err = -ENOMEM;
	}
	if (kr->dropped)
		blk_warn("%s: only its first %u lines are tried (%u more)",
			 ks->passphrase_file, MAX_LINES, kr->dropped);
	if (!err && ks->ask)
		err = ask(kr);
	if (!err)
		add_recovery_forms(kr);
	return err;
}

int blk_keyring_load(struct blk_keyring **out, const struct blk_key_sources *ks)
{
	struct blk_keyring *kr = calloc(1, sizeof(*kr));
	int err = 0;

	*out = NULL;
	if (!kr)
		return -ENOMEM;
	if (ks && (ks->passphrase_file || ks->ask))
		err = load_passphrases(kr, ks);
	if (!err && ks && ks->key_file)
		err = slurp(ks->key_file, &kr->key, &kr->keylen, &kr->keycap, 0);
	if (err) {
		blk_keyring_free(kr);
		return err;
	}
	*out = kr;
	return 0;
}

void blk_keyring_free(struct blk_keyring *kr)
{
	if (!kr)
		return;
	blk_secret_free(kr->arena, kr->cap);
	blk_secret_free(kr->key, kr->keycap);
	explicit_bzero(kr, sizeof(*kr));
	free(kr);
}

bool blk_keyring_passphrase(const struct blk_keyring *kr, unsigned int i,
			    struct blk_secret *s)
{
	if (!kr || i >= kr->n)
		return false;
	s->data = kr->arena + kr->line[i].off;
	s->len = kr->line[i].len;
	return true;
}

bool blk_keyring_key_file(const struct blk_keyring *kr, struct blk_secret *s)
{
	if (!kr || !kr->key)
		return false;
	s->data = kr->key;
	s->len = kr->keylen;
	return true;
}

bool blk_keyring_empty(const struct blk_keyring *kr)
{
	return !kr || (!kr->n && !kr->key);
}
