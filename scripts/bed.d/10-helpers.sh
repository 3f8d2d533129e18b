# shellcheck shell=bash
# scripts/bed: helpers: apt, locking, downloads.
# Sourced by scripts/bed before main runs (its header lists the stages).

# Serialize writers of the cache (CI and a developer may share it). Never
# nest: flock on a second descriptor of the same file would deadlock.
locked() {
	mkdir -p "$CACHE"
	(
		flock 9
		"$@"
	) 9>"$CACHE/.lock"
}

# The archive this machine already uses: the URIs of the first non-security
# entry of its apt sources (deb822 or one-line format).
mirror_uri() {
	local f=/etc/apt/sources.list.d/debian.sources uri=""
	[ -n "${VSLICE_MIRROR:-}" ] && { echo "$VSLICE_MIRROR"; return; }
	if [ -r "$f" ]; then
		uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
			{ u = ""; sec = 0
			  for (i = 1; i <= NF; i++) {
				if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); u = a[2] }
				if ($i ~ /^Suites:.*-security/) sec = 1
			  }
			  if (u != "" && !sec) { print u; exit } }' "$f")
	fi
	if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++)
			if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
	fi
	[ -n "$uri" ] || die "cannot find the Debian mirror in the apt sources"
	echo "$uri"
}

# Run a command in the sid chroot inside a private mount namespace: /proc,
# /dev and the bind mounts vanish with the namespace, so nothing is left
# mounted even if the bed is killed.
# Usage: in_sid [-b HOSTDIR:CHROOTDIR]... -- COMMAND...
in_sid() {
	local binds=()
	while [ "$1" != -- ]; do
		[ "$1" = -b ] || die "in_sid: bad option $1"
		binds+=("$2")
		shift 2
	done
	shift
	# shellcheck disable=SC2016 # the inner script expands its own arguments
	unshare --mount --propagation private -- bash -euc '
		root=$1; shift
		mount --rbind /dev "$root/dev"
		while [ "$1" != -- ]; do
			src=${1%%:*} dst=${1#*:}
			mkdir -p "$root$dst"
			mount --bind "$src" "$root$dst"
			shift
		done
		shift
		mount -t proc proc "$root/proc"
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' in_sid "$SID" "${binds[@]}" -- "$@"
}

# apt for the host (its own sources only) or for the sid chroot.
host_apt() { apt-get -q -y -o APT::Sandbox::User=root "$@"; }
sid_apt() { in_sid -- apt-get -q -y -o APT::Sandbox::User=root "$@"; }
apt_for() { if [ "$1" = sid ]; then shift; sid_apt "$@"; else shift; host_apt "$@"; fi; }
aptcache_for() {
	if [ "$1" = sid ]; then shift; in_sid -- apt-cache "$@"; else shift; apt-cache "$@"; fi
}

# Refresh the apt lists of "host" or "sid" when older than APT_MAX_AGE, so a
# new kernel point release is seen (the archive keeps only the newest).
apt_fresh() {
	local suite=$1 stamp
	if [ "$suite" = sid ]; then stamp=$SID/.vslice-apt-updated; else stamp=$CACHE/.host-apt-updated; fi
	if [ -e "$stamp" ] && [ $(($(date +%s) - $(stat -c %Y "$stamp"))) -lt "$APT_MAX_AGE" ]; then
		return 0
	fi
	log "apt-get update ($suite)"
	apt_for "$suite" update >/dev/null
	mkdir -p "$(dirname "$stamp")"
	touch "$stamp"
}

# Install host packages that are missing (only from the host's own sources).
host_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing on the host: ${missing[*]}"
	host_apt update >/dev/null
	host_apt install --no-install-recommends "${missing[@]}" >/dev/null
}

# Dependencies of PKG (candidate version) whose names match the regex RE.
deps_matching() {
	local suite=$1 pkg=$2 re=$3
	aptcache_for "$suite" depends --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "$pkg" |
		awk -v re="$re" '$1 ~ /Depends:$/ && $2 ~ re { print $2 }'
}

candidate_version() {
	aptcache_for "$1" policy "$2" | awk '$1 == "Candidate:" { print $2 }'
}
