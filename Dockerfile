# Multi-stage build of posd on Debian 12. The build stage uses the project's
# own dependency script, so the image needs exactly what a developer installs.
# Base images pinned by point release, so a rebuild gets the same system.
FROM debian:12.12 AS build
WORKDIR /src
COPY deploy/install-deps.sh deploy/install-deps.sh
RUN ./deploy/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake --workflow --preset release \
 && cmake --install build/release --prefix /opt/posd --strip

FROM debian:12.12-slim AS runtime
COPY deploy/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh --runtime && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh \
 && useradd --system --home-dir /var/lib/posd --shell /usr/sbin/nologin --groups dialout posd \
 && mkdir -p /var/lib/posd /run/posd /etc/posd \
 && chown posd:posd /var/lib/posd /run/posd
COPY --from=build /opt/posd/bin/posd /opt/posd/bin/posctl /usr/bin/
COPY deploy/posd.example.yaml /etc/posd/posd.yaml
USER posd
VOLUME ["/var/lib/posd"]
ENV POSD_ADDRESS=unix:/run/posd/posd.sock
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s CMD ["posctl", "--timeout", "3s", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["posd", "--config", "/etc/posd/posd.yaml"]
