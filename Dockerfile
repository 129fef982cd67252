# gitferry: build a static-ish release binary, run it as an unprivileged user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
# The data folder (store, .env, work folder) and gitferry's HOME are kept apart: a tool that
# writes under HOME never lands next to the store, and the data folder is never a HOME.
# gitferry runs as its own user here, so commands from repositories keep that user and
# Landlock alone keeps them out of /var/lib/gitferry/private (see README, "Security model").
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/gitferry gitferry \
    && mkdir -p /var/lib/gitferry && chown gitferry /var/lib/gitferry && chmod 0711 /var/lib/gitferry
COPY --from=build /src/target/release/gitferry /usr/local/bin/gitferry
USER gitferry
WORKDIR /home/gitferry
ENV GITFERRY_LISTEN=0.0.0.0:3000 GITFERRY_DATA_DIR=/var/lib/gitferry
VOLUME /var/lib/gitferry
EXPOSE 3000
ENTRYPOINT ["gitferry"]
CMD ["serve"]
