// What every view shares: the configuration, the chain, the accounts and the chosen one, and
// a small frame for views that redraw themselves from the chain.
import type { PageAccount } from './accounts';
import type { Chain } from './chain';

export interface Config {
  /** The node's WebSocket JSON-RPC. */
  chain: string;
  /** The encrypted storage service contributions are uploaded to. */
  storage: string;
  /** The demo DAO's collective server (shown; the chain names each DAO's own). */
  collective: string;
  /** Offer the dev accounts //Alice ... //Ferdie (only if the chain says it is a
   * development or local chain too: anyone holds those keys). */
  dev: boolean;
}

export const DEFAULT_CONFIG: Config = {
  chain: 'ws://127.0.0.1:9944',
  storage: 'http://127.0.0.1:9900',
  collective: 'http://127.0.0.1:9950',
  dev: false
};

export interface App {
  config: Config;
  chain: Chain | null;
  accounts: PageAccount[];
  account: PageAccount | null;
  /** The best block seen. */
  best: number;
}

export const app: App = { config: DEFAULT_CONFIG, chain: null, accounts: [], account: null, best: 0 };

type Listener = () => void;
const accountListeners: Listener[] = [];

export function onAccountChange (f: Listener): void {
  accountListeners.push(f);
}

export function setAccount (account: PageAccount | null): void {
  app.account = account;
  try {
    if (account) localStorage.setItem('datacoop.account', account.key);
  } catch {
    // no localStorage: the choice is not remembered
  }
  for (const f of accountListeners) f();
}

/** A view: a tab of the page, drawn by `render` into `root`. */
export abstract class View {
  readonly root: HTMLElement;
  /** Redrawn on each new block while shown (unless busy or being typed in). */
  readonly live: boolean = true;
  busy = false;
  private rendering = false;
  private again = false;

  constructor (readonly id: string, readonly title: string) {
    this.root = document.createElement('section');
    this.root.className = 'view';
    this.root.dataset.testid = `view-${id}`;
  }

  protected abstract render (): Promise<void>;

  /** Forgets what was said and typed (another account was chosen). */
  reset (): void {}

  /** Redraws now, or once the redraw under way ends. */
  async refresh (): Promise<void> {
    if (this.rendering) {
      this.again = true;
      return;
    }
    this.rendering = true;
    try {
      do {
        this.again = false;
        await this.render();
      } while (this.again);
    } finally {
      this.rendering = false;
    }
  }

  /** A new best block: redraw if shown, live, idle and nobody is typing in it. */
  onBlock (): void {
    if (!this.live || this.busy || this.root.hidden) return;
    const focused = document.activeElement;
    if (focused && this.root.contains(focused) && (focused.tagName === 'INPUT' || focused.tagName === 'SELECT')) return;
    void this.refresh();
  }

  /** Runs `action` with the view marked busy (no redraws meanwhile), then redraws. */
  protected async act (action: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await action();
    } finally {
      this.busy = false;
      await this.refresh();
    }
  }
}
