import { strict as assert } from "assert";
import { declaredArgs, onlyDeclared } from "../../../components/images/containerfileArgs";

describe("the build arguments a Containerfile declares", () => {
    it("reads ARG names with and without defaults, in any stage and case, across continuations", () => {
        const text = [
            "# syntax=docker/dockerfile:1",
            "ARG BASE",
            "FROM ${BASE} AS build",
            "arg cargo_args=--locked",
            "ARG A=1 B \\",
            "    C=\"x\"",
            "# ARG COMMENTED",
            "RUN echo ARG NOT_AN_ARG",
            "FROM scratch",
            "ARG UPSTREAM_TOOLS",
        ].join("\n");
        assert.deepEqual([...declaredArgs(text)].sort(), ["A", "B", "BASE", "C", "UPSTREAM_TOOLS", "cargo_args"]);
    });

    it("honours the escape directive", () => {
        assert.deepEqual([...declaredArgs("# escape=`\nARG X `\n  Y\nFROM scratch\n")].sort(), ["X", "Y"]);
    });

    it("keeps only the upstream arguments the Containerfile asks for", () => {
        const args = { BASE: "r/base@sha256:1", UPSTREAM_BASE: "r/base@sha256:1", UPSTREAM_TOOLS: "r/tools@sha256:2" };
        assert.deepEqual(onlyDeclared(args, "ARG BASE\nFROM ${BASE}\n"), { BASE: "r/base@sha256:1" });
        assert.deepEqual(onlyDeclared(args, "FROM scratch\n"), {});
    });
});
