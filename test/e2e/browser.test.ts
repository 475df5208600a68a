// What an operator sees in the Temporal Web UI, checked in a real browser: headless Chromium (Debian's
// package, installed by setup; playwright-core downloads none) against the local stack's UI, with
// releases made by the `tidegate` CLI and a worker process. The release list filtered by the
// TidegateService search attribute shows that service's releases and no other's; a paused release's
// page shows its input decoded by the stack's codec server (payloads are encrypted: without the codec
// server the UI can only show ciphertext, which the last test shows) and its current details
// (setCurrentDetails) say what it waits for, until when, and the command that moves it on; the list
// shows it too (TidegateStage / TidegateAwaiting columns). A screenshot of each state goes to the
// test's temporary directory, and its path is printed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';
import type { ReleaseStatus } from '../../src/core/status.js';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../src/temporal/codec.js';
import { guard } from '../../devkit/stack/guardian.js';
import type { ManagedProcess } from '../../devkit/stack/process.js';
import { allPids, commandLine, procStat } from '../../devkit/stack/procfs.js';
import { stackDown, stackEnv, stackUp } from '../../devkit/stack/stack.js';
import { repoRoot, toolPath } from '../../devkit/toolchain/tools.js';
import { eventually, startWorkerProcess, tidegate, userEnv } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';

const dir = tempDir('e2e-browser');
const shotsDir = join(dir, 'screenshots');
const SPEC = join(repoRoot, 'test/fixtures/specs/checkout-without-analysis.yaml');
/** Another service, for the filter to leave out: its objects are not in the cluster, so its release ends at once. */
const OTHER_SPEC = join(dir, 'payments.yaml');
const CHECKOUT = { id: 'checkout@5.1.0', version: '5.1.0', image: 'registry.local/checkout:5.1.0' };
const PAYMENTS = { id: 'payments@7.0.1', version: '7.0.1', image: 'registry.local/payments:7.0.1' };
/** How long one look at a page may take; the machine is loaded (2 cores: a dev server, a control plane, a worker, a browser). */
const LOOK_MS = 30_000;
/** How long a page may take to show a state the CLI already reports (visibility and the worker lag behind). */
const SHOW_MS = 180_000;

let env: NodeJS.ProcessEnv;
let worker: ManagedProcess | undefined;
let browser: Browser | undefined;
let releaseBrowser: (() => void) | undefined;
let context: BrowserContext;
let page: Page;
let uiUrl: string;
let codecUrl: string;
let shots = 0;

async function status(id: string): Promise<ReleaseStatus> {
  const r = await tidegate(env, 'status', id, '--json');
  if (r.code !== 0) throw new Error(`status ${id} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReleaseStatus;
}

/** Saves what `on` shows now into the test's directory and prints where. */
async function screenshot(name: string, on: Page = page): Promise<string> {
  const path = join(shotsDir, `${String(++shots).padStart(2, '0')}-${name}.png`);
  await on.screenshot({ path, fullPage: true });
  process.stdout.write(`[browser] screenshot ${path}\n`);
  return path;
}

const listUrl = (query: string): string => `${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`;
const releaseUrl = (s: ReleaseStatus, tab: 'history' | 'user-metadata'): string =>
  `${uiUrl}/namespaces/default/workflows/${encodeURIComponent(s.releaseId)}/${s.runId ?? ''}/${tab}`;

/**
 * Opens `url` and runs `check` (locator waits and assertions), reloading while it fails: the list and
 * a release's current details are read when the page loads, and lag behind what the CLI reports.
 */
async function openUntil(url: string, check: (p: Page) => Promise<void>, on: Page = page): Promise<void> {
  const deadline = Date.now() + SHOW_MS;
  for (;;) {
    try {
      await on.goto(url, { waitUntil: 'domcontentloaded', timeout: LOOK_MS });
      await check(on);
      return;
    } catch (err) {
      if (Date.now() < deadline) continue;
      const html = join(shotsDir, `failed-${shots + 1}.html`);
      writeFileSync(html, await on.content());
      await screenshot('failed', on);
      throw new Error(`${url} did not show what was expected within ${SHOW_MS} ms (its HTML: ${html}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
}

/** A workflow list row, cell text by column header. */
type Row = Record<string, string>;

/** The rows of the workflow list once the row of `id` is there. */
async function rowsWith(p: Page, id: string): Promise<Row[]> {
  const rows = p.getByTestId('workflows-summary-configurable-table-row');
  await rows.filter({ hasText: id }).first().waitFor({ timeout: LOOK_MS });
  const headers = await p.locator('table thead th').allInnerTexts();
  const out: Row[] = [];
  for (const row of await rows.all()) {
    const cells = await row.locator('td').allInnerTexts();
    out.push(Object.fromEntries(cells.map((text, i) => [headers[i]?.trim() || String(i), text.trim()])));
  }
  return out;
}

/** The markdown a release's page renders (in an iframe) under a heading of the User Metadata tab. */
function metadataFrame(p: Page, heading: string): FrameLocator {
  return p.getByRole('heading', { name: heading, exact: true }).locator('xpath=ancestor::div[.//iframe][1]').locator('iframe').first().contentFrame();
}

/**
 * The text of a release page's Input block once it contains `want`, or what it shows after LOOK_MS.
 * The UI renders the payload first and replaces it when the codec server answers, so one read right
 * after the page loads can see the block before either.
 */
async function inputShowing(p: Page, want: string): Promise<string> {
  const block = p.getByTestId('input-and-result').getByRole('heading', { name: 'Input', exact: true }).locator('xpath=..');
  const deadline = Date.now() + LOOK_MS;
  let text = await block.innerText({ timeout: LOOK_MS });
  while (!text.includes(want) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    text = await block.innerText({ timeout: LOOK_MS });
  }
  return text;
}

/** Text as a person reads it: one space between words. */
const plain = async (frame: FrameLocator): Promise<string> => (await frame.locator('body').innerText({ timeout: LOOK_MS })).replace(/\s+/g, ' ');

/** The UI's own text for a time in the details: minutes, UTC (src/core/details.ts). */
const minutesUtc = (iso: string): string => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

beforeAll(async () => {
  mkdirSync(shotsDir);
  writeFileSync(OTHER_SPEC, `service: payments\nversion: "${PAYMENTS.version}"\nimage: ${PAYMENTS.image}\nproduction:\n  namespace: prod\n  blueGreen: { activeService: payments, deploymentPrefix: payments }\n`);
  const state = await stackUp({ dir, components: ['temporal', 'kubernetes'] });
  env = userEnv(stackEnv(state), { TIDEGATE_USER: 'ci' });
  uiUrl = state.temporal?.uiUrl ?? '';
  codecUrl = state.codec?.url ?? '';
  if (!uiUrl || !codecUrl) throw new Error(`the stack has no Web UI or codec server: ${JSON.stringify(state)}`);
  worker = await startWorkerProcess(env, join(dir, 'worker.log'));
  browser = await chromium.launch({ executablePath: toolPath('chromium'), headless: true, args: ['--no-sandbox'] });
  // Playwright starts the browser in a process group of its own: stopped with this process however it dies.
  const pid = allPids().find((p) => procStat(p)?.ppid === process.pid && (commandLine(p) ?? '').includes('--remote-debugging-pipe'));
  if (pid !== undefined) releaseBrowser = guard('headless chromium', { group: pid });
  context = await browser.newContext({ viewport: { width: 1920, height: 1000 } });
  page = await context.newPage();
  process.stdout.write(`[browser] ${toolPath('chromium')} ${browser.version()} against the Web UI ${uiUrl}; screenshots in ${shotsDir}\n`);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  releaseBrowser?.();
  await worker?.stop();
  await stackDown(dir);
});

test('the release list filtered by TidegateService shows that service’s releases and no other’s', async () => {
  // given a release of checkout paused in its canary and one of payments that ended
  expect((await tidegate(env, 'start', '-f', SPEC, '--version', CHECKOUT.version, '--image', CHECKOUT.image)).code).toBe(0);
  // (its objects are not in the cluster: it fails, exit 1, and is rolled back)
  expect((await tidegate(env, 'start', '-f', OTHER_SPEC)).stdout).toContain(`${PAYMENTS.id} started`);
  expect((await tidegate(env, 'status', PAYMENTS.id, '--wait')).code).toBe(1);
  await eventually(`${CHECKOUT.id} to wait for promote`, () => status(CHECKOUT.id), (s) => s.pause?.code === 'awaiting-promote', 120_000);

  // when the operator filters the list by service (the query in the URL becomes the UI's filter)
  let payments: Row[] = [];
  await openUntil(listUrl(`TidegateService = "payments"`), async (p) => {
    payments = await rowsWith(p, PAYMENTS.id);
  });
  // a release that did not ship is told apart at a glance: a red Failed row, not a green Completed one
  expect(payments.map((r) => [r['Workflow ID'], r.Status])).toEqual([[PAYMENTS.id, 'Failed']]);
  await screenshot('list-filtered-payments');

  let checkout: Row[] = [];
  await openUntil(listUrl(`TidegateService = "checkout"`), async (p) => {
    checkout = await rowsWith(p, CHECKOUT.id);
  });
  // then it shows checkout's release, running, and not payments' (which the list above shows is indexed)
  expect(await page.locator('button[aria-controls="dropdown-filter-chip-TidegateService-0"]').innerText()).toMatch(/TidegateService\s*=\s*"checkout"/);
  expect(checkout.map((r) => [r['Workflow ID'], r.Status, r.Type])).toEqual([[CHECKOUT.id, 'Running', 'release']]);

  // and with the Tidegate columns added (as an operator does, through the table's configuration drawer)
  await page.getByTestId('workflows-summary-table-configuration-button').click();
  await page.getByRole('button', { name: 'Remove Run ID column' }).click(); // room for them
  for (const column of ['TidegateService', 'TidegateStage', 'TidegateAwaiting']) await page.getByRole('button', { name: `Add ${column} column` }).click();
  await page.getByRole('button', { name: 'Close Workflows Table configuration' }).click();
  await openUntil(listUrl(`TidegateService = "checkout"`), async (p) => {
    checkout = await rowsWith(p, CHECKOUT.id);
    expect(checkout.map((r) => [r['Workflow ID'], r.TidegateService, r.TidegateStage])).toEqual([[CHECKOUT.id, 'checkout', 'canary']]);
  });
  await screenshot('list-filtered-checkout');
}, 420_000);

test('a release paused for promote: its page says what it waits for and the command that moves it on', async () => {
  const s = await status(CHECKOUT.id);
  expect(s.pausedFor).toBe('canary step 4: waiting for promote');
  let details = '';
  await openUntil(releaseUrl(s, 'user-metadata'), async (p) => {
    details = await plain(metadataFrame(p, 'Current Details'));
    expect(details).toContain('Waiting for promote');
  });
  expect(details).toContain(`Waiting for promote: canary step 4: waiting for promote — tidegate promote ${CHECKOUT.id}`);
  expect(details).toContain(`checkout ${CHECKOUT.image}: blue → green at 50%`);
  await screenshot('paused-for-promote-details');
}, 300_000);

test('a release at its approval gate: its input decoded through the codec server, its current details with what it waits for until when and the approve command, and the list shows whom it waits for', async () => {
  // given the release promoted to its approval gate (2 of alice, bob, carol)
  expect((await tidegate(env, 'promote', CHECKOUT.id)).code).toBe(0);
  const s = await eventually(`${CHECKOUT.id} to open its approval gate`, () => status(CHECKOUT.id), (x) => x.stage === 'approval' && x.services[0]?.approvalUntil !== undefined, 120_000);
  const until = minutesUtc(s.services[0]?.approvalUntil ?? '');

  // its History tab: the input as the workflow received it, decrypted by the codec server the UI calls
  let input = '';
  await openUntil(releaseUrl(s, 'history'), async (p) => {
    await p.getByTestId('data-encoder-status-success').waitFor({ timeout: LOOK_MS });
    input = await inputShowing(p, CHECKOUT.image);
    expect(input).toContain(CHECKOUT.image);
  });
  expect(input).toContain(`"image": "${CHECKOUT.image}"`);
  expect(input).toContain(`"version": "${CHECKOUT.version}"`);
  // not the ciphertext: what the UI shows of a payload it could not decode (see the last test)
  expect(input).not.toContain(KEY_ID_METADATA);
  expect(input).not.toContain(Buffer.from(ENCRYPTED_ENCODING).toString('base64'));
  expect(await page.getByTestId('data-encoder-status-success').getAttribute('aria-label')).toMatch(/Codec Server succesfully converted/);
  await screenshot('approval-gate-input-decoded');

  // its User Metadata tab: the summary set at start, and the current details
  let details = '';
  await openUntil(releaseUrl(s, 'user-metadata'), async (p) => {
    details = await plain(metadataFrame(p, 'Current Details'));
    expect(details).toContain('more approvals');
  });
  expect(await plain(metadataFrame(page, 'Summary'))).toContain(`release checkout ${CHECKOUT.image}`);
  expect(details).toContain(`${CHECKOUT.id} · approval · started by ci`);
  expect(details).toContain(`Waiting for 2 more approvals of checkout from alice or bob or carol, until ${until} (then rollback)`);
  expect(details).toContain(`approve: tidegate approve ${CHECKOUT.id} --as <you>`);
  expect(details).toContain(`reject: tidegate reject ${CHECKOUT.id} --as <you> --reason <why>`);
  await screenshot('approval-gate-details');

  // the list of what waits for bob (TidegateAwaiting) shows it, with its stage and whom it waits for
  let rows: Row[] = [];
  await openUntil(listUrl(`TidegateAwaiting = "bob"`), async (p) => {
    rows = await rowsWith(p, CHECKOUT.id);
  });
  expect(rows.map((r) => [r['Workflow ID'], r.TidegateStage, r.TidegateAwaiting])).toEqual([[CHECKOUT.id, 'approval', 'alice,bob,carol']]);
  await screenshot('list-awaiting-bob');

  // when alice approves, the page and the list follow: one more approval, from bob or carol
  expect((await tidegate(env, 'approve', CHECKOUT.id, '--as', 'alice')).code).toBe(0);
  await openUntil(releaseUrl(s, 'user-metadata'), async (p) => {
    details = await plain(metadataFrame(p, 'Current Details'));
    expect(details).toContain(`Waiting for 1 more approval of checkout from bob or carol, until ${until} (then rollback)`);
  });
  expect(details).toContain('checkout: approved by alice (unverified)');
  await screenshot('approval-gate-details-after-alice');
  await openUntil(listUrl(`TidegateService = "checkout"`), async (p) => {
    rows = await rowsWith(p, CHECKOUT.id);
    expect(rows.map((r) => [r['Workflow ID'], r.TidegateStage, r.TidegateAwaiting])).toEqual([[CHECKOUT.id, 'approval', 'bob,carol']]);
  });
  await screenshot('list-after-alice');
}, 600_000);

test('without the codec server the same page can only show the ciphertext: the image is not readable', async () => {
  const s = await status(CHECKOUT.id);
  const blind = await browser?.newContext({ viewport: { width: 1920, height: 1000 } });
  if (!blind) throw new Error('no browser');
  try {
    await blind.route(`${codecUrl}/**`, (route) => route.abort());
    const p = await blind.newPage();
    let input = '';
    await openUntil(
      releaseUrl(s, 'history'),
      async (q) => {
        await q.getByTestId('data-encoder-status-error').waitFor({ timeout: LOOK_MS });
        input = await inputShowing(q, KEY_ID_METADATA);
        expect(input).toContain(KEY_ID_METADATA);
      },
      p,
    );
    expect(input).toContain(Buffer.from(ENCRYPTED_ENCODING).toString('base64'));
    expect(input).not.toContain(CHECKOUT.image);
    await screenshot('no-codec-server-ciphertext', p);
  } finally {
    await blind.close();
  }
}, 300_000);
