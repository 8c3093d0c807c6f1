// Building the page's elements. Span data is untrusted (names, tags and ids
// come from whatever reported them), so nothing here ever parses a string as
// markup: text goes in as textContent, attributes one by one.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * An HTML element: `el('a', { href: '#/', class: 'x' }, 'text', child)`.
 * Props: `class`, `text`, `on<Event>` handlers, `dataset`, booleans (set when
 * true), anything else as an attribute. Children: nodes, or strings as text.
 */
export function el(tag, props = {}, ...children) {
  return fill(document.createElement(tag), props, children);
}

/** The same, for SVG elements (which need their namespace). */
export function svg(tag, props = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), props, children);
}

function fill(node, props, children) {
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (name === 'text') node.textContent = String(value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2).toLowerCase(), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

/** Appends nodes and strings (as text), skipping null/undefined/false, flattening arrays. */
export function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Removes every child. */
export function clear(node) {
  node.replaceChildren();
  return node;
}

/** `document.getElementById`, failing loudly: a missing element is a bug in index.html. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node;
}

let toastTimer;
/** A short message at the bottom of the page, for failures the user should know about. */
export function toast(message) {
  const node = byId('toast');
  node.textContent = message;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 6000);
}
