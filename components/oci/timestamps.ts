// When a manifest was pushed, as the OCI annotation retention reads (components/report/retention.ts).
// It goes on the manifest only: layers and configs stay byte-reproducible.

export const CREATED_ANNOTATION = "org.opencontainers.image.created";

/** `{ "org.opencontainers.image.created": "2026-12-01T15:04:05.123Z" }` for now (RFC 3339). */
export function createdNow(now: Date = new Date()): Record<string, string> {
    return { [CREATED_ANNOTATION]: now.toISOString() };
}
