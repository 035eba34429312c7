#!/usr/bin/env bash
# Builds the four Lambda artifacts as SAM deploys them (release, arm64, zipped) and checks
# the SAM template. The build tools come from PyPI into .venv-build/, so nothing depends on
# what is installed on the machine.
#
# If the arm64 Rust target cannot be installed here, it builds for x86_64 instead and prints
# so: the artifacts then prove the code links, not that they match what SAM deploys.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-build
requirements=scripts/build-requirements.txt
stamp="$venv/.requirements.sha256"
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
if [[ ! -x "$venv/bin/cargo-lambda" || "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]]; then
    echo "==> installing cargo-lambda, ziglang, aws-sam-cli and cfn-lint into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" > "$stamp"
fi
export PATH="$PWD/$venv/bin:$PATH"

functions=(-p create-intent -p validate-discount -p webhook -p health)
architecture=--arm64
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
    && ! rustup target add aarch64-unknown-linux-gnu; then
    echo "WARNING: the Rust target aarch64-unknown-linux-gnu cannot be installed on this machine;" >&2
    echo "WARNING: building for x86_64 instead. These artifacts are not the arm64 ones SAM deploys." >&2
    architecture=--x86-64
fi

echo "==> cargo lambda build --release $architecture --output-format zip"
cargo lambda build --release "$architecture" --output-format zip "${functions[@]}"
for name in create-intent validate-discount webhook health; do
    ls -l "target/lambda/$name/bootstrap.zip"
done

echo "==> sam validate --lint"
SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} sam validate --lint
