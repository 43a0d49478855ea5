// The key of dist/: which files it covers, and that any change to one of them makes dist/ stale.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { removeTempDirs, tempDir, writeTree } from "../../support/tmp";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const build = require("../../../loader/build");

function fakePackage(): string {
    const root = tempDir("warmrun-build-key-");
    writeTree(root, {
        "package-lock.json": "{}\n",
        "tsconfig.json": "{}\n",
        "tsconfig.build.json": JSON.stringify({ files: ["index.ts", "scripts/tool.ts"], include: ["lib/**/*.ts"] }),
        "index.ts": "export const a = 1;\n",
        "scripts/tool.ts": "export const t = 1;\n",
        "scripts/other.ts": "export const o = 1;\n",
        "lib/b.ts": "export const b = 1;\n",
        "lib/deep/c.ts": "export const c = 1;\n",
        "lib/notes.md": "not a source\n",
    });
    return root;
}

function markBuilt(root: string): void {
    fs.mkdirSync(path.join(root, "dist"), { recursive: true });
    fs.writeFileSync(path.join(root, "dist", ".build-key"), `${build.sourceKey(root)}\n`);
}

describe("loader/build: the key of the compiled JavaScript", () => {
    after(removeTempDirs);

    it("covers the tsconfig files, the lock file, the listed files and every .ts under the included directories", () => {
        assert.deepEqual(build.keyInputs(fakePackage()), [
            "index.ts",
            "lib/b.ts",
            "lib/deep/c.ts",
            "package-lock.json",
            "scripts/tool.ts",
            "tsconfig.build.json",
            "tsconfig.json",
        ]);
    });

    it("is fresh only while every covered file is as it was at the build", () => {
        const root = fakePackage();
        assert.equal(build.isFresh(root), false, "no dist/.build-key yet");
        markBuilt(root);
        assert.equal(build.isFresh(root), true);
        fs.writeFileSync(path.join(root, "scripts", "other.ts"), "export const o = 2;\n");
        assert.equal(build.isFresh(root), true, "a file the build does not compile does not count");
        for (const [rel, edit] of [
            ["lib/deep/c.ts", "export const c = 2;\n"],
            ["package-lock.json", '{"lockfileVersion":3}\n'],
            ["tsconfig.json", '{"compilerOptions":{}}\n'],
            ["lib/new.ts", "export const n = 1;\n"],
        ]) {
            markBuilt(root);
            fs.writeFileSync(path.join(root, rel), edit);
            assert.equal(build.isFresh(root), false, `${rel} changed`);
        }
        markBuilt(root);
        fs.rmSync(path.join(root, "lib", "b.ts"));
        assert.equal(build.isFresh(root), false, "a source removed");
    });

    it("is never fresh without the build's tsconfig", () => {
        const root = fakePackage();
        markBuilt(root);
        fs.rmSync(path.join(root, "tsconfig.build.json"));
        assert.equal(build.sourceKey(root), undefined);
        assert.equal(build.isFresh(root), false);
    });

    it("covers every source the real build compiles", () => {
        const root = path.resolve(__dirname, "..", "..", "..");
        const inputs: string[] = build.keyInputs(root);
        for (const f of ["index.ts", "api.ts", "components/core/providerImpl.ts", "components/kinds/fileBundle/build.ts", "cli/warmrun.ts", "scripts/gc.ts", "scripts/qcow2.ts"]) {
            assert.ok(inputs.includes(f), f);
        }
    });
});
