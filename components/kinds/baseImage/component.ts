// BaseImage's wiring: the image kinds' (upstream references as build args, Docker on a miss).
export { wireImage as wire } from "../../images/publishImage";
