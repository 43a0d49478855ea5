// A small client of the OCI distribution API: just what a content-keyed cache needs.
// (No maintained npm library covers push with bearer auth without a daemon.)
import * as fs from "fs";
import { Readable } from "stream";
import { WarmrunError } from "../core/errors";
import { digestOf, MANIFEST_ACCEPT, MEDIA } from "./manifest";
import { lookupCredentials, RegistryCredentials, STACK_CONFIG_SOURCE } from "./credentials";
import { downloadBlobToFile } from "./blobFile";

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

/** The port of `host[:port]` as written, or undefined when there is none. */
export function portOf(host: string): string | undefined {
    return /:([0-9]+)$/.exec(host)?.[1];
}

/** Whether a port, as written, is one a TCP connection can use (1-65535). */
export function isValidPort(port: string): boolean {
    const n = Number(port);
    return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** Parses `host[:port][/namespace]`, the form of the `warmrun:registry` setting. */
export function parseRegistryPrefix(value: string): RegistryPrefix | undefined {
    const m = PREFIX_RE.exec(value);
    if (!m) return undefined;
    // A bare single word would be a Docker Hub namespace; warmrun wants an explicit host.
    if (!m[1].includes(".") && !m[1].includes(":") && m[1] !== "localhost") return undefined;
    const port = portOf(m[1]);
    if (port !== undefined && !isValidPort(port)) return undefined;
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

/** Why a request could not be sent (fetch's cause), in words, with what to do. */
export function unreachableReason(host: string, cause: string): string {
    if (cause === "bad port") {
        return `registry ${host} is unreachable (bad port: HTTP clients refuse to connect to port ${portOf(host) ?? "?"}, one of the Fetch standard's blocked ports): run the registry on another port`;
    }
    if (cause === "ENOTFOUND" || cause === "EAI_AGAIN") return `registry ${host} is unreachable (${cause}: its host name does not resolve): fix the host in warmrun:registry`;
    if (/SSL|TLS|CERT|EPROTO/i.test(cause)) {
        return `registry ${host}: the TLS connection failed (${cause}): if it speaks plain HTTP, set warmrun:registryInsecure to true; if it uses a private CA, add the CA to the system's trust store`;
    }
    return `registry ${host} is unreachable (${cause}): ${unreachableHint(host)}`;
}

/** fetch's reason for a request that was never answered. */
function causeOf(e: any): string {
    return String(e?.cause?.code ?? e?.cause?.message ?? e?.message);
}

/** The first characters of a body that is not what was asked for, on one line, for a message. */
function glimpse(text: string): string {
    const flat = text.replace(/\s+/g, " ").trim();
    return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat;
}

/** Parses JSON, or undefined. */
function parseJson(text: string): any {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** Whether a parsed body is an OCI (or Docker v2) image manifest or index. */
export function isManifest(json: any): boolean {
    return typeof json === "object" && json !== null && json.schemaVersion === 2 && (Array.isArray(json.layers) || Array.isArray(json.manifests));
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
    private probed?: Promise<void>;
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

    private notARegistry(what: string, res: Response, body: string): WarmrunError {
        const type = res.headers.get("content-type")?.split(";")[0] || "no content type";
        return new WarmrunError(
            `registry ${this.conn.host} does not answer as an OCI registry: ${what} gave ${res.status} ${type}` +
                `${body ? ` ("${glimpse(body)}")` : ""}: check that warmrun:registry names an OCI distribution registry (host[:port][/namespace])`,
        );
    }

    /**
     * `GET /v2/` once per client, unauthenticated: a registry answers 200, or 401 when it wants
     * credentials; anything else is a server that is not one (a web server's 404, a proxy's 502).
     */
    private probe(): Promise<void> {
        this.probed ??= (async () => {
            let res: Response;
            try {
                res = await fetch(`${this.baseUrl}/v2/`, { redirect: "follow" });
            } catch (e) {
                throw new WarmrunError(unreachableReason(this.conn.host, causeOf(e)));
            }
            const body = await res.text().catch(() => "");
            if (res.status !== 200 && res.status !== 401) throw this.notARegistry("GET /v2/", res, body);
        })();
        return this.probed;
    }

    private async fetchToken(challenge: Record<string, string>, scope: string): Promise<string> {
        const url = new URL(challenge.realm);
        const creds = await this.credentials();
        let res: Response;
        try {
            res = await this.tokenRequest(url, challenge, scope, creds);
        } catch (e) {
            throw new WarmrunError(`registry ${this.conn.host}: its token service ${url.origin} is unreachable (${causeOf(e)}): check the registry's auth settings and the network`);
        }
        const text = await res.text().catch(() => "");
        if (res.status === 401 || res.status === 403) throw this.rejected(creds, `refused a token (${res.status}) for ${scope}`);
        if (!res.ok) throw new WarmrunError(`registry ${this.conn.host}: its token service answered ${res.status}${text ? ` ("${glimpse(text)}")` : ""}: check the registry's auth settings, or try again later`);
        const body = parseJson(text);
        const token = body?.token ?? body?.access_token;
        if (typeof token !== "string" || token === "") throw this.notARegistry("its token service", res, text);
        return token;
    }

    /** The token request: an OAuth2 refresh-token grant for an identity token, else a GET with basic credentials. */
    private tokenRequest(url: URL, challenge: Record<string, string>, scope: string, creds: RegistryCredentials | undefined): Promise<Response> {
        if (creds?.identityToken) {
            // OAuth2 refresh-token grant, the way Docker uses an identity token.
            const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken, client_id: "warmrun", scope: challenge.scope ?? scope });
            if (challenge.service) form.set("service", challenge.service);
            return fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString() });
        }
        if (challenge.service) url.searchParams.set("service", challenge.service);
        url.searchParams.set("scope", challenge.scope ?? scope);
        const headers: Record<string, string> = {};
        const basic = RegistryClient.basic(creds);
        if (basic) headers.authorization = basic;
        return fetch(url, { headers });
    }

    private async request(
        method: string,
        pathOrUrl: string,
        scope: string,
        init: { headers?: Record<string, string>; body?: Buffer | (() => Readable) } = {},
    ): Promise<Response> {
        const url = pathOrUrl.startsWith("http") ? pathOrUrl : this.baseUrl + pathOrUrl;
        await this.probe();
        this.calls[method] = (this.calls[method] ?? 0) + 1;
        const send = async (auth?: string): Promise<Response> => {
            const headers: Record<string, string> = { ...(init.headers ?? {}) };
            if (auth) headers.authorization = auth;
            const body = typeof init.body === "function" ? (Readable.toWeb(init.body()) as any) : init.body;
            try {
                return await fetch(url, { method, headers, body, redirect: "follow", duplex: "half" } as any);
            } catch (e) {
                throw new WarmrunError(unreachableReason(this.conn.host, causeOf(e)));
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

    /** A refusal in words: the registry's own error codes, a denial's user, or what a non-registry sent. */
    private async fail(res: Response, what: string): Promise<never> {
        const text = await res.text().catch(() => "");
        const json = parseJson(text);
        const errors: string = Array.isArray(json?.errors) ? json.errors.map((e: any) => `${e?.code ?? "ERROR"}: ${e?.message ?? ""}`.trim()).join("; ") : "";
        if (res.status === 403) {
            const creds = await this.credentials().catch(() => undefined);
            const who = creds?.username ? `user "${creds.username}" (${creds.source})` : creds ? creds.source : "anonymous access";
            throw new RegistryRequestError(`registry ${this.conn.host} denied ${what} (403${errors ? `, ${errors}` : ""}) to ${who}: grant it pull and push on the repository, or use other credentials`, res.status, text);
        }
        if (!errors && /^\s*</.test(text)) throw this.notARegistry(what, res, text);
        throw new RegistryRequestError(`registry ${this.conn.host}: ${what} failed with ${res.status}${errors ? ` (${errors})` : text ? ` ("${glimpse(text)}")` : ""}`, res.status, text);
    }

    /** The digest a tag points to, or undefined when the tag does not exist. */
    async resolveTag(repo: string, tag: string): Promise<string | undefined> {
        const res = await this.request("HEAD", `/v2/${repo}/manifests/${tag}`, `repository:${repo}:pull`, {
            headers: { accept: MANIFEST_ACCEPT },
        });
        if (res.status === 404) return undefined;
        if (!res.ok) return this.fail(res, `HEAD ${repo}:${tag}`);
        const digest = res.headers.get("docker-content-digest");
        if (digest && /^sha256:[0-9a-f]{64}$/.test(digest)) return digest;
        // No digest header (or not one): the manifest itself says, if it is one.
        return (await this.getManifest(repo, tag))?.digest;
    }

    async getManifest(repo: string, reference: string): Promise<Manifest | undefined> {
        const res = await this.request("GET", `/v2/${repo}/manifests/${reference}`, `repository:${repo}:pull`, {
            headers: { accept: MANIFEST_ACCEPT },
        });
        if (res.status === 404) return undefined;
        if (!res.ok) return this.fail(res, `GET manifest ${repo}:${reference}`);
        const body = Buffer.from(await res.arrayBuffer());
        const json = parseJson(body.toString("utf8"));
        if (!isManifest(json)) throw this.notARegistry(`GET manifest ${repo}:${reference}`, res, body.toString("utf8"));
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
            const text = await res.text();
            const body = parseJson(text);
            if (typeof body !== "object" || body === null) throw this.notARegistry(`listing tags of ${repo}`, res, text);
            if (Array.isArray(body.tags)) tags.push(...body.tags);
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

    /** Streams a blob to a file, verifying its digest (nothing is left behind on a mismatch); returns the bytes written. */
    async downloadBlob(repo: string, digest: string, file: string): Promise<number> {
        return downloadBlobToFile(this, repo, digest, file);
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
