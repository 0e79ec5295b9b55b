// <tailpolicy-preview>: a drop-in preview for a CI provider's Tailscale settings page. Given a
// tailnet policy, it shows whether the runner tag reaches a destination, by which rule, and
// the policy's errors; all in the page, through the tailpolicy WebAssembly module, with no
// request other than loading that module (from beside this file, or from `wasmUrl`).
//
//   <script type="module" src=".../tailpolicy-preview.js"></script>
//   <tailpolicy-preview tag="tag:depot-runner" destination="database:5432">
//     { "acls": [ ... ] }            <!-- the policy as child text, or the `policy` property -->
//   </tailpolicy-preview>
//
// Attributes: `tag` (the source: a tag, user, group, ...), `destination` (`host:port`),
// `proto` (default tcp), `editable` (shows a destination field). Properties: `policy`,
// `inventory` (JSON text or object), `verdict` (read-only). Event: `verdictchange`
// (bubbles, composed) with the verdict as `detail`, whenever it changes. Styles inherit the
// host page's font and colour; `--tailpolicy-allowed`, `--tailpolicy-denied` and
// `--tailpolicy-accent` tune the marks. Documented in wasm/README.md.
import init, { Policy } from '../pkg/web/tailpolicy_wasm.js';

let ready;
/** Loads the module once; `wasmUrl` (set before the first element connects) overrides where. */
function load() {
  ready ??= init(TailpolicyPreview.wasmUrl ? { module_or_path: TailpolicyPreview.wasmUrl } : undefined);
  return ready;
}

const STYLE = `
:host { display: block; font: inherit; color: inherit; line-height: 1.4;
  --tp-allowed: var(--tailpolicy-allowed, #1a7f37); --tp-denied: var(--tailpolicy-denied, #cf222e);
  --tp-accent: var(--tailpolicy-accent, currentColor); }
:host([hidden]) { display: none; }
.box { border: 1px solid color-mix(in srgb, currentColor 25%, transparent); border-radius: 6px; padding: 0.6em 0.8em; }
.verdict { font-weight: 600; display: flex; gap: 0.5em; align-items: baseline; }
.mark { display: inline-block; min-width: 1.2em; text-align: center; }
[data-state="allowed"] .mark { color: var(--tp-allowed); }
[data-state="denied"] .mark, [data-state="invalid"] .mark, [data-state="error"] .mark { color: var(--tp-denied); }
.why { margin: 0.3em 0 0; font-weight: normal; }
details { margin-top: 0.4em; }
summary { cursor: pointer; }
summary:focus-visible, input:focus-visible { outline: 2px solid var(--tp-accent); outline-offset: 2px; }
ul { margin: 0.3em 0; padding-left: 1.4em; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; }
label { display: flex; gap: 0.5em; align-items: center; margin-bottom: 0.4em; }
input { font: inherit; color: inherit; background: transparent; padding: 0.15em 0.4em;
  border: 1px solid color-mix(in srgb, currentColor 40%, transparent); border-radius: 4px; }
`;

export class TailpolicyPreview extends HTMLElement {
  /** Where to load `tailpolicy_wasm_bg.wasm` from (default: beside the module's JS). */
  static wasmUrl = undefined;
  static observedAttributes = ['tag', 'destination', 'proto', 'editable'];

  #policy = null;
  #inventory = undefined;
  #verdict = null;
  #key = '';
  #queued = false;
  #observer = null;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `<style>${STYLE}</style>
<div class="box" part="box" data-state="loading">
  <label part="field" hidden><span>Destination</span><input type="text" spellcheck="false" autocomplete="off"></label>
  <div class="verdict" part="verdict" role="status" aria-live="polite"><span class="mark" aria-hidden="true">…</span><span class="text">Loading the policy checker…</span></div>
  <p class="why" part="why"></p>
  <details part="details" hidden><summary>Details</summary><ul></ul></details>
</div>`;
    const input = root.querySelector('input');
    input.addEventListener('input', () => this.setAttribute('destination', input.value));
  }

  /** The policy text; unset, the element's own text content is the policy. */
  get policy() { return this.#policy ?? this.textContent; }
  set policy(text) { this.#policy = text == null ? null : String(text); this.#schedule(); }

  /** The tailnet inventory (JSON text or object); optional. */
  get inventory() { return this.#inventory; }
  set inventory(value) { this.#inventory = value ?? undefined; this.#schedule(); }

  /** The current verdict (the `detail` of the last `verdictchange`). */
  get verdict() { return this.#verdict; }

  connectedCallback() {
    // Child text edited after the element connected (a framework rendering the policy).
    this.#observer ??= new MutationObserver(() => { if (this.#policy === null) this.#schedule(); });
    this.#observer.observe(this, { childList: true, characterData: true, subtree: true });
    this.#schedule();
  }

  disconnectedCallback() { this.#observer?.disconnect(); }

  attributeChangedCallback() { this.#schedule(); }

  #schedule() {
    if (this.#queued || !this.isConnected) return;
    this.#queued = true;
    // One evaluation per task, however many properties changed in it. Deferred a microtask so
    // that a module importing this one can set `wasmUrl` before the first load.
    Promise.resolve().then(load).then(() => { this.#queued = false; this.#evaluate(); },
      (error) => { this.#queued = false; this.#show({ state: 'error', text: 'The policy checker could not load', why: String(error) }); });
  }

  #evaluate() {
    const src = (this.getAttribute('tag') || '').trim();
    const dst = (this.getAttribute('destination') || '').trim();
    const proto = (this.getAttribute('proto') || 'tcp').trim();
    const field = this.shadowRoot.querySelector('label');
    field.hidden = !this.hasAttribute('editable');
    const input = field.querySelector('input');
    if (input.value !== dst && this.shadowRoot.activeElement !== input) input.value = dst;

    const options = this.#inventory === undefined ? {} : { inventory: this.#inventory };
    const parsed = Policy.parse(this.policy, options);
    if (!parsed.ok) {
      const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
      this.#show({
        state: 'invalid', src, dst, proto, allowed: false,
        text: `The policy has ${errors.length === 1 ? 'an error' : `${errors.length} errors`}`,
        why: '', details: errors.map((d) => `line ${d.line}, column ${d.column}: ${d.message} (${d.code})`),
        diagnostics: parsed.diagnostics,
      });
      return;
    }
    const policy = parsed.policy;
    try {
      if (!src || !dst) {
        this.#show({ state: 'error', src, dst, proto, allowed: false, text: 'Set a tag and a destination', why: '' });
        return;
      }
      const answer = policy.query({ src, dst, proto });
      if (answer.error !== undefined) {
        this.#show({ state: 'error', src, dst, proto, allowed: false, text: `Cannot answer for ${src} → ${dst}`, why: answer.error });
        return;
      }
      this.#show({
        state: answer.allowed ? 'allowed' : 'denied', src, dst, proto, allowed: answer.allowed,
        text: `${answer.allowed ? 'Allowed' : 'Denied'}: ${src} → ${dst} (${proto})`,
        why: answer.explanation,
        details: [
          ...answer.matches.map((m) => `${m.section}[${m.index}] at line ${m.line}, column ${m.column}`),
          ...answer.conditions.map((c) => `on condition that ${c.text}`),
        ],
        matches: answer.matches, conditions: answer.conditions,
      });
    } finally {
      policy.free();
    }
  }

  #show(verdict) {
    const root = this.shadowRoot;
    const box = root.querySelector('.box');
    box.dataset.state = verdict.state;
    const marks = { allowed: '✓', denied: '✗', invalid: '!', error: '!' };
    root.querySelector('.mark').textContent = marks[verdict.state] ?? '…';
    root.querySelector('.text').textContent = verdict.text;
    root.querySelector('.why').textContent = verdict.why ?? '';
    const details = root.querySelector('details');
    const items = verdict.details ?? [];
    details.hidden = items.length === 0;
    details.querySelector('ul').replaceChildren(...items.map((t) => {
      const li = document.createElement('li');
      li.textContent = t;
      return li;
    }));
    this.setAttribute('state', verdict.state);
    const detail = { state: verdict.state, allowed: verdict.allowed ?? false, src: verdict.src ?? '', dst: verdict.dst ?? '',
      proto: verdict.proto ?? 'tcp', explanation: verdict.why ?? verdict.text, matches: verdict.matches ?? [],
      conditions: verdict.conditions ?? [], diagnostics: verdict.diagnostics ?? [] };
    this.#verdict = detail;
    const key = JSON.stringify([detail.state, detail.src, detail.dst, detail.proto, detail.explanation, items]);
    if (key !== this.#key) {
      this.#key = key;
      this.dispatchEvent(new CustomEvent('verdictchange', { detail, bubbles: true, composed: true }));
    }
  }
}

if (!customElements.get('tailpolicy-preview')) customElements.define('tailpolicy-preview', TailpolicyPreview);
