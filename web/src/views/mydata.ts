// My data: my contributions and where each stands, my dataset tokens per DAO with the rewards
// I may claim, cancelling a contribution no server judged, and (for an extension account) the
// key my contributions are encrypted to.
import { app, View } from '../app';
import type { Contribution, Dao } from '../chain';
import {
  allDaos, bestNumber, claimable, coop, contributionIdsOf, findEvent, readContribution, scoresText, send, tokenBalance, tokens
} from '../chain';
import { errorText, h, replace, sentence } from '../dom';
import { blocks, bytes, permill } from '../format';
import { saveKey, storedSecret } from '../keys';

export class MyDataView extends View {
  private note: { text: string, kind: 'ok' | 'error' } | null = null;

  constructor () {
    super('mydata', 'My data');
  }

  override reset (): void {
    this.note = null;
  }

  protected async render (): Promise<void> {
    const chain = app.chain;
    const account = app.account;
    if (!chain) return;
    if (!account) {
      replace(this.root, h('h2', {}, 'My data'), h('p', { class: 'msg info', testid: 'mydata-message' }, 'Choose an account first (Connect).'));
      return;
    }
    try {
      const [daos, ids, now] = await Promise.all([allDaos(chain), contributionIdsOf(chain, account.address), bestNumber(chain)]);
      const byId = new Map(daos.map((d) => [d.id, d]));
      const contributions = (await Promise.all(ids.map((id) => readContribution(chain, id)))).filter((c): c is Contribution => c !== null);
      const holdings = await Promise.all(daos.map(async (dao) => ({
        dao,
        balance: await tokenBalance(chain, dao.id, account.address),
        claimable: await claimable(chain, dao.id, account.address)
      })));
      const held = holdings.filter((x) => x.balance > 0n || x.claimable > 0n);
      const timeout = Number(chain.api.consts.contributions.pendingTimeout.toString());
      replace(this.root,
        h('h2', {}, 'My data'),
        this.note ? h('p', { class: `msg ${this.note.kind}`, testid: this.note.kind === 'error' ? 'mydata-error' : 'mydata-message', role: 'status' }, this.note.text) : null,
        h('h3', {}, 'Tokens and rewards'),
        held.length
          ? h('table', { class: 'list', testid: 'holdings' },
            h('tr', {}, h('th', {}, 'DAO'), h('th', {}, 'Tokens'), h('th', {}, 'Rewards to claim'), h('th', {}, '')),
            held.map(({ dao, balance, claimable: pot }) => h('tr', { testid: `holding-${dao.id}` },
              h('td', {}, `#${dao.id} ${dao.name}`),
              h('td', { testid: `balance-${dao.id}` }, tokens(dao, balance)),
              h('td', { testid: `claimable-${dao.id}` }, coop(chain, pot)),
              h('td', {}, h('button', {
                testid: `claim-${dao.id}`,
                disabled: pot === 0n,
                onclick: () => void this.claim(dao, pot)
              }, 'Claim')))))
          : h('p', { class: 'muted', testid: 'holdings' }, 'You hold no dataset tokens yet: contribute to a DAO to earn some.'),
        h('h3', {}, 'My contributions'),
        contributions.length
          ? h('table', { class: 'list', testid: 'my-contributions' },
            h('tr', {}, h('th', {}, '#'), h('th', {}, 'DAO'), h('th', {}, 'Size'), h('th', {}, 'Status'), h('th', {}, 'Verdict'), h('th', {}, '')),
            contributions.map((c) => this.row(c, byId.get(c.daoId), now, timeout)))
          : h('p', { class: 'muted', testid: 'my-contributions' }, 'No contributions yet.'),
        account.source === 'extension'
          ? h('div', {},
            h('h3', {}, 'My key'),
            h('p', {}, storedSecret(account.address)
              ? 'Your contributions are encrypted to a key this browser keeps for this account. Save it: without it, only the DAO\'s collective server can open them.'
              : 'This browser makes a key for this account with your first contribution; save it then.'),
            h('button', { testid: 'save-key', disabled: !storedSecret(account.address), onclick: () => void this.save() }, 'Save my key'))
          : h('p', { class: 'muted' }, `Your contributions are encrypted to the key the wallet derives from ${account.uri}: `,
            h('code', {}, `datacoop --account ${account.uri} decrypt ID -o FILE`), ' opens one.'));
    } catch (e) {
      replace(this.root, h('h2', {}, 'My data'), h('p', { class: 'msg error', testid: 'mydata-error', role: 'alert' }, `Reading your data failed: ${sentence(errorText(e))}`));
    }
  }

  private row (c: Contribution, dao: Dao | undefined, now: number, timeout: number): HTMLElement {
    const chain = app.chain!;
    let verdict = '';
    if (c.status === 'Accepted' && dao) verdict = `${tokens(dao, c.reward ?? 0n)}, ${scoresText(c.scores!)}`;
    else if (c.status === 'Rejected') verdict = `${c.reason ?? ''} (overall ${permill(c.scores?.overall ?? 0)})`;
    else verdict = 'waiting for the collective server';
    let action: HTMLElement | string = '';
    if (c.status === 'Pending') {
      if (c.withdrawableFrom !== null) {
        action = now >= c.withdrawableFrom
          ? h('button', { testid: `withdraw-${c.id}`, onclick: () => void this.cancel(c, true) }, 'Withdraw')
          : h('span', { class: 'muted', testid: `cancel-wait-${c.id}` }, `cancel asked; withdraw from block ${c.withdrawableFrom}, in ${blocks(c.withdrawableFrom - now, chain.blockMs)}`);
      } else {
        const from = c.submittedAt + timeout;
        action = now >= from
          ? h('button', { testid: `cancel-${c.id}`, onclick: () => void this.cancel(c, false) }, 'Cancel')
          : h('span', { class: 'muted', testid: `cancel-wait-${c.id}` }, `can be cancelled from block ${from}, in ${blocks(from - now, chain.blockMs)}`);
      }
    }
    return h('tr', { testid: `my-contribution-${c.id}` },
      h('td', {}, String(c.id)),
      h('td', {}, dao ? `#${dao.id} ${dao.name}` : `#${c.daoId}`),
      h('td', {}, bytes(c.size)),
      h('td', { testid: `my-contribution-status-${c.id}`, class: `status ${c.status.toLowerCase()}` }, c.status),
      h('td', {}, verdict),
      h('td', {}, action));
  }

  private async claim (dao: Dao, expected: bigint): Promise<void> {
    await this.act(async () => {
      const chain = app.chain!;
      const account = app.account!;
      try {
        const events = await send(chain, chain.api.tx.datasetTokens.claimRewards(dao.id), account);
        const claimed = findEvent(events, 'datasetTokens', 'RewardsClaimed');
        const paid: bigint = claimed ? claimed.amount.toBigInt() : expected;
        this.note = { text: `Claimed ${coop(chain, paid)} from DAO #${dao.id}.`, kind: 'ok' };
      } catch (e) {
        this.note = { text: `Claiming from DAO #${dao.id} failed: ${sentence(errorText(e))}`, kind: 'error' };
      }
    });
  }

  private async cancel (c: Contribution, withdraw: boolean): Promise<void> {
    await this.act(async () => {
      const chain = app.chain!;
      const account = app.account!;
      try {
        if (withdraw) {
          await send(chain, chain.api.tx.contributions.withdraw(c.id), account);
          this.note = { text: `Contribution #${c.id} is withdrawn; its deposits of ${coop(chain, c.deposit + c.recordDeposit)} are back.`, kind: 'ok' };
        } else {
          const events = await send(chain, chain.api.tx.contributions.cancel(c.id), account);
          const asked = findEvent(events, 'contributions', 'CancelRequested');
          const from = asked ? asked.withdrawFrom.toNumber() : null;
          this.note = {
            text: `Asked to cancel contribution #${c.id}: unless its verdict lands first, withdraw it${from !== null ? ` from block ${from}` : ' later'} to take its deposits back.`,
            kind: 'ok'
          };
        }
      } catch (e) {
        this.note = { text: `${withdraw ? 'Withdrawing' : 'Cancelling'} contribution #${c.id} failed: ${sentence(errorText(e))}`, kind: 'error' };
      }
    });
  }

  private async save (): Promise<void> {
    try {
      await saveKey(app.account!);
    } catch (e) {
      this.note = { text: sentence(errorText(e)), kind: 'error' };
      await this.refresh();
    }
  }
}
