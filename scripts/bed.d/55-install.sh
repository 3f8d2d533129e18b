# shellcheck shell=bash
# scripts/bed: install checks (make install, DKMS, modinfo).
# Sourced by scripts/bed before main runs (its header lists the stages).

# How users install vslice, checked on the host for kernel $1 (default
# 6.12; a bookworm kernel, built with the host's compiler) in a private
# tree, as KTAP out/test/install.ktap: `make install` and `make uninstall`
# (INSTALL_MOD_PATH), the module parameters modinfo documents, and DKMS
# (`make dkms-install` / `dkms-uninstall` with private dkms, source and
# install trees). Each works on its own copy of the sources.
stage_installcheck() {
	local k=${1:-6.12} f=$OUT/test/install.ktap d n=0 hdr mods ko p out flags=()
	load_kernel "$k"
	stage_fetch "$k"
	[ "$K_SUITE" != sid ] || die "installcheck: $k is built in the sid chroot; use a bookworm kernel"
	host_install dkms
	hdr=$K_DIR/root/usr/src/$HEADERS
	d=$(mktemp -d)
	mkdir -p "$OUT/test"
	result() { # name, status, findings
		n=$((n + 1))
		if [ "$2" = 0 ]; then
			echo "ok $n $1"
		else
			printf '%s\n' "$3" | tail -n 30 | sed 's/^/# /'
			echo "not ok $n $1"
		fi
	}
	copy_src() { # into $1
		mkdir -p "$1"
		(cd "$SRC" && find Kbuild Kconfig Makefile VERSION dkms.conf mdev vfio_core -type f) |
			(cd "$SRC" && rsync -a --files-from=- . "$1/")
	}
	{
		echo "KTAP version 1"
		echo "1..3"
		echo "# kernel $k ($KVER)"

		# make install / make uninstall into a private root
		# (Kbuild compresses it as the kernel's config says: vslice.ko.xz)
		copy_src "$d/src1"
		mods=$d/root1/lib/modules/$KVER
		mkdir -p "$mods"
		cp "$K_DIR/root/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$mods/" 2>/dev/null || :
		out=$(make -C "$d/src1" install KDIR="$hdr" INSTALL_MOD_PATH="$d/root1" 2>&1) &&
			ko=$(compgen -G "$mods/updates/vslice.ko*") &&
			grep -q '^updates/vslice.ko[.a-z]*:' "$mods/modules.dep" &&
			[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$KVER" ] &&
			out=$(make -C "$d/src1" uninstall KDIR="$hdr" INSTALL_MOD_PATH="$d/root1" 2>&1) &&
			! compgen -G "$mods/updates/vslice.ko*" >/dev/null &&
			! grep -q 'vslice' "$mods/modules.dep"
		result make_install_uninstall $? "$out"

		# every module parameter has a description
		ko=$d/src1/vslice.ko
		out=""
		for p in reserved_mib max_instances types; do
			modinfo -F parm "$ko" | grep -q "^$p:..*" || out="$out$p has no description in modinfo; "
		done
		[ -z "$out" ]
		result modinfo_params $? "$out"

		# DKMS: add, build, install, remove, in private trees
		copy_src "$d/src2"
		mods=$d/root2/lib/modules/$KVER
		mkdir -p "$d/dkms" "$mods"
		cp "$K_DIR/root/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$mods/" 2>/dev/null || :
		flags=(-k "$KVER" --kernelsourcedir "$hdr" --dkmstree "$d/dkms" --sourcetree "$d/usrsrc"
			--installtree "$d/root2/lib/modules" --no-depmod)
		out=$(make -C "$d/src2" dkms-install DKMS_SRC="$d/usrsrc/vslice-$(cat "$SRC/VERSION")" \
			DKMS_FLAGS="${flags[*]}" 2>&1) &&
			ko=$(compgen -G "$mods/updates/dkms/vslice.ko*") &&
			[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$KVER" ] &&
			depmod -b "$d/root2" "$KVER" &&
			grep -q '^updates/dkms/vslice.ko[.a-z]*:' "$mods/modules.dep" &&
			dkms status "${flags[@]}" 2>/dev/null | grep -q "vslice/$(cat "$SRC/VERSION"), $KVER, x86_64: installed" &&
			out=$(make -C "$d/src2" dkms-uninstall DKMS_SRC="$d/usrsrc/vslice-$(cat "$SRC/VERSION")" \
				DKMS_FLAGS="${flags[*]}" 2>&1) &&
			! compgen -G "$mods/updates/dkms/vslice.ko*" >/dev/null &&
			[ -z "$(dkms status "${flags[@]}" 2>/dev/null)" ]
		result dkms_add_build_install_remove $? "$out"
		echo "# vslice-end"
	} >"$f" 2>&1
	rm -rf "$d"
	log "install checks: $f"
}
