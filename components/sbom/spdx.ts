// An SPDX 2.3 JSON document for one artifact: the artifact itself, the Debian packages of its tree,
// the Rust crates it compiles, and what warmrun built it from (the input files by sha256, the
// upstream artifacts by key, the external images by digest). Deterministic: the same artifact,
// key and commit give the same document (its time is the commit's, its namespace the key's).
import { createHash } from "crypto";
import { Provenance } from "../oci/provenance";
import { DebPackage } from "./dpkg";
import { Crate } from "./cargoLock";

export const SPDX_VERSION = "SPDX-2.3";
export const SBOM_TITLE = "sbom.spdx.json";
/** The media type (and OCI artifact type) of an SPDX JSON document. */
export const SPDX_JSON = "application/spdx+json";
/** The tool in creationInfo.creators. */
export const CREATOR = "Tool: warmrun";

/** What a builder found in what it built. */
export interface SbomParts {
    /** Installed Debian packages of the tree (var/lib/dpkg/status). */
    debs?: DebPackage[];
    /** External crates compiled (a deps image's Cargo.lock). */
    crates?: Crate[];
}

export interface SbomSubject {
    /** The artifact's name in the stack. */
    name: string;
    kind: string;
    key: string;
    /** host/repository it is published under. */
    repository: string;
    /** Digest of the manifest the SBOM is attached to. */
    digest: string;
    /** The artifact's input summary (file:, param:, upstream:, image: entries; components/keys.ts). */
    inputs: Record<string, string>;
    provenance?: Provenance;
}

const NOASSERTION = "NOASSERTION";

/** A purl component: percent-encoded as the package-url spec asks (':' in Debian epochs among them). */
function purlPart(s: string): string {
    return encodeURIComponent(s).replace(/%2F/g, "/");
}

function uuidOf(text: string): string {
    const h = createHash("sha256").update(text).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** SPDX identifiers allow letters, digits, `.` and `-` after `SPDXRef-`; equal ones get a suffix. */
function idMaker(): (hint: string) => string {
    const used = new Set<string>();
    return (hint) => {
        const base = `SPDXRef-${hint.replace(/[^A-Za-z0-9.-]+/g, "-")}`;
        let id = base;
        for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
        used.add(id);
        return id;
    };
}

function personOrOrg(maintainer: string): string {
    const m = /^(.*?)\s*<([^>]*)>\s*$/.exec(maintainer);
    const name = (m ? m[1] : maintainer).replace(/[()]/g, "").trim();
    return m ? `Organization: ${name} (${m[2]})` : `Organization: ${name}`;
}

/** The image reference of an `image:` input entry (`image:FROM debian:trixie` -> debian:trixie). */
function imageRefOf(entry: string): { use: string; ref: string } {
    const rest = entry.slice("image:".length);
    const space = rest.lastIndexOf(" ");
    return { use: rest.slice(0, space), ref: rest.slice(space + 1) };
}

export function spdxDocument(subject: SbomSubject, parts: SbomParts): Record<string, unknown> {
    const id = idMaker();
    const root = id("Artifact");
    const [host, ...repoPath] = subject.repository.split("/");
    const packages: Record<string, unknown>[] = [];
    let inputFiles = 0;
    const relationships: Record<string, unknown>[] = [{ spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: root }];
    const params = Object.entries(subject.inputs)
        .filter(([k]) => k.startsWith("param:"))
        .map(([k, v]) => `${k.slice(6)}=${v}`)
        .sort();
    packages.push({
        SPDXID: root,
        name: subject.name,
        versionInfo: subject.key,
        downloadLocation: NOASSERTION,
        filesAnalyzed: false,
        primaryPackagePurpose: "CONTAINER",
        supplier: NOASSERTION,
        checksums: [{ algorithm: "SHA256", checksumValue: subject.digest.replace(/^sha256:/, "") }],
        externalRefs: [
            {
                referenceCategory: "PACKAGE-MANAGER",
                referenceType: "purl",
                referenceLocator: `pkg:oci/${purlPart(repoPath[repoPath.length - 1] ?? subject.name)}@${purlPart(subject.digest)}?repository_url=${purlPart(`${host}/${repoPath.join("/")}`)}`,
            },
        ],
        comment: `warmrun ${subject.kind} ${subject.name}, key ${subject.key}${params.length ? `; parameters: ${params.join(", ")}` : ""}`,
        ...(subject.provenance?.source || subject.provenance?.revision
            ? { sourceInfo: `built from ${subject.provenance.source ?? "a checkout"}${subject.provenance.revision ? ` at ${subject.provenance.revision}` : ""}` }
            : {}),
    });

    for (const d of parts.debs ?? []) {
        const pid = id(`deb-${d.name}-${d.architecture}`);
        packages.push({
            SPDXID: pid,
            name: d.name,
            versionInfo: d.version,
            downloadLocation: NOASSERTION,
            filesAnalyzed: false,
            supplier: d.maintainer ? personOrOrg(d.maintainer) : NOASSERTION,
            ...(d.homepage ? { homepage: d.homepage } : {}),
            ...(d.source ? { sourceInfo: `built from the Debian source package ${d.source}` } : {}),
            externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: `pkg:deb/debian/${purlPart(d.name)}@${purlPart(d.version)}?arch=${purlPart(d.architecture)}` }],
        });
        relationships.push({ spdxElementId: root, relationshipType: "CONTAINS", relatedSpdxElement: pid });
    }
    for (const c of parts.crates ?? []) {
        const pid = id(`crate-${c.name}-${c.version}`);
        packages.push({
            SPDXID: pid,
            name: c.name,
            versionInfo: c.version,
            downloadLocation: NOASSERTION,
            filesAnalyzed: false,
            sourceInfo: `Cargo.lock source ${c.source}`,
            ...(c.checksum ? { checksums: [{ algorithm: "SHA256", checksumValue: c.checksum }] } : {}),
            externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: `pkg:cargo/${purlPart(c.name)}@${purlPart(c.version)}` }],
        });
        relationships.push({ spdxElementId: root, relationshipType: "CONTAINS", relatedSpdxElement: pid });
    }
    for (const [entry, value] of Object.entries(subject.inputs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (entry.startsWith("file:")) {
            // A package of one file (SPDX 2.3's FILE purpose): the key knows its sha256 only, and an
            // SPDX File would need its SHA1.
            const fid = id(`Input-${++inputFiles}`);
            packages.push({
                SPDXID: fid,
                name: entry.slice(5),
                packageFileName: `./${entry.slice(5)}`,
                downloadLocation: NOASSERTION,
                filesAnalyzed: false,
                primaryPackagePurpose: "FILE",
                checksums: [{ algorithm: "SHA256", checksumValue: value.replace(/\+x$/, "") }],
                comment: `an input file of the key${value.endsWith("+x") ? " (executable)" : ""}`,
            });
            relationships.push({ spdxElementId: root, relationshipType: "GENERATED_FROM", relatedSpdxElement: fid });
        } else if (entry.startsWith("upstream:")) {
            const uid = id(`Upstream-${entry.slice(9)}`);
            packages.push({ SPDXID: uid, name: entry.slice(9), versionInfo: value, downloadLocation: NOASSERTION, filesAnalyzed: false, comment: "a warmrun artifact of the same stack; versionInfo is its key" });
            relationships.push({ spdxElementId: uid, relationshipType: "BUILD_DEPENDENCY_OF", relatedSpdxElement: root });
        } else if (entry.startsWith("image:")) {
            const { use, ref } = imageRefOf(entry);
            const iid = id(`Image-${ref}`);
            packages.push({
                SPDXID: iid,
                name: ref,
                versionInfo: value,
                downloadLocation: NOASSERTION,
                filesAnalyzed: false,
                comment: `external image of ${use}, pinned by digest at preview`,
                checksums: [{ algorithm: "SHA256", checksumValue: value.replace(/^sha256:/, "") }],
            });
            relationships.push(use === "FROM" ? { spdxElementId: root, relationshipType: "DESCENDANT_OF", relatedSpdxElement: iid } : { spdxElementId: iid, relationshipType: "BUILD_DEPENDENCY_OF", relatedSpdxElement: root });
        }
    }
    return {
        spdxVersion: SPDX_VERSION,
        dataLicense: "CC0-1.0",
        SPDXID: "SPDXRef-DOCUMENT",
        name: `${subject.name}-${subject.key.slice(0, 24)}`,
        documentNamespace: `urn:uuid:${uuidOf(`${subject.kind}:${subject.name}:${subject.key}:${subject.digest}`)}`,
        creationInfo: { created: subject.provenance?.created ?? "1970-01-01T00:00:00Z", creators: [CREATOR] },
        documentDescribes: [root],
        packages,
        relationships,
    };
}
