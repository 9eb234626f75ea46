# syntax=docker/dockerfile:1
# The API as a small production image: compiled JavaScript, production dependencies only, run as
# the unprivileged `node` user. test/ops/dockerfile.test.ts replays these steps without Docker.

# Build: every dependency (TypeScript is a devDependency), then compile src/ to dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY schema ./schema
COPY src ./src
COPY scripts ./scripts
RUN npm run build

# Production dependencies alone, installed from the same lockfile: no TypeScript or Jest, no
# pino-pretty (development logs) and no mongodb-memory-server-core (the embedded development
# database; production requires MONGODB_URI, see docker-compose.yml).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# Runtime: dist/ needs schema/ beside it (the SDL is read at start-up).
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=4000 \
    HOST=0.0.0.0
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY schema ./schema
USER node
EXPOSE 4000
# Liveness only: the process answers. Readiness (/ready) is for load balancers, and a database
# outage must not get a healthy process restarted.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1 so SIGTERM reaches the graceful shutdown in src/bin/server.ts directly.
CMD ["node", "--enable-source-maps", "dist/bin/server.js"]
