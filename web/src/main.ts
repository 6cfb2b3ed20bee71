// The page: reads ./config.json, connects to the chain, offers the accounts, and shows one
// view at a time (Connect, Explore, Contribute, My data, Governance).
import './style.css';
import { devAccounts, extensionAccounts } from './accounts';
import { app, Config, DEFAULT_CONFIG, onAccountChange, setAccount, View } from './app';
import { connect } from './chain';
import { errorText, h, replace, setMessage } from './dom';
import { ConnectView } from './views/connect';
import { ContributeView } from './views/contribute';
import { ExploreView } from './views/explore';
import { GovernanceView } from './views/governance';
import { MyDataView } from './views/mydata';

async function loadConfig (): Promise<{ config: Config, note: string }> {
  try {
    const res = await fetch('./config.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const given = await res.json() as Partial<Config>;
    return { config: { ...DEFAULT_CONFIG, ...given }, note: '' };
  } catch (e) {
    return { config: DEFAULT_CONFIG, note: `No ./config.json (${errorText(e)}): using the local development addresses, without the dev accounts.` };
  }
}

const connectView = new ConnectView();
const views: View[] = [connectView, new ExploreView(), new ContributeView(), new MyDataView(), new GovernanceView()];

const chainStatus = h('span', { testid: 'chain-status', class: 'chain-status' }, 'Starting…');
const accountBadge = h('span', { testid: 'account-current', class: 'account-badge' }, 'no account');
const chainError = h('p', { testid: 'chain-error', class: 'msg error banner', role: 'alert', hidden: true });
const configNote = h('p', { testid: 'config-note', class: 'msg info banner', hidden: true });
const tabs = h('nav', { class: 'tabs' });

function show (id: string): void {
  const view = views.find((v) => v.id === id) ?? views[0];
  for (const v of views) v.root.hidden = v !== view;
  for (const b of tabs.querySelectorAll('button')) b.classList.toggle('active', b.dataset.view === view.id);
  if (location.hash !== `#${view.id}`) history.replaceState(null, '', `#${view.id}`);
  if (app.chain) void view.refresh().catch((e) => console.error(e));
}

function layout (): void {
  replace(tabs, views.map((v) =>
    h('button', { testid: `tab-${v.id}`, 'data-view': v.id, onclick: () => show(v.id) }, v.title)));
  const main = h('main', {}, views.map((v) => v.root));
  replace(document.body,
    h('header', {},
      h('h1', {}, 'Datacoop'),
      h('p', { class: 'tagline' }, 'Your data, pooled on your terms.'),
      h('div', { class: 'status-line' }, chainStatus, ' · ', accountBadge)),
    chainError, configNote, tabs, main,
    h('footer', {}, 'Files are encrypted in your browser (age, X25519 + ChaCha20-Poly1305) before they leave it.'));
}

async function start (): Promise<void> {
  layout();
  const { config, note } = await loadConfig();
  app.config = config;
  setMessage(configNote, note, 'info');
  show(location.hash.slice(1) || 'connect');
  onAccountChange(() => {
    accountBadge.textContent = app.account ? app.account.name : 'no account';
    for (const v of views) v.reset();
    const shown = views.find((v) => !v.root.hidden);
    if (shown && app.chain) void shown.refresh();
  });

  chainStatus.textContent = `Connecting to ${config.chain}…`;
  let connected = false;
  const unreachable = () => setMessage(chainError,
    `The chain at ${config.chain} cannot be reached: is the node running? The page keeps trying.`, 'error');
  const timer = setTimeout(() => { if (!connected) unreachable(); }, 4_000);
  const chain = await connect(config.chain, (up) => {
    if (up) {
      setMessage(chainError, '');
    } else if (connected) {
      setMessage(chainError, `Lost the connection to the chain at ${config.chain}; reconnecting.`, 'error');
    } else {
      unreachable();
    }
  });
  connected = true;
  clearTimeout(timer);
  setMessage(chainError, '');
  app.chain = chain;
  chainStatus.textContent = `${chain.name} at ${chain.url}`;

  await chain.api.rpc.chain.subscribeNewHeads((header) => {
    app.best = header.number.toNumber();
    chainStatus.textContent = `${chain.name} at ${chain.url}, block #${app.best}`;
    for (const v of views) v.onBlock();
  });

  // Dev accounts at once; the extension's when it answers (it may ask its user first).
  // Never on a live chain, whatever the config says: anyone holds the dev accounts' keys.
  const chainType = await chain.api.rpc.system.chainType();
  const devChain = chainType.isDevelopment || chainType.isLocal;
  app.accounts = config.dev && devChain ? await devAccounts(chain.ss58) : [];
  const remembered = (() => { try { return localStorage.getItem('datacoop.account'); } catch { return null; } })();
  const restore = () => {
    if (!app.account && remembered) {
      const found = app.accounts.find((a) => a.key === remembered);
      if (found) setAccount(found);
    }
  };
  restore();
  await connectView.refresh();
  try {
    const { accounts, note: extNote } = await extensionAccounts();
    app.accounts = [...accounts, ...app.accounts];
    connectView.extensionNote = extNote;
  } catch (e) {
    connectView.extensionNote = `The browser extension failed: ${errorText(e)}`;
  }
  restore();
  await connectView.refresh();
  const shown = views.find((v) => !v.root.hidden);
  if (shown && shown !== connectView) await shown.refresh();
}

start().catch((e) => {
  setMessage(chainError, `The page failed to start: ${errorText(e)}`, 'error');
  console.error(e);
});
