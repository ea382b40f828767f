#!/bin/bash
# make demo: a small GPT disk image with three partitions (one holding an
# ext4 file system), mounted with blkfuse on demo/mnt, then listed.
set -eu
cd "$(dirname "$0")/.."
img=demo/disk.img mnt=demo/mnt
mkdir -p demo "$mnt"
if mountpoint -q "$mnt"; then
	fusermount3 -u "$mnt"
fi
if [ ! -f "$img" ]; then
	new=$img.new
	head -c $((64 * 1048576)) /dev/urandom >"$new"
	sfdisk -q "$new" <<-EOT
	label: gpt
	size=24MiB, type=linux, name="root"
	size=16MiB, type=swap, name="swap"
	size=16MiB, type=linux, name="data"
	EOT
	# an ext4 file system in p1 holding this README
	tmp=$(mktemp -d)
	cp README.md "$tmp/"
	# (-q still prints what -d copies)
	mkfs.ext4 -q -F -L demo-root -d "$tmp" demo/p1.fs 24M >/dev/null
	dd if=demo/p1.fs of="$new" bs=1M seek=1 conv=notrunc status=none
	rm -rf "$tmp" demo/p1.fs
	mv "$new" "$img"
fi
./blkfuse --list "$img"
./blkfuse "$img" "$mnt"
echo
echo "\$ ls -l $mnt"
ls -l "$mnt"
echo
echo "\$ file -s $mnt/p1"
file -s "$mnt/p1"
echo
echo "Mounted. Try: sha256sum $mnt/p*; mount -o ro,noload,loop $mnt/p1 /mnt"
echo "Unmount with: fusermount3 -u $mnt"
