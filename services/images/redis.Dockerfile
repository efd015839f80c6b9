# Stand-in for the official redis image where no registry is reachable: Debian's redis-server, run the
# way services/docker-compose.yml runs the official one (command and user given there).
FROM debian:bookworm-slim
RUN apt-get -o Acquire::Retries=5 update \
 && apt-get -o Acquire::Retries=5 install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown redis:redis /data
LABEL org.claire-de-binare.stand-in="redis"
WORKDIR /data
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
