// Pulumi's mocks for unit tests of the component graph; one set for every test file, since
// setMocks is process-wide.
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
    type: string;
    name: string;
    inputs: any;
}

export const registered: Registered[] = [];

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** The value inside a secret as the mocks see it, or the value itself. */
export function plain(v: any): any {
    return v && typeof v === "object" && v["4dabf18193072939515e22adb298388d"] === SECRET_SIG ? v.value : v;
}

export function isSecret(v: any): boolean {
    return plain(v) !== v;
}

export function resetRegistered(): void {
    registered.length = 0;
}

const mocks: pulumi.runtime.Mocks = {
    newResource(args: pulumi.runtime.MockResourceArgs) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const digest = `sha256:${"d".repeat(64)}`;
        const extra: Record<string, unknown> = { digest, cacheHit: false };
        if (args.inputs.repository) extra.pinned = `${plain(args.inputs.registry)?.host}/${args.inputs.repository}@${digest}`;
        return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
    },
    call: () => ({}),
};

/** The mocks run as `pulumi up` (false, the default) or as `pulumi preview` (true). */
export function setPreview(preview: boolean): void {
    pulumi.runtime.setMocks(mocks, "warmrun", "test", preview);
}

setPreview(false);
