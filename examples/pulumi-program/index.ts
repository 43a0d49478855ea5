// warmrun's components in a Pulumi program of your own: the same kinds, keys and registry look-ups
// as a stack file's `warmrun:artifacts`, declared in TypeScript next to anything else you manage.
import * as pulumi from "@pulumi/pulumi";
import { artifactArgs, BaseImage, ciOutputs, FileBundle, WarmrunSettings } from "warmrun";

const config = new pulumi.Config();
const settings: WarmrunSettings = {
    registry: config.require("registry"),
    // Also tag each artifact git-<commit>; `latest` follows clean-tree runs of main.
    gitShaAlias: true,
};

// Paths are relative to this program's directory; the fields are those of the README's tables.
const runtime = new BaseImage("runtime", artifactArgs(settings, "runtime", { kind: "BaseImage", containerfile: "images/runtime/Containerfile" }));
// Built from the runtime image: its key enters this one's, so a new runtime means a new bundle.
const ciConfig = new FileBundle("ci-config", artifactArgs(settings, "ci-config", { kind: "FileBundle", root: "ci" }, { runtime }));
// A dependencies image takes a toolchain image upstream the same way:
//   new CargoDepsImage("deps", artifactArgs(settings, "deps", { kind: "CargoDepsImage", workspace: "." }, { toolchain }));

export const runtimeImage = runtime.artifact.pinned;
export const outputs = { runtime: ciOutputs(runtime.artifact), "ci-config": ciOutputs(ciConfig.artifact) };
