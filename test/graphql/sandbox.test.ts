import { startTestServer, type TestServer } from '../helpers/testServer';

describe('Apollo Sandbox landing page', () => {
  let api: TestServer;

  afterEach(async () => {
    await api.close();
  });

  async function landingPage(): Promise<Response> {
    return fetch(`${api.url}/graphql`, { headers: { accept: 'text/html' } });
  }

  it('opens with a login operation, its variables and a Bearer header template', async () => {
    api = await startTestServer({ env: { SANDBOX: 'true' } });
    const response = await landingPage();
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('mutation Login($input: LoginInput!)');
    expect(html).toContain('query Me');
    expect(html).toContain('ada@example.com');
    expect(html).toMatch(/"Authorization":\s*"Bearer /);
    // Cookies of this origin stay out of Sandbox's requests: the API speaks bearer tokens.
    expect(html).toMatch(/"includeCookies":\s*false/);
  });

  it('is not served when SANDBOX is off', async () => {
    api = await startTestServer({ env: { SANDBOX: 'false' } });
    const html = await (await landingPage()).text();
    expect(html).not.toContain('mutation Login');
  });
});
