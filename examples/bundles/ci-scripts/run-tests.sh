#!/bin/sh
# Example CI step shipped as a cached bundle.
set -eu
cargo test --workspace --offline "$@"
