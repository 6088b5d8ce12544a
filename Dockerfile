# procwatch image: the agent (the entrypoint) and procctl, as static binaries
# on a distroless base, running as a non-root user.
#
#   docker build -t procwatch --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run --rm --pid=host -v /proc:/host/proc:ro -p 9256:9256 \
#     -e PROCWATCH_ZK=zk1:2181 procwatch --path.procfs=/host/proc
#   docker run --rm --entrypoint procctl -e PROCWATCH_ZK=zk1:2181 procwatch globs list
#
# As the default non-root user the agent counts every process of the host,
# but other users' executable paths, I/O and open files stay empty; for
# those run it as --user 0 with --cap-drop ALL --cap-add SYS_PTRACE
# --cap-add DAC_READ_SEARCH (see deploy/kubernetes/procwatch.yaml).

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so the download layer is reused until go.mod or go.sum
# change.
COPY go.mod go.sum ./
# go.mod replaces the ZooKeeper client with the copy under third_party/.
COPY third_party ./third_party
RUN go mod download
COPY . .
ARG VERSION=""
ARG REVISION=""
# CGO_ENABLED=0: static binaries, no libc needed at run time.
# -trimpath: no build machine paths in the binaries, for reproducible builds.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" -o /out/ ./cmd/procwatch ./cmd/procctl

# distroless/static: CA certificates (for OTLP export over TLS) and tzdata,
# no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/procwatch /out/procctl /usr/local/bin/
USER 65532:65532
EXPOSE 9256
ENTRYPOINT ["/usr/local/bin/procwatch"]
