# Stand-in for prom/prometheus where no registry is reachable: Debian's prometheus (same version as the
# tag it stands in for), with the official image's entry point, user and data directory.
FROM debian:bookworm-slim
# The package drags in 212 MB of raw time-zone sources (libjs-moment-timezone's data/) that the web UI never
# loads: it uses the bundled moment-timezone-with-data.js.
RUN apt-get -o Acquire::Retries=5 update \
 && apt-get -o Acquire::Retries=5 install -y --no-install-recommends prometheus wget \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/share/javascript/moment-timezone/data \
 && mkdir -p /prometheus && chown nobody:nogroup /prometheus
LABEL org.claire-de-binare.stand-in="prometheus"
USER nobody
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
