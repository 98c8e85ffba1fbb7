// Every node is built with createElement and text nodes: names and message bodies are user data,
// so nothing here ever parses a string as HTML.

let nextId = 0;

/** A fresh id for wiring labels, descriptions and tooltips. */
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/**
 * h("a", {class: "btn", href: "#/", on: {click}}, "texto", childNode, [more], null)
 * Attributes are set with setAttribute (true → empty attribute; false, null and undefined → omitted).
 */
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") {
      element.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    } else if (name === "on") {
      for (const [event, handler] of Object.entries(value)) element.addEventListener(event, handler);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Text hidden on screen but read by screen readers. */
export function srOnly(text) {
  return h("span", { class: "visually-hidden" }, text);
}

/**
 * Runs `change` (which may replace nodes) and gives focus back to the equivalent control
 * (same [data-key] ancestor, same [data-focus]) if the focused one was replaced.
 */
export function keepFocus(container, change) {
  const active = document.activeElement;
  const owner = active instanceof Element ? active.closest("[data-key]") : null;
  const focusKey = active instanceof Element ? active.getAttribute("data-focus") : null;
  change();
  if (!owner || !focusKey || document.activeElement !== document.body) return;
  const key = CSS.escape(owner.getAttribute("data-key"));
  const again = container.querySelector(`[data-key="${key}"] [data-focus="${CSS.escape(focusKey)}"]`);
  again?.focus({ preventScroll: true });
}
