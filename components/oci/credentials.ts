// Registry credentials as the container ecosystem keeps them, for registries the stack config
// gives none for: Docker's config.json (credHelpers, credsStore, auths), then the containers
// auth.json files. Read at run time, kept in memory only; messages name where credentials came
// from, never what they are.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawn } from "child_process";
import { WarmrunError } from "../core/errors";

export interface RegistryCredentials {
    /** Basic credentials (user and password or token). */
    username?: string;
    password?: string;
    /** An OAuth2 refresh token (Docker's `identitytoken`), exchanged at the token service. */
    identityToken?: string;
    /** Where they came from, e.g. `~/.docker/config.json (credHelpers: docker-credential-ecr-login)`. */
    source: string;
}

/** What `docker-credential-<name> get` answered; undefined when it has nothing for the server. */
export interface HelperAnswer {
    Username?: string;
    Secret?: string;
}

export type HelperRunner = (helper: string, serverUrl: string) => Promise<HelperAnswer | undefined>;

export interface LookupOptions {
    env?: NodeJS.ProcessEnv;
    home?: string;
    /** Runs a credential helper (default: spawns docker-credential-<helper> from PATH). */
    runHelper?: HelperRunner;
}

/** Docker Hub's names for itself: config files key it as https://index.docker.io/v1/. */
const DOCKER_HUB = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** A config file's server key (`https://host/v1/`, `host`, `http://host`) as a bare host[:port]. */
export function serverHost(key: string): string {
    let s = key.trim();
    s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
    s = s.split("/")[0];
    s = s.toLowerCase();
    return DOCKER_HUB.has(s) ? "docker.io" : s;
}

/** The entry of `map` whose key names `host`; an exact key wins over a normalized one. */
function entryFor<T>(map: Record<string, T> | undefined, host: string): { key: string; value: T } | undefined {
    if (!map || typeof map !== "object") return undefined;
    if (Object.prototype.hasOwnProperty.call(map, host)) return { key: host, value: map[host] };
    const want = serverHost(host);
    for (const key of Object.keys(map)) if (serverHost(key) === want) return { key, value: map[key] };
    return undefined;
}

/** The server address a helper is asked for: the config's own key, Docker Hub's URL for the Hub. */
function helperServer(host: string, key?: string): string {
    if (key) return key;
    return serverHost(host) === "docker.io" ? "https://index.docker.io/v1/" : host;
}

function readJson(file: string, name: string): any | undefined {
    const what = "registry credentials file";
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e: any) {
        if (e.code === "ENOENT" || e.code === "ENOTDIR") return undefined;
        throw new WarmrunError(`${what} ${name} cannot be read (${e.code ?? e.message}): fix its permissions or move it away`);
    }
    if (text.trim() === "") return undefined;
    try {
        const json = JSON.parse(text);
        return json && typeof json === "object" ? json : undefined;
    } catch (e: any) {
        throw new WarmrunError(`${what} ${name} is not valid JSON (${e.message}): fix it, or log in again to rewrite it`);
    }
}

/** An `auths` entry: base64 `auth` (user:password), or username/password fields, or an identitytoken. */
export function decodeAuthEntry(entry: any, source: string): RegistryCredentials | undefined {
    if (!entry || typeof entry !== "object") return undefined;
    if (typeof entry.identitytoken === "string" && entry.identitytoken !== "") {
        return { identityToken: entry.identitytoken, ...(typeof entry.username === "string" && entry.username ? { username: entry.username } : {}), source };
    }
    if (typeof entry.auth === "string" && entry.auth !== "") {
        const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        if (colon <= 0) throw new WarmrunError(`${source}: the auth value is not base64 of user:password: log in again to rewrite it`);
        return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
    }
    if (typeof entry.username === "string" && entry.username && typeof entry.password === "string") {
        return { username: entry.username, password: entry.password, source };
    }
    return undefined;
}

function fromHelper(answer: HelperAnswer | undefined, source: string): RegistryCredentials | undefined {
    if (!answer || typeof answer.Secret !== "string" || answer.Secret === "") return undefined;
    // Helpers hand out identity tokens under the user name <token>.
    if (answer.Username === "<token>") return { identityToken: answer.Secret, source };
    return { username: answer.Username ?? "", password: answer.Secret, source };
}

/** Spawns `docker-credential-<helper> get` with the server on stdin, as the Docker CLI does. */
export const spawnHelper: HelperRunner = (helper, serverUrl) =>
    new Promise((resolve, reject) => {
        const command = `docker-credential-${helper}`;
        const child = spawn(command, ["get"], { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", (e: NodeJS.ErrnoException) => {
            clearTimeout(timer);
            reject(
                new WarmrunError(
                    e.code === "ENOENT"
                        ? `credential helper ${command} is not on PATH: install it, or remove "${helper}" from the Docker config (credHelpers / credsStore)`
                        : `credential helper ${command} could not start: ${e.message}`,
                ),
            );
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            if (code === 0) {
                try {
                    return resolve(JSON.parse(stdout));
                } catch {
                    // Its output may hold a secret: never quoted.
                    return reject(new WarmrunError(`credential helper ${command} answered something that is not JSON for ${serverUrl}: check the helper`));
                }
            }
            const said = (stdout + "\n" + stderr).trim().split("\n")[0].slice(0, 200);
            // The helper protocol's answer for an unknown server.
            if (/credentials not found/i.test(stdout + stderr)) return resolve(undefined);
            reject(new WarmrunError(`credential helper ${command} failed for ${serverUrl} (${signal ?? `exit ${code}`}): ${said}`));
        });
        child.stdin.on("error", () => undefined);
        child.stdin.end(serverUrl);
    });

/** Where Docker keeps its config: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigPath(env: NodeJS.ProcessEnv, home: string): string {
    return env.DOCKER_CONFIG ? path.join(env.DOCKER_CONFIG, "config.json") : path.join(home, ".docker", "config.json");
}

/** The containers auth files, in the order they are asked. */
export function authFilePaths(env: NodeJS.ProcessEnv, home: string): string[] {
    const files: string[] = [];
    if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
    if (env.XDG_RUNTIME_DIR) files.push(path.join(env.XDG_RUNTIME_DIR, "containers", "auth.json"));
    files.push(path.join(env.XDG_CONFIG_HOME || path.join(home, ".config"), "containers", "auth.json"));
    return [...new Set(files)];
}

/** A path for messages: the home directory as ~. */
function shown(file: string, home: string): string {
    return file.startsWith(home + path.sep) ? "~" + file.slice(home.length) : file;
}

/** credHelpers, then credsStore, then auths, of one config file (Docker config.json or containers auth.json). */
async function fromConfigFile(file: string, host: string, home: string, runHelper: HelperRunner): Promise<RegistryCredentials | undefined> {
    const name = shown(file, home);
    const config = readJson(file, name);
    if (!config) return undefined;
    const helper = entryFor<string>(config.credHelpers, host);
    if (helper && typeof helper.value === "string" && helper.value !== "") {
        const creds = fromHelper(await runHelper(helper.value, helperServer(host, helper.key)), `${name} (credHelpers: docker-credential-${helper.value})`);
        if (creds) return creds;
    }
    const auth = entryFor<any>(config.auths, host);
    if (typeof config.credsStore === "string" && config.credsStore !== "") {
        const creds = fromHelper(await runHelper(config.credsStore, helperServer(host, auth?.key)), `${name} (credsStore: docker-credential-${config.credsStore})`);
        if (creds) return creds;
    }
    return auth ? decodeAuthEntry(auth.value, `${name} (auths["${auth.key}"])`) : undefined;
}

/**
 * Credentials for `host` from the files the ecosystem's login commands write, first found wins:
 * Docker's config ($DOCKER_CONFIG/config.json, else ~/.docker/config.json), then containers'
 * auth.json ($REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json).
 * Undefined when none has an entry for it.
 */
export async function lookupCredentials(host: string, opts: LookupOptions = {}): Promise<RegistryCredentials | undefined> {
    const env = opts.env ?? process.env;
    const home = opts.home ?? env.HOME ?? os.homedir();
    const runHelper = opts.runHelper ?? spawnHelper;
    for (const file of [dockerConfigPath(env, home), ...authFilePaths(env, home)]) {
        const creds = await fromConfigFile(file, host, home, runHelper);
        if (creds) return creds;
    }
    return undefined;
}

/** The stack config's own credentials, which come before any file. */
export const STACK_CONFIG_SOURCE = "the stack config (warmrun:registryUsername, warmrun:registryPassword)";
