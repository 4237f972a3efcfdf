# dualbert serve in a container: the CPU (wasm) path, an HTTP embedding server on port 8080.
#   docker build -t dualbert .
#   docker run -p 8080:8080 -v dualbert-models:/models dualbert --model hf:sentence-transformers/all-MiniLM-L6-v2
# Arguments after the image name replace CMD (the model and device); the API key comes from the
# environment: -e DUALBERT_API_KEY=... . Models are downloaded once into the /models volume.

# Build stage: dev dependencies (AssemblyScript, TypeScript, rollup) build the package tarball.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
# npm pack runs `prepare` (npm run build: wasm kernels, dist/, browser bundles) first.
RUN npm pack --pack-destination /tmp && mv /tmp/dualbert-*.tgz /tmp/dualbert.tgz

# Runtime stage: the package alone (no runtime dependencies; the optional `webgpu` package, Dawn,
# is left out: this image runs on the CPU).
FROM node:20-bookworm-slim
ENV NODE_ENV=production DUALBERT_CACHE=/models
COPY --from=build /tmp/dualbert.tgz /tmp/dualbert.tgz
RUN npm install -g --omit=optional /tmp/dualbert.tgz && rm /tmp/dualbert.tgz && mkdir -p /models && chown node:node /models
USER node
VOLUME /models
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD node -e "fetch('http://127.0.0.1:8080/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# SIGTERM (docker stop) drains: requests already received are answered, then exit 0. docker stop
# waits 10 s by default: raise it (--stop-timeout) to at least your longest request.
ENTRYPOINT ["dualbert", "serve", "--host", "0.0.0.0", "--port", "8080"]
CMD ["--model", "hf:sentence-transformers/all-MiniLM-L6-v2", "--device", "wasm"]
