// A cloud-init seed's inputs, for the CloudInitIso tests.
import { SeedInputs } from "../../components/kinds/cloudInitIso/seed";

export const SEED: SeedInputs = {
    caCertificates: ["CA-PEM\n"],
    files: [{ path: "/etc/b.key", content: "KEY\n", permissions: "0600" }, { path: "/etc/a.crt", content: "CERT\n", permissions: "0644" }],
    agentConfig: { path: "/etc/flightctl/config.yaml", value: { server: "https://api.example.com" } },
    rpms: ["flightctl-agent"],
    service: "flightctl-agent.service",
    extraUserData: { runcmd: [["echo", "extra"]], timezone: "UTC" },
    extraFiles: [],
};
