# The services image without a registry: the runtime stage of services/Dockerfile, with the binaries
# built on the host (`swift build -c release --static-swift-stdlib`) and staged into the build context
# by scripts/stack-images.sh.
FROM debian:bookworm-slim
RUN apt-get -o Acquire::Retries=5 update \
 && apt-get -o Acquire::Retries=5 install -y --no-install-recommends libpq5 libhiredis0.14 libcurl4 libyaml-0-2 libstdc++6 ca-certificates curl tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin cdb
COPY bin/ /usr/local/bin/
USER cdb
