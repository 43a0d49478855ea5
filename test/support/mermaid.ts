// Mermaid's own parser (the mermaid package) in Node: it needs a DOM for its sanitizer, which
// jsdom gives it while it loads. parseXychart returns what mermaid's xychart database holds.
let loaded: Promise<any> | undefined;

// mermaid is an ES module; TypeScript's CommonJS output would turn import() into require().
const esmImport = new Function("specifier", "return import(specifier)") as (s: string) => Promise<any>;

function mermaid(): Promise<any> {
    loaded ??= (async () => {
        const { JSDOM } = require("jsdom");
        const g = globalThis as any;
        const saved = { window: g.window, document: g.document };
        const dom = new JSDOM("<!doctype html><html><body></body></html>");
        g.window = dom.window;
        g.document = dom.window.document;
        try {
            return (await esmImport("mermaid")).default;
        } finally {
            g.window = saved.window;
            g.document = saved.document;
            if (saved.window === undefined) delete g.window;
            if (saved.document === undefined) delete g.document;
        }
    })();
    return loaded;
}

export interface XyChart {
    title: string;
    categories: string[];
    yAxis: { title: string; min?: number; max?: number };
    bars: number[][];
}

/** Parses a diagram with mermaid.parse (throws its parse error) and reads back an xychart's data. */
export async function parseXychart(text: string): Promise<XyChart> {
    const m = await mermaid();
    const r = await m.parse(text);
    if (r?.diagramType !== "xychart") throw new Error(`mermaid parsed a ${r?.diagramType}, not an xychart`);
    const diagram = await m.mermaidAPI.getDiagramFromText(text);
    const data = diagram.db.getXYChartData();
    return {
        title: diagram.db.getDiagramTitle?.() ?? data.title,
        categories: data.xAxis.categories,
        yAxis: { title: data.yAxis.title, min: data.yAxis.min, max: data.yAxis.max },
        bars: data.plots.filter((p: any) => p.type === "bar").map((p: any) => p.data.map((d: [string, number]) => d[1])),
    };
}
