// The Containerfile analysis (stages, ARG substitution, line continuations, COPY --from) that
// pinning reads, parsed by dockerfile-ast.
import { strict as assert } from "assert";
import { analyzeContainerfile, baseOf, rewriteImages, substitute, withLabelInstruction } from "../../../components/images/containerfile";

describe("Containerfile analysis", () => {
    it("finds each stage's FROM and every COPY --from image, skipping stages, stage indexes and scratch", () => {
        const text = [
            "FROM golang:1.22 AS Build", // 1
            "RUN go build",
            "FROM build AS test", // 3
            "COPY --from=0 /a /a",
            "COPY --from=BUILD /b /b",
            "COPY --from=busybox:1.36 /bin/busybox /bin/busybox", // 6
            "FROM scratch", // 7
            "COPY --from=test /c /c",
            "",
        ].join("\n");
        const found = analyzeContainerfile(text, { buildArgs: {}, upstreamArgs: [] });
        assert.deepEqual(found.images.map((m) => [m.use, m.value, m.line]), [
            ["FROM", "golang:1.22", 1],
            ["COPY --from", "busybox:1.36", 6],
        ]);
        assert.deepEqual(found.stages.map((s) => [s.name, s.line, Object.keys(s.from)[0]]), [
            ["build", 1, "image"],
            ["test", 3, "stage"],
            [undefined, 7, "scratch"],
        ]);
        assert.equal(baseOf(found.stages), undefined, "the last stage is scratch");
        assert.equal(baseOf(found.stages, "test")?.value, "golang:1.22", "test is built on build, which is FROM golang");
    });

    it("substitutes ARG defaults and build args in FROM (global ARGs only) and COPY --from (the stage's ARGs too)", () => {
        const text = [
            "ARG REGISTRY=docker.io",
            "ARG SUITE",
            "ARG FLAVOUR=slim",
            "FROM ${REGISTRY}/library/debian:${SUITE:-bookworm}-$FLAVOUR",
            "ARG TOOL=busybox",
            "ARG REGISTRY",
            "COPY --from=${REGISTRY}/library/${TOOL}:1 /x /x",
            "",
        ].join("\n");
        const dflt = analyzeContainerfile(text, { buildArgs: {}, upstreamArgs: [] });
        assert.deepEqual(dflt.images.map((m) => m.value), ["docker.io/library/debian:bookworm-slim", "docker.io/library/busybox:1"]);
        const given = analyzeContainerfile(text, { buildArgs: { SUITE: "trixie", TOOL: "alpine", UNDECLARED: "x" }, upstreamArgs: [] });
        assert.deepEqual(given.images.map((m) => m.value), ["docker.io/library/debian:trixie-slim", "docker.io/library/alpine:1"]);
        assert.deepEqual(given.images[0].variables, ["REGISTRY", "SUITE", "FLAVOUR"]);
    });

    it("a build arg declared only after the first FROM does not reach a FROM", () => {
        const found = analyzeContainerfile("FROM debian:${SUITE}\nARG SUITE=trixie\n", { buildArgs: { SUITE: "trixie" }, upstreamArgs: [] });
        assert.equal(found.images[0].value, undefined);
        assert.deepEqual(found.images[0].unset, ["SUITE"]);
    });

    it("reads an image name continued over lines, with flags, and gives the line the name is on", () => {
        const text = "# syntax=docker/dockerfile:1\nFROM --platform=linux/amd64 \\\n    registry.example.com/base/os:1 \\\n    AS os\nRUN true\n";
        const [m] = analyzeContainerfile(text, { buildArgs: {}, upstreamArgs: [] }).images;
        assert.equal(m.value, "registry.example.com/base/os:1");
        assert.equal(m.line, 3);
        assert.equal(text.slice(m.start, m.end), "registry.example.com/base/os:1");
    });

    it("marks images written through an upstream's build arg", () => {
        const found = analyzeContainerfile("ARG BASE\nFROM ${BASE}\nCOPY --from=${UPSTREAM_TOOLS} /t /t\n", { buildArgs: { BASE: "x@sha256:0", UPSTREAM_TOOLS: "y" }, upstreamArgs: ["BASE", "UPSTREAM_TOOLS"] });
        assert.deepEqual(found.images.map((m) => m.upstreamArg), ["BASE", "UPSTREAM_TOOLS"]);
    });

    it("rewrites only the text of the mentions, every other byte as it was", () => {
        const text = "FROM a:1 AS x\r\nCOPY --from=b:2 /y /y\r\n";
        const found = analyzeContainerfile(text, { buildArgs: {}, upstreamArgs: [] });
        assert.equal(rewriteImages(text, found.images.map((m, i) => ({ mention: m, with: `r${i}@d` }))), "FROM r0@d AS x\r\nCOPY --from=r1@d /y /y\r\n");
    });

    it("substitutes the modifier forms", () => {
        const v = (name: string) => ({ SET: "a", EMPTY: "" } as Record<string, string>)[name];
        assert.equal(substitute("${SET:-b}${UNSET:-c}${EMPTY:-d}${EMPTY-e}${SET:+f}${UNSET:+g}${UNSET+h}$SET", v).value, "acdfa");
        assert.deepEqual(substitute("${UNSET}x", v).unset, ["UNSET"]);
    });
});

describe("containerfile: the artifact's labels as one LABEL instruction", () => {
    const labels = { "dev.warmrun.kind": "BaseImage", "dev.warmrun.artifact": "base", "dev.warmrun.key": "abc" };
    const line = 'LABEL "dev.warmrun.artifact"="base" "dev.warmrun.key"="abc" "dev.warmrun.kind"="BaseImage"';

    it("at the end of the last stage, sorted, whether or not the file ends with a newline", () => {
        assert.equal(withLabelInstruction("FROM a\nRUN x\n", labels), `FROM a\nRUN x\n${line}\n`);
        assert.equal(withLabelInstruction("FROM a\nRUN x \\\n  && y", labels), `FROM a\nRUN x \\\n  && y\n${line}\n`);
        assert.equal(withLabelInstruction("FROM a\n", {}), "FROM a\n");
    });

    it("at the end of the --target stage, before the next FROM, so the stages after it are untouched", () => {
        const text = "FROM a AS build\nRUN x\n\nFROM build AS Final\nRUN y\nFROM b\nCOPY --from=final /y /y\n";
        assert.equal(withLabelInstruction(text, labels, "final"), `FROM a AS build\nRUN x\n\nFROM build AS Final\nRUN y\n${line}\nFROM b\nCOPY --from=final /y /y\n`);
        const parsed = analyzeContainerfile(withLabelInstruction(text, labels, "build"), { buildArgs: {}, upstreamArgs: [] });
        assert.deepEqual(parsed.stages.map((st) => st.line), [1, 5, 7]);
    });

    it("keeps a CRLF file CRLF, in the middle as at the end", () => {
        const text = "FROM a AS build\r\nRUN x\r\nFROM b\r\nRUN y\r\n";
        assert.equal(withLabelInstruction(text, labels, "build"), `FROM a AS build\r\nRUN x\r\n${line}\r\nFROM b\r\nRUN y\r\n`);
        assert.equal(withLabelInstruction("FROM a\r\nRUN x", labels), `FROM a\r\nRUN x\r\n${line}\r\n`);
    });
});
