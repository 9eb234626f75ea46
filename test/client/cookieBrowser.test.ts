import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page, type Route } from 'playwright-core';
import { sleep } from '../helpers/expiry';
import { GOOD_PASSWORD, uniqueEmail } from '../helpers/operations';
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
const REFRESH_COOKIE = '__Host-refresh_token';
const CSRF_COOKIE = '__Host-csrf_token';

let api: TestServer;
let site: StaticSite;
let attacker: Server;
let attackerUrl: string;
let context: BrowserContext;
let page: Page;
let workDir: string;
const email = uniqueEmail('cookie-browser');
const pageErrors: string[] = [];

/** A port that was free a moment ago: the page's origin must be known before the API starts. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function refreshCookie(): Promise<string | undefined> {
  const cookies = await context.cookies(site.url);
  return cookies.find((cookie) => cookie.name === REFRESH_COOKIE)?.value;
}

async function liveSession(): Promise<{ generation: number } | null> {
  const token = await refreshCookie();
  if (!token) return null;
  const [sessionId] = token.split('.');
  return api.database.models.Session.findById(sessionId).lean();
}

async function expectSignedIn(on: Page): Promise<void> {
  await on.locator('#signed-in').waitFor({ state: 'visible' });
  await on.locator('#status', { hasText: `Signed in as ${email}` }).waitFor();
}

const hasChromium = existsSync(CHROMIUM);
const browserRequired = process.env.CI === 'true';
const describeInBrowser = hasChromium || browserRequired ? describe : describe.skip;

beforeAll(async () => {
  if (!hasChromium) {
    if (!browserRequired) return;
    throw new Error(`Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium).`);
  }
  workDir = mkdtempSync(path.join(tmpdir(), 'cookie-flow-'));
  const outDir = path.join(workDir, 'site');
  const sitePort = await freePort();
  const siteOrigin = `http://127.0.0.1:${sitePort}`;
  // Only the page's own origin is listed: the attacker's page is on the same host, so
  // SameSite=Strict sends it the cookie, and only the CSRF defence stands in its way.
  [api] = await Promise.all([
    startTestServer({ env: { REFRESH_TOKEN_COOKIE: 'true', CORS_ORIGINS: siteOrigin } }),
    buildExampleSite(outDir),
  ]);
  site = await serveStaticSite(outDir, api.url, { port: sitePort });
  attacker = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>elsewhere</title><p>A page on another port.</p>');
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  context = await chromium.launchPersistentContext(path.join(workDir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  // Without Web Locks the client's refreshes cannot be coordinated across tabs.
  await context.addInitScript(
    `Object.defineProperty(Navigator.prototype, 'locks', { configurable: true, get: () => undefined });`,
  );
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${site.url}/?refreshTokenIn=cookie`);
}, 120_000);

afterAll(async () => {
  await context?.close();
  await site?.close();
  await new Promise<void>((resolve) => (attacker ? attacker.close(() => resolve()) : resolve()));
  await api?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describeInBrowser('the example page in cookie mode', () => {
  it('signs up and stays signed in across a reload with nothing in web storage', async () => {
    await page.fill('#email', email);
    await page.fill('#password', GOOD_PASSWORD);
    await page.click('#sign-up');
    await expectSignedIn(page);
    expect(await refreshCookie()).toMatch(/\.0\./);

    await page.reload();
    await expectSignedIn(page);
    expect(await refreshCookie()).toMatch(/\.1\./);

    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    const visible = await page.evaluate<string>('document.cookie');
    expect(visible).not.toContain(REFRESH_COOKIE);
    expect(visible).toContain(CSRF_COOKIE);
    const [cookie] = (await context.cookies(site.url)).filter((c) => c.name === REFRESH_COOKIE);
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(pageErrors).toEqual([]);
  });

  it('lets a page on another port neither refresh nor log out with the cookie', async () => {
    const before = { cookie: await refreshCookie(), session: await liveSession() };
    expect(before.session).not.toBeNull();
    const evil = await context.newPage();
    await evil.goto(attackerUrl);
    const targets = [`${site.url}/graphql`, `${api.url}/graphql`];
    const bodies = [
      JSON.stringify({ query: 'mutation { refreshToken { accessToken } }' }),
      JSON.stringify({ query: 'mutation { logout }' }),
    ];
    // The attacker's script can even read the CSRF cookie (cookies ignore ports), and tries every
    // way a page has to send a request with it: fetch with credentials (CORS), a no-cors fetch, and
    // the classic form POST into a frame. Page code as text: this file has no DOM types.
    const outcomes = await evil.evaluate<string[]>(`(async () => {
      const targets = ${JSON.stringify(targets)};
      const bodies = ${JSON.stringify(bodies)};
      const csrf = /__Host-csrf_token=([^;]+)/.exec(document.cookie)?.[1] ?? '';
      const results = [];
      for (const target of targets) {
        for (const body of bodies) {
          try {
            const response = await fetch(target, {
              method: 'POST',
              credentials: 'include',
              headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
              body,
            });
            results.push('cors fetch answered ' + response.status + ': ' + (await response.text()));
          } catch {
            results.push('cors fetch refused');
          }
          await fetch(target, { method: 'POST', mode: 'no-cors', credentials: 'include', body });
          const frame = document.createElement('iframe');
          frame.name = 'f' + results.length;
          document.body.append(frame);
          const form = document.createElement('form');
          form.method = 'POST';
          form.action = target;
          form.enctype = 'text/plain';
          form.target = frame.name;
          const input = document.createElement('input');
          input.name = body.slice(0, -1) + ', "x": "';
          input.value = '"}';
          form.append(input);
          document.body.append(form);
          const loaded = new Promise((resolve) => frame.addEventListener('load', resolve));
          form.submit();
          await loaded;
        }
      }
      return results;
    })()`);
    expect(outcomes).toEqual(Array(4).fill('cors fetch refused'));
    await evil.close();

    // Nothing rotated, nothing revoked.
    expect(await refreshCookie()).toBe(before.cookie);
    expect((await liveSession())?.generation).toBe(before.session!.generation);
    await page.reload();
    await expectSignedIn(page);
  });

  it('keeps two tabs without Web Locks signed in when they refresh at the same moment', async () => {
    const second = await context.newPage();
    second.on('pageerror', (error) => pageErrors.push(error.message));
    const tabs = [page, second];
    expect(await page.evaluate('navigator.locks === undefined')).toBe(true);

    // Hold every refresh until both tabs have sent theirs: both carry the same cookie.
    const held: Route[] = [];
    await context.route('**/graphql', async (route) => {
      const body = route.request().postDataJSON() as { operationName?: string } | null;
      if (body?.operationName !== 'RefreshToken') return route.continue();
      held.push(route);
      if (held.length === 2) for (const waiting of held) await waiting.continue();
    });
    const generation = (await liveSession())!.generation;
    await Promise.all([page.reload(), second.goto(`${site.url}/?refreshTokenIn=cookie`)]);
    for (const tab of tabs) await expectSignedIn(tab);
    await context.unroute('**/graphql');

    expect(held).toHaveLength(2);
    // One rotation, answered twice with the same successor: the grace window.
    expect((await liveSession())?.generation).toBe(generation + 1);
    await sleep(100);
    for (const tab of tabs) {
      await tab.reload();
      await expectSignedIn(tab);
    }
    expect(await liveSession()).not.toBeNull();
    expect(pageErrors).toEqual([]);
  });
});
