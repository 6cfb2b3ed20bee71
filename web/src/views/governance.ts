// Governance: the open proposals of the DAOs whose tokens I hold (vote, close once ended),
// the grants I hold, and the DAOs' standing offers (buy access at one).
import { app, View } from '../app';
import type { Dao, Offer, Proposal, Vote } from '../chain';
import {
  actionText, allDaos, bestNumber, coop, liveGrant, offers, proposals, send, tokenBalance, tokens, votes
} from '../chain';
import { errorText, h, replace, sentence } from '../dom';
import { blocks, parseAmount, permill, plainAmount, span } from '../format';

interface Holding { dao: Dao, balance: bigint, proposals: Proposal[], votes: Vote[] }

export class GovernanceView extends View {
  private note: { text: string, kind: 'ok' | 'error' } | null = null;
  /** What was typed in the amount and days fields, by field: kept across redraws. */
  private typed = new Map<string, string>();

  constructor () {
    super('governance', 'Governance');
  }

  override reset (): void {
    this.note = null;
    this.typed.clear();
  }

  private field (key: string, fallback: string, attrs: Record<string, string>): HTMLInputElement {
    const input = h('input', { ...attrs, testid: key, value: this.typed.get(key) ?? fallback });
    input.addEventListener('input', () => this.typed.set(key, input.value));
    return input;
  }

  protected async render (): Promise<void> {
    const chain = app.chain;
    const account = app.account;
    if (!chain) return;
    try {
      const [daos, now] = await Promise.all([allDaos(chain), bestNumber(chain)]);
      const holdings: Holding[] = account
        ? (await Promise.all(daos.map(async (dao) => {
            const balance = await tokenBalance(chain, dao.id, account.address);
            if (balance === 0n) return null;
            const [open, mine] = await Promise.all([proposals(chain, dao.id), votes(chain, dao.id, account.address)]);
            return { dao, balance, proposals: open, votes: mine };
          }))).filter((x): x is Holding => x !== null)
        : [];
      const grants = account
        ? (await Promise.all(daos.map(async (dao) => ({ dao, grant: await liveGrant(chain, dao.id, account.address) })))).filter((g) => g.grant)
        : [];
      const offered = (await Promise.all(daos.filter((d) => d.status === 'Active').map(async (dao) => ({ dao, offers: await offers(chain, dao.id) }))))
        .filter((x) => x.offers.length);
      const open = holdings.flatMap((x) => x.proposals.map((p) => ({ holding: x, p })));
      replace(this.root,
        h('h2', {}, 'Governance'),
        this.note ? h('p', { class: `msg ${this.note.kind}`, testid: this.note.kind === 'error' ? 'governance-error' : 'governance-message', role: 'status' }, this.note.text) : null,
        h('h3', {}, 'Open proposals of my DAOs'),
        !account
          ? h('p', { class: 'msg info' }, 'Choose an account first (Connect).')
          : holdings.length === 0
            ? h('p', { class: 'muted', testid: 'proposals' }, 'You hold no dataset tokens, so there is nothing for you to vote on.')
            : open.length === 0
              ? h('p', { class: 'muted', testid: 'proposals' }, 'No open proposals in the DAOs you hold tokens of.')
              : h('div', { class: 'cards', testid: 'proposals' }, open.map(({ holding, p }) => this.proposal(holding, p, now))),
        h('h3', {}, 'My grants'),
        grants.length
          ? h('ul', { testid: 'grants' }, grants.map(({ dao, grant }) => h('li', { testid: `grant-${dao.id}` },
            `Grant #${grant!.id}: ${grant!.scopeText} of ${dao.name} (#${dao.id}) until block ${grant!.expires}, ${grant!.expires > now ? `about ${span((grant!.expires - now) * chain.blockMs)} from now` : 'expired'}; paid ${coop(chain, grant!.paid)}.`)))
          : h('p', { class: 'muted', testid: 'grants' }, 'You hold no grant to any DAO\'s data.'),
        h('h3', {}, 'Buy access'),
        offered.length
          ? h('div', { class: 'cards', testid: 'offers' }, offered.map(({ dao, offers: list }) =>
            h('article', { class: 'card' }, h('h4', {}, `${dao.name} (#${dao.id})`),
              list.map((o, i) => this.offer(dao, o, i)))))
          : h('p', { class: 'muted', testid: 'offers' }, 'No DAO has a standing offer: access is only by a vote of its holders.'));
    } catch (e) {
      replace(this.root, h('h2', {}, 'Governance'), h('p', { class: 'msg error', testid: 'governance-error', role: 'alert' }, `Reading governance failed: ${sentence(errorText(e))}`));
    }
  }

  private proposal (holding: Holding, p: Proposal, now: number): HTMLElement {
    const chain = app.chain!;
    const { dao, balance } = holding;
    const voting = now < p.ends;
    const mine = holding.votes.find((v) => v.proposalId === p.id);
    const amountKey = `vote-amount-${p.id}`;
    const amount = this.field(amountKey, plainAmount(balance, dao.tokenDecimals), { type: 'text', inputmode: 'decimal', size: '12', 'aria-label': 'tokens to vote with' });
    return h('article', { class: 'card', testid: `proposal-${p.id}` },
      h('h4', {}, `Proposal #${p.id}, ${dao.name} (#${dao.id})`),
      h('p', { testid: `proposal-action-${p.id}` }, sentence(actionText(chain, dao, p.action).replace(/^./, (c) => c.toUpperCase()))),
      p.descriptionUri ? h('p', { class: 'muted' }, `Described at ${p.descriptionUri}`) : null,
      h('p', { testid: `proposal-ends-${p.id}` }, voting
        ? `Voting until block ${p.ends}, ${blocks(p.ends - now, chain.blockMs)} left.`
        : `The vote ended at block ${p.ends}: anyone may close it.`),
      h('p', { testid: `proposal-tally-${p.id}` },
        `Ayes ${tokens(dao, p.ayes)}, nays ${tokens(dao, p.nays)} (quorum ${permill(p.quorum)} of the supply, approval ${permill(p.approvalThreshold)}).`),
      mine ? h('p', { testid: `proposal-my-vote-${p.id}`, class: 'msg ok' }, `You voted ${mine.aye ? 'aye' : 'nay'} with ${tokens(dao, mine.amount)}.`) : null,
      voting
        ? h('p', { class: 'actions' },
          h('label', {}, `Vote with `, amount, ` ${dao.tokenSymbol} (you hold ${tokens(dao, balance)}) `),
          h('button', { testid: `vote-aye-${p.id}`, onclick: () => void this.vote(dao, p, true, amountKey, balance) }, 'Aye'), ' ',
          h('button', { testid: `vote-nay-${p.id}`, onclick: () => void this.vote(dao, p, false, amountKey, balance) }, 'Nay'))
        : h('p', { class: 'actions' }, h('button', { testid: `close-${p.id}`, onclick: () => void this.close(p) }, 'Close the vote')));
  }

  private offer (dao: Dao, o: Offer, i: number): HTMLElement {
    const chain = app.chain!;
    const key = `buy-days-${dao.id}-${i}`;
    const days = this.field(key, '1', { type: 'number', min: '1', max: String(o.maxDays), size: '4', 'aria-label': 'days' });
    return h('div', { class: 'offer', testid: `buy-offer-${dao.id}-${i}` },
      h('p', {}, `${o.scopeText}: ${coop(chain, o.pricePerDay)} a day, up to ${o.maxDays} days.`),
      h('p', { class: 'actions' }, h('label', {}, 'Days ', days), ' ',
        h('button', { testid: `buy-${dao.id}-${i}`, onclick: () => void this.buy(dao, o, key) }, 'Buy')));
  }

  private async vote (dao: Dao, p: Proposal, aye: boolean, amountKey: string, balance: bigint): Promise<void> {
    await this.act(async () => {
      const chain = app.chain!;
      let amount: bigint;
      try {
        const typed = this.typed.get(amountKey);
        amount = typed === undefined ? balance : parseAmount(typed, dao.tokenDecimals);
      } catch (e) {
        this.note = { text: `${sentence(errorText(e))}`, kind: 'error' };
        return;
      }
      if (amount === 0n || amount > balance) {
        this.note = { text: `Vote with between a little more than 0 and the ${tokens(dao, balance)} you hold.`, kind: 'error' };
        return;
      }
      try {
        await send(chain, chain.api.tx.daoGovernance.vote(p.id, aye, amount), app.account!);
        this.note = { text: `You voted ${aye ? 'aye' : 'nay'} on proposal #${p.id} with ${tokens(dao, amount)}; they cannot move until block ${p.ends}.`, kind: 'ok' };
      } catch (e) {
        this.note = { text: `Voting on proposal #${p.id} failed: ${sentence(errorText(e))}`, kind: 'error' };
      }
    });
  }

  private async close (p: Proposal): Promise<void> {
    await this.act(async () => {
      const chain = app.chain!;
      try {
        const events = await send(chain, chain.api.tx.daoGovernance.close(p.id), app.account!);
        const closed = events.find(({ event }) => event.section === 'daoGovernance' && event.method === 'Closed')?.event.data as unknown as { passed: { isTrue: boolean }, result: { isSome: boolean, unwrap: () => { isOk: boolean } } } | undefined;
        let text = `Proposal #${p.id} is closed.`;
        if (closed) {
          const failed = closed.result.isSome && !closed.result.unwrap().isOk;
          text = !closed.passed.isTrue
            ? `Proposal #${p.id} is closed: rejected (any fee refunded).`
            : failed ? `Proposal #${p.id} passed, but its action failed; nothing changed.` : `Proposal #${p.id} passed and is done.`;
        }
        this.note = { text, kind: 'ok' };
      } catch (e) {
        this.note = { text: `Closing proposal #${p.id} failed: ${sentence(errorText(e))}`, kind: 'error' };
      }
    });
  }

  private async buy (dao: Dao, o: Offer, key: string): Promise<void> {
    await this.act(async () => {
      const chain = app.chain!;
      const days = Number(this.typed.get(key) ?? '1');
      if (!Number.isInteger(days) || days < 1 || days > o.maxDays) {
        this.note = { text: `Buy between 1 and ${o.maxDays} days.`, kind: 'error' };
        return;
      }
      // The price read here is the most the purchase may cost: an offer changed meanwhile
      // cannot charge more.
      const price = o.pricePerDay * BigInt(days);
      try {
        await send(chain, chain.api.tx.accessGrants.buy(dao.id, o.scope, days, price), app.account!);
        this.note = { text: `Bought ${days} day${days === 1 ? '' : 's'} of ${o.scopeText} of ${dao.name} for ${coop(chain, price)}.`, kind: 'ok' };
      } catch (e) {
        this.note = { text: `Buying access to DAO #${dao.id} failed: ${sentence(errorText(e))}`, kind: 'error' };
      }
    });
  }
}
