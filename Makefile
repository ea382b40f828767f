# blkfuse: see README.md.  make, make check, make install, make clean.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=
CC         ?= cc
PKG_CONFIG ?= pkg-config

DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags fuse3 blkid)
DEPS_LIBS   := $(shell $(PKG_CONFIG) --libs fuse3 blkid)

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wno-sign-compare \
	    -Wmissing-declarations -Wwrite-strings -Wshadow
CPPFLAGS += -D_GNU_SOURCE -DFUSE_USE_VERSION=314 -Iinclude $(DEPS_CFLAGS)
LDLIBS   += $(DEPS_LIBS) $(shell $(PKG_CONFIG) --libs libcrypto) -lpthread

SRCS := audit.c blkfuse.c ctl.c ctl_client.c cuse_ctl.c freespace.c fs_ops.c fs_tree.c hash.c list.c \
	forensic.c log.c partitions.c source.c splice_io.c throttle.c workers.c
OBJS := $(SRCS:.c=.o)
HDRS := $(wildcard include/*.h)

all: blkfuse tests/faulty_fs

blkfuse: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

%.o: %.c $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# A FUSE file that returns EIO where told to: the I/O-error source for tests.
tests/faulty_fs: tests/faulty_fs.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDLIBS)

# Install what the tests need (Debian), then run them all.
# (a sub-make: the pkg-config flags above mean nothing before deps ran)
check: deps
	$(MAKE) all
	tests/run

deps:
	tests/install-deps

# Build, make a small demo disk image, mount it on demo/mnt, list it.
demo: deps
	$(MAKE) all
	contrib/demo.sh

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer.
check-asan: clean
	$(MAKE) CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run
	$(MAKE) clean

# The benchmark (bench/run; QUICK=1 for the short CI run).  Never a test.
bench: deps
	$(MAKE) blkfuse
	bench/run

install: blkfuse
	install -D -m 0755 blkfuse $(DESTDIR)$(BINDIR)/blkfuse
	install -D -m 0644 doc/blkfuse.1 $(DESTDIR)$(MANDIR)/man1/blkfuse.1
	install -D -m 0644 contrib/blkfuse.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/blkfuse
	install -D -m 0644 include/blkfuse_ioctl.h \
		$(DESTDIR)$(PREFIX)/include/blkfuse_ioctl.h

clean:
	rm -f blkfuse tests/faulty_fs *.o

.PHONY: all bench check check-asan deps demo install clean
