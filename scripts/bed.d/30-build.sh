# shellcheck shell=bash
# scripts/bed: build stages: deps, sid chroot, kselftest sources, module, userland, initramfs.
# Sourced by scripts/bed before main runs (its header lists the stages).

stage_deps() {
	# shellcheck disable=SC2086
	host_install $HOST_PKGS
}

build_sidroot() {
	[ -e "$SID/.vslice-stamp" ] && return 0
	local tmp=$SID.tmp uri
	uri=$(mirror_uri)
	log "creating the sid chroot from $uri (about a minute)"
	rm -rf --one-file-system "$tmp"
	# debootstrap mounts /proc and /sys in the target: keep those mounts
	# in a private namespace so an interrupted run leaves none behind.
	unshare --mount --propagation private -- \
		debootstrap --variant=minbase --include="$SID_PKGS" sid "$tmp" "$uri" >"$CACHE/sid-debootstrap.log" 2>&1 ||
		die "debootstrap failed, see $CACHE/sid-debootstrap.log"
	# The mirror may be a frozen snapshot whose Release files have expired.
	echo 'Acquire::Check-Valid-Until "false";' >"$tmp/etc/apt/apt.conf.d/99vslice"
	mv "$tmp" "$SID"
	touch "$SID/.vslice-stamp"
}

# Packages added to SID_PKGS after a chroot was made. Runs locked.
update_sidroot() {
	[ -x "$SID/usr/bin/sparse" ] && return 0
	apt_fresh sid
	sid_apt install --no-install-recommends sparse >/dev/null
}

stage_sidroot() {
	local t
	if [ ! -e "$SID/.vslice-stamp" ]; then
		t=$(now)
		stage_deps
		locked build_sidroot
		log "sid chroot ready in $(since "$t") s"
	fi
	[ -x "$SID/usr/bin/sparse" ] || locked update_sidroot
}

# Extract what we need from linux-source's inner tarball. Runs locked.
build_ksrc() {
	local dir=$1 tmp=$1.tmp deb
	[ -e "$dir/stamp" ] && return 0
	log "ksrc: downloading $KSRC_PKG"
	rm -rf "$tmp"
	mkdir -p "$tmp/dl"
	(cd "$tmp/dl" && host_apt download "$KSRC_PKG" >/dev/null)
	deb=$(ls "$tmp"/dl/*.deb)
	# Stream the inner tarball: it is never written out whole.
	dpkg --fsys-tarfile "$deb" |
		tar -xO --wildcards "./usr/src/$KSRC_PKG.tar.*" |
		tar -xJ -C "$tmp" --strip-components=1 --wildcards \
			'*/tools/testing/selftests/kselftest.h' \
			'*/tools/testing/selftests/kselftest_harness.h' \
			'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
			'*/scripts/const_structs.checkpatch' '*/scripts/kernel-doc' \
			'*/samples/vfio-mdev/*'
	rm -rf "$tmp/dl"
	# The harness must include nothing else from the tree.
	if grep -h '^#include "' "$tmp"/tools/testing/selftests/*.h | grep -v '"kselftest.h"'; then
		die "ksrc: kselftest headers include more local headers; extract them too"
	fi
	rm -rf "$dir"
	mv "$tmp" "$dir"
	touch "$dir/stamp"
	prune_except "$dir"
}

# Prints the directory holding the extracted files (for Makefiles).
stage_ksrc() {
	local ver dir t
	apt_fresh host
	ver=$(candidate_version host "$KSRC_PKG")
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then die "ksrc: $KSRC_PKG not found in apt"; fi
	dir=$CACHE/ksrc/${ver//:/%}
	if [ ! -e "$dir/stamp" ]; then
		t=$(now)
		locked build_ksrc "$dir"
		log "ksrc: extracted $KSRC_PKG $ver in $(since "$t") s"
	fi
	KSRC=$dir
	echo "$dir"
}

# Build vslice.ko for kernel $1 from a private copy of the sources.
stage_build() {
	local k=$1 b=$OUT/build/$1 t f items=()
	stage_fetch "$k"
	t=$(now)
	for f in Kbuild Makefile vfio_core mdev; do
		[ -e "$SRC/$f" ] && items+=("$SRC/$f")
	done
	[ -e "$SRC/Kbuild" ] || die "no Kbuild in $SRC"
	# From scratch, so that build.log has every warning (stage_check
	# counts them); leave out an in-tree build's outputs (made for another
	# kernel).
	rm -rf "$b/src"
	mkdir -p "$b/src"
	rsync -a --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
		--exclude='*.mod' --exclude='*.mod.c' --exclude=Module.symvers \
		--exclude=modules.order --exclude='.tmp*' "${items[@]}" "$b/src/"
	rm -f "$b"/*.ko
	# W=1: the extra warnings; C=1: sparse on every file compiled. Debian's
	# headers packages leave out scripts/checker-valid.sh, without which
	# newer Makefiles turn C=1 off: set what C=1 sets, directly.
	if [ "$K_SUITE" = sid ]; then
		in_sid -b "$K_DIR/root:/vslice/kroot" -b "$b/src:/vslice/src" -- \
			make -C "/vslice/kroot/usr/src/$HEADERS" M=/vslice/src -j"$(nproc)" \
			W=1 KBUILD_CHECKSRC=1 modules 2>&1 | tee "$b/build.log" >&2
	else
		make -C "$K_DIR/root/usr/src/$HEADERS" M="$b/src" -j"$(nproc)" W=1 KBUILD_CHECKSRC=1 \
			modules 2>&1 | tee "$b/build.log" >&2
	fi
	find "$b/src" -name '*.ko' -exec cp {} "$b/" \;
	[ -e "$b/vslice.ko" ] || die "$k: build produced no vslice.ko (see $b/build.log)"
	log "$k: built $b/vslice.ko in $(since "$t") s"
}

# Build selftests and samples once, statically, with sid's gcc and uapi.
stage_userland() {
	local u=$OUT/build/user us=$OUT/build/user-src t d
	stage_sidroot
	stage_ksrc >/dev/null
	t=$(now)
	rm -rf "$u"
	mkdir -p "$u" "$us"
	for d in selftests samples; do
		[ -d "$SRC/$d" ] || { rm -rf "${us:?}/$d"; continue; }
		rsync -a --delete --exclude=/out/ "$SRC/$d/" "$us/$d/"
		[ -e "$us/$d/Makefile" ] || { log "userland: no $d/Makefile, skipping $d"; continue; }
		in_sid -b "$us:/vslice/usrc" -b "$u:/vslice/out" -b "$KSRC:/vslice/ksrc" -- \
			env CFLAGS="-static -O2 -Wall -pthread" LDFLAGS="-static -pthread" \
			make -C "/vslice/usrc/$d" -j"$(nproc)" CC=gcc \
			KSFT_INC=/vslice/ksrc/tools/testing/selftests OUTPUT=/vslice/out \
			2>&1 | tee "$u.$d.log" >&2
	done
	log "userland: built $(find "$u" -type f -perm -u+x | wc -l) programs in $(since "$t") s"
}

# The cached part of kernel $1's initramfs: busybox and the decompressed
# guest modules plus the extra modules $3 (vslice.ko's dependencies). Keyed
# by kernel, module lists and busybox. Runs locked.
build_initramfs_base() {
	local k=$1 base=$2 extra=$3 tree m line ko rel
	[ -e "$base" ] && return 0
	tree=$(mktemp -d "$CACHE/initramfs.XXXXXX")
	mkdir -p "$tree"/{bin,dev,proc,sys,tmp,host,mnt,run,root,etc,usr,vslice} "$tree/lib/modules/$KVER"
	cp /bin/busybox "$tree/bin/busybox"
	# Skip busybox itself: a self-link would replace the binary (ELOOP).
	for m in $(/bin/busybox --list); do
		[ "$m" = busybox ] || ln -s busybox "$tree/bin/$m"
	done
	ln -s bin "$tree/sbin"
	ln -s ../bin "$tree/usr/bin"
	ln -s ../bin "$tree/usr/sbin"
	mknod -m 600 "$tree/dev/console" c 5 1
	touch "$tree/etc/fstab"

	# shellcheck disable=SC2013,SC2086 # module names, one word each
	for m in $(grep -v '^[[:space:]]*\(#\|$\)' "$BED_DIR/guest-modules") $extra; do
		if ! modprobe -d "$K_DIR/root" -S "$KVER" --show-depends "${m%:optional}" >"$tree/deps"; then
			# "name:optional": only if the kernel has it
			[ "${m%:optional}" != "$m" ] || die "$k: module $m not found"
			log "$k: no module ${m%:optional} (optional)"
			continue
		fi
		while read -r line; do
			case $line in
			insmod\ *)
				ko=$(echo "$line" | awk '{ print $2 }')
				rel=${ko#*/lib/modules/"$KVER"/}
				rel=${rel%.xz}
				rel=${rel%.zst}
				[ -e "$tree/lib/modules/$KVER/$rel" ] && continue
				mkdir -p "$(dirname "$tree/lib/modules/$KVER/$rel")"
				case $ko in
				*.xz) xz -dc "$ko" ;;
				*.zst) zstd -dcq "$ko" ;;
				*) cat "$ko" ;;
				esac >"$tree/lib/modules/$KVER/$rel"
				;;
			esac
		done <"$tree/deps"
	done
	rm "$tree/deps"
	for m in modules.builtin modules.builtin.modinfo modules.order; do
		[ -e "$K_DIR/root/lib/modules/$KVER/$m" ] && cp "$K_DIR/root/lib/modules/$KVER/$m" "$tree/lib/modules/$KVER/"
	done
	depmod -b "$tree" "$KVER"
	(cd "$tree" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6) >"$base.tmp"
	rm -rf --one-file-system "$tree"
	rm -f "$K_DIR"/initramfs-*.cpio.gz # older keys
	mv "$base.tmp" "$base"
}

# Pack kernel $1's initramfs: cached base + a small overlay with our module,
# programs and scripts; guest script $2 (default: the selftest runner).
stage_initramfs() {
	local k=$1 script=${2:-$BED_DIR/guest-run-tests} b=$OUT/build/$1 key base ov t vdeps
	stage_fetch "$k"
	[ -e "$b/vslice.ko" ] || stage_build "$k"
	[ -d "$OUT/build/user" ] || stage_userland
	t=$(now)
	# The modules vslice.ko needs go in too, so that insmod of it works.
	vdeps=$(modinfo -F depends "$b/vslice.ko" | tr ',' ' ')
	key=$( (cat "$BED_DIR/guest-modules" /bin/busybox; echo "$vdeps"; declare -f build_initramfs_base) |
		sha256sum | cut -c1-12)
	base=$K_DIR/initramfs-$key.cpio.gz
	[ -e "$base" ] || locked build_initramfs_base "$k" "$base" "$vdeps"

	ov=$b/overlay
	rm -rf "$ov"
	mkdir -p "$ov/vslice/bin"
	cp "$BED_DIR/guest-init" "$ov/init"
	cp "$BED_DIR/guest-run-tests" "$ov/vslice/run-tests"
	cp "$script" "$ov/vslice/guest-script"
	cp "$b/vslice.ko" "$ov/vslice/vslice.ko"
	# the KUnit suites, built where the kernel has KUnit (selftests/kunit.sh)
	[ ! -e "$b/vslice_kunit.ko" ] || cp "$b/vslice_kunit.ko" "$ov/vslice/"
	cp -a "$OUT/build/user/." "$ov/vslice/bin/"
	# VSLICE_ONLY="prog [prog...]": run these programs only (a developer's
	# quick loop); each keeps its collection and so its timeout.
	if [ -n "${VSLICE_ONLY:-}" ]; then
		local p
		for p in $VSLICE_ONLY; do
			grep -E "^[^:]*:$p(\.sh)?\$" "$OUT/build/user/kselftest-list.txt" || echo "vslice:$p"
		done >"$ov/vslice/bin/kselftest-list.txt"
	fi
	# The samples the tests use (mdevctl's JSON, libvirt's XML).
	mkdir -p "$ov/vslice/samples"
	find "$SRC/samples" -maxdepth 1 \( -name '*.json' -o -name '*.xml' -o -name '*.conf' \) \
		-exec cp {} "$ov/vslice/samples/" \;
	{
		# an override of the collections' settings, only if asked for
		[ -z "$TEST_TIMEOUT" ] || echo "VSLICE_TEST_TIMEOUT=$TEST_TIMEOUT"
		echo "VSLICE_OUTER_SCREENS=$(screens_dir "$k")"
		# the VM's own watchdog speaks up before the bed's timeout
		echo "VSLICE_VM_TIMEOUT=$TIMEOUT"
		# fuzz_test's seed, op count and threads (make test-full: 10M
		# ops); the options of KVM's modules (guest-init)
		env | grep '^VSLICE_\(FUZZ_[A-Z]*\|KVM_OPTS\|KVM_AMD_OPTS\|THP\)=[0-9A-Za-z=_]*$' || :
	} >"$ov/vslice/env"
	nested_env "$k" >>"$ov/vslice/env"
	echo "$vdeps" >"$ov/vslice/vslice.deps"
	chmod +x "$ov/init" "$ov/vslice/run-tests" "$ov/vslice/guest-script"
	(cd "$ov" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$b/overlay.cpio.gz"
	# The kernel unpacks concatenated archives in order.
	cat "$base" "$b/overlay.cpio.gz" >"$b/initrd.img"
	log "$k: initramfs $b/initrd.img ($(du -h "$b/initrd.img" | cut -f1)) in $(since "$t") s"
}
