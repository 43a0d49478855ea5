// DebianRootfs: a Debian tree made by debootstrap, published as a one-layer OCI image, for
// pipelines whose machines cannot pull base images from any registry.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BuildContext, BuildResult } from "../../core/lifecycle";
import { artifactAnnotations } from "../../oci/annotations";
import { layerFromDirectory, imageConfig, pushImage } from "../../oci/image";
import { runTool } from "../../core/process";
import { summaryOf } from "../../downloads/counter";
import { WarmrunError } from "../../core/errors";
import { debPackagesOfTree } from "../../sbom/dpkg";

import { ROOTFS_KIND } from "./fields";
import { RootfsBuildSpec } from "./plan";

export function debootstrapArgs(spec: RootfsBuildSpec, target: string): string[] {
    const args = [`--variant=${spec.variant}`, "--arch=amd64"];
    if (spec.packages.length) args.push(`--include=${spec.packages.join(",")}`);
    args.push(spec.suite, target);
    if (spec.mirror) args.push(spec.mirror);
    return args;
}

export async function build(ctx: BuildContext): Promise<BuildResult> {
    const { inputs, client, log } = ctx;
    const spec = inputs.build as RootfsBuildSpec;
    if (typeof process.getuid === "function" && process.getuid() !== 0) {
        throw new WarmrunError(`${inputs.name}: debootstrap needs root; run as root, or start the chain FROM a registry image instead`);
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-rootfs-"));
    try {
        const tree = path.join(tmp, "tree");
        log(`${inputs.name}: debootstrap ${spec.suite} (${spec.variant})`);
        const { downloads: counted } = await runTool(inputs.name, "debootstrap", debootstrapArgs(spec, tree));
        const archives = path.join(tree, "var/cache/apt/archives");
        let bytes = 0;
        for (const f of fs.readdirSync(archives)) {
            if (f.endsWith(".deb")) {
                bytes += fs.statSync(path.join(archives, f)).size;
                fs.rmSync(path.join(archives, f));
            }
        }
        // Package lists go stale; images built on this run apt-get update themselves.
        fs.rmSync(path.join(tree, "var/lib/apt/lists"), { recursive: true, force: true });
        fs.mkdirSync(path.join(tree, "var/lib/apt/lists/partial"), { recursive: true });
        // debootstrap prints no sizes: its bytes are those of the package files it fetched.
        const retrieved = counted.byTool.debootstrap;
        const byTool = { ...counted.byTool, ...(retrieved ? { debootstrap: { count: retrieved.count, bytes } } : {}) };
        const downloads = { ...summaryOf(counted), bytes, byTool };
        const sbom = { debs: debPackagesOfTree(tree) ?? [] };
        const layer = await layerFromDirectory(tree, path.join(tmp, "layer.tar.gz"));
        const labels = artifactAnnotations({ key: inputs.key, kind: ROOTFS_KIND, name: inputs.name });
        const config = imageConfig([layer], { cmd: ["/bin/bash"], labels, createdBy: `debootstrap ${spec.suite}` });
        const digest = await pushImage(client, inputs.repository, inputs.tag, [layer], config, labels, inputs.provenance);
        return { digest, downloads, sbom };
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}
