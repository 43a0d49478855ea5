// Project discovery: which repository and stack a `warmrun` command is about, and the directory the
// engine runs in. In a user's repository that is a generated Pulumi project under .warmrun/project
// whose program is the installed package's; in warmrun's own checkout it is the checkout itself.
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { createRequire } from "module";
import { WarmrunError } from "../components/core/errors";

export interface Project {
    /** The user's repository: config paths, git state and the cache directory are relative to it. */
    root: string;
    stack: string;
    /** `<root>/Pulumi.<stack>.yaml`, the stack's config (committed with the repository). */
    stackFile: string;
    /** Where `pulumi` runs (`--cwd`): the generated project, or warmrun's own checkout. */
    pulumiDir: string;
    /** warmrun's own checkout running its own Pulumi.yaml. */
    own: boolean;
    /** The warmrun package this command runs from. */
    packageRoot: string;
}

/** warmrun's cache directory in a repository: state, journal, stat cache, the generated project. */
export const CACHE_DIR = ".warmrun";
const STACK_FILE = /^Pulumi\.([A-Za-z0-9._-]+)\.yaml$/;

/** The warmrun package root: the nearest package.json above `from` named warmrun. */
export function findPackageRoot(from: string = __dirname): string {
    for (let d = from; ; d = path.dirname(d)) {
        const manifest = path.join(d, "package.json");
        if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, "utf8")).name === "warmrun") return d;
        if (path.dirname(d) === d) throw new WarmrunError(`no warmrun package.json above ${from}: reinstall the package`);
    }
}

function gitTopLevel(cwd: string): string | undefined {
    try {
        return execFileSync("git", ["rev-parse", "--show-toplevel"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || undefined;
    } catch {
        return undefined;
    }
}

/** The stack names of the Pulumi.<stack>.yaml files in a directory. */
export function stacksIn(dir: string): string[] {
    return fs.readdirSync(dir).flatMap((f) => {
        const m = STACK_FILE.exec(f);
        return m ? [m[1]] : [];
    }).sort();
}

/**
 * The repository root: the nearest directory from `cwd` up (not above the git top level) holding
 * Pulumi.<stack>.yaml, or any stack file when no stack is named; else the git top level, else cwd.
 */
export function findRoot(cwd: string, stack: string | undefined): string {
    const top = gitTopLevel(cwd);
    for (let d = path.resolve(cwd); ; d = path.dirname(d)) {
        if (stack ? fs.existsSync(path.join(d, `Pulumi.${stack}.yaml`)) : stacksIn(d).length > 0) return d;
        if (d === top || path.dirname(d) === d) break;
    }
    return top ?? path.resolve(cwd);
}

/** The stack: named (--stack, then WARMRUN_STACK), else the repository's only stack file. */
export function chooseStack(root: string, named: string | undefined, ownCheckout: boolean): string {
    if (named) return named;
    if (ownCheckout) return "dev";
    const stacks = stacksIn(root);
    if (stacks.length === 1) return stacks[0];
    throw new WarmrunError(
        stacks.length === 0
            ? `no Pulumi.<stack>.yaml in ${root}: write one (see the README's quick start) and run \`warmrun up --stack <stack>\``
            : `${root} has the stacks ${stacks.join(", ")}: pick one with --stack (or WARMRUN_STACK)`,
    );
}

export function discover(opts: { cwd: string; stack?: string; env?: NodeJS.ProcessEnv; packageRoot?: string }): Project {
    const env = opts.env ?? process.env;
    const packageRoot = opts.packageRoot ?? findPackageRoot();
    const named = opts.stack ?? (env.WARMRUN_STACK || undefined);
    const root = env.WARMRUN_PROJECT_ROOT ? path.resolve(env.WARMRUN_PROJECT_ROOT) : findRoot(opts.cwd, named);
    const own = sameDir(root, packageRoot) && fs.existsSync(path.join(root, "Pulumi.yaml")) && fs.existsSync(path.join(root, "index.ts"));
    const stack = chooseStack(root, named, own);
    if (!/^[A-Za-z0-9._-]+$/.test(stack)) throw new WarmrunError(`--stack ${stack}: a stack name takes letters, digits and . _ -`);
    return {
        root,
        stack,
        stackFile: path.join(root, `Pulumi.${stack}.yaml`),
        pulumiDir: own ? root : path.join(root, CACHE_DIR, "project"),
        own,
        packageRoot,
    };
}

function sameDir(a: string, b: string): boolean {
    try {
        return fs.realpathSync(a) === fs.realpathSync(b);
    } catch {
        return false;
    }
}

/** The node_modules directory holding the @pulumi/pulumi the package's program runs on. */
export function pulumiModulesDir(packageRoot: string): string {
    const manifest = createRequire(path.join(packageRoot, "package.json")).resolve("@pulumi/pulumi/package.json");
    return path.dirname(path.dirname(path.dirname(manifest)));
}

/** The Pulumi.yaml of the generated project: the package's compiled program, plain JavaScript. */
export const GENERATED_PULUMI_YAML = `# Generated by warmrun for the repository two levels up; rewritten on every run, do not edit.
name: warmrun
description: warmrun's artifacts of this repository (config in ../../Pulumi.<stack>.yaml)
main: index.js
runtime:
  name: nodejs
  options:
    typescript: false
`;

function writeIfChanged(file: string, text: string): void {
    if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text) fs.writeFileSync(file, text);
}

function linkIfChanged(link: string, target: string): void {
    let current: string | undefined;
    try {
        current = fs.readlinkSync(link);
    } catch {
        current = undefined;
    }
    if (current === target) return;
    fs.rmSync(link, { force: true, recursive: true });
    fs.symlinkSync(target, link);
}

/**
 * Writes the generated project: Pulumi.yaml, an index.js that runs the package's program, a
 * node_modules link to the package's @pulumi/pulumi (the language host and the dynamic-provider
 * plugin look there), and the stack file as a link to the repository's, so every pulumi command
 * (config set, stack init's encryptionsalt) reads and writes the repository's file. The cache
 * directory ignores itself in git, so warmrun's files never make the tree dirty.
 */
export function prepareProjectDir(project: Project): void {
    const cache = path.join(project.root, CACHE_DIR);
    fs.mkdirSync(cache, { recursive: true });
    writeIfChanged(path.join(cache, ".gitignore"), "# warmrun's cache, state and generated project: never committed.\n*\n");
    if (project.own) return;
    const dir = project.pulumiDir;
    fs.mkdirSync(dir, { recursive: true });
    writeIfChanged(path.join(dir, "Pulumi.yaml"), GENERATED_PULUMI_YAML);
    writeIfChanged(path.join(dir, "package.json"), JSON.stringify({ name: "warmrun-generated-project", private: true, description: "generated by warmrun; do not edit" }, null, 2) + "\n");
    writeIfChanged(path.join(dir, "index.js"), `// Generated by warmrun: the installed package's program, run for ${path.relative(dir, project.root)}.\nmodule.exports = require(${JSON.stringify(path.join(project.packageRoot, "dist", "index.js"))});\n`);
    linkIfChanged(path.join(dir, "node_modules"), pulumiModulesDir(project.packageRoot));
    linkIfChanged(path.join(dir, `Pulumi.${project.stack}.yaml`), path.relative(dir, project.stackFile));
    // The dynamic provider finds its implementation by the package's name from this directory.
    let resolved: string | undefined;
    try {
        resolved = fs.realpathSync(createRequire(path.join(dir, "package.json")).resolve("warmrun/package.json"));
    } catch {
        resolved = undefined;
    }
    if (resolved !== fs.realpathSync(path.join(project.packageRoot, "package.json"))) {
        throw new WarmrunError(
            `the artifacts' provider would load ${resolved ? path.dirname(resolved) : "no warmrun package"} from ${project.root}, not this one (${project.packageRoot}): ` +
                "install warmrun in the repository (`npm install --save-dev --save-exact warmrun@<version>`) and run it as `npx warmrun`",
        );
    }
}
