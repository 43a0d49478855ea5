// CargoDepsImage's wiring: the image kinds' (upstream references as build args, Docker on a miss).
export { checkImage as check, wireImage as wire } from "../../images/publishImage";
