// Echo's provider side: the text as the one blob of an OCI artifact, manifest last.
import { BuildContext, BuildResult } from "../../../components/core/lifecycle";
import { NO_DOWNLOADS } from "../../../components/core/journal";
import { artifactAnnotations } from "../../../components/oci/annotations";
import { MEDIA, digestOf } from "../../../components/oci/manifest";
import { EMPTY_CONFIG, pushArtifact } from "../../../components/oci/push";
import { ECHO_KIND } from "./fields";
import { EchoBuild } from "./plan";

export const ECHO_ARTIFACT_TYPE = "application/vnd.warmrun.test-echo.v1";

export async function build(ctx: BuildContext): Promise<BuildResult> {
    const { inputs, client } = ctx;
    const data = Buffer.from((inputs.build as EchoBuild).text);
    const digest = await pushArtifact(client, {
        repository: inputs.repository,
        tag: inputs.tag,
        artifactType: ECHO_ARTIFACT_TYPE,
        config: { mediaType: MEDIA.ociEmpty, data: EMPTY_CONFIG },
        layers: [{ mediaType: "text/plain", digest: digestOf(data), size: data.length, data }],
        annotations: artifactAnnotations({ key: inputs.key, kind: ECHO_KIND, name: inputs.name }),
    });
    return { digest, downloads: NO_DOWNLOADS };
}
