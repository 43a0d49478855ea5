// An appliance's outputs against a real registry, from a finished packer run (a real qcow2 made by
// qemu-img and the manifest post-processor's JSON): VMDK and OVA conversion, sha256 files, one
// blob a file with the manifest last; adoption downloads the files, or keeps those already there;
// a run without a manifest tags nothing.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { spec } from "../support/packer";
import { RegistryClient } from "../../components/oci/registry";
import { ArtifactInputs, createArtifact } from "../../components/core/lifecycle";
import { adopt, build, APPLIANCE_ARTIFACT_TYPE } from "../../components/kinds/packerAppliance/build";
import { PACKER_KIND } from "../../components/kinds/packerAppliance/fields";
import { hashFileStream } from "../../components/core/fileset";
import { sha256Hex, shortKey } from "../../components/core/keys";

describe("appliance outputs against a real registry", function () {
    this.timeout(120_000);
    let registry: TestRegistry;
    let client: RegistryClient;

    before(async () => {
        try {
            execFileSync("sh", ["-c", "command -v qemu-img"], { stdio: "ignore" });
        } catch {
            throw new Error("qemu-img is not installed: run `npm run setup`");
        }
        registry = await startRegistry();
        client = new RegistryClient({ host: registry.host, insecure: true });
        process.env.WARMRUN_JOURNAL = path.join(tempDir(), "journal.jsonl");
    });
    after(async () => {
        delete process.env.WARMRUN_JOURNAL;
        await registry?.stop();
        removeTempDirs();
    });

    /** A directory as packer leaves it: output/appliance.qcow2 and packer-manifest.json. */
    function finishedRun(withManifest = true): string {
        const dir = tempDir();
        writeTree(dir, { "appliance.pkr.hcl": "# template\n" });
        fs.mkdirSync(path.join(dir, "output"));
        execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", path.join(dir, "output/appliance.qcow2"), "64M"]);
        const size = fs.statSync(path.join(dir, "output/appliance.qcow2")).size;
        if (withManifest) {
            fs.writeFileSync(
                path.join(dir, "packer-manifest.json"),
                JSON.stringify({ builds: [{ name: "appliance", builder_type: "qemu", files: [{ name: "output/appliance.qcow2", size }], packer_run_uuid: "u1" }], last_run_uuid: "u1" }),
            );
        }
        return dir;
    }

    function inputs(name: string, commandDir: string, outputDir: string): ArtifactInputs {
        const key = sha256Hex(`appliance ${name}`);
        const buildSpec = spec({ runner: "command", commandDir, root: commandDir, files: ["appliance.pkr.hcl"], template: "appliance.pkr.hcl", vmdk: true, ova: true, outputDir });
        return { name, kind: PACKER_KIND, key, registry: { host: registry.host, insecure: true }, repository: `test/${name}`, tag: shortKey(key), aliasTags: [], inputs: {}, build: buildSpec };
    }

    const deps = { kinds: (kind: string) => (kind === PACKER_KIND ? { build, adopt } : undefined) };

    it("publishes qcow2, VMDK and OVA with sha256 files, manifest last; another runner adopts them by download", async () => {
        const out = path.join(tempDir(), "appliance");
        const built = await createArtifact(inputs("lab", finishedRun(), out), deps);
        assert.equal(built.cacheHit, false);
        const details = built.details as any;
        assert.deepEqual(details.files, ["appliance.qcow2", "appliance.vmdk", "appliance.ova"]);
        for (const f of details.files) {
            assert.equal(await hashFileStream(path.join(out, f)), details.sha256[f]);
            assert.equal(fs.readFileSync(path.join(out, `${f}.sha256`), "utf8"), `${details.sha256[f]}  ${f}\n`);
        }
        const vmdk = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", path.join(out, "appliance.vmdk")], { encoding: "utf8" }));
        assert.equal(vmdk["format-specific"].data["create-type"], "streamOptimized");
        assert.equal(vmdk["virtual-size"], 64 << 20);
        const manifest = (await client.getManifest("test/lab", built.digest))!.json;
        assert.equal(manifest.artifactType, APPLIANCE_ARTIFACT_TYPE);
        assert.deepEqual(manifest.layers.map((l: any) => l.annotations["org.opencontainers.image.title"]), details.files);

        const elsewhere = path.join(tempDir(), "appliance");
        const adopted = await createArtifact(inputs("lab", "/nonexistent", elsewhere), deps);
        assert.equal(adopted.cacheHit, true);
        assert.equal(adopted.digest, built.digest);
        assert.equal(adopted.downloads.count, 3);
        assert.equal(adopted.downloads.bytes, Object.values(details.sizes as Record<string, number>).reduce((a, b) => a + b, 0));
        assert.deepEqual((adopted.details as any).sha256, details.sha256);
        for (const f of details.files) assert.equal(await hashFileStream(path.join(elsewhere, f)), details.sha256[f]);

        const again = await createArtifact(inputs("lab", "/nonexistent", elsewhere), deps);
        assert.deepEqual(again.downloads, { count: 0, bytes: 0 }, "files already in place are kept");
    });

    it("a run whose manifest is missing fails with the fix and tags nothing", async () => {
        const i = inputs("nomanifest", finishedRun(false), path.join(tempDir(), "out"));
        await assert.rejects(createArtifact(i, deps), /nomanifest: packer wrote no manifest at packer-manifest\.json: add a `post-processor "manifest"`/);
        assert.equal(await client.resolveTag("test/nomanifest", i.tag), undefined);
    });
});
