// Browser-only: the room's toolkits (room.list_toolkits) and a form, made from a tool's input
// schema, that calls it and shows the result.
import { useEffect, useState } from "preact/hooks";
import type { RoomClient, ToolDescription, ToolkitDescription } from "@meshagent/api";
import { html, messageOf } from "./_html.ts";
import { formArguments, formFields } from "./_schema_form.ts";

function resultText(content: unknown): string {
  const c = content as { type?: string; json?: unknown; text?: string };
  if (c.type === "json") return JSON.stringify(c.json, null, 2);
  if (c.type === "text") return String(c.text);
  if (c.type === "empty") return "(no result)";
  return `(${c.type} content)`;
}

/** The call form of one tool. */
function CallForm(props: { room: RoomClient; toolkit: string; tool: ToolDescription }): unknown {
  const { room, toolkit, tool } = props;
  const fields = formFields(tool.inputSpec?.schema);
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [result, setResult] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (name: string, value: string | boolean) =>
    setValues((v) => ({ ...v, [name]: value }));
  const call = async (e: Event) => {
    e.preventDefault();
    setError("");
    setResult("");
    setBusy(true);
    try {
      const args = formArguments(fields, values);
      const content = await room.agents.invokeTool({
        toolkit,
        tool: tool.name,
        arguments: args as Parameters<RoomClient["agents"]["invokeTool"]>[0]["arguments"],
        timeout: 60_000,
      });
      setResult(resultText(content));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const id = (name: string) => `arg-${toolkit}-${tool.name}-${name}`;
  return html`<form class="call-form" onSubmit=${call} aria-label=${`call ${toolkit}.${tool.name}`}>
    <p>${tool.description}</p>
    ${
    fields.map((f) =>
      html`<div class="field" key=${f.name}>
      <label for=${id(f.name)}>${f.name}${f.required ? " *" : ""}</label>
      ${
        f.input === "checkbox"
          ? html`
            <input id=${id(f.name)} type="checkbox" checked=${values[f.name] === true}
              onChange=${(e: Event) => set(f.name, (e.target as HTMLInputElement).checked)} />
          `
          : f.input === "select"
          ? html`
            <select id=${id(f.name)} value=${values[f.name] ?? ""}
              onChange=${(e: Event) => set(f.name, (e.target as HTMLSelectElement).value)}>
                        <option value="">—</option>
                        ${f.choices.map((c) => html`<option value=${c}>${c}</option>`)}
                      </select>
          `
          : f.input === "json"
          ? html`
            <textarea id=${id(f.name)} rows="2" placeholder="JSON"
              onInput=${(e: Event) =>
                set(f.name, (e.target as HTMLTextAreaElement).value)}></textarea>
          `
          : html`
            <input id=${id(f.name)} type=${f.input} step="any"
              onInput=${(e: Event) => set(f.name, (e.target as HTMLInputElement).value)} />
          `
      }
      ${f.description && html`<small>${f.description}</small>`}
    </div>`
    )
  }
    <button type="submit" disabled=${busy}>${busy ? "Calling…" : `Call ${tool.name}`}</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${result && html`<pre class="call-result" aria-label="result">${result}</pre>`}
  </form>`;
}

/** The toolkits tab. */
export function ToolkitsView(props: { room: RoomClient }): unknown {
  const { room } = props;
  const [toolkits, setToolkits] = useState<ToolkitDescription[] | null>(null);
  const [open, setOpen] = useState("");
  const [error, setError] = useState("");
  const load = () =>
    room.agents.listToolkits().then(
      (list) => (setToolkits(list), setError("")),
      (e) => setError(messageOf(e)),
    );
  useEffect(() => {
    load();
  }, [room]);
  return html`<section aria-labelledby="toolkits-title">
    <h2 id="toolkits-title">Toolkits</h2>
    <button onClick=${load}>Refresh</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${
    toolkits === null ? html`<p>Loading…</p>` : html`<ul class="toolkits">
      ${
      toolkits.map((k) =>
        html`<li key=${k.name}><strong>${k.name}</strong> ${k.description}
        <ul>${
          k.tools.map((t) => {
            const key = `${k.name}.${t.name}`;
            return html`<li key=${t.name}>
            <button class="link" aria-expanded=${open === key}
              onClick=${() => setOpen(open === key ? "" : key)}>${key}</button>
            ${open === key && html`<${CallForm} room=${room} toolkit=${k.name} tool=${t} />`}
          </li>`;
          })
        }</ul>
      </li>`
      )
    }
    </ul>`
  }
  </section>`;
}
