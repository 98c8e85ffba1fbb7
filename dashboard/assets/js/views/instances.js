import { connectionName, instanceCard } from "../components/card.js";
import { Feedback } from "../components/feedback.js";
import { h, keepFocus } from "../dom.js";
import { AutoRefresh, UNCHANGED, describeRefresh, syncDelay } from "../poller.js";

/** `#/`: one card per connection, refreshed by itself while a sync runs. */
export function renderInstances(ctx) {
  const flash = new Feedback();
  const feedback = new Feedback();
  const stamp = h("p", { class: "refresh-state" }, "Carregando instâncias…");
  const list = h("ul", { class: "cards", "aria-label": "Instâncias" });
  const empty = h(
    "div",
    { class: "empty", hidden: true },
    h("p", { class: "empty__title" }, "Nenhuma instância conectada ainda."),
    h("p", {}, "Conecte um número do WhatsApp Business App (Coexistência) ou crie um número novo na Cloud API."),
    h("a", { class: "btn btn-primary", href: "#/new" }, "Nova Instância"),
  );
  const refreshButton = h("button", { type: "button", class: "btn" }, "Atualizar");
  ctx.main.append(
    h(
      "div",
      { class: "page-head" },
      h("h1", { tabindex: "-1" }, "Instâncias do WhatsApp"),
      h("div", { class: "toolbar" }, h("a", { class: "btn btn-primary", href: "#/new" }, "Nova Instância"), refreshButton),
    ),
    stamp,
    flash.element,
    feedback.element,
    empty,
    list,
  );

  // A card just created is shown before the list is read, and kept until the list includes it
  // (in AWS the list is read from an index that may lag a moment behind the write).
  const created = ctx.takeCreated();
  let pending = created?.connection ?? null;
  if (created) {
    const name = connectionName(created.connection);
    flash.success(created.reconnected ? `Número reconectado: ${name} voltou a ficar ativo.` : `Instância criada: ${name}.`);
  }

  const rendered = new Map();

  function show(connections) {
    if (pending) {
      if (connections.some((c) => c.id === pending.id)) pending = null;
      else connections = [pending, ...connections];
    }
    empty.hidden = connections.length > 0;
    const items = connections.map((connection) => {
      const signature = JSON.stringify(connection);
      const known = rendered.get(connection.id);
      if (known?.signature === signature) return known.item;
      if (known && known.label !== connection.historySync.statusLabel) {
        ctx.announce(`${connectionName(connection)}: ${connection.historySync.statusLabel}`);
      }
      const item = h(
        "li",
        { class: ["cards__item", created?.connection.id === connection.id && "cards__item--new"], "data-key": connection.id },
        instanceCard(connection),
      );
      rendered.set(connection.id, { signature, item, label: connection.historySync.statusLabel });
      return item;
    });
    for (const id of rendered.keys()) if (!connections.some((c) => c.id === id)) rendered.delete(id);
    keepFocus(list, () => {
      const same = items.length === list.children.length && items.every((item, i) => list.children[i] === item);
      if (!same) list.replaceChildren(...items);
    });
  }

  if (pending) show([]);

  let etag = null; // the list's: it moves with any card and anything of any number's inbox
  const auto = new AutoRefresh({
    fetch: async ({ manual }) => {
      const answer = await ctx.api.request("GET", "/connections", { etag: manual ? null : etag, signal: ctx.signal });
      if (answer.status === 304) return UNCHANGED;
      etag = answer.etag ?? null;
      return answer.data.connections;
    },
    render: (connections) => {
      feedback.clear();
      show(connections);
    },
    // the card just created counts too while the list does not include it yet
    delayFor: (connections) => syncDelay(pending ? [pending, ...connections] : connections),
    onState: (state) => {
      stamp.textContent = describeRefresh(state);
    },
    onError: (error) => {
      stamp.textContent = "";
      feedback.error(error, "Não foi possível carregar as instâncias.");
    },
  });
  refreshButton.addEventListener("click", () => auto.refresh());
  auto.refresh();
  return () => auto.stop();
}
