import { h } from "../dom.js";
import { explainError } from "../labels.js";

/** An error as a person reads it: what happened in Portuguese, then the server's own words. */
function errorNotice(error, lead) {
  if (!("status" in error)) console.error(error);
  const { summary, detail } = explainError(error);
  return h(
    "div",
    { class: "notice notice--error" },
    h("p", { class: "notice__title" }, lead ?? summary),
    lead ? h("p", {}, summary) : null,
    detail ? h("p", { class: "notice__detail" }, `Detalhe do servidor: ${detail}`) : null,
  );
}

/**
 * A message area next to what it is about. Both live regions exist before anything is said in them,
 * so screen readers announce the outcome of each action (errors assertively).
 */
export class Feedback {
  constructor() {
    this.polite = h("div", { role: "status" });
    this.assertive = h("div", { role: "alert" });
    this.element = h("div", { class: "feedback" }, this.polite, this.assertive);
  }

  clear() {
    this.polite.replaceChildren();
    this.assertive.replaceChildren();
  }

  success(...content) {
    this.clear();
    this.polite.append(h("div", { class: "notice notice--success" }, ...content));
  }

  info(...content) {
    this.clear();
    this.polite.append(h("div", { class: "notice notice--info" }, ...content));
  }

  /** A problem that is not an API error (a cancelled signup, a script that did not load). */
  fail(title, text) {
    this.clear();
    this.assertive.append(
      h("div", { class: "notice notice--error" }, h("p", { class: "notice__title" }, title), text ? h("p", {}, text) : null),
    );
  }

  error(error, lead) {
    this.clear();
    this.assertive.append(errorNotice(error, lead));
  }
}
