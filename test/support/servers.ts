// Small HTTP servers on 127.0.0.1 for tests: a handler of the test's own, or one fixed answer to
// every request (a server that is not a registry). close() ends them and their open connections,
// so mocha can exit.
import * as http from "http";
import { AddressInfo } from "net";

export class LocalServers {
    readonly servers: http.Server[] = [];

    /** Serves `handler` on a free port; returns host:port. */
    async listen(handler: http.RequestListener): Promise<string> {
        const server = http.createServer(handler);
        this.servers.push(server);
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        return `127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    /** A server answering every request with one status, content type and body. */
    answering(status: number, contentType: string, body: string): Promise<string> {
        return this.listen((_req, res) => {
            res.writeHead(status, { "content-type": contentType });
            res.end(body);
        });
    }

    /** Adds a server started elsewhere, to be closed with the others. */
    add(server: http.Server): void {
        this.servers.push(server);
    }

    close(): void {
        for (const s of this.servers) {
            s.closeAllConnections();
            s.close();
        }
    }
}
