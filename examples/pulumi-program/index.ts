// warmrun's artifacts in a Pulumi program of your own: the same kinds, keys and registry look-ups
// as a stack file's `warmrun:artifacts`, declared in TypeScript next to anything else you manage.
import * as pulumi from "@pulumi/pulumi";
import { artifact, WarmrunSettings } from "warmrun";

const config = new pulumi.Config();
const settings: WarmrunSettings = {
    registry: config.require("registry"),
    // Also tag each artifact git-<commit>; `latest` follows clean-tree runs of main.
    gitShaAlias: true,
};

// Each artifact is looked up in the registry before it is registered, so the program is async.
export = async () => {
    // Paths are relative to this program's directory; the fields are those of the README's tables.
    const runtime = await artifact(settings, "runtime", { kind: "BaseImage", containerfile: "images/runtime/Containerfile" });
    // Built from the runtime image: its key enters this one's, so a new runtime means a new bundle.
    const ciConfig = await artifact(settings, "ci-config", { kind: "FileBundle", root: "ci" }, { runtime });
    // A dependencies image takes a toolchain image upstream the same way:
    //   await artifact(settings, "deps", { kind: "CargoDepsImage", workspace: "." }, { toolchain });
    return {
        runtimeImage: runtime.artifact.pinned,
        outputs: { runtime: runtime.outputs, "ci-config": ciConfig.outputs },
    };
};
