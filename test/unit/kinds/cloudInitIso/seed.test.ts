// The NoCloud seed, rendered: #cloud-config with the yaml library, instance-id from the content, extra user-data merged.
import { strict as assert } from "assert";
import YAML from "yaml";
import { renderSeed, mergeUserData, parseExtraUserData } from "../../../../components/kinds/cloudInitIso/seed";
import { SEED } from "../../../support/seed";

describe("CloudInitIso seed", () => {
    it("renders #cloud-config with yaml: files sorted by path, runcmd ours then the extra", () => {
        const r = renderSeed(SEED);
        assert.ok(r.userData.startsWith("#cloud-config\n"));
        const doc = YAML.parse(r.userData);
        assert.deepEqual(doc.write_files.map((f: any) => f.path), ["/etc/a.crt", "/etc/b.key", "/etc/flightctl/config.yaml"]);
        assert.deepEqual(doc.runcmd, [["dnf", "install", "-y", "flightctl-agent"], ["systemctl", "enable", "--now", "flightctl-agent.service"], ["echo", "extra"]]);
        assert.equal(doc.timezone, "UTC");
        assert.deepEqual(YAML.parse(r.networkConfig).version, 2);
    });

    it("packages go to cloud-init's own packages module (the guest's apt or dnf), beside rpms' dnf runcmd", () => {
        assert.equal(YAML.parse(renderSeed(SEED).userData).packages, undefined, "no packages: no module, and the seed renders as before");
        const doc = YAML.parse(renderSeed({ ...SEED, packages: ["curl", "podman=5.4.2+ds1-2"] }).userData);
        assert.deepEqual(doc.packages, ["curl", "podman=5.4.2+ds1-2"]);
        assert.deepEqual(doc.runcmd[0], ["dnf", "install", "-y", "flightctl-agent"]);
        const merged = YAML.parse(renderSeed({ ...SEED, packages: ["curl"], extraUserData: { packages: ["jq"] } }).userData);
        assert.deepEqual(merged.packages, ["curl", "jq"], "extra user-data's packages are added to ours");
    });

    it("instance-id follows the content: the same seed, the same id; any change, a new one", () => {
        const a = renderSeed(SEED);
        assert.equal(renderSeed({ ...SEED }).instanceId, a.instanceId);
        assert.notEqual(renderSeed({ ...SEED, rpms: ["other"] }).instanceId, a.instanceId);
        assert.notEqual(renderSeed({ ...SEED, extraFiles: [{ path: "x", sha256: "1", executable: false }] }).instanceId, a.instanceId);
        assert.equal(YAML.parse(a.metaData)["instance-id"], a.instanceId);
    });

    it("merges extra user-data and rejects what is not a YAML map", () => {
        assert.deepEqual(mergeUserData({ runcmd: [["a"]], hostname: "x" }, { runcmd: [["b"]], hostname: "y" }), { runcmd: [["a"], ["b"]], hostname: "y" });
        assert.throws(() => parseExtraUserData("a: [b", "warmrun:artifacts.s.userData"), /warmrun:artifacts\.s\.userData is not valid YAML/);
        assert.throws(() => parseExtraUserData("just text", "f"), /must be a YAML map/);
        assert.deepEqual(parseExtraUserData("", "f"), {});
    });
});
