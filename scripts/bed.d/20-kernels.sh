# shellcheck shell=bash
# scripts/bed: kernels: the table, fetching packaged kernels.
# Sourced by scripts/bed before main runs (its header lists the stages).

# The kernels make test runs: not those built from source (make test-debug).
kernel_names() { awk '!/^#/ && NF && $2 != "source" { print $1 }' "$BED_DIR/kernels"; }

# Sets K_NAME K_SUITE K_IMAGE_META K_HEADERS_META for kernel $1.
load_kernel() {
	local row
	row=$(awk -v k="$1" '!/^#/ && $1 == k' "$BED_DIR/kernels")
	[ -n "$row" ] || die "unknown kernel '$1' (see scripts/kernels: $(kernel_names | xargs))"
	read -r K_NAME K_SUITE K_IMAGE_META K_HEADERS_META <<<"$row"
}

# Resolve kernel $1's versioned packages from its meta packages. Sets
# K_PKGS (what to unpack), K_HEADERS (headers package = its /usr/src dir),
# K_TOOLCHAIN (other headers deps: the compiler), K_DIR (its cache dir,
# keyed by the image package's name and version).
resolve_kernel() {
	local image ver memo lists row
	load_kernel "$1"
	if [ "$K_SUITE" = source ]; then
		resolve_source_kernel "$1"
		return 0
	fi
	[ "$K_SUITE" = sid ] && stage_sidroot
	apt_fresh "$K_SUITE"
	# apt-cache takes seconds on bookworm's lists: reuse the last answer
	# until the lists or the table row change.
	memo=$CACHE/kernels/$1/resolved
	lists=/var/lib/apt/lists
	[ "$K_SUITE" = sid ] && lists=$SID/var/lib/apt/lists
	row="$K_NAME $K_SUITE $K_IMAGE_META $K_HEADERS_META"
	if [ -e "$memo" ] && [ "$(sed -n 1p "$memo")" = "# $row" ] &&
		[ -z "$(find "$lists" -maxdepth 1 -type f -newer "$memo" | head -n1)" ]; then
		# shellcheck disable=SC1090
		. "$memo"
		return 0
	fi
	image=$(deps_matching "$K_SUITE" "$K_IMAGE_META" '^linux-image-' | head -n1)
	K_HEADERS=$(deps_matching "$K_SUITE" "$K_HEADERS_META" '^linux-headers-' | head -n1)
	if [ -z "$image" ] || [ -z "$K_HEADERS" ]; then
		die "$1: cannot resolve $K_IMAGE_META / $K_HEADERS_META in $K_SUITE"
	fi
	ver=$(candidate_version "$K_SUITE" "$image")
	# 7.x splits the image into binary, modules and base packages.
	K_PKGS="$image $(deps_matching "$K_SUITE" "$image" '^linux-(binary|modules|base)-[0-9]' | xargs)"
	K_PKGS="$K_PKGS $K_HEADERS $(deps_matching "$K_SUITE" "$K_HEADERS" '^linux-(headers|kbuild)-' | xargs)"
	K_PKGS=$(echo "$K_PKGS" | xargs)
	K_TOOLCHAIN=$(deps_matching "$K_SUITE" "$K_HEADERS" '^(gcc|clang|linux-compiler)' | xargs)
	K_DIR=$CACHE/kernels/$1/${image}_${ver//:/%}
	mkdir -p "$(dirname "$memo")"
	printf '# %s\nK_PKGS="%s"\nK_HEADERS="%s"\nK_TOOLCHAIN="%s"\nK_DIR="%s"\n' \
		"$row" "$K_PKGS" "$K_HEADERS" "$K_TOOLCHAIN" "$K_DIR" >"$memo.tmp"
	mv "$memo.tmp" "$memo"
}

# Download and unpack the resolved packages into $K_DIR/root. Runs locked.
fetch_kernel() {
	local k=$1 tmp dl deb kver vmlinuz f
	[ -e "$K_DIR/stamp" ] && return 0
	log "$k: fetching $K_PKGS"
	tmp=$K_DIR.tmp
	rm -rf --one-file-system "$tmp"
	mkdir -p "$tmp/dl" "$tmp/root"
	dl=$tmp/dl
	# shellcheck disable=SC2086 # K_PKGS is a list of package names
	if [ "$K_SUITE" = sid ]; then
		in_sid -b "$dl:/vslice/dl" -- sh -c 'cd /vslice/dl && apt-get -q -o APT::Sandbox::User=root download "$@"' sh $K_PKGS >/dev/null
		# The headers are unpacked, not installed: install their compiler.
		sid_apt install --no-install-recommends $K_TOOLCHAIN >/dev/null
	else
		(cd "$dl" && host_apt download $K_PKGS >/dev/null)
	fi
	for deb in "$dl"/*.deb; do dpkg -x "$deb" "$tmp/root"; done
	rm -rf "$dl"

	# Merged-/usr packages put modules in usr/lib; depmod -b wants lib/.
	[ -e "$tmp/root/lib" ] || ln -s usr/lib "$tmp/root/lib"
	kver=$(ls "$tmp/root/lib/modules")
	[ "$(echo "$kver" | wc -w)" = 1 ] || die "$k: expected one module dir, got: $kver"
	vmlinuz=""
	for f in "boot/vmlinuz-$kver" "lib/modules/$kver/vmlinuz"; do
		[ -e "$tmp/root/$f" ] && vmlinuz=$f && break
	done
	[ -n "$vmlinuz" ] || die "$k: no vmlinuz in $K_PKGS"
	depmod -b "$tmp/root" "$kver"

	# The headers' Makefile names its own tree (7.x: KBUILD_OUTPUT) and the
	# -common tree by absolute /usr/src paths; make them relative to the
	# directory make -C runs in, so the tree works wherever it lives,
	# including inside the sid chroot.
	sed -i -e "s|/usr/src/$K_HEADERS\\b|\$(CURDIR)|g" -e 's|/usr/src/|../|g' \
		"$tmp/root/usr/src/$K_HEADERS/Makefile"

	printf 'KVER=%s\nVMLINUZ=%s\nHEADERS=%s\n' "$kver" "$vmlinuz" "$K_HEADERS" >"$tmp/kernel.env"
	rm -rf --one-file-system "$K_DIR"
	mv "$tmp" "$K_DIR"
	touch "$K_DIR/stamp"
	prune_except "$K_DIR"
}

# Remove the other versions cached beside directory $1 (older point releases).
prune_except() {
	local d
	for d in "$(dirname "$1")"/*/; do
		d=${d%/}
		[ "$d" = "$1" ] || { log "removing old cache $d"; rm -rf --one-file-system "$d"; }
	done
}

# Make sure kernel $1 is fetched; sets K_* and KVER, VMLINUZ, HEADERS.
declare -A FETCHED=()
stage_fetch() {
	local k=$1 t
	resolve_kernel "$k"
	if [ -z "${FETCHED[$k]:-}" ]; then
		t=$(now)
		# Bookworm headers build with the host's compiler: install it
		# (from the host's own suite) if missing.
		# shellcheck disable=SC2086
		[ "$K_SUITE" = sid ] || host_install $K_TOOLCHAIN
		if [ ! -e "$K_DIR/stamp" ] && [ "$K_SUITE" = source ]; then
			source_locked build_source_kernel "$k"
		elif [ ! -e "$K_DIR/stamp" ]; then
			locked fetch_kernel "$k"
			log "$k: fetched into $K_DIR in $(since "$t") s"
		fi
		FETCHED[$k]=1
	fi
	# shellcheck disable=SC1091
	. "$K_DIR/kernel.env"
}
