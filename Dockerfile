# Multi-stage build of the demo apps (producer and consumer share one image).
# The build stage uses the README's own commands: npm ci, then npm run build (the library first,
# then the apps against the built library). The apps run on the library's default 'wire' driver,
# so optional dependencies are left out: the native `zookeeper` driver is not compiled.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/zookeeper/package.json libs/zookeeper/package.json
RUN npm ci --omit=optional --no-audit --no-fund
COPY tsconfig.json nest-cli.json ./
COPY libs libs
COPY apps apps
RUN npm run build && npm prune --omit=dev

# Same Debian release as the build stage.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/libs/zookeeper/package.json ./libs/zookeeper/package.json
COPY --from=build /app/libs/zookeeper/dist ./libs/zookeeper/dist
COPY --from=build /app/dist ./dist
USER node
# docker-compose.yml picks the app with `command`.
CMD ["node", "dist/apps/producer/src/main.js"]
