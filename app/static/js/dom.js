// A small element builder, so pages build the DOM without HTML strings.

// Create an element. Props: "class", "text", "dataset" (an object), "on…"
// functions become event listeners, booleans toggle attributes, and other
// values become attributes. Children may be nodes, strings, or null to skip.
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") {
      element.className = value;
    } else if (name === "text") {
      element.textContent = value;
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else if (name === "value") {
      element.value = value;
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) {
      append(element, child);
    } else {
      element.append(child instanceof Node ? child : String(child));
    }
  }
}

let uniqueCounter = 0;

// Return an id no other element of the page uses, for label and aria links.
export function uniqueId(prefix) {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}`;
}

// A progress bar for logged against planned hours; over 100 % shows as over plan.
export function progressBar(percent, label) {
  if (percent === null || percent === undefined) {
    return h("span", { class: "muted" }, "no plan");
  }
  const shown = Math.min(100, Math.max(0, percent));
  const over = percent > 100;
  return h(
    "div",
    { class: "progress-cell" },
    h(
      "div",
      {
        class: over ? "progress progress-over" : "progress",
        role: "progressbar",
        "aria-valuemin": 0,
        "aria-valuemax": 100,
        "aria-valuenow": Math.round(shown),
        "aria-valuetext": `${Math.round(percent)} % of plan${over ? ", over plan" : ""}`,
        "aria-label": label,
      },
      h("div", { class: "progress-fill", style: `width: ${shown}%` }),
    ),
    h("span", { class: over ? "progress-value over" : "progress-value" }, `${Math.round(percent)} %`),
  );
}
