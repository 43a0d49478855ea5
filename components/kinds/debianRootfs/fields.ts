// DebianRootfs's fields: a Debian tree made by debootstrap.
import { KindDefinition } from "../../core/kind";

export const ROOTFS_KIND = "DebianRootfs";

export interface DebianRootfsFields {
    suite: string;
    variant?: string;
    packages?: string[];
    mirror?: string;
}

export const debianRootfs: KindDefinition<DebianRootfsFields> = {
    name: ROOTFS_KIND,
    fields: {
        suite: { type: "string", required: true, description: "Debian suite, e.g. trixie" },
        variant: { type: "string", description: "debootstrap variant (default minbase)" },
        packages: { type: "string[]", description: "extra packages to include" },
        mirror: { type: "string", description: "Debian mirror URL (default: debootstrap's default)" },
    },
};
