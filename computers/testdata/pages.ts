// Local pages for the browser tests: a form, a long page, a page with links, and a record of what
// the browser sent. Served on 127.0.0.1 by `servePages`.

/** A running page server. */
export interface PageServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** The form submissions received (`/done?name=…` query values). */
  submissions: string[];
  /** Stops the server. */
  close(): Promise<void>;
}

const PAGES: Record<string, string> = {
  "/form": `<!doctype html><html><body style="margin:0;font:16px sans-serif">
<h1 style="position:absolute;left:20px;top:0;margin:10px 0">Sign up</h1>
<form action="/done" method="get">
  <input id="name" name="name" style="position:absolute;left:20px;top:80px;width:300px;height:30px">
  <button id="send" type="submit" style="position:absolute;left:20px;top:140px;width:120px;height:40px">Send</button>
</form></body></html>`,
  "/long": `<!doctype html><html><body style="margin:0">
<div style="height:5000px;background:linear-gradient(#fff,#036)">top</div>
<p id="bottom">bottom</p></body></html>`,
  "/links": `<!doctype html><html><body style="margin:0">
<a id="next" href="/long" style="position:absolute;left:20px;top:20px;width:200px;height:40px;display:block">long page</a>
<a id="away" href="{{AWAY}}" style="position:absolute;left:20px;top:100px;width:200px;height:40px;display:block">away</a>
</body></html>`,
};

/**
 * Serves the test pages on a free loopback port.
 *
 * @returns The server.
 */
export function servePages(): PageServer {
  const submissions: string[] = [];
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request): Response => {
      const url = new URL(request.url);
      if (url.pathname === "/done") {
        submissions.push(url.searchParams.get("name") ?? "");
        return new Response(
          `<!doctype html><p id="thanks">thanks ${url.searchParams.get("name")}</p>`,
          {
            headers: { "content-type": "text/html" },
          },
        );
      }
      const page = PAGES[url.pathname];
      if (!page) return new Response("not found", { status: 404 });
      // "away" goes to the same server under another host name (a domain a blocklist can name).
      const away = `http://localhost:${server.addr.port}/long`;
      return new Response(page.replace("{{AWAY}}", away), {
        headers: { "content-type": "text/html" },
      });
    },
  );
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    submissions,
    close: () => server.shutdown(),
  };
}
