// The SPDX 2.3 document of an artifact, validated by the SPDX project's own validator (spdx-tools'
// pyspdxtools, installed by scripts/setup.sh): packages, crates, inputs, and equal bytes for equal inputs.
import { strict as assert } from "assert";
import * as fs from "fs";
import { installedPackages } from "../../../components/sbom/dpkg";
import { externalCrates } from "../../../components/sbom/cargoLock";
import { spdxDocument, SbomSubject } from "../../../components/sbom/spdx";
import { sbomBytes } from "../../../components/sbom/attach";
import { validateSpdx } from "../../support/spdx";
import { LOCK } from "../../support/sbom";

const D = `sha256:${"5e".repeat(32)}`;
const STATUS = fs.readFileSync("/var/lib/dpkg/status", "utf8");

function subject(): SbomSubject {
    return {
        name: "rust-deps",
        kind: "CargoDepsImage",
        key: "f".repeat(64),
        repository: "127.0.0.1:5000/warmrun/rust-deps",
        digest: D,
        inputs: {
            "file:Cargo.lock": "1".repeat(64),
            "file:run.sh": `${"2".repeat(64)}+x`,
            "param:cargoArgs": '["--locked"]',
            "upstream:rust-base": "3".repeat(64),
            "image:FROM debian:trixie": `sha256:${"4".repeat(64)}`,
            "image:COPY --from busybox:1.36": `sha256:${"6".repeat(64)}`,
        },
        provenance: { source: "https://git.example.com/acme/app.git", revision: "a".repeat(40), created: "2026-11-30T10:00:00Z" },
    };
}

describe("SPDX document", function () {
    this.timeout(60_000);
    const doc: any = spdxDocument(subject(), { debs: installedPackages(STATUS), crates: externalCrates(LOCK) });

    it("is valid SPDX 2.3 to pyspdxtools", () => {
        assert.deepEqual(validateSpdx(doc), []);
        assert.equal(doc.spdxVersion, "SPDX-2.3");
    });

    it("pyspdxtools is a real check: a broken document fails it", () => {
        assert.ok(validateSpdx({ ...doc, spdxVersion: undefined }).length > 0, "no spdxVersion");
        const dangling = { ...doc, relationships: [...doc.relationships, { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: "SPDXRef-nowhere" }] };
        assert.ok(validateSpdx(dangling).some((l) => l.includes("SPDXRef-nowhere")), "a relationship to nothing");
        const sha1less = { ...doc, files: [{ SPDXID: "SPDXRef-f", fileName: "./f", checksums: [{ algorithm: "SHA256", checksumValue: "1".repeat(64) }] }] };
        assert.ok(validateSpdx(sha1less).some((l) => /SHA1/.test(l)), "an SPDX File without its SHA1");
    });

    it("lists the Debian packages, the crates, the upstream, the external images and the input files", () => {
        assert.equal(doc.creationInfo.created, "2026-11-30T10:00:00Z", "the commit's time");
        const byName = (n: string) => doc.packages.filter((p: any) => p.name === n);
        assert.equal(doc.packages.filter((p: any) => p.externalRefs?.[0]?.referenceLocator.startsWith("pkg:deb/")).length, installedPackages(STATUS).length);
        assert.deepEqual(byName("itoa")[0].checksums, [{ algorithm: "SHA256", checksumValue: "ab".repeat(32) }]);
        assert.equal(byName("itoa")[0].externalRefs[0].referenceLocator, "pkg:cargo/itoa@1.0.15");
        assert.equal(byName("rust-base")[0].versionInfo, "3".repeat(64));
        assert.equal(byName("debian:trixie")[0].versionInfo, `sha256:${"4".repeat(64)}`);
        assert.deepEqual(doc.packages.filter((p: any) => p.primaryPackagePurpose === "FILE").map((p: any) => p.packageFileName), ["./Cargo.lock", "./run.sh"]);
        const root = doc.documentDescribes[0];
        const rel = (type: string, from: string, to: string) => doc.relationships.some((r: any) => r.relationshipType === type && r.spdxElementId === from && r.relatedSpdxElement === to);
        assert.ok(rel("DESCENDANT_OF", root, byName("debian:trixie")[0].SPDXID), "built FROM the image");
        assert.ok(rel("BUILD_DEPENDENCY_OF", byName("busybox:1.36")[0].SPDXID, root), "copied from the image");
    });

    it("an epoch's colon is percent-encoded in a Debian package's purl", () => {
        const one: any = spdxDocument(subject(), { debs: [{ name: "epoch-tool", version: "1:2.0-1+b1", architecture: "amd64" }] });
        assert.equal(one.packages.find((p: any) => p.name === "epoch-tool").externalRefs[0].referenceLocator, "pkg:deb/debian/epoch-tool@1%3A2.0-1%2Bb1?arch=amd64");
    });

    it("the same artifact, key and commit give the same bytes; another key another namespace", () => {
        const parts = { debs: installedPackages(STATUS) };
        assert.deepEqual(sbomBytes(spdxDocument(subject(), parts)), sbomBytes(spdxDocument(subject(), parts)));
        const other: any = spdxDocument({ ...subject(), key: "e".repeat(64) }, parts);
        assert.notEqual(other.documentNamespace, (spdxDocument(subject(), parts) as any).documentNamespace);
    });
});
