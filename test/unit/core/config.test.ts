import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { ConfigError, validateConfig, orderArtifacts, suggestArtifactName } from "../../../components/core/config";
import { isValidRepository } from "../../../components/oci/registry";
import { tempDir, removeTempDirs, writeTree } from "../../support/tmp";

let project: string;

function raw(settings: Record<string, unknown>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(settings)) out[`warmrun:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    return out;
}

const GOOD = {
    registry: "127.0.0.1:5000/warmrun",
    artifacts: {
        base: { kind: "FileBundle", root: "inputs/base" },
        app: { kind: "FileBundle", root: "inputs/app", upstream: ["base"], include: ["**/*.sh"] },
    },
};

function problemsOf(settings: Record<string, unknown>, secretKeys: string[] = []): string[] {
    try {
        validateConfig(raw(settings), { projectRoot: project, secretKeys: new Set(secretKeys) });
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        return e.problems;
    }
    assert.fail("expected the configuration to be rejected");
}

function expectOne(settings: Record<string, unknown>, pattern: RegExp, secretKeys: string[] = []): void {
    const problems = problemsOf(settings, secretKeys);
    assert.equal(problems.length, 1, `one problem expected, got:\n${problems.join("\n")}`);
    assert.match(problems[0], pattern);
}

describe("config validation", () => {
    before(() => {
        project = tempDir();
        writeTree(project, { "inputs/base/a.txt": "a", "inputs/app/run.sh": "echo", "inputs/app/.dockerignore": "*.tmp\n" });
    });
    after(removeTempDirs);

    it("accepts a good config, resolves paths and orders upstreams first", () => {
        const c = validateConfig(raw(GOOD), { projectRoot: project, secretKeys: new Set() });
        assert.deepEqual(c.artifacts.map((a) => a.name), ["base", "app"]);
        assert.equal(c.registry.host, "127.0.0.1:5000");
        assert.equal(c.registry.namespace, "warmrun");
        assert.equal(c.registry.insecure, true, "loopback registries default to plain HTTP");
        assert.equal(c.artifacts[0].fields.root, path.join(project, "inputs/base"));
        assert.equal(c.builder, "auto");
    });

    it("hosted registries default to TLS", () => {
        const c = validateConfig(raw({ ...GOOD, registry: "registry.example.com/acme/ci-cache" }), { projectRoot: project, secretKeys: new Set() });
        assert.equal(c.registry.insecure, false);
        assert.equal(c.registry.namespace, "acme/ci-cache");
    });

    // Each bad case: one problem, whose message names the key or file and says what to do.
    it("1. unknown top-level key, with a suggestion", () =>
        expectOne({ ...GOOD, registy: "x" }, /^unknown config key warmrun:registy \(did you mean registry\?\): rename or remove it/));
    it("2. missing registry", () => expectOne({ artifacts: GOOD.artifacts }, /^warmrun:registry is not set: .*Pulumi\.<stack>\.yaml/));
    it("3. registry with a scheme", () =>
        expectOne({ ...GOOD, registry: "https://registry.example.com/acme" }, /^warmrun:registry "https:\/\/registry\.example\.com\/acme" is not a registry reference: write host\[:port\]\[\/namespace\]/));
    it("4. registry with a tag or upper case namespace", () => {
        expectOne({ ...GOOD, registry: "registry.example.com/Acme" }, /not a registry reference/);
        expectOne({ ...GOOD, registry: "registry.example.com/acme:latest" }, /not a registry reference/);
    });
    it("5. wrong type for a boolean", () => expectOne({ ...GOOD, registryInsecure: "yes" }, /^warmrun:registryInsecure must be a boolean, not "yes"/));
    it("6. artifacts is not a map", () => expectOne({ ...GOOD, artifacts: ["base"] }, /^warmrun:artifacts must be a map/));
    it("7. unknown artifact kind", () =>
        expectOne({ ...GOOD, artifacts: { x: { kind: "Tarball", root: "inputs/base" } } }, /^warmrun:artifacts\.x\.kind "Tarball" is not a known kind: use one of FileBundle/));
    it("8. artifact name that cannot be a repository", () =>
        expectOne({ ...GOOD, artifacts: { My_Disk: { kind: "FileBundle", root: "inputs/base" } } }, /^warmrun:artifacts\.My_Disk: the name "My_Disk" cannot be a repository name.*\(e\.g\. my_disk\)/));
    it("9. missing required field", () => expectOne({ ...GOOD, artifacts: { x: { kind: "FileBundle" } } }, /^warmrun:artifacts\.x\.root is missing: directory of the files/));
    it("10. missing input directory", () =>
        expectOne({ ...GOOD, artifacts: { x: { kind: "FileBundle", root: "inputs/nope" } } }, /^warmrun:artifacts\.x\.root: directory inputs\/nope does not exist/));
    it("11. unknown field in an artifact, with a suggestion", () =>
        expectOne({ ...GOOD, artifacts: { x: { kind: "FileBundle", root: "inputs/base", inclde: ["*"] } } }, /^warmrun:artifacts\.x: unknown field inclde \(did you mean include\?\)/));
    it("12. field of the wrong type", () =>
        expectOne({ ...GOOD, artifacts: { x: { kind: "FileBundle", root: "inputs/base", include: "*.rs" } } }, /^warmrun:artifacts\.x\.include must be a list of strings, not "\*\.rs"/));
    it("13. upstream that is not an artifact", () =>
        expectOne({ ...GOOD, artifacts: { x: { kind: "FileBundle", root: "inputs/base", upstream: ["bsae"] } } }, /^warmrun:artifacts\.x\.upstream names "bsae", which is not an artifact/));
    it("13b. an upstream registered outside the map (a program's own component) is an artifact", () => {
        const config = validateConfig(raw({ ...GOOD, artifacts: { x: { kind: "FileBundle", root: "inputs/base", upstream: ["base"] } } }), { projectRoot: project, secretKeys: new Set(), registered: ["base"] });
        assert.deepEqual(config.artifacts.map((a) => [a.name, a.upstream]), [["x", ["base"]]]);
        expectOne({ ...GOOD, artifacts: { x: { kind: "FileBundle", root: "inputs/base", upstream: ["base"] } } }, /^warmrun:artifacts\.x\.upstream names "base", which is not an artifact/);
    });
    it("14. cycle between artifacts, with its path", () =>
        expectOne(
            {
                ...GOOD,
                artifacts: {
                    a: { kind: "FileBundle", root: "inputs/base", upstream: ["c"] },
                    b: { kind: "FileBundle", root: "inputs/base", upstream: ["a"] },
                    c: { kind: "FileBundle", root: "inputs/base", upstream: ["b"] },
                },
            },
            /^warmrun:artifacts has a cycle: a -> c -> b -> a; .*remove one upstream link/,
        ));
    it("15. a password in plaintext", () =>
        expectOne({ ...GOOD, registryUsername: "ci", registryPassword: "hunter2" }, /^warmrun:registryPassword is stored in plaintext: set it with `pulumi config set --secret warmrun:registryPassword`/));
    it("16. a password without a user name", () =>
        expectOne({ ...GOOD, registryPassword: "x" }, /registryUsername and warmrun:registryPassword go together/, ["warmrun:registryPassword"]));
    it("17. an unknown builder", () => expectOne({ ...GOOD, builder: "kaniko" }, /^warmrun:builder "kaniko" is not one of auto, docker, buildah/));
    it("18. a missing ignore file", () =>
        expectOne({ ...GOOD, artifacts: { x: { kind: "FileBundle", root: "inputs/base", ignoreFile: ".warmrunignore" } } }, /^warmrun:artifacts\.x\.ignoreFile: file \.warmrunignore does not exist/));

    it("19. a registry port out of range is refused, naming the port; 1 and 65535 are ports", () => {
        expectOne({ ...GOOD, registry: "127.0.0.1:99999/warmrun" }, /^warmrun:registry "127\.0\.0\.1:99999\/warmrun": port 99999 is out of range \(1-65535\): fix the port/);
        expectOne({ ...GOOD, registry: "registry.example.com:0" }, /port 0 is out of range/);
        for (const port of [1, 65535]) assert.equal(validateConfig(raw({ ...GOOD, registry: `127.0.0.1:${port}/w` }), { projectRoot: project, secretKeys: new Set() }).registry.host, `127.0.0.1:${port}`);
    });
    it("20. an unknown kind, with a suggestion", () =>
        expectOne({ ...GOOD, artifacts: { x: { kind: "filebundle", root: "inputs/base" } } }, /^warmrun:artifacts\.x\.kind "filebundle" is not a known kind \(did you mean FileBundle\?\): use one of /));
    it("21. a file where a directory is expected, a directory where a file is expected, a dangling link, a FIFO", () => {
        writeTree(project, { "inputs/file.txt": "x", "inputs/ctx/Containerfile/README": "a directory" });
        fs.symlinkSync("nowhere/Containerfile", path.join(project, "inputs/dangling"));
        execFileSync("mkfifo", [path.join(project, "inputs/fifo")]);
        expectOne({ ...GOOD, artifacts: { x: { kind: "FileBundle", root: "inputs/file.txt" } } }, /^warmrun:artifacts\.x\.root: inputs\/file\.txt is a file, not a directory: give the directory \(e\.g\. inputs\)$/);
        expectOne({ ...GOOD, artifacts: { x: { kind: "BaseImage", containerfile: "inputs/ctx/Containerfile" } } }, /^warmrun:artifacts\.x\.containerfile: inputs\/ctx\/Containerfile is a directory, not a regular file: give the path of a file in it$/);
        expectOne({ ...GOOD, artifacts: { x: { kind: "BaseImage", containerfile: "inputs/dangling" } } }, /^warmrun:artifacts\.x\.containerfile: file inputs\/dangling is a symbolic link to nowhere\/Containerfile, which does not exist: fix the link or the path$/);
        expectOne({ ...GOOD, artifacts: { x: { kind: "BaseImage", containerfile: "inputs/fifo" } } }, /^warmrun:artifacts\.x\.containerfile: inputs\/fifo is a FIFO \(named pipe\), not a regular file/);
    });
    it("22. a suggested artifact name is always a valid one, or none is given", () => {
        const names = ["My_Disk", "-Tools_", "a..b", "__x__", "UPPER", "a/b", "spaces in name", "ünïcode", "日本", "---", "x-", ".hidden", "a__b", "a.-b"];
        for (const name of names) {
            const s = suggestArtifactName(name);
            if (s !== undefined) assert.ok(isValidRepository(s), `${name} -> ${s}`);
        }
        assert.equal(suggestArtifactName("-Tools_"), "tools");
        assert.equal(suggestArtifactName("My_Disk"), "my_disk");
        assert.equal(suggestArtifactName("日本"), undefined);
        const problems = problemsOf({ ...GOOD, artifacts: { "日本": { kind: "FileBundle", root: "inputs/base" } } });
        assert.doesNotMatch(problems[0], /e\.g\./, "no suggestion when nothing valid is left");
    });

    it("reports every problem at once, never echoing a secret", () => {
        const problems = problemsOf({ registry: "not a registry", registryUsername: "ci", registryPassword: "hunter2", artifacts: { x: { kind: "Nope" } } });
        assert.equal(problems.length, 3);
        assert.ok(problems.every((p) => !p.includes("hunter2")));
    });

    it("orders a diamond so every artifact follows its upstreams", () => {
        const { order, cycles } = orderArtifacts([
            { name: "app", upstream: ["left", "right"] },
            { name: "left", upstream: ["root"] },
            { name: "right", upstream: ["root"] },
            { name: "root", upstream: [] },
        ]);
        assert.deepEqual(cycles, []);
        assert.ok(order.indexOf("root") < order.indexOf("left") && order.indexOf("left") < order.indexOf("app") && order.indexOf("right") < order.indexOf("app"));
    });
});
