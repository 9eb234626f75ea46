import './style.css';
import { createAuthClient } from '../../../client/authClient';
import { AuthClientError } from '../../../client/authClientError';
import {
  MeDocument,
  SecurityEventsDocument,
  SessionsDocument,
  type SecurityEventsSubscription,
  type SessionFieldsFragment,
  type UserFieldsFragment,
} from '../../../client/generated/graphql';

// Same origin: Vite's dev server (and the preview server) proxy /graphql to the API. The page runs
// in cookie mode, for an API started with REFRESH_TOKEN_COOKIE=true, when built or served with
// VITE_REFRESH_TOKEN_IN=cookie or opened with `?refreshTokenIn=cookie`: the browser then keeps the
// refresh token in an HttpOnly cookie and the page stores nothing (docs/frontend.md, "Cookie mode").
const refreshTokenIn =
  import.meta.env.VITE_REFRESH_TOKEN_IN === 'cookie' ||
  new URLSearchParams(window.location.search).get('refreshTokenIn') === 'cookie'
    ? 'cookie'
    : 'body';
const auth = createAuthClient({ url: '/graphql', refreshTokenIn });

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from index.html`);
  return found as T;
}

const status = element<HTMLParagraphElement>('status');
const signedOutView = element<HTMLElement>('signed-out');
const signedInView = element<HTMLElement>('signed-in');
const form = element<HTMLFormElement>('credentials');
const emailInput = element<HTMLInputElement>('email');
const passwordInput = element<HTMLInputElement>('password');
const nameInput = element<HTMLInputElement>('name');
const meList = element<HTMLDListElement>('me');
const sessionRows = element<HTMLTableSectionElement>('session-rows');
const loadedAt = element<HTMLParagraphElement>('loaded-at');
const forgotView = element<HTMLElement>('forgot');
const forgotForm = element<HTMLFormElement>('forgot-form');
const forgotEmailInput = element<HTMLInputElement>('forgot-email');
const resetView = element<HTMLElement>('reset');
const resetForm = element<HTMLFormElement>('reset-form');
const newPasswordInput = element<HTMLInputElement>('new-password');
const unverifiedNotice = element<HTMLParagraphElement>('unverified');
const views = [signedOutView, signedInView, forgotView, resetView];

/** Shows one screen and hides the others. */
function showOnly(view: HTMLElement): void {
  for (const other of views) other.hidden = other !== view;
}
const liveToggle = element<HTMLInputElement>('live');
const liveNotice = element<HTMLParagraphElement>('live-notice');
const eventList = element<HTMLUListElement>('security-events');

type SecurityEvent = SecurityEventsSubscription['securityEvents'];
// Remembered per tab, so a reload keeps the choice.
const LIVE_KEY = 'graphql-jwt-auth.example.live';
let stopEvents: (() => void) | null = null;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const shortDateTime = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

function say(message: string, kind: 'info' | 'error' = 'info'): void {
  status.textContent = message;
  status.className = kind;
}

function describe(error: unknown): string {
  if (!(error instanceof AuthClientError)) return String(error);
  const detail = [error.code, error.reason].filter(Boolean).join(' / ');
  return `${error.message} (${detail})`;
}

function showSignedOut(message?: string): void {
  unwatchSecurityEvents();
  showOnly(signedOutView);
  passwordInput.value = '';
  if (message) say(message);
  emailInput.focus();
}

function renderUser(user: UserFieldsFragment): void {
  const rows: Array<[string, string]> = [
    ['Email', user.email],
    ['Name', user.name ?? '—'],
    ['Roles', user.roles.join(', ')],
    ['Email verified', user.emailVerified ? 'yes' : 'no'],
    ['Member since', dateTime.format(new Date(user.createdAt))],
    ['User id', user.id],
  ];
  meList.replaceChildren(
    ...rows.flatMap(([term, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = value;
      dd.dataset.field = term.toLowerCase().replace(/\s+/g, '-');
      return [dt, dd];
    }),
  );
  unverifiedNotice.hidden = user.emailVerified;
}

function renderSessions(sessions: readonly SessionFieldsFragment[]): void {
  sessionRows.replaceChildren(
    ...sessions.map((session) => {
      const row = document.createElement('tr');
      const device = document.createElement('td');
      device.textContent = [session.userAgent ?? 'Unknown device', session.ip]
        .filter(Boolean)
        .join(' · ');
      if (session.current) {
        row.className = 'current';
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = 'this device';
        device.append(' ', badge);
      }
      const times = [session.createdAt, session.lastUsedAt, session.expiresAt].map((instant) => {
        const cell = document.createElement('td');
        cell.className = 'time';
        cell.textContent = shortDateTime.format(new Date(instant));
        return cell;
      });
      row.replaceChildren(device, ...times);
      return row;
    }),
  );
}

// Both guarded queries go out at once; after the access token expires they share one refresh.
async function loadAccount(): Promise<void> {
  try {
    const [me, sessions] = await Promise.all([
      auth.request(MeDocument),
      auth.request(SessionsDocument),
    ]);
    renderUser(me.me);
    renderSessions(sessions.sessions);
    loadedAt.textContent = `Loaded ${dateTime.format(new Date())}`;
    showOnly(signedInView);
    say(`Signed in as ${me.me.email}`);
    watchSecurityEvents();
  } catch (error) {
    if (!auth.isSignedIn()) showSignedOut('Your session has ended. Please sign in again.');
    else say(describe(error), 'error');
  }
}

function describeEvent(event: SecurityEvent): string {
  const where = [event.userAgent, event.ip].filter(Boolean).join(' · ') || 'an unknown device';
  const when = dateTime.format(new Date(event.at));
  switch (event.type) {
    case 'SIGNED_IN':
      return `Signed in on another device (${where}) at ${when}`;
    case 'SESSION_REVOKED':
      return event.current
        ? `This session was revoked at ${when}`
        : `A session was signed out at ${when}`;
    case 'ALL_SESSIONS_REVOKED':
      return `Every session was signed out at ${when}`;
    case 'PASSWORD_CHANGED':
      return `The password was changed (${where}) at ${when}`;
    case 'REFRESH_TOKEN_REUSED':
      return `A stale refresh token came back (${where}); that session was ended at ${when}`;
    case 'ROLES_CHANGED':
      return `Your roles were changed at ${when}`;
  }
}

function showEvent(event: SecurityEvent): void {
  const item = document.createElement('li');
  item.dataset.type = event.type;
  item.textContent = describeEvent(event);
  eventList.prepend(item);
  if (event.type === 'SIGNED_IN' && !event.current) {
    liveNotice.textContent = describeEvent(event);
    liveNotice.hidden = false;
  }
  // Sign-ins and revocations change the list of sessions.
  if (event.type !== 'ROLES_CHANGED') void loadSessions();
}

async function loadSessions(): Promise<void> {
  try {
    renderSessions((await auth.request(SessionsDocument)).sessions);
  } catch {
    // The next full load reports problems.
  }
}

// One subscription while signed in. When another device revokes this session, the client signs
// out and the subscription ends with SESSION_REVOKED: the page follows at once.
function watchSecurityEvents(): void {
  if (stopEvents || !liveToggle.checked) return;
  stopEvents = auth.subscribe(SecurityEventsDocument, undefined, {
    next: (data) => showEvent(data.securityEvents),
    error: (error) => {
      stopEvents = null;
      if (error.reason === 'SESSION_REVOKED' || !auth.isSignedIn()) {
        showSignedOut('This session was signed out from another device.');
      } else say(`Live events stopped: ${describe(error)}`, 'error');
    },
    complete: () => {
      stopEvents = null;
    },
  });
}

function unwatchSecurityEvents(): void {
  stopEvents?.();
  stopEvents = null;
  liveNotice.hidden = true;
  eventList.replaceChildren();
}

async function signIn(kind: 'login' | 'register'): Promise<void> {
  const input = { email: emailInput.value.trim(), password: passwordInput.value };
  try {
    if (kind === 'register')
      await auth.register({ ...input, name: nameInput.value.trim() || null });
    else await auth.login(input);
    passwordInput.value = '';
    await loadAccount();
  } catch (error) {
    say(describe(error), 'error');
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void signIn('login');
});
element<HTMLButtonElement>('sign-up').addEventListener('click', () => void signIn('register'));
element<HTMLButtonElement>('reload').addEventListener('click', () => void loadAccount());
element<HTMLButtonElement>('sign-out').addEventListener('click', () => {
  void auth.logout().then(() => showSignedOut('Signed out.'));
});

// Forgot password → mail → reset-password link → new password → signed in (docs/recovery.md).
element<HTMLButtonElement>('forgot-link').addEventListener('click', () => {
  forgotEmailInput.value = emailInput.value.trim();
  showOnly(forgotView);
  say('');
  forgotEmailInput.focus();
});
element<HTMLButtonElement>('forgot-back').addEventListener('click', () => showSignedOut());
forgotForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const email = forgotEmailInput.value.trim();
  auth.requestPasswordReset(email).then(
    // The API answers the same whether or not an account has the address, and so does the page.
    () => showSignedOut(`If an account uses ${email}, a link to reset its password is on its way.`),
    (error: unknown) => say(describe(error), 'error'),
  );
});

function showReset(token: string): void {
  showOnly(resetView);
  say('Choose a new password for your account.');
  newPasswordInput.focus();
  resetForm.addEventListener('submit', (event) => {
    event.preventDefault();
    auth.resetPassword(token, newPasswordInput.value).then(
      () => {
        newPasswordInput.value = '';
        void loadAccount();
      },
      (error: unknown) => say(describe(error), 'error'),
    );
  });
}

async function verify(token: string): Promise<void> {
  try {
    const user = await auth.verifyEmail(token);
    if (auth.isSignedIn()) await loadAccount();
    else showSignedOut();
    say(`${user.email} is verified. Thank you!`);
  } catch (error) {
    if (auth.isSignedIn()) await loadAccount();
    else showSignedOut();
    say(describe(error), 'error');
  }
}

element<HTMLButtonElement>('resend-verification').addEventListener('click', () => {
  auth.requestEmailVerification().then(
    () => say('A new verification link is on its way.'),
    (error: unknown) => say(describe(error), 'error'),
  );
});

liveToggle.checked = sessionStorage.getItem(LIVE_KEY) !== 'off';
liveToggle.addEventListener('change', () => {
  sessionStorage.setItem(LIVE_KEY, liveToggle.checked ? 'on' : 'off');
  if (liveToggle.checked) watchSecurityEvents();
  else {
    stopEvents?.();
    stopEvents = null;
  }
});

// Links in mail open APP_URL/reset-password?token=… and APP_URL/verify-email?token=…. The token
// leaves the address bar (and so history and Referer headers) at once; only memory keeps it.
const linkToken = new URLSearchParams(window.location.search).get('token');
const linkPage = window.location.pathname.split('/').pop();
if (linkToken && (linkPage === 'reset-password' || linkPage === 'verify-email')) {
  window.history.replaceState(null, '', new URL('.', window.location.href).pathname);
}

if (linkToken && linkPage === 'reset-password') showReset(linkToken);
else if (linkToken && linkPage === 'verify-email') void verify(linkToken);
// A stored refresh token survives reloads: the first call refreshes silently.
else if (auth.isSignedIn()) void loadAccount();
else showSignedOut();
