// A small client of the OCI distribution API: just what a content-keyed cache needs.
// (No maintained npm library covers push with bearer auth without a daemon.)
import * as fs from "fs";
import { Readable } from "stream";
import { createHash } from "crypto";
import { WarmrunError } from "../core/errors";
import { digestOf, MANIFEST_ACCEPT, MEDIA } from "./manifest";
import { lookupCredentials, RegistryCredentials, STACK_CONFIG_SOURCE } from "./credentials";

const HOST = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?`;
const PATH_COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const TAG = String.raw`[\w][\w.-]{0,127}`;
const REPOSITORY_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const PREFIX_RE = new RegExp(`^(${HOST})(?:/(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*))?$`);

export interface RegistryPrefix {
    /** host[:port] */
    host: string;
    /** Repository namespace under the host, possibly empty. */
    namespace: string;
}

/** Parses `host[:port][/namespace]`, the form of the `warmrun:registry` setting. */
export function parseRegistryPrefix(value: string): RegistryPrefix | undefined {
    const m = PREFIX_RE.exec(value);
    if (!m) return undefined;
    // A bare single word would be a Docker Hub namespace; warmrun wants an explicit host.
    if (!m[1].includes(".") && !m[1].includes(":") && m[1] !== "localhost") return undefined;
    return { host: m[1], namespace: m[2] ?? "" };
}

export function isValidRepository(name: string): boolean {
    return REPOSITORY_RE.test(name) && name.length <= 255;
}

export function isValidTag(tag: string): boolean {
    return TAG_RE.test(tag);
}

/** Loopback registries speak plain HTTP unless told otherwise. */
export function defaultInsecure(host: string): boolean {
    return /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host);
}

/** What to do about a registry that does not answer: start a loopback one on its own port. */
export function unreachableHint(host: string): string {
    const port = /^(?:127\.\d+\.\d+\.\d+|localhost):(\d+)$/.exec(host)?.[1];
    return port
        ? `start the local registry on port ${port} (\`warmrun up\` starts it; or \`npx warmrun registry start ${port}\`, in a warmrun checkout \`npm run registry -- ${port}\`), or point warmrun:registry at a reachable registry`
        : "check the host name and the network (proxy, firewall), or point warmrun:registry at a reachable registry";
}

export interface RegistryConnection {
    host: string;
    insecure: boolean;
    username?: string;
    password?: string;
}

export interface Manifest {
    digest: string;
    mediaType: string;
    body: Buffer;
    json: any;
}

/** Parses `Bearer realm="...",service="...",scope="..."`. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
    const space = header.indexOf(" ");
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const params: Record<string, string> = {};
    const re = /([a-zA-Z_]+)="([^"]*)"/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(header)) !== null) params[m[1]] = m[2];
    return { scheme, params };
}

/** A request the registry answered with an error status (the body holds its error codes). */
export class RegistryRequestError extends WarmrunError {
    constructor(message: string, readonly status: number, readonly body: string) {
        super(message);
    }
}

export class RegistryClient {
    private tokens = new Map<string, string>();
    private creds?: Promise<RegistryCredentials | undefined>;
    private acceptedBasic?: string;
    /** Requests made, by kind, so callers and tests can see what a run cost. */
    readonly calls: Record<string, number> = {};

    constructor(readonly conn: RegistryConnection) {}

    get baseUrl(): string {
        return `${this.conn.insecure ? "http" : "https"}://${this.conn.host}`;
    }

    /**
     * The stack config's credentials, else those the ecosystem keeps for this host
     * (oci/credentials.ts), looked up once, at the first challenge.
     */
    credentials(): Promise<RegistryCredentials | undefined> {
        if (this.conn.username !== undefined && this.conn.password !== undefined) {
            return Promise.resolve({ username: this.conn.username, password: this.conn.password, source: STACK_CONFIG_SOURCE });
        }
        return (this.creds ??= lookupCredentials(this.conn.host));
    }

    private static basic(creds: RegistryCredentials | undefined): string | undefined {
        if (creds?.username === undefined || creds.password === undefined) return undefined;
        return "Basic " + Buffer.from(`${creds.username}:${creds.password}`).toString("base64");
    }

    /** Sent up front: the stack config's credentials, or found ones a basic challenge accepted. */
    private basicAuth(): string | undefined {
        if (this.acceptedBasic) return this.acceptedBasic;
        if (this.conn.username === undefined || this.conn.password === undefined) return undefined;
        return RegistryClient.basic({ username: this.conn.username, password: this.conn.password, source: STACK_CONFIG_SOURCE });
    }

    private rejected(creds: RegistryCredentials | undefined, what: string): WarmrunError {
        if (!creds) {
            return new WarmrunError(
                `registry ${this.conn.host} ${what}, and no credentials for it were found: set warmrun:registryUsername and the secret ` +
                    `warmrun:registryPassword, or log in with \`docker login ${this.conn.host}\` / \`podman login ${this.conn.host}\``,
            );
        }
        const fix = creds.source === STACK_CONFIG_SOURCE ? "check warmrun:registryUsername and warmrun:registryPassword" : `log in again (\`docker login ${this.conn.host}\`) or fix that entry`;
        return new WarmrunError(`registry ${this.conn.host} ${what}: the credentials from ${creds.source} were rejected: ${fix}`);
    }

    private async fetchToken(challenge: Record<string, string>, scope: string): Promise<string> {
        const url = new URL(challenge.realm);
        const creds = await this.credentials();
        let res: Response;
        if (creds?.identityToken) {
            // OAuth2 refresh-token grant, the way Docker uses an identity token.
            const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken, client_id: "warmrun", scope: challenge.scope ?? scope });
            if (challenge.service) form.set("service", challenge.service);
            res = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString() });
        } else {
            if (challenge.service) url.searchParams.set("service", challenge.service);
            url.searchParams.set("scope", challenge.scope ?? scope);
            const headers: Record<string, string> = {};
            const basic = RegistryClient.basic(creds);
            if (basic) headers.authorization = basic;
            res = await fetch(url, { headers });
        }
        if (!res.ok) throw this.rejected(creds, `refused a token (${res.status}) for ${scope}`);
        const body: any = await res.json();
        return body.token ?? body.access_token;
    }

    private async request(
        method: string,
        pathOrUrl: string,
        scope: string,
        init: { headers?: Record<string, string>; body?: Buffer | (() => Readable) } = {},
    ): Promise<Response> {
        const url = pathOrUrl.startsWith("http") ? pathOrUrl : this.baseUrl + pathOrUrl;
        this.calls[method] = (this.calls[method] ?? 0) + 1;
        const send = async (auth?: string): Promise<Response> => {
            const headers: Record<string, string> = { ...(init.headers ?? {}) };
            if (auth) headers.authorization = auth;
            const body = typeof init.body === "function" ? (Readable.toWeb(init.body()) as any) : init.body;
            try {
                return await fetch(url, { method, headers, body, redirect: "follow", duplex: "half" } as any);
            } catch (e: any) {
                const cause = e?.cause?.code ?? e?.cause?.message ?? e?.message;
                throw new WarmrunError(`registry ${this.conn.host} is unreachable (${cause}): ${unreachableHint(this.conn.host)}`);
            }
        };
        const cached = this.tokens.get(scope);
        let res = await send(cached ? `Bearer ${cached}` : this.basicAuth());
        if (res.status === 401) {
            // No credentials yet, or a bearer token that expired: answer the challenge (again).
            const challenge = parseChallenge(res.headers.get("www-authenticate") ?? "");
            await res.arrayBuffer();
            let creds: RegistryCredentials | undefined;
            if (challenge.scheme === "bearer" && challenge.params.realm) {
                const token = await this.fetchToken(challenge.params, scope);
                this.tokens.set(scope, token);
                res = await send(`Bearer ${token}`);
                creds = await this.credentials();
            } else if (challenge.scheme === "basic") {
                creds = await this.credentials();
                const basic = RegistryClient.basic(creds);
                if (basic) res = await send(basic);
                if (basic && res.status !== 401) this.acceptedBasic = basic;
            }
            if (res.status === 401) throw this.rejected(creds, `refused ${method} ${new URL(url).pathname} (401)`);
        }
        return res;
    }

    private async fail(res: Response, what: string): Promise<never> {
        const text = await res.text().catch(() => "");
        throw new RegistryRequestError(`registry ${this.conn.host}: ${what} failed with ${res.status}: ${text.slice(0, 300)}`, res.status, text);
    }

    /** The digest a tag points to, or undefined when the tag does not exist. */
    async resolveTag(repo: string, tag: string): Promise<string | undefined> {
        const res = await this.request("HEAD", `/v2/${repo}/manifests/${tag}`, `repository:${repo}:pull`, {
            headers: { accept: MANIFEST_ACCEPT },
        });
        if (res.status === 404) return undefined;
        if (!res.ok) return this.fail(res, `HEAD ${repo}:${tag}`);
        const digest = res.headers.get("docker-content-digest");
        if (digest) return digest;
        return (await this.getManifest(repo, tag))?.digest;
    }

    async getManifest(repo: string, reference: string): Promise<Manifest | undefined> {
        const res = await this.request("GET", `/v2/${repo}/manifests/${reference}`, `repository:${repo}:pull`, {
            headers: { accept: MANIFEST_ACCEPT },
        });
        if (res.status === 404) return undefined;
        if (!res.ok) return this.fail(res, `GET manifest ${repo}:${reference}`);
        const body = Buffer.from(await res.arrayBuffer());
        const json = JSON.parse(body.toString("utf8"));
        return {
            digest: digestOf(body),
            mediaType: json.mediaType ?? res.headers.get("content-type") ?? "",
            body,
            json,
        };
    }

    async blobExists(repo: string, digest: string): Promise<boolean> {
        const res = await this.request("HEAD", `/v2/${repo}/blobs/${digest}`, `repository:${repo}:pull`);
        if (res.status === 404) return false;
        if (!res.ok) return this.fail(res, `HEAD blob ${digest}`);
        return true;
    }

    /** Uploads a blob unless the registry has it; returns whether bytes were sent. */
    async pushBlob(repo: string, blob: { digest: string; size: number; data?: Buffer; file?: string }): Promise<boolean> {
        if (await this.blobExists(repo, blob.digest)) return false;
        const scope = `repository:${repo}:pull,push`;
        const start = await this.request("POST", `/v2/${repo}/blobs/uploads/`, scope);
        if (start.status !== 202) return this.fail(start, `starting the upload of ${blob.digest}`);
        await start.arrayBuffer();
        const location = new URL(start.headers.get("location") ?? "", this.baseUrl);
        location.searchParams.set("digest", blob.digest);
        const body = blob.data ?? (() => fs.createReadStream(blob.file as string, { highWaterMark: 1 << 20 }));
        const put = await this.request("PUT", location.toString(), scope, {
            headers: { "content-type": "application/octet-stream", "content-length": String(blob.size) },
            body,
        });
        if (put.status !== 201) return this.fail(put, `uploading ${blob.digest}`);
        await put.arrayBuffer();
        return true;
    }

    async putManifest(repo: string, reference: string, mediaType: string, body: Buffer): Promise<string> {
        const res = await this.request("PUT", `/v2/${repo}/manifests/${reference}`, `repository:${repo}:pull,push`, {
            headers: { "content-type": mediaType },
            body,
        });
        if (res.status !== 201) return this.fail(res, `PUT manifest ${repo}:${reference}`);
        await res.arrayBuffer();
        return res.headers.get("docker-content-digest") ?? digestOf(body);
    }

    async deleteManifest(repo: string, digest: string): Promise<void> {
        const res = await this.request("DELETE", `/v2/${repo}/manifests/${digest}`, `repository:${repo}:delete`);
        if (res.status !== 202 && res.status !== 404) return this.fail(res, `DELETE ${repo}@${digest}`);
        await res.arrayBuffer();
    }

    /** Every tag, following the registry's pages (Link: <...>; rel="next"). */
    async listTags(repo: string): Promise<string[]> {
        const tags: string[] = [];
        let next: string | undefined = `/v2/${repo}/tags/list`;
        while (next) {
            const res = await this.request("GET", next, `repository:${repo}:pull`);
            if (res.status === 404) return tags;
            if (!res.ok) return this.fail(res, `listing tags of ${repo}`);
            const body: any = await res.json();
            tags.push(...(body.tags ?? []));
            const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get("link") ?? "");
            next = link ? new URL(link[1], this.baseUrl).toString() : undefined;
        }
        return tags;
    }

    /** Opens a blob for streaming; the caller verifies its digest (see downloadBlob). */
    async openBlob(repo: string, digest: string): Promise<{ body: Readable; size: number }> {
        const res = await this.request("GET", `/v2/${repo}/blobs/${digest}`, `repository:${repo}:pull`);
        if (!res.ok || !res.body) return this.fail(res, `GET blob ${digest}`);
        return { body: Readable.fromWeb(res.body as any), size: Number(res.headers.get("content-length") ?? 0) };
    }

    /** Streams a blob to a file, verifying its digest; returns the bytes written. */
    async downloadBlob(repo: string, digest: string, file: string): Promise<number> {
        const res = await this.request("GET", `/v2/${repo}/blobs/${digest}`, `repository:${repo}:pull`);
        if (!res.ok || !res.body) return this.fail(res, `GET blob ${digest}`);
        const hash = createHash("sha256");
        let bytes = 0;
        const tmp = `${file}.partial`;
        const out = fs.createWriteStream(tmp);
        for await (const chunk of Readable.fromWeb(res.body as any)) {
            hash.update(chunk);
            bytes += chunk.length;
            if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
        }
        await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
        const got = `sha256:${hash.digest("hex")}`;
        if (got !== digest) {
            fs.rmSync(tmp, { force: true });
            throw new WarmrunError(`registry ${this.conn.host}: blob ${digest} arrived as ${got}; nothing was written`);
        }
        fs.renameSync(tmp, file);
        return bytes;
    }

    /** The referrers API's index of manifests whose subject is `digest`, or undefined when the registry has no such API. */
    async getReferrers(repo: string, digest: string): Promise<any | undefined> {
        const res = await this.request("GET", `/v2/${repo}/referrers/${digest}`, `repository:${repo}:pull`, { headers: { accept: MEDIA.ociIndex } });
        if (res.status === 404 || res.status === 405 || res.status === 400) {
            await res.arrayBuffer();
            return undefined;
        }
        if (!res.ok) return this.fail(res, `GET referrers of ${digest}`);
        const type = res.headers.get("content-type") ?? "";
        const body: any = await res.json().catch(() => undefined);
        return type.includes(MEDIA.ociIndex) || body?.mediaType === MEDIA.ociIndex ? body : undefined;
    }
}
