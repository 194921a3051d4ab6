# syntax=docker/dockerfile:1
# reactivator's image: a static binary on distroless, run as a non-root user. Build it with
#   docker build --build-arg VERSION=$(git describe --tags --always) -t reactivator .
# No secret goes into the image: credentials come from the environment or mounted files at run time.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X reactivator/internal/version.Version=${VERSION}" \
      -o /out/reactivator ./cmd/reactivator
# The directories the compose volumes mount, owned by the non-root user: a fresh named volume
# takes their owner, so the workers can move inbox files and write reports.
RUN mkdir -p /out/data/inbox/stytch /out/data/inbox/zitadel /out/data/reports /out/demo /out/state

# distroless/static: CA certificates and time zones, no shell, no package manager; uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/reactivator /reactivator
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/demo /demo
COPY --from=build --chown=65532:65532 /out/state /state
USER 65532:65532
ENTRYPOINT ["/reactivator"]
CMD ["--help"]
