#!/bin/sh
# FaceLens @VERSION@ for Linux x86_64: one file holding the app, its Python and Qt (made by
# `make appimage`). The first start checks the payload's sha256 and unpacks it once into
# ~/.cache/facelens/bundle/; later starts run the unpacked copy directly.
#   --bundle-extract [DIR]  unpack into DIR (default ./FaceLens-@VERSION@) and stop
#   --bundle-info           print the version, the payload's sha256 and the cache folder
# FACELENS_BUNDLE_CACHE names another cache folder.
set -u
version="@VERSION@"
sha="@SHA256@"
offset=@OFFSET@
self="$0"
[ -f "$self" ] || { echo "FaceLens: cannot read the bundle itself ($self)" >&2; exit 2; }

fail() { echo "FaceLens: $*" >&2; exit 1; }

payload() { tail -c "+$((offset + 1))" "$self"; }

# unpack DIR: check the payload, then unpack it into DIR (made empty first).
unpack() {
    got=$(payload | sha256sum | cut -d' ' -f1)
    [ "$got" = "$sha" ] || fail "this file is damaged or incomplete (sha256 $got, expected" \
        "$sha): download it again"
    rm -rf "$1" && mkdir -p "$1" || fail "cannot create $1"
    if ! err=$(payload | gzip -dc 2>&1 | tar -xf - -C "$1" 2>&1); then
        rm -rf "$1"
        fail "could not unpack into $1 (is the disk full?): $err"
    fi
}

case "${1:-}" in
    --bundle-info)
        echo "FaceLens $version bundle, payload sha256 $sha"
        echo "cache: ${FACELENS_BUNDLE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/facelens/bundle}"
        exit 0 ;;
    --bundle-extract)
        dest="${2:-FaceLens-$version}"
        [ -e "$dest" ] && fail "$dest already exists: remove it or name another folder"
        unpack "$dest"
        echo "unpacked into $dest: run $dest/FaceLens/facelens"
        exit 0 ;;
esac

base="${FACELENS_BUNDLE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/facelens/bundle}"
dir="$base/$version-$(echo "$sha" | cut -c1-12)"
app="$dir/FaceLens/facelens"
if [ ! -f "$dir/.complete" ]; then
    mkdir -p "$base" || fail "cannot create the cache folder $base"
    # One start unpacks; others started meanwhile wait for it. A lock left by a start that
    # was killed (its process is gone, or it is older than 10 minutes) is taken over.
    while ! mkdir "$dir.lock" 2>/dev/null; do
        holder=$(cat "$dir.lock/pid" 2>/dev/null || true)
        if { [ -n "$holder" ] && ! kill -0 "$holder" 2>/dev/null; } ||
            [ -n "$(find "$dir.lock" -maxdepth 0 -mmin +10 2>/dev/null)" ]; then
            rm -rf "$dir.lock"
        fi
        sleep 1
    done
    echo $$ > "$dir.lock/pid"
    trap 'rm -rf "$dir.lock"' EXIT
    trap 'rm -rf "$dir" "$dir.lock"; exit 130' INT TERM
    if [ ! -f "$dir/.complete" ]; then
        echo "FaceLens: unpacking $version into $dir (once)..." >&2
        unpack "$dir"
        : > "$dir/.complete"
    fi
    rm -rf "$dir.lock"
    trap - EXIT INT TERM
fi
exec "$app" "$@"
exit 1
