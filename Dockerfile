# gitferry: build a static-ish release binary, run it as an unprivileged user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/gitferry gitferry \
    && mkdir -p /var/lib/gitferry && chown gitferry /var/lib/gitferry
COPY --from=build /src/target/release/gitferry /usr/local/bin/gitferry
USER gitferry
WORKDIR /var/lib/gitferry
ENV GITFERRY_LISTEN=0.0.0.0:3000 DATABASE_URL=sqlite:///var/lib/gitferry/gitferry.db
EXPOSE 3000
ENTRYPOINT ["gitferry"]
CMD ["serve"]
