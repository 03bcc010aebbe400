# syntax=docker/dockerfile:1
# Build: docker build -t authd .        (podman build and buildah bud read it as it is)
# Run:   see README.md, "Running the container"; scripts/container-test builds and runs it.

# What compiles authd: a Debian bookworm with Rust 1.89 or newer and a C compiler. The default
# is pulled from Docker Hub; scripts/container-test passes one assembled on the machine.
ARG BUILDER_IMAGE=docker.io/library/rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BUILDER_IMAGE} AS build
WORKDIR /src
# Dependencies first, so that a source change does not rebuild them. The manifest names the
# benches and the integration test, which must exist for it to load: empty stand-ins, made
# from the manifest, keep this layer depending on Cargo.toml and Cargo.lock alone.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && for name in $(sed -n '/^\[\[bench\]\]/,/^$/s/^name = "\(.*\)"/\1/p' Cargo.toml); do \
           echo 'fn main() {}' > "benches/$name.rs"; done \
    && for path in $(sed -n 's/^path = "\(.*\.rs\)"/\1/p' Cargo.toml); do \
           mkdir -p "$(dirname "$path")" && echo 'fn main() {}' > "$path"; done \
    && cargo build --release --locked --bin authd \
    && rm -rf src
COPY src ./src
COPY migrations ./migrations
COPY config ./config
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin authd \
    && strip target/release/authd

FROM ${RUNTIME_IMAGE}
# A fixed numeric user, so that Kubernetes' runAsNonRoot can check it and a mounted volume can
# be given to it (chown 10001).
RUN groupadd --system --gid 10001 authd \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/authd --create-home authd \
    && mkdir /var/lib/authd/data && chown 10001:10001 /var/lib/authd/data
COPY --from=build /src/target/release/authd /usr/local/bin/authd
COPY config/seed.example.toml /usr/share/authd/seed.example.toml
USER 10001:10001
WORKDIR /var/lib/authd
# The SQLite database, its development secret and the development TLS files live here; mount
# a volume to keep them. With PostgreSQL nothing is written here.
VOLUME ["/var/lib/authd/data"]
ENV AUTHD_LISTEN=0.0.0.0:8080 \
    AUTHD_DATABASE_URL=sqlite:///var/lib/authd/data/authd.db \
    AUTHD_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["authd", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["authd"]
CMD ["serve"]
