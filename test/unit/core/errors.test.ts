import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { artifactMessage, systemErrorMessage, userMessage, WarmrunError } from "../../../components/core/errors";
import { tempDir, removeTempDirs } from "../../support/tmp";

/** The error a real system call throws. */
function thrownBy(f: () => unknown): unknown {
    try {
        f();
    } catch (e) {
        return e;
    }
    assert.fail("expected an error");
}

describe("errors", () => {
    after(removeTempDirs);

    it("a file's system error becomes a sentence naming the file and the fix", () => {
        const dir = tempDir();
        const isDir = thrownBy(() => fs.openSync(dir, "w"));
        assert.equal(systemErrorMessage(isDir), `${dir} is a directory where a file is expected: give the path of a file`);
        const missing = thrownBy(() => fs.readFileSync(path.join(dir, "gone")));
        assert.match(systemErrorMessage(missing)!, /\/gone does not exist/);
        const denied = Object.assign(new Error("EACCES: permission denied, open '/x/secret'"), { code: "EACCES", path: "/x/secret", syscall: "open" });
        assert.match(systemErrorMessage(denied)!, /^cannot read \/x\/secret \(permission denied\): make it readable by the user running pulumi/);
        const unlistable = Object.assign(new Error("EACCES"), { code: "EACCES", path: "/x/private", syscall: "scandir" });
        assert.match(systemErrorMessage(unlistable)!, /^cannot list the directory \/x\/private \(permission denied\)/);
        assert.equal(systemErrorMessage(new Error("no code")), undefined);
        assert.equal(systemErrorMessage(new WarmrunError("ours")), undefined);
    });

    it("an artifact's message starts with its config key, once", () => {
        assert.equal(artifactMessage("img", new WarmrunError("warmrun:artifacts.img.containerfile: bad")), "warmrun:artifacts.img.containerfile: bad");
        assert.equal(artifactMessage("img", new WarmrunError("img: buildah exited with 1")), "warmrun:artifacts.img: buildah exited with 1");
        assert.equal(artifactMessage("img", new WarmrunError("registry x is unreachable")), "warmrun:artifacts.img: registry x is unreachable");
        assert.equal(artifactMessage("img", new TypeError("undefined is not a function")), "warmrun:artifacts.img: undefined is not a function");
        assert.equal(userMessage("a string"), "a string");
    });
});
