// Explore: every DAO, its token, rules, size, and what it sells.
import { app, View } from '../app';
import { allDaos, coop, contributionCount, COUNT_CAP, offers, tokens, tokenSupply, treasury } from '../chain';
import type { Dao } from '../chain';
import { errorText, facts, h, message, replace } from '../dom';
import { blocks, bytes, permill } from '../format';

export class ExploreView extends View {
  constructor () {
    super('explore', 'Explore DAOs');
  }

  /** Every DAO is read anew: every 10th block, not every block. */
  override onBlock (): void {
    if (app.best % 10 === 0) super.onBlock();
  }

  protected async render (): Promise<void> {
    const chain = app.chain;
    if (!chain) return;
    try {
      const daos = await allDaos(chain);
      const cards = await Promise.all(daos.map((dao) => this.card(dao)));
      replace(this.root,
        h('h2', {}, 'Data DAOs'),
        h('p', { class: 'lead' }, 'Each DAO pools one kind of data. Its collective server judges contributions; its token holders vote on who may use the data, and share every fee.'),
        daos.length ? h('div', { class: 'cards' }, cards) : message('explore-empty', 'No DAO has been created on this chain yet.'));
    } catch (e) {
      replace(this.root, h('h2', {}, 'Data DAOs'), message('explore-error', `Reading the DAOs failed: ${errorText(e)}`, 'error'));
    }
  }

  private async card (dao: Dao): Promise<HTMLElement> {
    const chain = app.chain!;
    const [supply, count, offered, pot] = await Promise.all([
      tokenSupply(chain, dao.id), contributionCount(chain, dao.id), offers(chain, dao.id), treasury(chain, dao.id)
    ]);
    const r = dao.rules;
    const id = dao.id;
    return h('article', { class: `card ${dao.status === 'Retired' ? 'retired' : ''}`, testid: `dao-card-${id}` },
      h('h3', {},
        h('span', { testid: `dao-name-${id}` }, dao.name), ' ',
        h('small', {}, `#${id}`), ' ',
        h('span', { class: `badge ${dao.status.toLowerCase()}`, testid: `dao-status-${id}` }, dao.status)),
      facts([
        ['Token', `${dao.tokenName} (${dao.tokenSymbol})`, `dao-token-${id}`],
        ['Token supply', tokens(dao, supply), `dao-supply-${id}`],
        ['Contributions', count >= COUNT_CAP ? `${COUNT_CAP.toLocaleString('en')} or more` : String(count), `dao-contributions-${id}`],
        ['Treasury', coop(chain, pot), `dao-treasury-${id}`],
        ['Governed by', dao.governed ? 'its token holders' : `its admin ${dao.admin}`]
      ]),
      h('h4', {}, 'Rules'),
      facts([
        ['Contribution size', `${bytes(r.minContributionSize)} to ${bytes(r.maxContributionSize)} (encrypted)`, `dao-sizes-${id}`],
        ['Reward at full score', tokens(dao, r.rewardAtFullScore), `dao-reward-${id}`],
        ['Minimum score', permill(r.minScore), `dao-min-score-${id}`],
        ['Deposit while judged', coop(chain, r.contributionDeposit)],
        ['Voting period', blocks(r.votingPeriod, chain.blockMs), `dao-voting-period-${id}`],
        ['Quorum', permill(r.quorum), `dao-quorum-${id}`],
        ['Approval', permill(r.approvalThreshold), `dao-approval-${id}`],
        ['Holders\' share of fees', permill(r.holdersShare)]
      ]),
      h('h4', {}, 'Offers'),
      offered.length
        ? h('ul', { class: 'offers', testid: `dao-offers-${id}` }, offered.map((o, i) =>
          h('li', { testid: `offer-${id}-${i}` },
            `${o.scopeText}: ${coop(chain, o.pricePerDay)} a day, up to ${o.maxDays} days`)))
        : h('p', { class: 'muted', testid: `dao-offers-${id}` }, 'No standing offer: access only by a vote of the holders.'));
  }
}
