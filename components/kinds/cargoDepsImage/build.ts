// CargoDepsImage's provider side: buildah (daemonless), or nothing when Docker built it.
export { buildImage as build } from "../../images/buildah";
