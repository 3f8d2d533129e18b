# shellcheck shell=bash
# scripts/bed: the debug kernel.
# Sourced by scripts/bed before main runs (its header lists the stages).

# A row of suite "source" in scripts/kernels ("NAME source linux-source-X.Y
# FRAGMENT") is a kernel built here from Debian's linux-source package:
# `make defconfig`, the config fragment scripts/FRAGMENT merged over it,
# `make olddefconfig`, bzImage and modules. The source is unpacked once per
# package version into $CACHE/kernel-src/NAME/VERSION and built there, so a
# changed fragment rebuilds incrementally. The result is cached in K_DIR,
# keyed by package version and a hash of the fragment, the build function
# and the compiler, laid out like a fetched kernel: root/boot/vmlinuz-KVER,
# root/lib/modules/KVER (modules stripped), root/usr/src/linux-headers-KVER
# (what out-of-tree modules build against); and vmlinux, System.map,
# config and build.log beside root/ for decoding traces.
#
#   VSLICE_KERNEL_JOBS      make -j of the kernel build (default: nproc)
#   VSLICE_DEBUG_TIMEOUT    seconds per VM of make test-debug (default 5400)
#   VSLICE_DEBUG_SCALE      factor on every test program's timeout in
#                           make test-debug (default 4)
DEBUG_DEFAULT=6.12-debug
SOURCE_BUILD_DEPS="gcc make bc flex bison libelf-dev libssl-dev kmod cpio xz-utils dwarves patch"

# Serialize builds of source kernels: not under the cache lock, which the
# other stages take for seconds and a kernel build would hold for minutes.
source_locked() {
	mkdir -p "$CACHE/kernel-src"
	(
		flock 8
		"$@"
	) 8>"$CACHE/kernel-src/.lock"
}

# Sets K_PKGS, K_TOOLCHAIN (build dependencies), K_DIR, K_SRC_VERSION and
# K_FRAGMENT for source kernel $1 (load_kernel has run).
resolve_source_kernel() {
	local k=$1 key
	apt_fresh host
	K_SRC_VERSION=$(candidate_version host "$K_IMAGE_META")
	if [ -z "$K_SRC_VERSION" ] || [ "$K_SRC_VERSION" = "(none)" ]; then
		die "$k: $K_IMAGE_META not found in apt"
	fi
	K_FRAGMENT=$BED_DIR/$K_HEADERS_META
	[ -r "$K_FRAGMENT" ] || die "$k: no config fragment $K_FRAGMENT"
	K_PATCHES=$(source_patches)
	key=$( (cat "$K_FRAGMENT"; source_patches_id; declare -f build_source_kernel fragment_check
		gcc --version | head -n1) |
		sha256sum | cut -c1-12)
	K_PKGS=$K_IMAGE_META
	K_TOOLCHAIN=$SOURCE_BUILD_DEPS
	K_DIR=$CACHE/kernels/$k/${K_IMAGE_META}_${K_SRC_VERSION//:/%}_$key
}

# Print the options of fragment $1 ("CONFIG_X=v", "# CONFIG_X is not set")
# that .config $2 does not have as asked; status 1 if there are any.
fragment_check() {
	awk 'function opt(line, a) {
			if (line ~ /^CONFIG_[A-Za-z0-9_]+=/) {
				a = index(line, "=")
				return substr(line, 1, a - 1) SUBSEP substr(line, a + 1)
			}
			if (line ~ /^# CONFIG_[A-Za-z0-9_]+ is not set$/) {
				split(line, f, " ")
				return f[2] SUBSEP "n"
			}
			return ""
		}
		{ o = opt($0) }
		o == "" { next }
		{ split(o, kv, SUBSEP) }
		FNR == NR { want[kv[1]] = kv[2]; next }
		{ have[kv[1]] = kv[2] }
		END {
			for (name in want) {
				got = (name in have) ? have[name] : "n"
				if (got != want[name]) { print name "=" got " (fragment: " want[name] ")"; bad = 1 }
			}
			exit bad
		}' "$1" "$2"
}

# The patches applied to a source kernel: scripts/<fragment name>-NNNN-*.patch
# (fixes of kernel bugs that make test-debug found, each saying why), in
# order; and their list as "sha256 name" lines.
source_patches() {
	find "$BED_DIR" -maxdepth 1 -name "${K_HEADERS_META%.config}-[0-9][0-9][0-9][0-9]-*.patch" | LC_ALL=C sort
}
source_patches_id() {
	local p
	for p in $(source_patches); do echo "$(sha256sum <"$p" | cut -c1-16) $(basename "$p")"; done
}

# Bring the unpacked tree $1 to K_PATCHES: apply those its .vslice-patched
# does not list yet. Status 1 if it has patches that are not a prefix of
# K_PATCHES (the tree must be unpacked anew).
source_patch_tree() {
	local work=$1 have want p
	have=$(cat "$work/.vslice-patched" 2>/dev/null) || have=""
	want=$(source_patches_id)
	[ "$have" = "$want" ] && return 0
	[ -z "$have" ] || [ "${want:0:${#have}}" = "$have" ] || return 1
	for p in $K_PATCHES; do
		grep -q " $(basename "$p")\$" "$work/.vslice-patched" 2>/dev/null && continue
		patch -d "$work" -p1 --forward --quiet <"$p" || die "$p does not apply to $work"
		echo "$(sha256sum <"$p" | cut -c1-16) $(basename "$p")" >>"$work/.vslice-patched"
		log "applied $(basename "$p")"
	done
}

# Build source kernel $1 into $K_DIR. Runs source_locked.
build_source_kernel() {
	local k=$1 work tmp deb kver t jobs=${VSLICE_KERNEL_JOBS:-$(nproc)} blog bad
	[ -e "$K_DIR/stamp" ] && return 0
	work=$CACHE/kernel-src/$k/${K_SRC_VERSION//:/%}
	tmp=$K_DIR.tmp
	blog=$tmp/build.log
	rm -rf --one-file-system "$tmp"
	mkdir -p "$tmp/root/boot"
	t=$(now)
	if [ ! -e "$work/.vslice-unpacked" ]; then
		log "$k: downloading and unpacking $K_IMAGE_META $K_SRC_VERSION"
		rm -rf --one-file-system "$work"
		mkdir -p "$work/.dl"
		(cd "$work/.dl" && host_apt download "$K_IMAGE_META=$K_SRC_VERSION" >/dev/null)
		deb=$(ls "$work"/.dl/*.deb)
		dpkg --fsys-tarfile "$deb" |
			tar -xO --wildcards "./usr/src/$K_IMAGE_META.tar.*" |
			tar -xJ -C "$work" --strip-components=1
		rm -rf "$work/.dl"
		touch "$work/.vslice-unpacked"
		prune_except "$work"
		log "$k: unpacked in $(since "$t") s"
	fi
	if ! source_patch_tree "$work"; then
		# Patched otherwise: unpack again (a full rebuild).
		rm -f "$work/.vslice-unpacked"
		build_source_kernel "$k"
		return
	fi
	log "$k: building the kernel with -j$jobs (on 2 cores about 17 min from an empty cache; log: $blog)"
	(
		cd "$work"
		make defconfig
		scripts/kconfig/merge_config.sh -m .config "$K_FRAGMENT"
		make olddefconfig
	) >"$blog" 2>&1 || die "$k: configuring failed, see $blog"
	if ! bad=$(fragment_check "$K_FRAGMENT" "$work/.config"); then
		die "$k: olddefconfig did not keep these options of $K_FRAGMENT: $(echo "$bad" | xargs)"
	fi
	make -C "$work" -j"$jobs" bzImage modules >>"$blog" 2>&1 ||
		die "$k: kernel build failed: $(grep -m3 -E 'error:|Error [0-9]' "$blog" | xargs) (see $blog)"
	log "$k: compiled in $(since "$t") s"
	kver=$(make -s -C "$work" kernelrelease)
	{
		make -C "$work" INSTALL_MOD_PATH="$tmp/root" INSTALL_MOD_STRIP=1 modules_install
		# What `make M=` needs of the tree, as Debian's headers packages
		# have it (the script is the one bindeb-pkg runs).
		make -C "$work" run-command \
			KBUILD_RUN_COMMAND="\$(srctree)/scripts/package/install-extmod-build $tmp/root/usr/src/linux-headers-$kver"
	} >>"$blog" 2>&1 || die "$k: installing failed, see $blog"
	rm -f "$tmp/root/lib/modules/$kver/build" # a link to the build tree
	[ -e "$tmp/root/lib" ] || ln -s usr/lib "$tmp/root/lib"
	cp "$work/arch/x86/boot/bzImage" "$tmp/root/boot/vmlinuz-$kver"
	cp "$work/vmlinux" "$work/System.map" "$tmp/"
	cp "$work/.config" "$tmp/config"
	depmod -b "$tmp/root" "$kver"
	printf 'KVER=%s\nVMLINUZ=%s\nHEADERS=%s\n' "$kver" "boot/vmlinuz-$kver" "linux-headers-$kver" >"$tmp/kernel.env"
	since "$t" >"$tmp/build-seconds"
	rm -rf --one-file-system "$K_DIR"
	mv "$tmp" "$K_DIR"
	touch "$K_DIR/stamp"
	prune_except "$K_DIR"
	log "$k: built $kver from $K_IMAGE_META $K_SRC_VERSION into $K_DIR in $(since "$t") s"
}

# Boot debug kernel $1 with the selftest runner, the tests opening devices
# through VFIO path $2 (group or cdev): results in out/test/NAME.ktap and
# .console, NAME being $1 for the group path and $1-$2 otherwise. The
# initramfs is the one of `bed initramfs $1` plus an /vslice/env that sets
# the path and scales the tests' timeouts.
debug_boot() {
	local k=$1 path=$2 b=$OUT/build/$1 name=$1 ov initrd
	[ "$path" = group ] || name=$k-$path
	ov=$b/overlay-$path
	initrd=$b/initrd-$path.img
	rm -rf "$ov"
	mkdir -p "$ov/vslice"
	{
		cat "$b/overlay/vslice/env"
		echo "VSLICE_VFIO=$path"
		echo "VSLICE_TEST_TIMEOUT_SCALE=${VSLICE_DEBUG_SCALE:-4}"
		echo "VSLICE_VM_TIMEOUT=$TIMEOUT"
	} >"$ov/vslice/env"
	(cd "$ov" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) |
		cat "$b/initrd.img" - >"$initrd"
	rm -rf "$ov"
	log "$name: booting $KVER (VFIO $path path)"
	vm_boot "$k" "$name" "$initrd" "${VSLICE_VERBOSE:-0}"
}

# make test-debug: build (or reuse) debug kernel $1 and vslice for it, and
# run the whole selftest suite on it twice, one VM each: through the VFIO
# group path (out/test/K.ktap) and through the cdev + iommufd path
# (out/test/K-cdev.ktap). The runner adds lockdep_clean and kmemleak_clean
# to dmesg_clean there.
stage_test_debug() {
	local k=${1:-$DEBUG_DEFAULT} t stage path name
	local names=("$k" "$k-cdev")
	t=$(now)
	load_kernel "$k"
	TIMEOUT=${VSLICE_DEBUG_TIMEOUT:-5400}
	# No nested guests: a guest under TCG inside a KASAN kernel under TCG
	# does not boot within the tests' timeouts, and it drives the same host
	# paths the other tests do (nested_test skips, saying so).
	VSLICE_NESTED_GUESTS=${VSLICE_NESTED_GUESTS:-none}
	VSLICE_IGT_GUEST=${VSLICE_IGT_GUEST:-none}
	# The debug kernel has no KVM, so QEMU 10 buys it nothing: its VMs stay
	# on the host's QEMU, on which every debug run so far has been made.
	VSLICE_OUTER_QEMU=${VSLICE_OUTER_QEMU:-host}
	export VSLICE_NESTED_GUESTS VSLICE_IGT_GUEST VSLICE_OUTER_QEMU
	stage_deps
	stage_sidroot
	stage_userland
	"$BED_DIR/bed" nested-all || log "nested guests: stage failed (nested tests will fail)"
	mkdir -p "$RUN_OUT"
	for name in "${names[@]}"; do rm -f "$RUN_OUT/$name.ktap" "$RUN_OUT/$name.console"; done
	for stage in fetch build initramfs; do
		"$BED_DIR/bed" "$stage" "$k" && continue
		for name in "${names[@]}"; do
			echo "# vslice-host: stage '$stage' failed" >"$RUN_OUT/$name.ktap"
		done
		stage_summary "${names[@]}"
		return 1
	done
	stage_fetch "$k"
	for path in group cdev; do debug_boot "$k" "$path"; done
	log "test-debug: $k in $(since "$t") s"
	stage_summary "${names[@]}"
}
