// cli/script.ts: which lines of the package's shell scripts a command passes on.
import { strict as assert } from "assert";
import { isRoutine } from "../../../cli/script";

describe("warmrun command: the scripts' progress lines", () => {
    it("keeps the scripts' news (a build, a registry started, an error) and drops what says nothing was needed", () => {
        assert.ok(isRoutine("install-engine: using pulumi v3.248.0 from PATH"));
        assert.ok(isRoutine("install-engine: pulumi v3.248.0 already built in /c/engine/v3.248.0/bin"));
        assert.ok(isRoutine("registry.sh: a registry already serves 127.0.0.1:5000"));
        assert.ok(!isRoutine("install-engine: building pulumi v3.248.0 (the first build takes several minutes)"));
        assert.ok(!isRoutine("registry.sh: registry on 127.0.0.1:5000 (pid 42)"));
        assert.ok(!isRoutine("registry.sh: docker-registry is not installed: install Debian's docker-registry package"));
    });
});
