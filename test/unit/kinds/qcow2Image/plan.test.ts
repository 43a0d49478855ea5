// Qcow2Image's plan: what enters the key, and the disk's alias tags.
import { strict as assert } from "assert";
import { qcow2KeyMaterial, qcow2AliasTags, qcow2Spec, Qcow2BuildSpec } from "../../../../components/kinds/qcow2Image/plan";
import { computeKey, inputSummary } from "../../../../components/core/keys";

const SPEC: Qcow2BuildSpec = { sizeBytes: 2 ** 31, size: "2G", filesystem: "ext4", compression: "zstd", label: "rootfs", diskPath: "/disk/disk.qcow2" };

describe("Qcow2Image plan", () => {
    it("the key changes with each disk option and the upstream, not with where the project is", async () => {
        const base = await qcow2KeyMaterial(SPEC, {}, { rootfs: "u1" }, "/one");
        const moved = await qcow2KeyMaterial(SPEC, {}, { rootfs: "u1" }, "/two");
        assert.equal(computeKey(base), computeKey(moved));
        const keys = new Set([computeKey(base)]);
        for (const change of [{ sizeBytes: 2 ** 30 }, { compression: "zlib" as const }, { filesystem: "ext3" }, { diskPath: "/qcow2/disk.qcow2" }, { label: "x" }]) {
            keys.add(computeKey(await qcow2KeyMaterial({ ...SPEC, ...change }, {}, { rootfs: "u1" }, "/one")));
        }
        keys.add(computeKey(await qcow2KeyMaterial(SPEC, {}, { rootfs: "u2" }, "/one")));
        keys.add(computeKey(await qcow2KeyMaterial({ ...SPEC, command: ["bib", "{output}"] }, {}, { rootfs: "u1" }, "/one")));
        assert.equal(keys.size, 8);
        assert.deepEqual(Object.keys(inputSummary(base)).sort(), ["param:command", "param:compression", "param:diskPath", "param:filesystem", "param:label", "param:size", "upstream:rootfs"]);
    });

    it("kernelBoot and its command line enter the key only when set, so other disks keep their keys", async () => {
        const plain = await qcow2KeyMaterial(SPEC, {}, { rootfs: "u1" }, "/one");
        assert.equal(plain.params.kernelBoot, undefined);
        const spec = qcow2Spec({ kernelBoot: true }, "/one");
        assert.deepEqual(spec.kernelBoot, { kernelArgs: "root=/dev/vda rw console=ttyS0" });
        const boot = await qcow2KeyMaterial(spec, {}, { rootfs: "u1" }, "/one");
        const args = await qcow2KeyMaterial(qcow2Spec({ kernelBoot: true, kernelArgs: "root=/dev/vda ro console=ttyS0" }, "/one"), {}, { rootfs: "u1" }, "/one");
        assert.equal(new Set([plain, boot, args].map(computeKey)).size, 3);
        assert.equal(qcow2Spec({}, "/one").kernelBoot, undefined);
    });

    it("aliases: base-qcow2-<git-sha> always, latest only when the stack policy gives it", () => {
        assert.deepEqual(qcow2AliasTags([], { clean: false, commit: "abcdef0123456789", shortCommit: "abcdef0" }), ["base-qcow2-abcdef0"]);
        assert.deepEqual(qcow2AliasTags(["latest", "git-abcdef012345"], { clean: true, shortCommit: "abcdef0" }), ["base-qcow2-latest", "base-qcow2-git-abcdef012345", "base-qcow2-abcdef0"]);
        assert.deepEqual(qcow2AliasTags([], undefined), []);
    });
});
