// Stack config files of end-to-end tests.
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";

/**
 * Writes a stack config of three FileBundles, base <- app and docs, from `inputs`/{base,app,docs},
 * published under `registry` (host/namespace); returns the file.
 */
export function writeBundleChainStack(file: string, o: { registry: string; cacheDir: string; inputs: string }): string {
    fs.writeFileSync(
        file,
        YAML.stringify({
            config: {
                "warmrun:registry": o.registry,
                "warmrun:cacheDir": o.cacheDir,
                "warmrun:artifacts": {
                    base: { kind: "FileBundle", root: path.join(o.inputs, "base") },
                    app: { kind: "FileBundle", root: path.join(o.inputs, "app"), upstream: ["base"] },
                    docs: { kind: "FileBundle", root: path.join(o.inputs, "docs") },
                },
            },
        }),
    );
    return file;
}
