// The SBOM: dpkg status parsing, Cargo.lock crates, the SPDX 2.3 document (validated against the
// specification's JSON schema with ajv), the referrer manifest and the referrers-tag index.
import { strict as assert } from "assert";
import { installedPackages, parseStanzas } from "../../components/sbom/dpkg";
import { externalCrates } from "../../components/sbom/cargoLock";
import { spdxDocument, SbomSubject } from "../../components/sbom/spdx";
import { cratesOfContext, sbomBytes } from "../../components/sbom/attach";
import { validateSpdx } from "../support/spdx";
import { addToReferrersIndex, referrerManifest, referrersTag, SPDX_JSON } from "../../components/oci/referrers";


const STATUS = `Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.41-12
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.
Homepage: https://www.gnu.org/software/libc/libc.html

Package: libc6
Status: install ok installed
Architecture: i386
Source: glibc
Version: 2.41-12
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2025b-4
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>

Package: old-tool
Status: deinstall ok config-files
Architecture: amd64
Version: 1:1.0-1

Package: epoch-tool
Status: install ok installed
Architecture: amd64
Source: epoch-src (1:2.0-1)
Version: 1:2.0-1+b1
`;

const LOCK = `version = 4

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

const D = `sha256:${"5e".repeat(32)}`;

function subject(): SbomSubject {
    return {
        name: "rust-deps",
        kind: "CargoDepsImage",
        key: "f".repeat(64),
        repository: "127.0.0.1:5000/warmrun/rust-deps",
        digest: D,
        inputs: { "file:Cargo.lock": "1".repeat(64), "file:run.sh": `${"2".repeat(64)}+x`, "param:cargoArgs": '["--locked"]', "upstream:rust-base": "3".repeat(64), "image:FROM debian:trixie": `sha256:${"4".repeat(64)}` },
        provenance: { source: "https://git.example.com/acme/app.git", revision: "a".repeat(40), created: "2026-11-30T10:00:00Z" },
    };
}

describe("SBOM", () => {
    it("reads installed packages from a dpkg status file: continuation lines, two architectures, epochs; config-files only is not installed", () => {
        assert.equal(parseStanzas(STATUS)[0].Description, "GNU C Library: Shared libraries\nContains the standard libraries that are used by nearly all programs on\nthe system.");
        const pkgs = installedPackages(STATUS);
        assert.deepEqual(pkgs.map((p) => `${p.name}:${p.architecture}=${p.version}`), ["epoch-tool:amd64=1:2.0-1+b1", "libc6:amd64=2.41-12", "libc6:i386=2.41-12", "tzdata:all=2025b-4"]);
        assert.equal(pkgs[0].source, "epoch-src");
        assert.equal(pkgs[1].source, "glibc");
    });

    it("lists a Cargo.lock's external crates with their checksums; local members have no source; credentials are stripped", () => {
        assert.deepEqual(externalCrates(LOCK), [
            { name: "forked", version: "0.3.0", source: "git+https://git.example.com/forked.git?rev=abc#abcdef" },
            { name: "itoa", version: "1.0.15", source: "registry+https://github.com/rust-lang/crates.io-index", checksum: "ab".repeat(32) },
        ]);
    });

    it("an SPDX 2.3 document that validates against the specification's schema, listing packages, crates and inputs", () => {
        const doc: any = spdxDocument(subject(), { debs: installedPackages(STATUS), crates: externalCrates(LOCK) });
        assert.deepEqual(validateSpdx(doc), []);
        assert.equal(doc.spdxVersion, "SPDX-2.3");
        assert.equal(doc.creationInfo.created, "2026-11-30T10:00:00Z", "the commit's time");
        const byName = (n: string) => doc.packages.filter((p: any) => p.name === n);
        assert.equal(byName("libc6").length, 2);
        assert.deepEqual(byName("epoch-tool")[0].externalRefs[0].referenceLocator, "pkg:deb/debian/epoch-tool@1%3A2.0-1%2Bb1?arch=amd64");
        assert.deepEqual(byName("itoa")[0].checksums, [{ algorithm: "SHA256", checksumValue: "ab".repeat(32) }]);
        assert.equal(byName("rust-base")[0].versionInfo, "3".repeat(64));
        assert.equal(byName("debian:trixie")[0].versionInfo, `sha256:${"4".repeat(64)}`);
        assert.deepEqual(doc.files.map((f: any) => f.fileName), ["./Cargo.lock", "./run.sh"]);
        const ids = new Set([...doc.packages, ...doc.files].map((e: any) => e.SPDXID));
        assert.equal(ids.size, doc.packages.length + doc.files.length, "every SPDXID is unique");
        for (const r of doc.relationships) {
            assert.ok(r.spdxElementId === "SPDXRef-DOCUMENT" || ids.has(r.spdxElementId), r.spdxElementId);
            assert.ok(ids.has(r.relatedSpdxElement), r.relatedSpdxElement);
        }
        for (const id of ids) assert.match(id as string, /^SPDXRef-[A-Za-z0-9.-]+$/);
        assert.ok(doc.relationships.some((r: any) => r.relationshipType === "DESCENDANT_OF" && r.relatedSpdxElement === byName("debian:trixie")[0].SPDXID));
    });

    it("the same artifact, key and commit give the same bytes", () => {
        const parts = { debs: installedPackages(STATUS) };
        assert.deepEqual(sbomBytes(spdxDocument(subject(), parts)), sbomBytes(spdxDocument(subject(), parts)));
        const other: any = spdxDocument({ ...subject(), key: "e".repeat(64) }, parts);
        assert.notEqual(other.documentNamespace, (spdxDocument(subject(), parts) as any).documentNamespace);
        assert.deepEqual(validateSpdx({ ...other, spdxVersion: undefined }).length > 0, true, "the schema is a real check: no spdxVersion fails it");
    });

    it("a referrer manifest names its subject and artifact type; the referrers tag index keeps one entry per digest", () => {
        const blob = { mediaType: SPDX_JSON, digest: D, size: 10 };
        const m = JSON.parse(referrerManifest({ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: D, size: 99 }, SPDX_JSON, blob).toString());
        assert.equal(m.artifactType, SPDX_JSON);
        assert.deepEqual(m.subject, { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: D, size: 99 });
        assert.equal(m.config.mediaType, "application/vnd.oci.empty.v1+json");
        assert.equal(m.config.size, 2);
        assert.equal(referrersTag(D), `sha256-${"5e".repeat(32)}`);
        const e1 = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"1".repeat(64)}`, size: 5, artifactType: SPDX_JSON };
        const e2 = { ...e1, digest: `sha256:${"2".repeat(64)}` };
        const first = addToReferrersIndex(undefined, e1);
        assert.equal(first.changed, true);
        const again = addToReferrersIndex(JSON.parse(first.body.toString()), e1);
        assert.equal(again.changed, false);
        const both = JSON.parse(addToReferrersIndex(JSON.parse(first.body.toString()), e2).body.toString());
        assert.equal(both.mediaType, "application/vnd.oci.image.index.v1+json");
        assert.deepEqual(both.manifests.map((x: any) => x.digest), [e1.digest, e2.digest]);
    });
});

describe("SBOM of a deps image", () => {
    it("takes the crates from the Cargo.lock at the root of the build context, written or copied", () => {

        assert.deepEqual(cratesOfContext([{ path: "Cargo.toml", text: "" }, { path: "Cargo.lock", text: LOCK }])?.map((c) => c.name), ["forked", "itoa"]);
        assert.equal(cratesOfContext([{ path: "crates/a/Cargo.lock", text: LOCK }]), undefined, "only the workspace root's lock");
    });
});
