#!/usr/bin/env bash
# Fetch Shopify's Admin GraphQL schema into the git-ignored cache and print its path.
#
# Usage: scripts/shopify-schema.sh [API_VERSION]   (default 2026-10)
#
# The schema is the introspection result (`{"data":{"__schema":...}}`, gzip) that the npm
# package @shopify/dev-mcp ships as dist/data/admin_<version>.json.gz. The package version,
# the tarball and each schema file are pinned by SHA-256, so every machine gets the same
# bytes. The schema is Shopify's file: it stays in .cache/ and is never committed.
#
# Environment:
#   SHOPIFY_SCHEMA_CACHE_DIR  cache folder (default: <repo>/.cache/shopify)
#   NPM                       npm client to run (default: npm)
set -euo pipefail

readonly package_name="@shopify/dev-mcp"
readonly package_version="1.16.0"
# SHA-256 of dev-mcp-1.16.0.tgz as served by the npm registry. Its npm integrity string is
# sha512-tqgRnK7sQhjew+htxtleTH23nXB5fZcsrhWgEkomsorGXvLOB2mh2upwZm8uzuTDNTZnqtLMe64yIwh6s2awtw==
readonly tarball_sha256="4663c79229028e98f825a09d5f04ec6c3736331b740ce50260f9ffac10709474"

# SHA-256 of each admin_<version>.json.gz inside that tarball.
schema_sha256() {
    case "$1" in
    2025-10) echo "75bc6b7f1366826b1bdcc232f0638554bafe1b97a5d4d12a725f037ad11fb6e0" ;;
    2026-01) echo "28804b33e23becb5296f168545781daa8747a4574ac2089515f3c572d82670b1" ;;
    2026-04) echo "f14a1d924a2ce4a5824dcaa832a90a9fe8d20d0ad16f71240b854401c08b5769" ;;
    2026-07) echo "5bcde995c89c59acdb2ee494378d96f45ce7378a16ec829a74b71d696a08ef19" ;;
    2026-10) echo "f3b522f264556925eada700e795e4a002a9cba83444ebcc6c0d724254a0c6593" ;;
    unstable) echo "09abd39c19075b0cfb4682f602f40353e167a2f551235b3a8948c3bdbd17ff92" ;;
    *) return 1 ;;
    esac
}

fail() {
    echo "shopify-schema: $*" >&2
    exit 1
}

file_sha256() {
    sha256sum "$1" | cut -d' ' -f1
}

api_version="${1:-2026-10}"
expected_sha256="$(schema_sha256 "$api_version")" ||
    fail "API version '$api_version' is not pinned for $package_name@$package_version;" \
        "use one of 2025-10, 2026-01, 2026-04, 2026-07, 2026-10, unstable"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="${SHOPIFY_SCHEMA_CACHE_DIR:-$repo_root/.cache/shopify}"
schema_name="admin_${api_version}.json.gz"
cached="$cache_dir/$schema_name"

if [[ -f "$cached" ]]; then
    if [[ "$(file_sha256 "$cached")" == "$expected_sha256" ]]; then
        echo "$cached"
        exit 0
    fi
    echo "shopify-schema: $cached has the wrong SHA-256; fetching it again" >&2
fi

command -v "${NPM:-npm}" >/dev/null || fail "npm not found; install Node.js and npm, or set NPM"

work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT

echo "shopify-schema: fetching $package_name@$package_version with npm pack" >&2
tarball_name="$(cd "$work_dir" && "${NPM:-npm}" pack --silent "$package_name@$package_version" | tail -n 1)" ||
    fail "npm pack $package_name@$package_version failed"
tarball="$work_dir/$tarball_name"
[[ -f "$tarball" ]] || fail "npm pack did not write the tarball it named: $tarball"

actual_tarball_sha256="$(file_sha256 "$tarball")"
[[ "$actual_tarball_sha256" == "$tarball_sha256" ]] ||
    fail "$tarball_name has SHA-256 $actual_tarball_sha256, expected $tarball_sha256"

tar -xzf "$tarball" -C "$work_dir" "package/dist/data/$schema_name" ||
    fail "$tarball_name does not contain package/dist/data/$schema_name"
extracted="$work_dir/package/dist/data/$schema_name"

actual_schema_sha256="$(file_sha256 "$extracted")"
[[ "$actual_schema_sha256" == "$expected_sha256" ]] ||
    fail "$schema_name has SHA-256 $actual_schema_sha256, expected $expected_sha256"

# Copy next to the target and rename, so a concurrent reader never sees a partial file.
mkdir -p "$cache_dir"
partial="$(mktemp "$cache_dir/.$schema_name.XXXXXX")"
cp "$extracted" "$partial"
chmod 0644 "$partial"
mv -f "$partial" "$cached"
echo "$cached"
