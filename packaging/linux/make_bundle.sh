#!/bin/sh
# Make the Linux single-file bundle: bundle_stub.sh, padded to a fixed size, then a gzip'd tar
# of the PyInstaller folder. Usage: make_bundle.sh APP_FOLDER VERSION OUT_FILE
set -eu
app=$1 version=$2 out=$3
header_size=16384
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -C "$(dirname "$app")" -cf - "$(basename "$app")" | gzip -6 > "$tmp/payload"
sha=$(sha256sum "$tmp/payload" | cut -d' ' -f1)
sed -e "s/@VERSION@/$version/g" -e "s/@SHA256@/$sha/" -e "s/@OFFSET@/$header_size/" \
    "$here/bundle_stub.sh" > "$tmp/header"
size=$(wc -c < "$tmp/header")
[ "$size" -lt "$header_size" ] || { echo "bundle_stub.sh is over $header_size bytes" >&2; exit 1; }
{
    cat "$tmp/header"
    head -c $((header_size - size - 1)) /dev/zero | tr '\0' '#'
    echo
    cat "$tmp/payload"
} > "$out.part"
chmod +x "$out.part"
mv "$out.part" "$out"
echo "$out: $(wc -c < "$out") bytes, payload sha256 $sha"
