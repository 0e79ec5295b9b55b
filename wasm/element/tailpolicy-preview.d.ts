import type { Condition, Diagnostic, Inventory, RuleRef } from '../pkg/web/tailpolicy_wasm.js';

/** The `detail` of a `verdictchange` event, and `TailpolicyPreview.verdict`. */
export interface PreviewVerdict {
  /** `allowed`/`denied`: the query's answer; `invalid`: the policy has errors; `error`: the
   * query cannot be answered (an unknown name, no tag or destination) or the module failed. */
  state: 'allowed' | 'denied' | 'invalid' | 'error';
  allowed: boolean;
  src: string;
  dst: string;
  proto: string;
  /** Which rule allows it, why it is denied, or the error. */
  explanation: string;
  matches: RuleRef[];
  conditions: Condition[];
  /** For `invalid`: the diagnostics that keep the policy from being queried. */
  diagnostics: Diagnostic[];
}

export declare class TailpolicyPreview extends HTMLElement {
  /** Where to load `tailpolicy_wasm_bg.wasm` from; default beside the module's JavaScript. */
  static wasmUrl: string | URL | undefined;
  /** The policy text; when unset, the element's text content. */
  policy: string;
  /** The tailnet inventory, as JSON text or an object of the same shape. */
  inventory: string | Inventory | undefined;
  /** The current verdict, or null before the first one. */
  readonly verdict: PreviewVerdict | null;
}

declare global {
  interface HTMLElementTagNameMap {
    'tailpolicy-preview': TailpolicyPreview;
  }
  interface HTMLElementEventMap {
    verdictchange: CustomEvent<PreviewVerdict>;
  }
}
