// CloudInitIso's plan: reads the certificate, key and config files (a missing one is a problem
// naming its field), renders the seed and keys it by the rendered content's digests.
import * as fs from "fs";
import * as path from "path";
import { FileEntry, KeyMaterial, computeKey, sha256Hex, shortKey } from "../../core/keys";
import { hashFileSet, pathProblem } from "../../core/fileset";
import { WarmrunError } from "../../core/errors";
import { Plan, PlanContext } from "../../core/kind";
import { parseExtraUserData, renderSeed, SeedFile, SeedInputs } from "./seed";
import { CloudInitFields, CLOUD_INIT_KIND } from "./fields";
import type { IsoBuild } from "./build";

export const CLOUD_INIT_RECIPE_VERSION = 1;

function readLocal(where: string, file: unknown, projectRoot: string): string {
    if (typeof file !== "string") throw new WarmrunError(`${where} must be the path of a file, relative to the project`);
    const abs = path.resolve(projectRoot, file);
    const problem = pathProblem(abs, file, "file");
    if (problem) throw new WarmrunError(`${where}: ${problem}`);
    return fs.readFileSync(abs, "utf8");
}

function guestPath(where: string, p: string): string {
    if (!p.startsWith("/") || p.split("/").includes("..")) throw new WarmrunError(`${where}: "${p}" must be an absolute path in the guest, e.g. /etc/pki/agent.crt`);
    return p;
}

/** The seed's inputs from the artifact's fields; every problem names its field. */
export async function seedInputs(name: string, fields: CloudInitFields, projectRoot: string, hashExtra: (dir: string) => Promise<FileEntry[]>): Promise<SeedInputs> {
    const where = `warmrun:artifacts.${name}`;
    const files: SeedFile[] = [];
    for (const [field, permissions] of [["certificates", "0644"], ["keys", "0600"]] as const) {
        for (const [guest, local] of Object.entries(fields[field] ?? {})) {
            const w = `${where}.${field}[${JSON.stringify(guest)}]`;
            files.push({ path: guestPath(w, guest), content: readLocal(w, local, projectRoot), permissions });
        }
    }
    for (const [guest, content] of Object.entries(fields.secretFiles ?? {})) {
        const w = `${where}.secretFiles[${JSON.stringify(guest)}]`;
        if (typeof content !== "string") throw new WarmrunError(`${w} must be the file's content as a string`);
        files.push({ path: guestPath(w, guest), content, permissions: "0600" });
    }
    const caCertificates = fields.caCertificate ? [readLocal(`${where}.caCertificate`, fields.caCertificate, projectRoot)] : [];
    let extra: Record<string, unknown> = {};
    if (fields.userDataFile) extra = parseExtraUserData(readLocal(`${where}.userDataFile`, fields.userDataFile, projectRoot), `${where}.userDataFile (${fields.userDataFile})`);
    if (fields.userData) extra = { ...extra, ...parseExtraUserData(fields.userData, `${where}.userData`) };
    if (fields.networkConfig && (fields.networkConfig as any).version !== 2) {
        throw new WarmrunError(`${where}.networkConfig must be network-config version 2: add version: 2 (and ethernets: ...)`);
    }
    if (fields.rpms?.some((r) => r.startsWith("-"))) throw new WarmrunError(`${where}.rpms: package names or URLs, not options`);
    const badPackage = fields.packages?.find((p) => typeof p !== "string" || !/^[A-Za-z0-9][A-Za-z0-9.+_:~=-]*$/.test(p));
    if (badPackage !== undefined) throw new WarmrunError(`${where}.packages: "${badPackage}" is not a package name (e.g. curl, or curl=8.14.1-2 for a version); local files and URLs go in rpms or runcmd`);
    return {
        caCertificates,
        files,
        ...(fields.agentConfig ? { agentConfig: { path: guestPath(`${where}.agentConfigPath`, fields.agentConfigPath ?? "/etc/flightctl/config.yaml"), value: fields.agentConfig } } : {}),
        ...(fields.registries ? { registries: fields.registries } : {}),
        rpms: fields.rpms ?? [],
        ...(fields.packages?.length ? { packages: fields.packages } : {}),
        ...(fields.service ? { service: fields.service } : {}),
        ...(fields.hostname ? { hostname: fields.hostname } : {}),
        ...(fields.networkConfig ? { networkConfig: fields.networkConfig } : {}),
        extraUserData: extra,
        extraFiles: fields.extraDir ? await hashExtra(fields.extraDir) : [],
    };
}

/** The key covers what goes on the ISO, by digest only: the rendered files and the extra files. */
export function seedKeyMaterial(rendered: { userData: string; metaData: string; networkConfig: string }, extraFiles: FileEntry[], upstream: Record<string, string>): KeyMaterial {
    return {
        kind: CLOUD_INIT_KIND,
        recipeVersion: CLOUD_INIT_RECIPE_VERSION,
        files: [
            { path: "user-data", sha256: sha256Hex(rendered.userData), executable: false },
            { path: "meta-data", sha256: sha256Hex(rendered.metaData), executable: false },
            { path: "network-config", sha256: sha256Hex(rendered.networkConfig), executable: false },
            ...extraFiles.map((f) => ({ ...f, path: `config/${f.path}` })),
        ],
        params: {},
        upstream,
    };
}

/** The ISO's file: `<cacheDir>/cloud-init/<name>-<key>.iso`. */
export function isoPath(cacheDir: string, name: string, key: string): string {
    return path.join(cacheDir, "cloud-init", `${name}-${shortKey(key)}.iso`);
}

export interface IsoPlanBuild {
    iso: IsoBuild;
    path: string;
}

export async function plan(fields: CloudInitFields, ctx: PlanContext): Promise<Plan<IsoPlanBuild>> {
    const seed = await seedInputs(ctx.name, fields, ctx.projectRoot, (dir) => hashFileSet({ root: path.resolve(ctx.projectRoot, dir) }, ctx.statCache));
    const rendered = renderSeed(seed);
    const material = seedKeyMaterial(rendered, seed.extraFiles, ctx.upstream);
    const iso: IsoBuild = {
        userData: rendered.userData,
        metaData: rendered.metaData,
        networkConfig: rendered.networkConfig,
        extraFiles: seed.extraFiles.map((f) => ({ path: f.path, from: path.resolve(ctx.projectRoot, fields.extraDir!, f.path) })),
        push: fields.push === true,
    };
    // A seed has no alias tags: its key tag is the one place it is pushed to.
    return { material, build: { iso, path: isoPath(ctx.cacheDir, ctx.name, computeKey(material)) }, naming: { aliasTags: [] } };
}
