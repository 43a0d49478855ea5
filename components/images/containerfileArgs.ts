// The build arguments a Containerfile declares (`ARG NAME[=default] ...`, in any stage), so the
// image kinds pass an upstream's reference only where the Containerfile asks for it: buildah and
// Docker warn about every build argument nothing consumes.

/** Logical lines: `\` (or the `escape` directive's character) at a line's end continues it; comments dropped. */
function logicalLines(text: string): string[] {
    const escape = /^#\s*escape\s*=\s*`/im.test(text.split(/\r?\n/).slice(0, 5).join("\n")) ? "`" : "\\";
    const lines: string[] = [];
    let current = "";
    for (const raw of text.split(/\r?\n/)) {
        const line = raw.trimEnd();
        if (current === "" && /^\s*#/.test(line)) continue;
        if (line.endsWith(escape)) {
            current += line.slice(0, -1) + " ";
            continue;
        }
        lines.push(current + line);
        current = "";
    }
    if (current) lines.push(current);
    return lines;
}

export function declaredArgs(containerfile: string): Set<string> {
    const names = new Set<string>();
    for (const line of logicalLines(containerfile)) {
        const m = /^\s*ARG\s+(.*)$/i.exec(line);
        if (!m) continue;
        for (const word of m[1].trim().split(/\s+/)) {
            const name = /^([A-Za-z_][A-Za-z0-9_]*)(=|$)/.exec(word);
            if (name) names.add(name[1]);
        }
    }
    return names;
}

/** The entries of `args` whose name the Containerfile declares. */
export function onlyDeclared(args: Record<string, string>, containerfile: string): Record<string, string> {
    const declared = declaredArgs(containerfile);
    return Object.fromEntries(Object.entries(args).filter(([k]) => declared.has(k)));
}
