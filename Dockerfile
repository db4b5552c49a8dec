# syntax=docker/dockerfile:1
# Facet runs its TypeScript directly under Node 24's type stripping: there is no compile step (the
# pages' TSX under ui/ is compiled by esbuild as it loads, src/tsx-hooks.ts; esbuild is a dependency).
# Stages: `assets` bundles the browser scripts (esbuild), `deps` installs
# production dependencies only, and the final image holds those plus the source, as a non-root user.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS assets
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
COPY scripts ./scripts
COPY public ./public
# postinstall runs scripts/build-assets.ts, which writes public/build/.
RUN npm ci --no-audit --no-fund

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# onnxruntime-node ships its CPU binaries in the package; skip its optional GPU download.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
# The postinstall asset build finds no page scripts here and exits cleanly; the bundle comes from `assets`.
COPY scripts/build-assets.ts ./scripts/build-assets.ts
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    FACET_MODELS_DIR=/models \
    FACET_TENANTS_DIR=/app/tenants
WORKDIR /app
# Code and dependencies stay owned by root: the service user can read them, not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY views ./views
COPY ui ./ui
COPY public ./public
COPY --from=assets /app/public/build ./public/build
COPY models/manifest.json ./models/manifest.json
COPY scripts/fetch-models.ts ./scripts/fetch-models.ts
COPY tenants ./tenants
# Face model weights live in a volume (fetch with: node scripts/fetch-models.ts /models).
RUN mkdir -p /models && chown node:node /models
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=40s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "src/main.ts"]
