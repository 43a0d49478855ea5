// The one list of artifact kinds. Config validation (core/config.ts), the stack's wiring
// (core/stack.ts) and the provider (core/providerImpl.ts) all read it; nothing else names a kind.
//
// Each kind is a folder: fields.ts (its pure definition: name, fields, checks), plan.ts (pure:
// fields -> key material and build spec), component.ts (Pulumi wiring) and build.ts (provider side:
// build, adopt). Only the definitions load with this list; a plan, component or build module loads
// when an artifact of its kind needs it, so a warm run loads no builder it does not use.
import type { KindDefinition, KindPlanModule } from "../core/kind";
import type { KindComponentModule } from "../core/publish";
import type { KindBuildModule } from "../core/lifecycle";
import { fileBundle } from "./fileBundle/fields";
import { debianRootfs } from "./debianRootfs/fields";
import { baseImage } from "./baseImage/fields";
import { cargoDepsImage } from "./cargoDepsImage/fields";
import { qcow2Image } from "./qcow2Image/fields";
import { cloudInitIso } from "./cloudInitIso/fields";
import { packerAppliance } from "./packerAppliance/fields";

/** One entry of the list: a kind's definition, and how to load the rest of its folder. */
export interface KindEntry {
    definition: KindDefinition<any>;
    plan: () => KindPlanModule;
    component: () => KindComponentModule;
    build: () => KindBuildModule;
}

/** An entry for a kind folder laid out as above (`dir` is the folder, as a path `require` resolves). */
export function kindFolder(definition: KindDefinition<any>, dir: string): KindEntry {
    return {
        definition,
        plan: () => require(`${dir}/plan`),
        component: () => require(`${dir}/component`),
        build: () => require(`${dir}/build`),
    };
}

export const KINDS: KindEntry[] = [
    kindFolder(fileBundle, `${__dirname}/fileBundle`),
    kindFolder(debianRootfs, `${__dirname}/debianRootfs`),
    kindFolder(baseImage, `${__dirname}/baseImage`),
    kindFolder(cargoDepsImage, `${__dirname}/cargoDepsImage`),
    kindFolder(qcow2Image, `${__dirname}/qcow2Image`),
    kindFolder(cloudInitIso, `${__dirname}/cloudInitIso`),
    kindFolder(packerAppliance, `${__dirname}/packerAppliance`),
];

/** The entry of a kind, by the name artifacts give as `kind`. */
export function kindNamed(name: string): KindEntry | undefined {
    return KINDS.find((k) => k.definition.name === name);
}

export function kindNames(): string[] {
    return KINDS.map((k) => k.definition.name);
}
