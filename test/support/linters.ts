// The linters of the GitHub Action and the example workflow, which scripts/setup.sh installs under
// $WARMRUN_CACHE: actionlint (built from its Go module into bin/) and zizmor (a virtualenv from PyPI).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";

const cacheDir = () => process.env.WARMRUN_CACHE || path.join(os.homedir(), ".cache", "warmrun");

function tool(name: string, rel: string, how: string): string {
    const bin = path.join(cacheDir(), rel);
    if (!fs.existsSync(bin)) throw new Error(`${name} is not installed: run \`npm run setup\` (it ${how})`);
    return bin;
}

export const actionlintPath = () => tool("actionlint", "bin/actionlint", "builds actionlint from its Go module into ~/.cache/warmrun/bin");
export const zizmorPath = () => tool("zizmor", "zizmor/bin/zizmor", "installs zizmor into a virtualenv, ~/.cache/warmrun/zizmor");

export interface ActionlintError {
    message: string;
    filepath: string;
    line: number;
    kind: string;
}

/** actionlint's errors on the workflows of the repository `dir` (.github/workflows), as JSON. */
export function actionlint(dir: string): ActionlintError[] {
    const r = spawnSync(actionlintPath(), ["-format", "{{json .}}"], { cwd: dir, encoding: "utf8" });
    if (r.error) throw r.error;
    // 0: no problem, 1: problems found; anything else is actionlint failing.
    if (r.status !== 0 && r.status !== 1) throw new Error(`actionlint exited with ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim() || "[]");
}

export interface ZizmorFinding {
    ident: string;
    desc: string;
    severity: string;
    confidence: string;
    where: string;
}

/** zizmor's findings (offline: no GitHub API) on the files, suppressed ones excluded as zizmor does. */
export function zizmor(files: string[]): ZizmorFinding[] {
    const r = spawnSync(zizmorPath(), ["--offline", "--format", "json", ...files], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    if (r.error) throw r.error;
    // zizmor's exit codes: 0 none, 10-14 findings by the highest severity; 1-2 are its own failures.
    if (r.status !== 0 && !(r.status! >= 10 && r.status! <= 14)) throw new Error(`zizmor exited with ${r.status}: ${r.stderr}`);
    return (JSON.parse(r.stdout) as any[]).map((f) => ({
        ident: f.ident,
        desc: f.desc,
        severity: f.determinations.severity,
        confidence: f.determinations.confidence,
        where: (f.locations ?? []).map((l: any) => `${l.symbolic?.key?.Local?.given_path ?? "?"}:${(l.concrete?.location?.start_point?.row ?? -1) + 1}`).join(", "),
    }));
}
