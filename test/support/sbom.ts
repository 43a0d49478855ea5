// A Cargo.lock for the SBOM tests: a workspace member (no source), a registry crate with its
// checksum, and a git dependency whose URL carries credentials.
export const LOCK = `version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["itoa"]

[[package]]
name = "itoa"
version = "1.0.15"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "${"ab".repeat(32)}"

[[package]]
name = "forked"
version = "0.3.0"
source = "git+https://user:secret@git.example.com/forked.git?rev=abc#abcdef"
`;
