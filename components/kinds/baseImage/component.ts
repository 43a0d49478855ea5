// BaseImage's wiring: the image kinds' (upstream references as build args, Docker on a miss), with
// step reuse: the registry repository of cached steps joins the build block (never the key).
import * as pulumi from "@pulumi/pulumi";
import { KindArgs, Wiring } from "../../core/publish";
import { ImageSpec } from "../../images/imagePlan";
import { wireImage } from "../../images/publishImage";
export { checkImage as check } from "../../images/publishImage";
import { layerCacheRepository } from "../../images/layerCache";

export function wire(parent: pulumi.ComponentResource, args: KindArgs<unknown, ImageSpec>): Wiring {
    const layerCache = layerCacheRepository(args.registry.host, args.publication.repository);
    return wireImage(parent, { ...args, plan: { ...args.plan, build: { ...args.plan.build, layerCache } } });
}
