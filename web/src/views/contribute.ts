// Contribute: a file to a DAO. Everything that can be refused is checked before anything is
// signed or uploaded; then the statement is signed, the statement and the file are encrypted
// in a worker to the DAO's collective key and to the contributor's own key, the ciphertext
// is uploaded, the contribution submitted, and followed until its verdict.
import { app, View } from '../app';
import type { PageAccount } from '../accounts';
import { signBytes } from '../accounts';
import type { Contribution, Dao } from '../chain';
import { allDaos, coop, findEvent, freeBalance, readContribution, readDao, scoresText, send, tokens } from '../chain';
import { errorText, h, replace, sentence, setMessage } from '../dom';
import { encryptFile } from '../encrypt';
import { envelope } from '../envelope';
import { bytes, permill, size as fmtSize, span } from '../format';
import { ownRecipient } from '../keys';
import { encodeStatement, STATEMENT_LINE_LEN, statementLine, statementPayload } from '../statement';
import { upload, uploadToken } from '../upload';

/** After this long Pending, the page says it waits for the collective server. */
const LONG_PENDING_MS = 45_000;

export class ContributeView extends View {
  override readonly live = false;
  private file: File | null = null;
  private daos: Dao[] = [];
  private daoSelect = h('select', { testid: 'contribute-dao', id: 'contribute-dao' });
  private fileInput = h('input', { type: 'file', testid: 'contribute-file', id: 'contribute-file' });
  private fileName = h('span', { testid: 'contribute-file-name', class: 'muted' }, 'No file chosen.');
  private limits = h('p', { testid: 'contribute-limits', class: 'muted' });
  private submit = h('button', { testid: 'contribute-submit', class: 'primary' }, 'Encrypt, upload and submit');
  private error = h('p', { testid: 'contribute-error', class: 'msg error', role: 'alert', hidden: true });
  private phase = h('p', { testid: 'contribute-phase', class: 'muted' });
  private progress = h('progress', { testid: 'contribute-progress', max: 1, value: 0, hidden: true });
  private result = h('div', { testid: 'contribute-result', class: 'result', hidden: true });
  /** The contribution being followed; a newer one stops the older follow. */
  private following = 0;

  constructor () {
    super('contribute', 'Contribute');
    const drop = h('div', { class: 'drop', testid: 'contribute-drop', tabindex: 0 },
      h('p', {}, 'Drop a file here, or '),
      h('label', { for: 'contribute-file', class: 'button' }, 'choose a file'),
      this.fileInput, ' ', this.fileName);
    drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      const f = e.dataTransfer?.files?.[0];
      if (f) this.choose(f);
    });
    this.fileInput.addEventListener('change', () => this.choose(this.fileInput.files?.[0] ?? null));
    this.daoSelect.addEventListener('change', () => this.showLimits());
    this.submit.addEventListener('click', () => void this.contribute());
    replace(this.root,
      h('h2', {}, 'Contribute'),
      h('p', { class: 'lead' }, 'Your file is encrypted in this browser, to the DAO\'s collective server and to your own key, before it is uploaded. The collective server judges it and the chain pays you the DAO\'s tokens by its score.'),
      h('div', { class: 'form' },
        h('label', { for: 'contribute-dao' }, 'DAO '), this.daoSelect, this.limits,
        drop,
        this.submit),
      this.error, this.phase, this.progress, this.result);
  }

  private choose (f: File | null): void {
    this.file = f;
    this.fileName.textContent = f ? `${f.name} (${fmtSize(f.size)})` : 'No file chosen.';
    setMessage(this.error, '');
  }

  protected async render (): Promise<void> {
    if (!app.chain) return;
    this.daos = await allDaos(app.chain);
    // Read after the chain answered: a DAO chosen meanwhile stays chosen.
    const keep = this.daoSelect.value;
    replace(this.daoSelect, this.daos.map((d) =>
      h('option', { value: String(d.id) }, `#${d.id} ${d.name}${d.status === 'Retired' ? ' (retired)' : ''}`)));
    const firstActive = this.daos.find((d) => d.status === 'Active');
    this.daoSelect.value = this.daos.some((d) => String(d.id) === keep) ? keep : String(firstActive?.id ?? this.daos[0]?.id ?? '');
    this.showLimits();
  }

  private showLimits (): void {
    const dao = this.daos.find((d) => String(d.id) === this.daoSelect.value);
    this.limits.textContent = dao
      ? `Takes ${bytes(dao.rules.minContributionSize)} to ${bytes(dao.rules.maxContributionSize)} encrypted; pays up to ${tokens(dao, dao.rules.rewardAtFullScore)} by score (at least ${permill(dao.rules.minScore)}).`
      : '';
  }

  private fail (text: string): void {
    setMessage(this.error, sentence(text), 'error');
    this.phase.textContent = '';
    this.progress.hidden = true;
  }

  private async contribute (): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.submit.disabled = true;
    setMessage(this.error, '');
    this.result.hidden = true;
    try {
      await this.run();
    } catch (e) {
      this.fail(errorText(e));
    } finally {
      this.busy = false;
      this.submit.disabled = false;
    }
  }

  private async run (): Promise<void> {
    const chain = app.chain;
    const account = app.account;
    const file = this.file;
    if (!chain) return this.fail('The page is not connected to the chain');
    if (!account) return this.fail('Choose an account first (Connect)');
    if (this.daoSelect.value === '') return this.fail('Choose a DAO first');
    if (!file) return this.fail('Choose a file to contribute first');
    const daoId = Number(this.daoSelect.value);

    // Everything that can be refused, before anything is signed or uploaded.
    this.phase.textContent = 'Checking the DAO…';
    const dao = await readDao(chain, daoId);
    if (!dao) return this.fail(`There is no DAO #${daoId}`);
    if (dao.status === 'Retired') return this.fail(`DAO #${daoId} is retired and takes no new contributions`);
    const wasm = await envelope();
    const plainLen = STATEMENT_LINE_LEN + file.size;
    const size = wasm.encrypted_len(plainLen, 2);
    const { minContributionSize: min, maxContributionSize: max } = dao.rules;
    if (size < min || size > max) {
      return this.fail(`${file.name} would be ${bytes(size)} encrypted; DAO #${daoId} takes ${bytes(min)} to ${bytes(max)}`);
    }
    // The URL the chain will record, and what the submission holds and costs, as the chain
    // will check them: refused here, nothing is signed, uploaded or paid.
    const storage = app.config.storage.replace(/\/$/, '');
    const urlLen = new TextEncoder().encode(`${storage}/blobs/0x${'0'.repeat(64)}`).length;
    const maxUrl = Number(chain.api.consts.contributions.maxUrlLen.toString());
    if (urlLen > maxUrl) {
      return this.fail(`The storage address ${storage} makes a ${urlLen}-byte URL; the chain takes at most ${maxUrl} bytes`);
    }
    const probe = chain.api.tx.contributions.submit(daoId, Array.from(new TextEncoder().encode(`${storage}/blobs/0x${'0'.repeat(64)}`)), `0x${'0'.repeat(64)}`, size);
    const fee = BigInt((await probe.paymentInfo(account.address)).partialFee.toString());
    const recordDeposit = BigInt(chain.api.consts.contributions.recordDeposit.toString());
    const needed = dao.rules.contributionDeposit + recordDeposit + fee;
    const free = await freeBalance(chain, account.address);
    if (free < needed) {
      return this.fail(`Contributing to DAO #${daoId} holds ${coop(chain, dao.rules.contributionDeposit + recordDeposit)} in deposits and costs about ${coop(chain, fee)} in fees; ${account.name} has ${coop(chain, free)}`);
    }
    let collective: string;
    try {
      collective = wasm.recipient_from_bytes(dao.collectiveKey);
    } catch (e) {
      return this.fail(`DAO #${daoId}'s collective key cannot be encrypted to: ${errorText(e)}`);
    }
    let recipients: string[];
    try {
      recipients = [collective, await ownRecipient(account)];
    } catch (e) {
      return this.fail(`Your own key, to which the contribution is encrypted too, is not available: ${errorText(e)}`);
    }

    // The statement: this data is mine, for this DAO on this chain.
    this.phase.textContent = account.source === 'extension' ? 'Sign the statement in your extension…' : 'Signing the statement…';
    const statement = encodeStatement(chain.genesisHash, daoId, account.publicKey);
    let signature: Uint8Array;
    try {
      signature = await signBytes(account, statementPayload(statement));
    } catch (e) {
      return this.fail(`The statement was not signed, so nothing was uploaded: ${errorText(e)}`);
    }
    const line = statementLine(statement, signature);

    this.phase.textContent = 'Encrypting…';
    this.progress.hidden = false;
    this.progress.value = 0;
    const started = Date.now();
    const blob = await encryptFile(file, line, recipients, (done, total) => {
      this.progress.value = total ? done / total : 1;
    });
    if (blob.size !== size) return this.fail(`Encryption made ${bytes(blob.size)}, not the ${bytes(size)} expected; nothing was uploaded`);
    const encryptMs = Date.now() - started;

    this.phase.textContent = account.source === 'extension' ? 'Sign the upload in your extension…' : 'Uploading…';
    let authorization: string;
    try {
      authorization = await uploadToken(account, size);
    } catch (e) {
      return this.fail(`The upload was not signed, so nothing was uploaded: ${errorText(e)}`);
    }
    this.phase.textContent = `Uploading ${fmtSize(size)} to ${app.config.storage}…`;
    this.progress.value = 0;
    const stored = await upload(app.config.storage, blob, authorization, (sent, total) => {
      this.progress.value = total ? sent / total : 1;
    });
    if (stored.size !== size) return this.fail(`The storage service kept ${bytes(stored.size)}, not ${bytes(size)}; nothing was submitted`);

    this.phase.textContent = account.source === 'extension' ? 'Sign the submission in your extension…' : 'Submitting…';
    this.progress.hidden = true;
    const url = `${app.config.storage.replace(/\/$/, '')}/blobs/${stored.hash}`;
    const tx = chain.api.tx.contributions.submit(daoId, Array.from(new TextEncoder().encode(url)), stored.hash, size);
    let events;
    try {
      events = await send(chain, tx, account);
    } catch (e) {
      // Said with the upload, which stays in storage unused until its grace period ends.
      return this.fail(`${errorText(e).replace(/\.$/, '')}; the ciphertext was uploaded as ${stored.hash} but not submitted`);
    }
    const submitted = findEvent(events, 'contributions', 'Submitted');
    if (!submitted) return this.fail('The submission is in a block but the chain said nothing of it');
    const id = submitted.contributionId.toNumber();
    this.phase.textContent = `Contribution #${id} submitted: ${fmtSize(size)} encrypted in ${span(encryptMs)}, stored as ${stored.hash.slice(0, 18)}….`;
    // Followed beside the page: another file may be contributed meanwhile.
    void this.follow(id, dao, account);
  }

  /** Shows contribution `id` as it stands, block after block, until it is judged. */
  private async follow (id: number, dao: Dao, account: PageAccount): Promise<void> {
    const chain = app.chain!;
    const token = ++this.following;
    const since = Date.now();
    this.result.hidden = false;
    let misses = 0;
    for (;;) {
      if (token !== this.following || app.account !== account) return;
      let c: Contribution | null;
      try {
        c = await readContribution(chain, id);
        misses = 0;
      } catch (e) {
        // A read the node did not answer: the contribution is on chain whatever happens here.
        if (++misses >= 10) return this.fail(`Contribution #${id} is submitted, but the node stopped answering: look at My data later (${errorText(e)})`);
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        continue;
      }
      if (!c) return this.fail(`Contribution #${id} is no longer on chain`);
      this.show(c, dao, Date.now() - since > LONG_PENDING_MS);
      if (c.status !== 'Pending') return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, chain.blockMs)));
    }
  }

  private show (c: Contribution, dao: Dao, longPending: boolean): void {
    const rows: (HTMLElement | null)[] = [
      h('p', {}, h('strong', {}, `Contribution #${c.id} to ${dao.name} (#${dao.id}): `),
        h('span', { testid: 'contribute-status', class: `status ${c.status.toLowerCase()}` }, c.status))
    ];
    if (c.scores) {
      rows.push(h('p', { testid: 'contribute-scores' }, `Scores: ${scoresText(c.scores)}.`));
    }
    if (c.status === 'Accepted') {
      rows.push(h('p', { testid: 'contribute-reward', class: 'msg ok' }, `${tokens(dao, c.reward ?? 0n)} minted to you.`));
    } else if (c.status === 'Rejected') {
      rows.push(h('p', { testid: 'contribute-reason', class: 'msg error' }, `Rejected: ${sentence(c.reason || 'no reason given')}`));
    } else {
      rows.push(h('p', { testid: 'contribute-note', class: 'muted' }, longPending
        ? `Still waiting for the verdict of DAO #${dao.id}'s collective server (${dao.endpoint}): it judges the contribution once it answers; your deposit stays held until then.`
        : 'Waiting for the collective server\'s verdict…'));
    }
    replace(this.result, rows);
  }
}
