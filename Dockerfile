# One image for the controller and the agent (the command picks which).
FROM node:20-bookworm AS build
WORKDIR /opt/coffer
COPY . .
RUN npm install --no-audit --no-fund && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# Database clients the agent drives (pg_dump, mariadb-dump, redis-cli).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client mariadb-client redis-tools \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/coffer
COPY --from=build /opt/coffer /opt/coffer
ENV PATH="/opt/coffer/node_modules/.bin:${PATH}"
EXPOSE 8080 7443
CMD ["coffer-controller", "--data-dir", "/var/lib/coffer"]
