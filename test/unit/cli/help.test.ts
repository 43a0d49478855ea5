// Every command's --help says what it does, its options, its output formats and its exit codes.
import { strict as assert } from "assert";
import { commandHelp, COMMAND_HELP, HELP } from "../../../cli/help";
import { COMMAND_NAMES, run } from "../../../cli/commands";

async function captured(argv: string[]): Promise<{ code: number; out: string }> {
    const write = process.stdout.write;
    let out = "";
    (process.stdout as any).write = (chunk: any) => ((out += String(chunk)), true);
    try {
        return { code: await run(argv), out };
    } finally {
        process.stdout.write = write;
    }
}

describe("warmrun --help", () => {
    const names = Object.keys(COMMAND_HELP);

    it("lists every command in the overview, and only those", () => {
        const listed = [...HELP.split("commands:\n")[1].split("\n\n")[0].matchAll(/^ {2}(\w+) /gm)].map((m) => m[1]);
        assert.deepEqual(listed.sort(), [...names].sort());
        assert.deepEqual([...COMMAND_NAMES].sort(), [...names].sort(), "every command has its help, and every help its command");
        assert.ok(names.includes("stats"));
    });

    for (const name of Object.keys(COMMAND_HELP)) {
        it(`${name} --help: usage, what it does, options, output, exit codes`, async () => {
            const h = COMMAND_HELP[name];
            assert.match(h.usage, new RegExp(`^warmrun ${name}\\b`));
            assert.ok(h.text.length > 40, "says what it does");
            assert.ok(h.options.length > 0, "has options");
            assert.ok(h.output.length > 20, "says what it writes");
            assert.ok(h.exitCodes.some(([c]) => c === "0" || c === "other"), "says what success is");
            assert.ok(h.exitCodes.some(([c]) => c === "2"), "says what bad arguments give");
            const text = commandHelp(name);
            for (const section of ["\nOptions:\n", "\nOutput:\n", "\nExit codes:\n"]) assert.ok(text.includes(section), `${name}: ${section.trim()}`);
            for (const [option] of h.options) assert.ok(text.includes(option));
            const { code, out } = await captured([name, "--help"]);
            assert.equal(code, 0);
            assert.equal(out, text);
        });
    }

    it("outputs names $GITHUB_OUTPUT, $GITHUB_ENV and dotenv", () => {
        const text = commandHelp("outputs");
        for (const word of ["$GITHUB_OUTPUT", "$GITHUB_ENV", "dotenv"]) assert.ok(text.includes(word), word);
    });
});
