# d1-token-broker: the credential broker of docs/broker.md, as one container. It runs the committed bundle
# dist/broker/index.js (built by `npm run bundle`), so the image needs no npm install and no build step.
#   docker build -t d1-token-broker .
#   docker run --read-only -v d1-broker-ledger:/var/lib/d1-broker -v "$PWD/etc:/etc/d1-broker:ro" -p 8443:8443 d1-token-broker
# Pin the base image by digest where you build it (node:24-bookworm-slim@sha256:...).
FROM node:24-bookworm-slim

# The ledger's folder is the only writable place; the root file system can be mounted read-only.
RUN mkdir -p /var/lib/d1-broker && chown 1000:1000 /var/lib/d1-broker
VOLUME ["/var/lib/d1-broker"]

WORKDIR /app
COPY dist/broker/ /app/

# The image's `node` user, by number so that runAsNonRoot can check it.
USER 1000:1000
ENV NODE_ENV=production
EXPOSE 8443
ENTRYPOINT ["node", "/app/index.js"]
CMD ["--config", "/etc/d1-broker/broker.json"]
