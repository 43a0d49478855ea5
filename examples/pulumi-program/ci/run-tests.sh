#!/bin/sh
# The pipeline's test step.
set -eu
cargo test --offline --locked
