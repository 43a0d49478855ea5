// The warmrun package's root from one of its modules, as the sources or compiled in dist/.
import * as fs from "fs";
import * as path from "path";
import { WarmrunError } from "./errors";

/** The nearest directory at or above `from` whose package.json is warmrun's. */
export function findPackageRoot(from: string): string {
    for (let d = path.resolve(from); ; d = path.dirname(d)) {
        const manifest = path.join(d, "package.json");
        if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, "utf8")).name === "warmrun") return d;
        if (path.dirname(d) === d) throw new WarmrunError(`no warmrun package.json above ${from}: reinstall the package`);
    }
}
