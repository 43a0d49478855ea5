// What the PackerAppliance tests share: a template that builds nothing (the null builder), and a build spec.
import { PackerBuildSpec } from "../../components/kinds/packerAppliance/build";

export const NULL_TEMPLATE = `variable "greeting" {
  type = string
}
variable "password" {
  type    = string
  default = ""
}
source "null" "x" {
  communicator = "none"
}
build {
  sources = ["source.null.x"]
  provisioner "shell-local" {
    script = "scripts/01-hello.sh"
  }
  post-processor "manifest" {
    output = "packer-manifest.json"
  }
}
`;

export function spec(over: Partial<PackerBuildSpec> = {}): PackerBuildSpec {
    return {
        runner: "warmrun",
        root: "/r",
        files: ["t.pkr.hcl"],
        template: "t.pkr.hcl",
        varFiles: [],
        vars: {},
        sourceFiles: {},
        secretVars: {},
        sshKey: false,
        only: [],
        manifest: "packer-manifest.json",
        vmdk: false,
        ova: false,
        outputDir: "/o",
        ...over,
    };
}
