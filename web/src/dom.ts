// A few DOM helpers: the page is plain DOM, built with h().

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** An element `tag` with attributes (`on…` are listeners, `testid` is `data-testid`) and children. */
export function h<K extends keyof HTMLElementTagNameMap> (
  tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
    } else if (key === 'testid') {
      el.dataset.testid = String(value);
    } else if (key === 'class') {
      el.className = String(value);
    } else if (key === 'value' && 'value' in el) {
      (el as HTMLInputElement).value = String(value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append (el: Element, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces `el`'s children. */
export function replace (el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A message line: `kind` error (red), ok (green) or info. */
export function message (testid: string, text: string, kind: 'error' | 'ok' | 'info' = 'info'): HTMLElement {
  return h('p', { class: `msg ${kind}`, testid, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** Sets a message element's text and kind; hides it when `text` is empty. */
export function setMessage (el: HTMLElement, text: string, kind: 'error' | 'ok' | 'info' = 'info'): void {
  el.textContent = text;
  el.className = `msg ${kind}`;
  el.hidden = text === '';
}

/** A two-column table of label/value rows. */
export function facts (rows: [string, Child, string?][]): HTMLTableElement {
  return h('table', { class: 'facts' },
    rows.map(([label, value, testid]) => h('tr', {}, h('th', {}, label), h('td', { testid }, value))));
}

/** The text of an error, one sentence. */
export function errorText (e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  return String(e);
}

/** Ends `text` with a full stop unless it ends with punctuation. */
export function sentence (text: string): string {
  const t = text.trim();
  return /[.!?)]$/.test(t) ? t : `${t}.`;
}
