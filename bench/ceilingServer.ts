import http from 'node:http';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/db/database';
import { createAccessTokens } from '../src/tokens/accessTokens';

/**
 * Benchmark-only ceiling: the least a server can do to answer `{ me { id roles } }` correctly.
 * A bare `node:http` server that verifies the bearer token with the API's own verifier (same
 * jsonwebtoken checks: algorithm, typ, iss, aud, exp), loads the user with the API's own mongoose
 * model and checks that it lists the token's session (one read by `_id`, as the API does:
 * docs/data-model.md), and writes the byte-identical JSON the API returns. No framework, no GraphQL parsing,
 * validation or execution.
 *
 * `POST /graphql` does the user lookup; `POST /graphql/no-lookup` answers from the token's claims
 * alone (for reference: what the database read costs).
 *
 * Usage: node ceilingServer.js (configuration from the same environment as the API).
 */

const UNAUTHENTICATED = JSON.stringify({ errors: [{ message: 'unauthenticated' }] });

function send(response: http.ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.mongodbUri) throw new Error('MONGODB_URI is required');
  const database = await connectDatabase(config.mongodbUri);
  const { User } = database.models;
  const accessTokens = createAccessTokens(config.jwt);

  const answer = async (request: http.IncomingMessage): Promise<[number, string]> => {
    // The body is read (and discarded) because a real endpoint has to read it.
    for await (const chunk of request) void chunk;
    const bearer = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!bearer) return [401, UNAUTHENTICATED];
    const claims = accessTokens.verify(bearer);
    if (request.url === '/graphql/no-lookup') {
      return [
        200,
        `${JSON.stringify({ data: { me: { id: claims.sub, roles: claims.roles } } })}\n`,
      ];
    }
    const user = await User.findById(claims.sub);
    if (!user?.sessions.has(claims.sid)) return [401, UNAUTHENTICATED];
    return [200, `${JSON.stringify({ data: { me: { id: user.id, roles: user.roles } } })}\n`];
  };

  const server = http.createServer((request, response) => {
    if (request.url === '/health') return send(response, 200, '{"status":"ok"}');
    answer(request).then(
      ([status, body]) => send(response, status, body),
      () => send(response, 401, UNAUTHENTICATED),
    );
  });
  const stop = (): void => {
    server.close();
    database.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  server.keepAliveTimeout = 72_000;
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
}

main().catch((error: unknown) => {
  process.stderr.write(`ceiling server: ${String(error)}\n`);
  process.exit(1);
});
