# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by bench/run: evidence-container targets (issue 9).  Each reads
# the same bytes as every other target, from a container made of the
# benchmark image (cached beside it, remade when the image changes):
#
#   e01-blkfuse    blkfuse on a compressed multi-segment E01 (ewfacquire)
#   e01-ewfmount   ewfmount's ewf1 read at the partition's offset
#   e01-xmount     xmount --in ewf
#   qcow2-blkfuse, qcow2c-blkfuse   blkfuse on QCOW2 (plain, compressed)
#   qcow2-qsd, qcow2c-qsd           qemu-storage-daemon's FUSE export of it
#   split-blkfuse  blkfuse on the image split into 1/8-size raw segments
#
# They are not in the default TARGETS (making a 3 GiB E01 takes minutes):
#   TARGETS="loop blkfuse e01-blkfuse e01-ewfmount e01-xmount" make bench

CONT_DIR=

# container KIND: its path (made once per image), or "" on failure
container() {
	local k=$1 stamp f
	CONT_DIR=$RESULTS/containers-$SIZE_B
	stamp=$(cat "$IMG.ok" 2>/dev/null)-$(stat -c %Y "$IMG")
	mkdir -p "$CONT_DIR"
	case "$k" in
	e01)    f=$CONT_DIR/image.E01 ;;
	qcow2)  f=$CONT_DIR/image.qcow2 ;;
	qcow2c) f=$CONT_DIR/image-c.qcow2 ;;
	split)  f=$CONT_DIR/image.raw.001 ;;
	esac
	if [ -e "$f" ] && [ "$(cat "$f.ok" 2>/dev/null)" = "$stamp" ]; then
		echo "$f"
		return 0
	fi
	note "making the $k container of $(basename "$IMG") (once per image)"
	case "$k" in
	e01)
		need ewfacquire ewf-tools || return 1
		rm -f "$CONT_DIR"/image.E??
		logrun ewfacquire -u -q -t "${f%.E01}" -c deflate:fast \
			-S $((SIZE_B / 4 + MIB)) -C bench -e bench "$IMG" || return 1 ;;
	qcow2)  logrun qemu-img convert -O qcow2 "$IMG" "$f" || return 1 ;;
	qcow2c) logrun qemu-img convert -c -O qcow2 "$IMG" "$f" || return 1 ;;
	split)
		rm -f "$CONT_DIR"/image.raw.[0-9][0-9][0-9]
		logrun split -b $((SIZE_B / 8)) -d -a 3 --numeric-suffixes=1 \
			"$IMG" "$CONT_DIR/image.raw." || return 1 ;;
	esac
	echo "$stamp" >"$f.ok"
	echo "$f"
}

# a FUSE peer that daemonizes: its pid by its unique mount point
peer_pid() {
	local pid
	for pid in $(pgrep -x "$1"); do
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF " $2" && echo "$pid"
	done
}

# start_container_target T: 0 up, 1 skipped, 2 not a container target
start_container_target() {
	local t=$1 k=${1%%-*} src mnt
	case "$t" in
	e01-blkfuse|qcow2-blkfuse|qcow2c-blkfuse|split-blkfuse|e01-ewfmount|e01-xmount|qcow2-qsd|qcow2c-qsd) ;;
	*) return 2 ;;
	esac
	command -v qemu-img >/dev/null || need qemu-img qemu-utils || { skip "$t" "no qemu-img"; return 1; }
	src=$(container "$k") || { skip "$t" "cannot make the $k container (see $LOG)"; return 1; }
	mnt=$WORK/$t
	case "$t" in
	*-blkfuse)
		T_LABEL[$t]="blkfuse on $(basename "$src") ($k)"
		start_blkfuse "$t" "" "$src" ;;
	e01-ewfmount|e01-xmount)
		mkdir -p "$mnt"
		T_KIND[$t]=xmount T_MNT[$t]=$mnt T_STATE[$t]=starting
		if [ "$t" = e01-ewfmount ]; then
			logrun ewfmount "$src" "$mnt" || { T_STATE[$t]=down; skip "$t" "ewfmount failed"; return 1; }
			T_PID[$t]=$(peer_pid ewfmount "$mnt")
			T_DISK[$t]=$mnt/ewf1
			T_LABEL[$t]="ewfmount $(ewfmount -V 2>/dev/null | awk 'NR == 1 { print $2 }') (ewf1 at the partition's offset)"
		else
			need xmount xmount || { skip "$t" "no xmount"; return 1; }
			# xmount wants every segment file named
			logrun xmount --in ewf "${src%.E01}".E?? "$mnt" || { T_STATE[$t]=down; skip "$t" "xmount failed"; return 1; }
			T_PID[$t]=$(peer_pid xmount "$mnt")
			T_DISK[$t]=$(ls "$mnt"/*.dd 2>/dev/null | head -1)
			T_LABEL[$t]="xmount --in ewf (every segment named)"
		fi
		T_STATE[$t]=up ;;
	qcow2-qsd|qcow2c-qsd)
		need qemu-storage-daemon qemu-system-common || { skip "$t" "no qemu-storage-daemon"; return 1; }
		mnt=$WORK/$t.img
		: >"$mnt"
		T_KIND[$t]=qsd T_MNT[$t]=$mnt T_DISK[$t]=$mnt T_STATE[$t]=starting
		if ! qemu-storage-daemon --daemonize --pidfile "$WORK/$t.pid" \
			--blockdev "driver=file,node-name=f,filename=$src,read-only=on" \
			--blockdev "driver=qcow2,node-name=q,file=f,read-only=on" \
			--export "type=fuse,id=e,node-name=q,mountpoint=$mnt,writable=off" \
			>>"$LOG" 2>&1; then
			T_STATE[$t]=down
			skip "$t" "qemu-storage-daemon failed (see $LOG)"
			return 1
		fi
		T_PID[$t]=$(cat "$WORK/$t.pid")
		T_STATE[$t]=up
		T_LABEL[$t]="qemu-storage-daemon FUSE export of $(basename "$src")" ;;
	esac
	return 0
}
