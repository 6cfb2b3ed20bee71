// Connect: which chain the page talks to, and which account it acts as.
import { app, setAccount, View } from '../app';
import { coop, freeBalance } from '../chain';
import { facts, h, message, replace } from '../dom';

export class ConnectView extends View {
  override readonly live = false;
  /** Why there are no extension accounts, if there are none. */
  extensionNote = '';
  private balance = h('span', { testid: 'account-balance' });

  constructor () {
    super('connect', 'Connect');
  }

  protected async render (): Promise<void> {
    const chain = app.chain;
    const select = h('select', {
      testid: 'account-select',
      id: 'account-select',
      onchange: () => setAccount(app.accounts.find((a) => a.key === select.value) ?? null)
    },
    h('option', { value: '' }, app.accounts.length ? 'Choose an account' : 'No accounts yet'),
    app.accounts.filter((a) => a.source === 'extension').length
      ? h('optgroup', { label: 'Browser extension' },
        app.accounts.filter((a) => a.source === 'extension').map((a) => h('option', { value: a.key }, a.name)))
      : null,
    app.accounts.filter((a) => a.source === 'dev').length
      ? h('optgroup', { label: 'Development accounts' },
        app.accounts.filter((a) => a.source === 'dev').map((a) => h('option', { value: a.key }, a.name)))
      : null);
    select.value = app.account?.key ?? '';
    const account = app.account;
    replace(this.root,
      h('h2', {}, 'Connect'),
      h('p', { class: 'lead' }, 'Choose the account that contributes, holds tokens and votes. The page never sends your data unencrypted: files are encrypted in this browser before they are uploaded.'),
      h('label', { for: 'account-select' }, 'Account '), select,
      this.extensionNote ? message('extension-note', this.extensionNote, 'info') : null,
      facts([
        ...(account
          ? [
              ['Address', h('code', { testid: 'account-address' }, account.address)],
              ['Signs with', account.source === 'dev' ? `the development key ${account.uri}` : `the ${account.extension} extension`],
              ['Balance', this.balance]
            ] as [string, HTMLElement | string][]
          : []),
        ['Chain', chain ? `${chain.name} at ${chain.url}` : app.config.chain],
        ['Storage', app.config.storage]
      ]));
    await this.updateBalance();
  }

  async updateBalance (): Promise<void> {
    if (!app.chain || !app.account) return;
    this.balance.textContent = coop(app.chain, await freeBalance(app.chain, app.account.address));
  }

  override onBlock (): void {
    if (!this.root.hidden) void this.updateBalance().catch(() => {});
  }
}
