import { h, uid } from "../dom.js";

/**
 * Makes `trigger` focusable and describes it with `text`, shown on hover and on keyboard focus;
 * Escape hides it until focus or pointer leave (WCAG 1.4.13).
 */
export function withTooltip(trigger, text, focusKey) {
  const id = uid("dica");
  trigger.setAttribute("tabindex", "0");
  trigger.setAttribute("aria-describedby", id);
  if (focusKey) trigger.setAttribute("data-focus", focusKey);
  const bubble = h("span", { id, role: "tooltip", class: "tip__bubble" }, text);
  const wrapper = h("span", { class: "tip" }, trigger, bubble);
  const reset = () => wrapper.classList.remove("tip--dismissed");
  trigger.addEventListener("keydown", (event) => {
    if (event.key === "Escape") wrapper.classList.add("tip--dismissed");
  });
  trigger.addEventListener("blur", reset);
  wrapper.addEventListener("mouseleave", reset);
  return wrapper;
}
