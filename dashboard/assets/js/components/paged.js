import { isAbort } from "../api.js";
import { h } from "../dom.js";
import { Feedback } from "./feedback.js";

/**
 * A list read a page at a time (CONTRACT §3: `limit`, `cursor`, `nextCursor`) with "Carregar mais".
 * `url(cursor)` is the page's path, `items(body)` its entries, `item(entry)` one entry's element.
 */
export class PagedList {
  constructor({ ctx, url, items, item, label, emptyText, failure, tag = "ul", className = "rows" }) {
    Object.assign(this, { ctx, url, items, item, failure });
    this.cursor = null;
    this.following = true; // only the first page is shown: a refresh may replace it
    this.sequence = 0;
    this.feedback = new Feedback();
    this.list = h(tag, { class: className, "aria-label": label });
    this.empty = h("p", { class: "empty-inline", hidden: true }, emptyText);
    this.more = h("button", { type: "button", class: "btn more", hidden: true, on: { click: () => this.load(false) } }, "Carregar mais");
    this.element = h("div", { class: "paged" }, this.feedback.element, this.empty, this.list, this.more);
  }

  setEmptyText(text) {
    this.empty.textContent = text;
  }

  async load(reset) {
    this.sequence += 1;
    const mine = this.sequence;
    this.list.setAttribute("aria-busy", "true");
    try {
      const body = await this.ctx.api.get(this.url(reset ? null : this.cursor), { signal: this.ctx.signal });
      if (mine !== this.sequence) return;
      this.feedback.clear();
      const elements = this.items(body).map((entry) => this.item(entry));
      if (reset) this.list.replaceChildren(...elements);
      else this.list.append(...elements);
      this.following = reset;
      this.cursor = body.nextCursor ?? null;
      this.more.hidden = !this.cursor;
      this.empty.hidden = this.list.children.length > 0;
    } catch (error) {
      if (!isAbort(error) && mine === this.sequence) this.feedback.error(error, this.failure);
    } finally {
      if (mine === this.sequence) this.list.removeAttribute("aria-busy");
    }
  }
}
