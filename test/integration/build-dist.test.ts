// dist/ as setup builds it: the real tsc, then the loader runs the compiled JavaScript only while it
// matches the sources; an edited source runs through ts-node until the next build.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { removeTempDirs, tempDir } from "../support/tmp";

const ROOT = path.resolve(__dirname, "..", "..");
const COPY = ["index.ts", "api.ts", "program.js", "components", "cli", "loader", "scripts", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "tsconfig.pulumi.json"];

function node(cwd: string, args: string[]): string {
    return execFileSync(process.execPath, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

describe("dist/ keyed by its sources (real tsc, the loader)", function () {
    this.timeout(240_000);
    let pkg: string;
    const resolved = (rel: string) => node(pkg, ["-e", `process.stdout.write(require("./loader/load").resolve(${JSON.stringify(rel)}))`]);

    before(() => {
        pkg = tempDir("warmrun-build-dist-");
        for (const f of COPY) fs.cpSync(path.join(ROOT, f), path.join(pkg, f), { recursive: true });
        // A throwaway copy of the sources resolves its dependencies from this checkout's node_modules.
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(pkg, "node_modules"));
    });
    after(removeTempDirs);

    it("builds once, then runs the compiled modules; an edit falls back to the sources until rebuilt", () => {
        assert.equal(resolved("components/core/providerImpl"), path.join(pkg, "components/core/providerImpl.ts"), "no dist/ yet: the source");
        node(pkg, ["scripts/build-dist.js"]);
        assert.ok(fs.existsSync(path.join(pkg, "dist", ".build-key")));
        assert.equal(resolved("components/core/providerImpl"), path.join(pkg, "dist/components/core/providerImpl.js"));
        assert.equal(resolved("index"), path.join(pkg, "dist/index.js"));
        const again = execFileSync(process.execPath, ["scripts/build-dist.js"], { cwd: pkg, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        assert.equal(again, "");
        // A script as npm runs it, compiled: its usage line.
        assert.match(node(pkg, ["loader/run.js", "scripts/ci-outputs", "--help"]), /^usage: npm run ci-outputs/);

        const errors = path.join(pkg, "components/core/errors.ts");
        fs.appendFileSync(errors, "\nexport const EDITED_AFTER_THE_BUILD = true;\n");
        assert.equal(resolved("components/core/providerImpl"), path.join(pkg, "components/core/providerImpl.ts"), "stale dist/: the sources");
        assert.equal(
            node(pkg, ["-e", `process.stdout.write(String(require("./loader/load").load("components/core/errors").EDITED_AFTER_THE_BUILD))`]),
            "true",
            "the edit runs",
        );
        node(pkg, ["scripts/build-dist.js"]);
        assert.equal(resolved("components/core/providerImpl"), path.join(pkg, "dist/components/core/providerImpl.js"));
        assert.match(fs.readFileSync(path.join(pkg, "dist/components/core/errors.js"), "utf8"), /EDITED_AFTER_THE_BUILD/);
    });

    it("keeps dist/ and says why when tsc fails", () => {
        const before = fs.readFileSync(path.join(pkg, "dist", ".build-key"), "utf8");
        fs.appendFileSync(path.join(pkg, "components/core/errors.ts"), "\nexport const broken: number = \"not a number\";\n");
        let failure: any;
        try {
            node(pkg, ["scripts/build-dist.js"]);
        } catch (e) {
            failure = e;
        }
        assert.ok(failure, "the build fails");
        assert.match(String(failure.stderr), /tsc -p tsconfig.build.json failed; dist\/ is unchanged/);
        assert.equal(fs.readFileSync(path.join(pkg, "dist", ".build-key"), "utf8"), before);
        assert.equal(resolved("components/core/providerImpl"), path.join(pkg, "components/core/providerImpl.ts"), "the sources run, not the old build");
    });
});
