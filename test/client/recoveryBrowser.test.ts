import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startMailServer, type MailServer, type ReceivedMail } from '../helpers/mailServer';
import { GOOD_PASSWORD, LOGIN, firstError, registerUser, uniqueEmail } from '../helpers/operations';
import { buildExampleSite, serveStaticSite, type StaticSite } from '../helpers/staticSite';
import { startTestServer, type TestServer } from '../helpers/testServer';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
// Links in mail point here; the test opens their path and query on the served page instead.
const APP_URL = 'http://app.example.test';
const NEW_PASSWORD = 'a brand new passphrase';
const repoRoot = path.resolve(__dirname, '../..');
const resultsDir = path.join(repoRoot, 'test-results');

let mail: MailServer;
let api: TestServer;
let site: StaticSite;
let context: BrowserContext;
let page: Page;
let workDir: string;
const pageErrors: string[] = [];

/** The link of a mail, opened on the served page: its path and query, on the site's origin. */
function linkOnSite(message: ReceivedMail, page: 'reset-password' | 'verify-email'): string {
  const link = new RegExp(`${APP_URL}/${page}\\?token=[A-Za-z0-9_-]+`).exec(message.text)?.[0];
  if (!link) throw new Error(`no ${page} link in: ${message.text}`);
  const url = new URL(link);
  return `${site.url}${url.pathname}${url.search}`;
}

async function expectSignedInAs(email: string): Promise<void> {
  await page.locator('#signed-in').waitFor({ state: 'visible' });
  await page.locator('#status', { hasText: `Signed in as ${email}` }).waitFor();
  expect(await page.locator('#me [data-field="email"]').textContent()).toBe(email);
}

// As in browser.test.ts: CI must run this suite, elsewhere a missing Chromium skips it.
const hasChromium = existsSync(CHROMIUM);
const browserRequired = process.env.CI === 'true';
const describeInBrowser = hasChromium || browserRequired ? describe : describe.skip;

beforeAll(async () => {
  if (!hasChromium) {
    if (!browserRequired) return;
    throw new Error(`Chromium is not installed at ${CHROMIUM}; the browser test needs it.`);
  }
  mkdirSync(resultsDir, { recursive: true });
  workDir = mkdtempSync(path.join(tmpdir(), 'web-recovery-'));
  const outDir = path.join(workDir, 'site');
  mail = await startMailServer();
  [api] = await Promise.all([
    startTestServer({ env: { SMTP_URL: mail.url, APP_URL } }),
    buildExampleSite(outDir),
  ]);
  site = await serveStaticSite(outDir, api.url);
  context = await chromium.launchPersistentContext(path.join(workDir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 820 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await site?.close();
  await api?.close();
  await mail?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describeInBrowser('account recovery in the example page', () => {
  it('forgot password → mail → reset link → new password → signed in', async () => {
    const user = await registerUser(api);
    const email = user.user.email;
    await page.goto(site.url);
    await page.locator('#signed-out').waitFor({ state: 'visible' });

    await page.fill('#email', email);
    await page.click('#forgot-link');
    await page.locator('#forgot').waitFor({ state: 'visible' });
    expect(await page.inputValue('#forgot-email')).toBe(email);
    await page.click('#forgot-send');
    await page
      .locator('#status', { hasText: 'a link to reset its password is on its way' })
      .waitFor();

    const message = await mail.waitForMail(email, 2); // after the verification mail of register
    expect(message.subject).toBe('Reset your password');
    await page.goto(linkOnSite(message, 'reset-password'));
    await page.locator('#reset').waitFor({ state: 'visible' });
    // The token left the address bar before anything else happened.
    expect(new URL(page.url()).search).toBe('');

    await page.fill('#new-password', NEW_PASSWORD);
    await page.click('#reset-submit');

    await expectSignedInAs(email);
    // Following the reset mail proved the address as well.
    expect(await page.locator('#me [data-field="email-verified"]').textContent()).toBe('yes');
    expect(await page.locator('#session-rows tr').count()).toBe(1);
    await page.screenshot({ path: path.join(resultsDir, 'web-reset.png'), fullPage: true });

    // The old password is gone, and the registration's session ended.
    const old = await api.gql(LOGIN, { input: { email, password: GOOD_PASSWORD } });
    expect(firstError(old).extensions).toMatchObject({ reason: 'INVALID_CREDENTIALS' });
  });

  it('shows an expired or used reset link as such', async () => {
    const message = mail.to(mail.messages.at(-1)!.to[0]!).at(-1)!;
    await page.goto(linkOnSite(message, 'reset-password'));
    await page.fill('#new-password', 'yet another passphrase');
    await page.click('#reset-submit');
    await page.locator('#status.error', { hasText: 'INVALID_RESET_TOKEN' }).waitFor();
  });

  it('verifies the address of a new account from its mail', async () => {
    await page.evaluate('localStorage.clear()');
    const email = uniqueEmail('verify');
    await page.goto(site.url);
    await page.fill('#email', email);
    await page.fill('#password', GOOD_PASSWORD);
    await page.click('#sign-up');
    await expectSignedInAs(email);
    expect(await page.locator('#me [data-field="email-verified"]').textContent()).toBe('no');
    expect(await page.locator('#unverified').isVisible()).toBe(true);

    const message = await mail.waitForMail(email);
    await page.goto(linkOnSite(message, 'verify-email'));

    await page.locator('#status', { hasText: `${email} is verified` }).waitFor();
    expect(await page.locator('#me [data-field="email-verified"]').textContent()).toBe('yes');
    expect(await page.locator('#unverified').isHidden()).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
