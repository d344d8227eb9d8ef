// Browser-only: the console's entry point, bundled into console.js by `deno task console-bundle`.
import { render } from "preact";
import { html } from "./_html.ts";
import { App } from "./_app.ts";

const root = document.getElementById("app")!;
root.textContent = ""; // the "Loading…" placeholder
render(html`<${App} />` as Parameters<typeof render>[0], root);
