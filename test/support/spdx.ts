// Validation of SPDX documents against the SPDX 2.3 JSON schema (test/fixtures/spdx), with ajv.
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";

const SCHEMA = JSON.parse(fs.readFileSync(path.join(__dirname, "../fixtures/spdx/spdx-schema-2.3.json"), "utf8"));
const validate = new Ajv({ allErrors: true, strict: false }).compile(SCHEMA);

/** The schema's complaints about `doc`, one line each; empty when it is a valid SPDX 2.3 document. */
export function validateSpdx(doc: unknown): string[] {
    return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);
}
