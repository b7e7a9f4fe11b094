# syntax=docker/dockerfile:1
#
# docker build -t perseus .
# docker run -p 5433:5433 -v /etc/perseus:/etc/perseus:ro perseus
#
# The config (and the local key file it names) are mounted at /etc/perseus and must be readable by uid 10001.

FROM maven:3-eclipse-temurin-17 AS build
WORKDIR /src
# Only the build's inputs (not local target/ directories).
COPY pom.xml ./
COPY proxy-core/pom.xml proxy-core/
COPY proxy-core/src proxy-core/src
COPY proxy-server/pom.xml proxy-server/
COPY proxy-server/src proxy-server/src
COPY cmd-tools/pom.xml cmd-tools/
COPY cmd-tools/src cmd-tools/src
RUN --mount=type=cache,target=/root/.m2 mvn -B -DskipTests package

FROM eclipse-temurin:17-jre
RUN groupadd --system --gid 10001 perseus \
    && useradd --system --uid 10001 --gid perseus --home-dir /app --shell /usr/sbin/nologin perseus
WORKDIR /app
COPY --from=build /src/proxy-server/target/perseus.jar /app/perseus.jar
COPY --from=build /src/cmd-tools/target/perseus-tools.jar /app/perseus-tools.jar
COPY config.example.json /app/config.example.json
USER perseus
# 5433: PostgreSQL clients (ListenAddress); 5000: MetricsAddress (/metrics, /health).
EXPOSE 5433 5000
# Memory for a sidecar (see docs/BENCHMARKS.md, "Memory"): the serial collector (no GC threads or G1 regions; pauses
# on a heap this small are a few ms), a 256 MiB heap cap (scrypt needs 16 MiB per concurrent check), direct memory
# capped for Netty's buffers, two Netty arenas of each kind, 512 KiB thread stacks, heap-free ratios so the heap
# shrinks after load, and a periodic native-heap trim. C2 stays on: it is the hot path.
COPY scripts/perseus /app/perseus
ENTRYPOINT ["/app/perseus", "/app/perseus.jar"]
CMD ["-config", "/etc/perseus/config.json"]
