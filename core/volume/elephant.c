// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The Elephant diffuser (Niels Ferguson, "AES-CBC + Elephant diffuser",
 * Microsoft 2006): two unkeyed, invertible mixes of a sector's 32-bit
 * little-endian words.  Decryption runs diffuser B's inverse three times
 * and diffuser A's five times, each word updated in place from words
 * already updated, indices modulo the word count.
 */
#include <stdint.h>

#include "volume/elephant.h"

static uint32_t rotl(uint32_t v, unsigned int r)
{
	return r ? v << r | v >> (32 - r) : v;
}

static void diffuser_b_decrypt(uint32_t *d, size_t n)
{
	static const unsigned int rb[4] = { 0, 10, 0, 25 };

	for (int cycle = 0; cycle < 3; cycle++) {
		size_t i2 = 2, i3 = 5;	/* i + 2 and i + 5, modulo n */

		for (size_t i = 0; i < n; i++) {
			d[i] += d[i2] ^ rotl(d[i3], rb[i & 3]);
			i2 = i2 + 1 == n ? 0 : i2 + 1;
			i3 = i3 + 1 == n ? 0 : i3 + 1;
		}
	}
}

static void diffuser_a_decrypt(uint32_t *d, size_t n)
{
	static const unsigned int ra[4] = { 9, 0, 13, 0 };

	for (int cycle = 0; cycle < 5; cycle++) {
		size_t i2 = n - 2, i3 = n - 5;	/* i - 2 and i - 5, modulo n */

		for (size_t i = 0; i < n; i++) {
			d[i] += d[i2] ^ rotl(d[i3], ra[i & 3]);
			i2 = i2 + 1 == n ? 0 : i2 + 1;
			i3 = i3 + 1 == n ? 0 : i3 + 1;
		}
	}
}

void blk_elephant_undo(unsigned char *sector, size_t len,
		       const unsigned char ks[32])
{
	uint32_t d[4096 / 4];
	size_t n = len / 4;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = sector + 4 * i;

		d[i] = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
	}
	diffuser_b_decrypt(d, n);
	diffuser_a_decrypt(d, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char *p = sector + 4 * i;

		p[0] = (unsigned char)d[i], p[1] = (unsigned char)(d[i] >> 8);
		p[2] = (unsigned char)(d[i] >> 16);
		p[3] = (unsigned char)(d[i] >> 24);
	}
	for (size_t i = 0; i < len; i++)
		sector[i] ^= ks[i % 32];
}
