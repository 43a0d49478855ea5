// The @pulumi/command runner of PackerAppliance (`runner: command`), for stacks that have the
// command provider plugin: on a miss, a local.Command runs `packer build` with triggers = [key];
// the Artifact then collects the outputs, converts them and publishes them, manifest last. On a hit
// no Command exists at all (as with the Docker image builder).
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { copyBuildFiles, declaresRequiredPlugins, packerArgs, PackerBuildSpec, secretEnv, SSH_KEY_VARS } from "./build";
import { shortKey } from "../../core/keys";

/** POSIX shell quoting. */
export function shellQuote(arg: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * The Command's script: packer must be there, `packer init` when the template declares plugins,
 * a throwaway SSH key when asked, then `packer build`. Secret variables are not in it: they come
 * as PKR_VAR_<name> in the Command's environment.
 */
export function packerCommandScript(spec: PackerBuildSpec, templateText: string): string {
    const template = path.basename(spec.template);
    const lines = [
        "set -eu",
        `command -v packer >/dev/null || { echo "packer is not installed: run \\\`npm run setup\\\`" >&2; exit 127; }`,
    ];
    if (template.endsWith(".hcl") && declaresRequiredPlugins(templateText)) lines.push(`packer init ${shellQuote(template)}`);
    let args = packerArgs("build", { ...spec, template }).map(shellQuote);
    if (spec.sshKey) {
        lines.push(
            `keydir=$(mktemp -d)`,
            `trap 'rm -rf "$keydir"' EXIT`,
            `ssh-keygen -q -t ed25519 -N '' -C packer-build -f "$keydir/id_ed25519"`,
        );
        args = [...args.slice(0, -1), "-var", `"${SSH_KEY_VARS.privateKeyFile}=$keydir/id_ed25519"`, "-var", `"${SSH_KEY_VARS.publicKey}=$(cat "$keydir/id_ed25519.pub")"`, args[args.length - 1]];
    }
    lines.push(`packer ${args.join(" ")}`);
    return lines.join("\n") + "\n";
}

/** Registers the Command (the caller does so on a miss only); resolves to the directory packer ran in. */
export function packerCommandOnMiss(
    parent: pulumi.Resource,
    name: string,
    key: string,
    spec: PackerBuildSpec,
    secrets: pulumi.Output<Record<string, string>>,
    workDir: string,
): pulumi.Output<string> {
    // The copy packer builds from holds exactly the files the key saw.
    const buildDir = path.join(workDir, `${name}-${shortKey(key)}`, "build");
    fs.rmSync(buildDir, { recursive: true, force: true });
    copyBuildFiles(spec, buildDir);
    const script = packerCommandScript(spec, fs.readFileSync(path.join(spec.root, spec.template), "utf8"));
    const cmd = new command.local.Command(
        `${name}-packer`,
        {
            create: script,
            interpreter: ["/bin/sh", "-c"],
            dir: path.join(buildDir, path.dirname(spec.template)),
            environment: secrets.apply((v) => ({ ...secretEnv(v), CHECKPOINT_DISABLE: "1", PACKER_NO_COLOR: "1" })),
            triggers: [key],
        },
        { parent },
    );
    return cmd.stdout.apply(() => buildDir);
}
