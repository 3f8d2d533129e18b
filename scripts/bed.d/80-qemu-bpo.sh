# shellcheck shell=bash
# scripts/bed: the migration QEMU from bookworm-backports.
# Sourced by scripts/bed before main runs (its header lists the stages).

# The nested migration tests (selftests/nested/nested_migration_test.c) need QEMU 8.0 or
# later, the first to speak VFIO migration v2; bookworm has 7.2, its
# backports suite a 10.x built for bookworm. The bed takes that QEMU from
# the backports suite through a private apt state (a sources.list made from
# the host's own mirror, lists and downloads in the cache; the system's apt
# sources and state are never touched), with the libraries the host lacks
# for it, unpacks them with dpkg -x and runs the result through a wrapper
# that puts its libraries, firmware and modules before the host's:
# $CACHE/qemu-bpo/v/VERSION/qemu-system-x86_64. The test VM runs it from
# the host's root shared at /host; /vslice/env names it
# (VSLICE_MIGRATION_QEMU). Cached per package version; the lists are
# refreshed like the kernels' (VSLICE_APT_MAX_AGE).
#
#   VSLICE_MIGRATION_QEMU   "none": no migration QEMU (the tests skip,
#                           saying so)
MQ_DIR=$CACHE/qemu-bpo
MQ_PKGS="qemu-system-x86 qemu-system-common qemu-system-data seabios"

# apt on the private state of $MQ_DIR/apt.
mq_apt() {
	local a=$MQ_DIR/apt
	apt-get -q -y -o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" -o Dir::State::status=/dev/null \
		-o APT::Sandbox::User=root -o Acquire::Check-Valid-Until=false "$@"
}
mq_cache() {
	local a=$MQ_DIR/apt
	apt-cache -o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" -o Dir::State::status=/dev/null "$@"
}

# The backports suite of the host's release.
mq_suite() {
	local codename
	codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release | tr -d '"')
	[ -n "$codename" ] || die "qemu-bpo: no VERSION_CODENAME in /etc/os-release"
	echo "$codename-backports"
}

# Refresh the private lists when older than APT_MAX_AGE. Runs locked.
mq_lists() {
	local a=$MQ_DIR/apt suite uri key=/usr/share/keyrings/debian-archive-keyring.gpg
	suite=$(mq_suite)
	uri=$(mirror_uri)
	mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
	printf 'deb [signed-by=%s] %s %s main\n' "$key" "$uri" "${suite%-backports}" "$key" "$uri" "$suite" \
		>"$a/sources.list.new"
	if cmp -s "$a/sources.list.new" "$a/sources.list" && [ -e "$a/stamp" ] &&
		[ $(($(date +%s) - $(stat -c %Y "$a/stamp"))) -lt "$APT_MAX_AGE" ]; then
		rm "$a/sources.list.new"
		return 0
	fi
	mv "$a/sources.list.new" "$a/sources.list"
	log "qemu-bpo: apt-get update ($suite, private state in $a)"
	mq_apt update >/dev/null
	touch "$a/stamp"
}

# Is dependency clause $1 ("a (>= 1) | b") met by the host's installed
# packages or by the packages named in $2?
mq_met() {
	local alt name op ver have
	local -a alts
	IFS='|' read -r -a alts <<<"$1"
	for alt in "${alts[@]}"; do
		read -r name op ver <<<"${alt//[()]/ }"
		name=${name%:any}
		[[ " $2 " == *" $name "* ]] && return 0
		have=$(dpkg-query -W -f='${Status} ${Version}\n' "$name" 2>/dev/null |
			awk '$3 == "installed" { print $4 }') || :
		[ -n "$have" ] || continue
		[ -z "$op" ] && return 0
		dpkg --compare-versions "$have" "$op" "$ver" && return 0
	done
	return 1
}

# Download and unpack the packages into $1 (a version's directory). Runs
# locked.
mq_fetch() {
	local dir=$1 tmp=$1.tmp suite pkgs=$MQ_PKGS have more clause deb lib missing round
	[ -e "$dir/stamp" ] && return 0
	suite=$(mq_suite)
	rm -rf --one-file-system "$tmp"
	mkdir -p "$tmp/dl" "$tmp/root"
	# Then what they depend on and the host lacks, until nothing is
	# missing (the host has most of it: its own QEMU needs the same).
	for round in 1 2 3 4; do
		# shellcheck disable=SC2086 # package names
		(cd "$tmp/dl" && mq_apt -t "$suite" download $pkgs >/dev/null)
		have=$(for deb in "$tmp"/dl/*.deb; do dpkg-deb -f "$deb" Package; done | xargs)
		more=""
		for deb in "$tmp"/dl/*.deb; do
			dpkg-deb -f "$deb" Pre-Depends Depends | sed 's/^[A-Za-z-]*: //' | tr ',' '\n'
		done >"$tmp/deps"
		while read -r clause; do
			[ -n "$clause" ] || continue
			mq_met "$clause" "$have $more" && continue
			clause=${clause%%|*}
			read -r clause _ <<<"${clause//[()]/ }"
			more="$more ${clause%:any}"
		done <"$tmp/deps"
		[ -n "$more" ] || break
		log "qemu-bpo: the host lacks:$more"
		pkgs=$more
	done
	[ -z "$more" ] || die "qemu-bpo: still missing after $round rounds:$more"
	for deb in "$tmp"/dl/*.deb; do dpkg -x "$deb" "$tmp/root"; done
	(cd "$tmp/dl" && ls) >"$tmp/packages"
	rm -rf "$tmp/dl" "$tmp/deps"
	cat >"$tmp/qemu-system-x86_64" <<'WRAPPER'
#!/bin/sh
# QEMU from the backports suite, unpacked in root/ beside this script by
# scripts/bed qemu-bpo: its libraries, firmware and modules come first.
d=$(dirname "$(readlink -f "$0")")/root
lib=""
for l in "$d"/usr/lib/*-linux-gnu "$d"/lib/*-linux-gnu; do
	[ -d "$l" ] || continue
	lib=$lib${lib:+:}$l
	if [ -d "$l/qemu" ]; then
		QEMU_MODULE_DIR=$l/qemu
		export QEMU_MODULE_DIR
	fi
done
LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
exec "$d/usr/bin/qemu-system-x86_64" -L "$d/usr/share/qemu" -L "$d/usr/share/seabios" "$@"
WRAPPER
	chmod +x "$tmp/qemu-system-x86_64"
	# Every library it needs must resolve.
	lib=$(find "$tmp/root" -maxdepth 3 -type d -name '*-linux-gnu' | paste -sd:)
	missing=$(LD_LIBRARY_PATH=$lib ldd "$tmp/root/usr/bin/qemu-system-x86_64" | grep 'not found') || :
	[ -z "$missing" ] || die "qemu-bpo: libraries not found: $(echo "$missing" | xargs)"
	"$tmp/qemu-system-x86_64" --version | head -n1 >"$tmp/version"
	rm -rf --one-file-system "$dir"
	mv "$tmp" "$dir"
	touch "$dir/stamp"
	prune_except "$dir"
}

# Make sure the migration QEMU is there.
stage_qemu_bpo() {
	local ver dir t
	[ "${VSLICE_MIGRATION_QEMU:-}" != none ] || return 0
	t=$(now)
	locked mq_lists
	ver=$(mq_cache -o APT::Default-Release="$(mq_suite)" policy qemu-system-x86 |
		awk '$1 == "Candidate:" { print $2 }')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ] || ! dpkg --compare-versions "$ver" ge 1:8.0; then
		die "qemu-bpo: no qemu-system-x86 of 8.0 or later in $(mq_suite) (candidate: ${ver:-none})"
	fi
	dir=$MQ_DIR/v/${ver//:/%}
	if [ ! -e "$dir/stamp" ]; then
		log "qemu-bpo: fetching qemu-system-x86 $ver from $(mq_suite)"
		locked mq_fetch "$dir"
		log "qemu-bpo: $(cat "$dir/version") in $dir in $(since "$t") s"
	fi
}

# The QEMU the test VMs run on: VSLICE_OUTER_QEMU, "backports" (the
# default) for mq_binary's, or the host's when that has not been fetched;
# "host" for the host's.
outer_qemu() {
	case ${VSLICE_OUTER_QEMU:-backports} in
	host) echo qemu-system-x86_64 ;;
	backports) mq_binary | grep . || echo qemu-system-x86_64 ;;
	*) echo "$VSLICE_OUTER_QEMU" ;;
	esac
}

# The newest cached backports QEMU's wrapper, if any (nothing, and status
# 0, on a cold cache).
mq_binary() {
	local w found=""
	for w in "$MQ_DIR"/v/*/qemu-system-x86_64; do
		[ ! -e "${w%/*}/stamp" ] || found=$w
	done
	[ -z "$found" ] || echo "$found"
}

# The line of /vslice/env that names the migration QEMU (a host path), if
# it has been fetched.
mq_env() {
	local w
	if [ "${VSLICE_MIGRATION_QEMU:-}" = none ]; then
		echo "VSLICE_MIGRATION_QEMU=none"
		return 0
	fi
	w=$(mq_binary)
	[ -z "$w" ] || echo "VSLICE_MIGRATION_QEMU=$w"
}
