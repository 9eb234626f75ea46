import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REFRESH_TOKEN_KEY } from '../../client/tokenStorage';
import { accessTokenExpiryMs, sleep } from '../helpers/expiry';
import { GOOD_PASSWORD, LOGIN, REFRESH, firstError, uniqueEmail } from '../helpers/operations';
import { REVOKE_SESSION, SESSIONS } from '../helpers/sessions';
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
const repoRoot = path.resolve(__dirname, '../..');
// Screenshots for people to look at; test-results/ is git-ignored.
const resultsDir = path.join(repoRoot, 'test-results');

let api: TestServer;
let site: StaticSite;
let context: BrowserContext;
let page: Page;
let workDir: string;
const email = uniqueEmail('browser');
const pageErrors: string[] = [];
/** operationName of every GraphQL request the page sent, in order. */
const operations: string[] = [];
/** Per response, in order: extensions.reason of each GraphQL error it carried. */
const reasons: Promise<string[]>[] = [];

function countOf(name: string): number {
  return operations.filter((operation) => operation === name).length;
}

async function waitUntil(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

async function storedRefreshToken(): Promise<string | null> {
  // Page code as text: this file is type-checked without the DOM library.
  return page.evaluate<string | null>(`localStorage.getItem(${JSON.stringify(REFRESH_TOKEN_KEY)})`);
}

async function expectSignedIn(): Promise<void> {
  await page.locator('#signed-in').waitFor({ state: 'visible' });
  await page.locator('#status', { hasText: `Signed in as ${email}` }).waitFor();
  expect(await page.locator('#me [data-field="email"]').textContent()).toBe(email);
}

async function expectSignedOut(): Promise<void> {
  await page.locator('#signed-out').waitFor({ state: 'visible' });
  expect(await page.locator('#signed-in').isHidden()).toBe(true);
}

// CI installs Chromium and must run this suite (CI=true makes a missing browser an error).
// Elsewhere, a newcomer's `npm test` on a machine without it skips the suite with a notice.
const hasChromium = existsSync(CHROMIUM);
const browserRequired = process.env.CI === 'true';
const describeInBrowser = hasChromium || browserRequired ? describe : describe.skip;
if (!hasChromium && !browserRequired) {
  process.stderr.write(
    `\nSkipping the browser test: Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium).\n`,
  );
}

beforeAll(async () => {
  if (!hasChromium) {
    if (!browserRequired) return;
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; the browser test needs it (apt-get install -y chromium).`,
    );
  }
  mkdirSync(resultsDir, { recursive: true });
  workDir = mkdtempSync(path.join(tmpdir(), 'web-flow-'));
  const outDir = path.join(workDir, 'site');
  // One-second access tokens, so the test can outlive one.
  [api] = await Promise.all([
    startTestServer({ env: { ACCESS_TOKEN_TTL: '1s' } }),
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
  page.on('request', (request) => {
    if (new URL(request.url()).pathname !== '/graphql') return;
    const body = request.postDataJSON() as { operationName?: string } | null;
    operations.push(body?.operationName ?? '(anonymous)');
  });
  page.on('response', (response) => {
    if (new URL(response.url()).pathname !== '/graphql') return;
    reasons.push(
      response
        .json()
        .then((body: { errors?: Array<{ extensions?: { reason?: string } }> }) =>
          (body.errors ?? []).map((error) => error.extensions?.reason ?? ''),
        )
        // A page reload discards the bodies of the responses it interrupted.
        .catch(() => ['(body unavailable)']),
    );
  });
  // The refresh-flow tests count every request; live events renew their own token every second
  // (ACCESS_TOKEN_TTL=1s), so they stay off until the test of live events turns them on.
  await page.goto(site.url);
  await page.evaluate(`sessionStorage.setItem('graphql-jwt-auth.example.live', 'off')`);
  await page.reload();
}, 120_000);

afterAll(async () => {
  await context?.close();
  await site?.close();
  await api?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describeInBrowser('the example web page in Chromium', () => {
  it('starts signed out', async () => {
    await expectSignedOut();
    expect(await storedRefreshToken()).toBeNull();
    await page.screenshot({ path: path.join(resultsDir, 'web-signed-out.png') });
  });

  it('creates an account and shows me and the one session', async () => {
    await page.fill('#email', email);
    await page.fill('#password', GOOD_PASSWORD);
    await page.fill('#name', 'Ada Lovelace');
    await page.click('#sign-up');

    await expectSignedIn();
    expect(await page.locator('#me [data-field="name"]').textContent()).toBe('Ada Lovelace');
    expect(await page.locator('#session-rows tr').count()).toBe(1);
    expect(await page.locator('#session-rows tr.current').count()).toBe(1);
    expect(await storedRefreshToken()).toMatch(/^[A-Za-z0-9_.-]{43,}$/);
  });

  it('signs out, refuses a wrong password and signs in again with the right one', async () => {
    await page.click('#sign-out');
    await expectSignedOut();
    expect(await storedRefreshToken()).toBeNull();

    await page.fill('#email', email);
    await page.fill('#password', 'not the password at all');
    await page.click('#sign-in');
    await page.locator('#status.error', { hasText: 'INVALID_CREDENTIALS' }).waitFor();
    await expectSignedOut();

    await page.fill('#password', GOOD_PASSWORD);
    await page.click('#sign-in');

    await expectSignedIn();
    // The first session ended with the sign-out; only this one is live.
    expect(await page.locator('#session-rows tr').count()).toBe(1);
    const mutations = operations.filter((name) => name !== 'Me' && name !== 'Sessions');
    expect(mutations).toEqual(['Register', 'Logout', 'Login', 'Login']);
    expect([countOf('Me'), countOf('Sessions')]).toEqual([2, 2]);
  });

  it('refreshes the expired access token once for several guarded queries at once', async () => {
    const before = operations.length;
    const tokenBefore = await storedRefreshToken();
    const loadedBefore = await page.locator('#loaded-at').textContent();
    await sleep(accessTokenExpiryMs(api.config));

    // Two reloads in one go: four guarded queries leave with the expired access token.
    await page.evaluate(`{
      const reload = document.getElementById('reload');
      reload.click();
      reload.click();
    }`);
    await waitUntil(() => reasons.length >= before + 9, 'nine responses arrived');
    await page.waitForFunction(
      `document.getElementById('loaded-at').textContent !== ${JSON.stringify(loadedBefore)}`,
    );
    await expectSignedIn();

    const sent = operations.slice(before);
    expect(sent.slice(0, 4).sort()).toEqual(['Me', 'Me', 'Sessions', 'Sessions']);
    expect(sent[4]).toBe('RefreshToken');
    expect(sent.slice(5).sort()).toEqual(['Me', 'Me', 'Sessions', 'Sessions']);
    expect(sent).toHaveLength(9);
    const errorReasons = (await Promise.all(reasons.slice(before))).flat();
    expect(errorReasons).toEqual(Array(4).fill('TOKEN_EXPIRED'));
    expect(await storedRefreshToken()).not.toBe(tokenBefore);
  });

  it('stays signed in across a page reload with one silent refresh', async () => {
    const refreshesBefore = countOf('RefreshToken');

    await page.reload();

    await expectSignedIn();
    expect(countOf('RefreshToken')).toBe(refreshesBefore + 1);
    await page.screenshot({ path: path.join(resultsDir, 'web-flow.png'), fullPage: true });
  });

  it('signs out for good: the stored refresh token is gone and revoked', async () => {
    const refreshToken = await storedRefreshToken();

    await page.click('#sign-out');

    await expectSignedOut();
    expect(await page.locator('#status').textContent()).toBe('Signed out.');
    expect(await storedRefreshToken()).toBeNull();
    const reused = await api.gql(REFRESH, { refreshToken: refreshToken! });
    expect(firstError(reused).extensions).toMatchObject({ reason: 'INVALID_REFRESH_TOKEN' });
    expect(pageErrors).toEqual([]);
  });
});

describeInBrowser('live security events in the example page', () => {
  it('shows a sign-in on another device as it happens', async () => {
    await page.evaluate(`sessionStorage.setItem('graphql-jwt-auth.example.live', 'on')`);
    await page.reload();
    await expectSignedOut();
    await page.fill('#email', email);
    await page.fill('#password', GOOD_PASSWORD);
    await page.click('#sign-in');
    await expectSignedIn();
    expect(await page.locator('#live').isChecked()).toBe(true);
    // Give the subscription a moment to be acknowledged before the other device signs in.
    await sleep(1000);

    const other = await api.gql(
      LOGIN,
      { input: { email, password: GOOD_PASSWORD } },
      { headers: { 'user-agent': 'OtherDevice/1.0' } },
    );
    expect(other.body.errors).toBeUndefined();

    const notice = page.locator('#live-notice', { hasText: 'Signed in on another device' });
    await notice.waitFor({ timeout: 10_000 });
    expect(await notice.textContent()).toContain('OtherDevice/1.0');
    await page.screenshot({ path: path.join(resultsDir, 'web-live-events.png'), fullPage: true });
  });

  it('signs out at once when another device revokes its session', async () => {
    const other = await api.gql(
      LOGIN,
      { input: { email, password: GOOD_PASSWORD } },
      { headers: { 'user-agent': 'OtherDevice/1.0' } },
    );
    const token = other.body.data!.login.accessToken;
    const sessions = await api.gql(SESSIONS, {}, { token });
    const pageSession = sessions.body.data!.sessions.find(
      (session) => !session.current && session.userAgent !== 'OtherDevice/1.0',
    );
    expect(pageSession).toBeDefined();

    const revoked = await api.gql(REVOKE_SESSION, { id: pageSession!.id }, { token });
    expect(revoked.body.data).toEqual({ revokeSession: true });

    await page.locator('#signed-out').waitFor({ state: 'visible', timeout: 5000 });
    expect(await page.locator('#status').textContent()).toBe(
      'This session was signed out from another device.',
    );
    expect(await storedRefreshToken()).toBeNull();
    expect(pageErrors).toEqual([]);
  });
});
