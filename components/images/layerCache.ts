// BaseImage step reuse: unchanged Containerfile steps are not run again on a miss. The registry is
// the layer cache, in a repository under the artifact's own (`<repository>/cache`), so the cache
// travels with the artifact between runners. The cache never decides a hit: the key does; a step
// taken from the cache only makes a miss cheaper.

/** The layer cache repository of an artifact's repository, `<host>/<repository>/cache`. */
export function layerCacheRepository(host: string, repository: string): string {
    return `${host}/${repository}/cache`;
}

/**
 * buildah's arguments for a cached build: `--layers` (one layer per step, each step's result
 * looked up by the step and its parent) with the registry repository as both source and
 * destination of cached steps (buildah 1.27 and later take one repository for each).
 */
export function buildahLayerCacheArgs(cacheRepository: string | undefined): string[] {
    if (!cacheRepository) return ["--layers=false"];
    return ["--layers", "--cache-from", cacheRepository, "--cache-to", cacheRepository];
}

/** The tag BuildKit's cache manifest goes under in the cache repository. */
export const DOCKER_CACHE_TAG = "buildkit";

/**
 * @pulumi/docker-build's cache settings for the same repository: import from and export to a
 * registry cache (`type=registry`), every stage's layers (`mode=max`), as an OCI image manifest
 * (which any distribution registry stores). A failed export does not fail the build.
 */
export function dockerCacheArgs(cacheRepository: string | undefined): { cacheFrom?: { registry: { ref: string } }[]; cacheTo?: { registry: Record<string, unknown> }[] } {
    if (!cacheRepository) return {};
    const ref = `${cacheRepository}:${DOCKER_CACHE_TAG}`;
    return {
        cacheFrom: [{ registry: { ref } }],
        cacheTo: [{ registry: { ref, mode: "max", imageManifest: true, ociMediaTypes: true, ignoreError: true } }],
    };
}
