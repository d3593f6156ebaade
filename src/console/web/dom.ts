/**
 * The only way the page makes elements: text goes in as text nodes (never parsed as markup), attributes are set one
 * by one and never an `on…` handler. Everything an agent sent is shown through these, so `<script>` in a tool
 * argument is shown as the characters it is.
 */
export type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Readonly<Record<string, string>> | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs !== null) {
    for (const [name, value] of Object.entries(attrs)) {
      if (/^on/i.test(name)) throw new Error(`refusing to set the event attribute ${name}`);
      el.setAttribute(name, value);
    }
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function clear(el: Node): void {
  while (el.firstChild !== null) el.removeChild(el.firstChild);
}

export function replace(el: Node, ...children: Child[]): void {
  clear(el);
  append(el, ...children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
}

export function button(label: string, onClick: (event: MouseEvent) => void, attrs: Readonly<Record<string, string>> = {}): HTMLButtonElement {
  const b = h('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', onClick);
  return b;
}

/** Above this many characters a value is shown unwrapped in a scrolling block (see .long in styles.css). */
export const LONG_TEXT = 10_000;

/** A block of text (an argument, an input as JSON): wrapped when short, scrolled sideways when long. */
export function textBlock(text: string, attrs: Readonly<Record<string, string>> = {}): HTMLPreElement {
  const cls = [attrs.class, text.length > LONG_TEXT ? 'long' : undefined].filter(Boolean).join(' ');
  return h('pre', { ...attrs, ...(cls ? { class: cls } : {}) }, text);
}

/** JSON for people: pretty-printed, and left as it is when it does not parse. */
export function pretty(value: unknown): string {
  if (typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2) ?? String(value);
}

export function shortTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour12: false });
}
