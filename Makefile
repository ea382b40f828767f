# blkfuse: see README.md and HACKING.md.
#   make                 build ./blkfuse (and the test helper tests/faulty_fs)
#   make check           install the test dependencies (Debian), build with
#                        warnings as errors, run the whole suite
#   make deps-check      import circles, files over 600 lines, functions over 80
#   make check-asan      the suite under ASan+UBSan, built in build-asan/
#   make check-tsan      the host suite under ThreadSanitizer, in build-tsan/
#   make fuzz            libFuzzer targets, 60 s each (FUZZ_SECONDS=)
#   make soak            16 verifying readers under control churn (SOAK_SECONDS=)
#   make bench           the benchmark (bench/run; QUICK=1 for a short run)
#   make install         PREFIX=/usr/local DESTDIR=  (and make uninstall)
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=
CC         ?= cc
PKG_CONFIG ?= pkg-config

# O: where objects and binaries go ("." for the user's build).
O ?= .
OBJ := $(O)/obj

FUSE_CFLAGS  := $(shell $(PKG_CONFIG) --cflags fuse3)
FUSE_LIBS    := $(shell $(PKG_CONFIG) --libs fuse3)
BLKID_CFLAGS := $(shell $(PKG_CONFIG) --cflags blkid)
BLKID_LIBS   := $(shell $(PKG_CONFIG) --libs blkid)
CRYPTO_LIBS  := $(shell $(PKG_CONFIG) --libs libcrypto)
# --list: tables as partx and lsblk print them, type names as fdisk shows them
SCOLS_CFLAGS := $(shell $(PKG_CONFIG) --cflags smartcols fdisk)
SCOLS_LIBS   := $(shell $(PKG_CONFIG) --libs smartcols fdisk)

# Evidence containers: each library is optional, found by pkg-config
# (HAVE_LIBEWF= on the command line builds without it).  Its define and
# flags go only to the core object that uses it.
have = $(shell $(PKG_CONFIG) --exists $(1) && echo 1)
HAVE_LIBEWF  ?= $(call have,libewf)
HAVE_AFFLIB  ?= $(call have,afflib)
HAVE_LIBQCOW ?= $(call have,libqcow)
HAVE_LIBVMDK ?= $(call have,libvmdk)
HAVE_LIBVHDI ?= $(call have,libvhdi)
# blkfuse's own EWF chunk reader (libewf stays the fallback), issue 22
HAVE_LIBDEFLATE ?= $(call have,libdeflate)
IMG_LIBS :=
# LUKS and BitLocker: libcryptsetup parses headers and derives keys.
HAVE_LIBCRYPTSETUP ?= $(call have,libcryptsetup)
# Files inside the volumes (fs/): libtsk, optional likewise.
HAVE_LIBTSK  ?= $(call have,tsk)
# FUSE over io_uring (transport=uring), optional likewise.
HAVE_LIBURING ?= $(call have,liburing)
URING_SRC := serve/uring_none.c
ifeq ($(HAVE_LIBURING),1)
URING_SRC := serve/uring_io.c
$(OBJ)/serve/uring_io.o: URING_FLAGS := $(shell $(PKG_CONFIG) --cflags liburing)
IMG_LIBS += $(shell $(PKG_CONFIG) --libs liburing)
endif
ifeq ($(HAVE_LIBEWF),1)
$(OBJ)/core/image/image_ewf.o: IMG_FLAGS := -DHAVE_LIBEWF $(shell $(PKG_CONFIG) --cflags libewf)
IMG_LIBS += $(shell $(PKG_CONFIG) --libs libewf)
endif
ifeq ($(HAVE_LIBDEFLATE),1)
$(OBJ)/core/image/image_ewf_own.o: IMG_FLAGS := -DHAVE_LIBDEFLATE $(shell $(PKG_CONFIG) --cflags libdeflate)
IMG_LIBS += $(shell $(PKG_CONFIG) --libs libdeflate)
endif
ifeq ($(HAVE_AFFLIB),1)
$(OBJ)/core/image/image_aff.o: IMG_FLAGS := -DHAVE_AFFLIB $(shell $(PKG_CONFIG) --cflags afflib)
IMG_LIBS += $(shell $(PKG_CONFIG) --libs afflib)
endif
ifeq ($(HAVE_LIBQCOW),1)
$(OBJ)/core/image/image_qcow.o: IMG_FLAGS := -DHAVE_LIBQCOW $(shell $(PKG_CONFIG) --cflags libqcow)
IMG_LIBS += $(shell $(PKG_CONFIG) --libs libqcow)
endif
ifeq ($(HAVE_LIBVMDK),1)
$(OBJ)/core/image/image_vmdk.o $(OBJ)/core/image/chain_vmdk.o: IMG_FLAGS := -DHAVE_LIBVMDK $(shell $(PKG_CONFIG) --cflags libvmdk)
IMG_LIBS += $(shell $(PKG_CONFIG) --libs libvmdk)
endif
ifeq ($(HAVE_LIBVHDI),1)
$(OBJ)/core/image/image_vhdi.o: IMG_FLAGS := -DHAVE_LIBVHDI $(shell $(PKG_CONFIG) --cflags libvhdi)
IMG_LIBS += $(shell $(PKG_CONFIG) --libs libvhdi)
endif

ifeq ($(HAVE_LIBCRYPTSETUP),1)
CS_OBJS := $(addprefix $(OBJ)/core/volume/,luks.o bitlocker.o cs_glue.o)
$(CS_OBJS): IMG_FLAGS := -DHAVE_LIBCRYPTSETUP $(shell $(PKG_CONFIG) --cflags libcryptsetup)
IMG_LIBS += $(shell $(PKG_CONFIG) --libs libcryptsetup)
endif
ifeq ($(HAVE_LIBTSK),1)
TSK_FLAGS := -DHAVE_LIBTSK $(shell $(PKG_CONFIG) --cflags tsk)
TSK_LIBS := $(shell $(PKG_CONFIG) --libs tsk)
$(OBJ)/core/fs/%.o: IMG_FLAGS := $(TSK_FLAGS)
IMG_LIBS += $(TSK_LIBS)
endif

CFLAGS ?= -O2 -g
WARNINGS := -std=gnu11 -Wall -Wextra -Wno-sign-compare \
	    -Wmissing-declarations -Wwrite-strings -Wshadow
# Warnings are errors in the project's own checks (make check, CI), not in
# a user's build with a newer compiler.
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif
CPPFLAGS += -D_GNU_SOURCE -MMD -MP

# The build follows its configuration.  Which optional libraries were found
# is decided here, at each make; an object cannot see that, so each decision
# is written to a stamp in $(OBJ)/config/ whose time changes only when its
# content does, and what the decision affects depends on the stamp: the
# object of that library's driver and the link.  The compiler, its flags
# and the libraries' flags are one more stamp, which every object follows.
CONF := $(OBJ)/config
# stamp NAME,CONTENT: $(CONF)/NAME holds CONTENT, rewritten only on change
differ = $(subst $(1),,$(2))$(subst $(2),,$(1))
stamp = $(if $(call differ,$(file <$(CONF)/$(1)),x$(strip $(2))),$(file >$(CONF)/$(1),x$(strip $(2))))
ifneq ($(filter-out clean uninstall deps,$(or $(MAKECMDGOALS),all)),)
$(shell mkdir -p $(CONF))
$(call stamp,libewf,$(HAVE_LIBEWF))
$(call stamp,afflib,$(HAVE_AFFLIB))
$(call stamp,libqcow,$(HAVE_LIBQCOW))
$(call stamp,libvmdk,$(HAVE_LIBVMDK))
$(call stamp,libvhdi,$(HAVE_LIBVHDI))
$(call stamp,liburing,$(HAVE_LIBURING))
$(call stamp,flags,$(CC) $(shell $(CC) --version 2>&1 | head -n1) $(CFLAGS) $(CPPFLAGS) $(WARNINGS) $(LDFLAGS) $(FUSE_CFLAGS) $(BLKID_CFLAGS) $(SCOLS_CFLAGS))
endif
CONF_STAMPS := $(addprefix $(CONF)/,libewf afflib libqcow libvmdk libvhdi liburing flags)

# The core knows nothing of FUSE: it is built without fuse3's flags, so
# that a FUSE header there does not even compile.
CORE_CPPFLAGS := $(CPPFLAGS) -Icore $(BLKID_CFLAGS) $(SCOLS_CFLAGS)
DAEMON_CPPFLAGS := $(CPPFLAGS) -DFUSE_USE_VERSION=314 -I. -Iinclude -Icore \
		   $(FUSE_CFLAGS) $(BLKID_CFLAGS)
LDLIBS += $(FUSE_LIBS) $(BLKID_LIBS) $(SCOLS_LIBS) $(IMG_LIBS) $(CRYPTO_LIBS) -lpthread

# The FUSE-free library, a folder per stage of the pipeline (HACKING.md).
CORE_SRCS := $(wildcard core/*.c core/*/*.c)
# The daemon: the design card's three files, then a folder per job.
DAEMON_SRCS := blkfuse.c splice_io.c cuse_ctl.c \
	       $(filter-out serve/uring_%.c,$(wildcard serve/*.c)) $(URING_SRC) \
	       $(wildcard read/*.c ctl/*.c cmd/*.c forensic/*.c)
CORE_OBJS := $(CORE_SRCS:%.c=$(OBJ)/%.o)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(OBJ)/%.o)
CORE_LIB := $(OBJ)/libblkcore.a

all: $(O)/blkfuse $(O)/tests/faulty_fs $(O)/tests/crypt_open $(O)/tests/ctl_ioctl

# Each driver follows its library's stamp (the stubs and the transports'
# two files included: the one not built this time may be older than the
# binary); every object follows the flags; the link follows them all.
$(OBJ)/core/image/image_ewf.o: $(CONF)/libewf
$(OBJ)/core/image/image_aff.o: $(CONF)/afflib
$(OBJ)/core/image/image_qcow.o: $(CONF)/libqcow
$(OBJ)/core/image/image_vmdk.o $(OBJ)/core/image/chain_vmdk.o: $(CONF)/libvmdk
$(OBJ)/core/image/image_vhdi.o: $(CONF)/libvhdi
$(OBJ)/serve/uring_io.o $(OBJ)/serve/uring_none.o: $(CONF)/liburing
$(CORE_OBJS) $(DAEMON_OBJS): $(CONF)/flags

$(O)/blkfuse: $(DAEMON_OBJS) $(CORE_LIB) $(CONF_STAMPS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(CORE_LIB) $(LDLIBS)

$(CORE_LIB): $(CORE_OBJS)
	@if grep -rn '^#include.*fuse' core/; then \
		echo "core/ must not include FUSE headers (see HACKING.md)" >&2; exit 1; fi
	rm -f $@
	$(AR) rcs $@ $^

$(OBJ)/core/%.o: core/%.c
	@mkdir -p $(@D)
	$(CC) $(CORE_CPPFLAGS) $(IMG_FLAGS) $(WARNINGS) $(CFLAGS) -c -o $@ $<

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(DAEMON_CPPFLAGS) $(URING_FLAGS) $(WARNINGS) $(CFLAGS) -c -o $@ $<

# A FUSE file that returns EIO where told to: the I/O-error source for tests.
$(O)/tests/faulty_fs: tests/faulty_fs.c $(CONF)/flags
	@mkdir -p $(@D)
	$(CC) $(DAEMON_CPPFLAGS) $(WARNINGS) $(CFLAGS) -o $@ $< $(LDLIBS)

# SET_TEXT on a read-only open of the control node (tests/vm/guest/cuse.bats).
$(O)/tests/ctl_ioctl: tests/ctl_ioctl.c $(CONF)/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iinclude $(WARNINGS) $(CFLAGS) -o $@ $<

# Opens an encrypted volume in a file through the core alone (tests/crypt.bats).
$(O)/tests/crypt_open: tests/crypt_open.c $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(CORE_CPPFLAGS) $(WARNINGS) $(CFLAGS) -o $@ $< $(CORE_LIB) \
		$(BLKID_LIBS) $(SCOLS_LIBS) $(IMG_LIBS) $(CRYPTO_LIBS) -lpthread

-include $(CORE_OBJS:.o=.d) $(DAEMON_OBJS:.o=.d)

# Install what the tests need (Debian), then run them all.
# (a sub-make: the pkg-config flags above mean nothing before deps ran)
check: deps
	$(MAKE) WERROR=1 all
	tests/run

deps:
	tests/install-deps

# The structure rules of HACKING.md (tests/structure.bats runs it too).
deps-check:
	tests/deps-check

# Build, make a small demo disk image, mount it on demo/mnt, list it.
demo:
	contrib/install-demo-deps
	$(MAKE) all
	contrib/demo.sh

SAN_FLAGS := -O1 -g -fno-omit-frame-pointer
# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer, in
# a build of its own: the user's ./blkfuse is left alone.  use_sigaltstack=0:
# gcc 12's ASan reports a stack-buffer-overflow of its own in sigaltstack
# when a thread exits on this kernel (seen on main before any of this code).
check-asan: deps
	$(MAKE) WERROR=1 all
	$(MAKE) WERROR=1 O=build-asan \
		CFLAGS="$(SAN_FLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all" \
		build-asan/blkfuse
	BLKFUSE=$(CURDIR)/build-asan/blkfuse \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:use_sigaltstack=0 \
	UBSAN_OPTIONS=print_stacktrace=1 tests/run

# The host suite under ThreadSanitizer (the VM has no TSan runtime).
check-tsan: deps
	$(MAKE) WERROR=1 all
	$(MAKE) WERROR=1 O=build-tsan CFLAGS="$(SAN_FLAGS) -fsanitize=thread" \
		build-tsan/blkfuse
	BLKFUSE=$(CURDIR)/build-tsan/blkfuse TSAN_OPTIONS=halt_on_error=1 \
	BLKFUSE_NO_VM=1 tests/run

# libFuzzer over the table layer, the control text, BitLocker's and
# LVM2's metadata and fs/ (clang): every saved
# crasher first, then FUZZ_SECONDS (60) per target.  tests/fuzz/run.  The
# core is built whole, its container libraries off (their stubs).
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE
fuzz: deps
	tests/fuzz/run $(FUZZ_SECONDS)

fuzz-targets: $(O)/fuzz_layout $(O)/fuzz_ctl_text $(O)/fuzz_bitlocker $(O)/fuzz_lvm_meta \
	      $(O)/fuzz_fstree \
	$(if $(filter 1,$(HAVE_LIBDEFLATE)),$(O)/fuzz_ewf)

$(O)/fuzz_layout: tests/fuzz/fuzz_layout.c $(CORE_SRCS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Icore $(BLKID_CFLAGS) $(SCOLS_CFLAGS) -o $@ $^ \
		$(BLKID_LIBS) $(SCOLS_LIBS) $(CRYPTO_LIBS) -lpthread

# LVM2 metadata text, and the LVs built from it (core/volume/lvm2*.c)
$(O)/fuzz_lvm_meta: tests/fuzz/fuzz_lvm_meta.c $(CORE_SRCS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Icore $(BLKID_CFLAGS) $(SCOLS_CFLAGS) -o $@ $^ \
		$(BLKID_LIBS) $(SCOLS_LIBS) $(CRYPTO_LIBS) -lpthread

# fs/ over a mutated file system: the core whole, with libtsk (not built
# with the sanitizers; its allocations are still checked by ASan).
$(O)/fuzz_fstree: tests/fuzz/fuzz_fstree.c $(CORE_SRCS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -DHAVE_LIBTSK -Icore $(BLKID_CFLAGS) $(SCOLS_CFLAGS) \
		-o $@ $^ $(BLKID_LIBS) $(SCOLS_LIBS) $(CRYPTO_LIBS) -ltsk -lpthread

# the own EWF reader (it needs libdeflate)
$(O)/fuzz_ewf: tests/fuzz/fuzz_ewf.c core/image/image_ewf_own.c core/base/util.c core/base/log.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -DHAVE_LIBDEFLATE -Icore -o $@ $^ \
		$(shell $(PKG_CONFIG) --libs libdeflate) -lpthread

$(O)/fuzz_ctl_text: tests/fuzz/fuzz_ctl_text.c ctl/ctl_parse.c ctl/tunables.c core/base/util.c core/base/log.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -I. -Iinclude -Icore -o $@ $^

$(O)/fuzz_bitlocker: tests/fuzz/fuzz_bitlocker.c core/volume/bitlocker_meta.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Icore -o $@ $^

# Readers verifying every byte while the control channel churns (bounded:
# SOAK_SECONDS, default 600).  tests/soak.
soak: deps
	$(MAKE) all
	tests/soak

# The benchmark (bench/run; QUICK=1 for the short CI run).  Never a test.
bench: deps
	$(MAKE) all
	bench/run

install: $(O)/blkfuse
	install -D -m 0755 $(O)/blkfuse $(DESTDIR)$(BINDIR)/blkfuse
	install -D -m 0644 doc/blkfuse.1 $(DESTDIR)$(MANDIR)/man1/blkfuse.1
	install -D -m 0644 contrib/blkfuse.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/blkfuse
	install -D -m 0644 include/blkfuse_ioctl.h \
		$(DESTDIR)$(PREFIX)/include/blkfuse_ioctl.h

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/blkfuse \
	      $(DESTDIR)$(MANDIR)/man1/blkfuse.1 \
	      $(DESTDIR)$(PREFIX)/share/bash-completion/completions/blkfuse \
	      $(DESTDIR)$(PREFIX)/include/blkfuse_ioctl.h

# O= cleans that build only; the user's build cleans the sanitizers' too.
clean:
	rm -rf $(O)/blkfuse $(O)/tests/faulty_fs $(O)/tests/crypt_open $(O)/tests/ctl_ioctl $(OBJ)
ifeq ($(O),.)
	rm -rf build-asan build-tsan build-fuzz
endif

.PHONY: all bench check check-asan check-tsan deps deps-check demo fuzz fuzz-targets \
	install soak uninstall clean
