# syntax=docker/dockerfile:1
# Build: docker build -t authd .
# Run:   see README.md, "Running the container".

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so that a source change does not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY src ./src
COPY migrations ./migrations
COPY config ./config
RUN touch src/main.rs src/lib.rs && cargo build --release --locked \
    && strip target/release/authd

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/authd --create-home authd
COPY --from=build /src/target/release/authd /usr/local/bin/authd
USER authd
WORKDIR /var/lib/authd
ENV AUTHD_LISTEN=0.0.0.0:8080 \
    AUTHD_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["authd", "healthcheck"]
ENTRYPOINT ["authd"]
CMD ["serve"]
