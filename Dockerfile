# syntax=docker/dockerfile:1
# One image with every Rudder binary in /usr/local/bin; the Helm chart runs
# each component's own binary from it. Non-root (65532), no shell.
#
#   docker build -t rudder:dev .
#   docker build --build-arg CARGO_PROFILE=dev -t rudder:debug .
#
# Build arguments:
#   RUST_VERSION   the rust image the binaries are built with (1.95)
#   CARGO_PROFILE  release (default) or dev
#   BASE_IMAGE     the runtime image (distroless cc, nonroot)
ARG RUST_VERSION=1.95
ARG BASE_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM rust:${RUST_VERSION}-bookworm AS build
ARG CARGO_PROFILE=release
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    set -eu; \
    bins="rudder-admission-webhooks rudder-scheduler rudder-replicaset-controller rudder-deployment-controller rudder-daemonset-controller rudder-job-controller rudder-hpa-controller"; \
    args=""; for b in $bins; do args="$args -p $b"; done; \
    cargo build --locked --profile "$CARGO_PROFILE" $args; \
    dir=$( [ "$CARGO_PROFILE" = dev ] && echo debug || echo "$CARGO_PROFILE" ); \
    mkdir -p /out; for b in $bins; do cp "target/$dir/$b" /out/; done

FROM ${BASE_IMAGE}
COPY --from=build /out/ /usr/local/bin/
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/rudder-scheduler"]
