// The Debian packages of a tree, from its dpkg status file.
import { strict as assert } from "assert";
import { installedPackages, parseStanzas } from "../../../components/sbom/dpkg";

const STATUS = `Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.41-12
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.
Homepage: https://www.gnu.org/software/libc/libc.html

Package: libc6
Status: install ok installed
Architecture: i386
Source: glibc
Version: 2.41-12
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2025b-4
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>

Package: old-tool
Status: deinstall ok config-files
Architecture: amd64
Version: 1:1.0-1

Package: epoch-tool
Status: install ok installed
Architecture: amd64
Source: epoch-src (1:2.0-1)
Version: 1:2.0-1+b1
`;

describe("dpkg status", () => {
    it("reads installed packages: continuation lines, two architectures, epochs; config-files only is not installed", () => {
        assert.equal(parseStanzas(STATUS)[0].Description, "GNU C Library: Shared libraries\nContains the standard libraries that are used by nearly all programs on\nthe system.");
        const pkgs = installedPackages(STATUS);
        assert.deepEqual(pkgs.map((p) => `${p.name}:${p.architecture}=${p.version}`), ["epoch-tool:amd64=1:2.0-1+b1", "libc6:amd64=2.41-12", "libc6:i386=2.41-12", "tzdata:all=2025b-4"]);
        assert.equal(pkgs[0].source, "epoch-src");
        assert.equal(pkgs[1].source, "glibc");
    });
});
