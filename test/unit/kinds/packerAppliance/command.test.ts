// The script the command runner (@pulumi/command local.Command) runs.
import { strict as assert } from "assert";
import { packerCommandScript, shellQuote } from "../../../../components/kinds/packerAppliance/command";
import { NULL_TEMPLATE, spec } from "../../../support/packer";

describe("PackerAppliance command runner's script", () => {
    it("the command runner's script: packer check, a throwaway SSH key, packer build; no secret in it", () => {
        const script = packerCommandScript(spec({ sshKey: true, vars: { lab_name: "my lab" }, secretVars: { password: "s3cret" } }), NULL_TEMPLATE);
        assert.match(script, /^set -eu\ncommand -v packer >\/dev\/null \|\| \{ echo "packer is not installed: run \\`npm run setup\\`" >&2; exit 127; \}\n/);
        assert.match(script, /ssh-keygen -q -t ed25519 -N '' -C packer-build -f "\$keydir\/id_ed25519"\n/);
        assert.match(script, /packer build -color=false -force -var 'lab_name=my lab' -var "ssh_private_key_file=\$keydir\/id_ed25519" -var "ssh_public_key=\$\(cat "\$keydir\/id_ed25519.pub"\)" t\.pkr\.hcl\n$/);
        assert.ok(!script.includes("s3cret"));
        assert.ok(!script.includes("packer init"));
        assert.equal(shellQuote("it's"), `'it'\\''s'`);
    });
});
