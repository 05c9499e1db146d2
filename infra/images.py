"""Every third-party image, pinned by digest, and the upstream commits of the images built here.

Where a digest comes from: the manifest-list digests Docker's official-images build publishes in
docker-library/repo-info (repos/<image>/remote/<tag>.md), read from that repository, not from a
registry (no registry is reachable where this was written). An operator verifies one with
`docker buildx imagetools inspect <image>:<tag>`: the digest printed must be the one below. A pin
by digest cannot silently change: if it were wrong, the pull would fail, not fetch another image.

MinIO publishes no images any more (the community edition has been source-only since October 2025,
and its Docker Hub repositories were removed in September 2026), so infra/minio/Dockerfile builds
MinIO and mc from the upstream commits below, on the pinned base images.
"""

from __future__ import annotations

from typing import Final

# docker-library/repo-info, repos/postgres/remote/16.15-bookworm.md (built 2026-09-19). The same
# major as before (16), so existing volumes need no pg_upgrade; 16.15 is its current minor there.
POSTGRES: Final = "postgres:16.15-bookworm@sha256:efedf3595f1d6f415c08568ba171029bf54052e754cc9f030e3f2412b21f3d67"
POSTGRES_MAJOR: Final = 16
# CloudNativePG's operand image for that major: cloudnative-pg/artifacts,
# image-catalogs/catalog-standard-bookworm.yaml (catalog of 2026-08-31). CloudNativePG publishes
# these catalogs with the digests (and sigstore signatures beside them).
CNPG_POSTGRES: Final = (
    "ghcr.io/cloudnative-pg/postgresql:16.15-202608310817-standard-bookworm"
    "@sha256:6c697d90e9b7cd6c70e06b76616c89540650c2b80a603e9804993800c3413c51"
)

# Base images of the Dockerfiles in this directory (each Dockerfile repeats its own FROM lines;
# tests/infra checks that they match these).
PYTHON_BASE: Final = (
    "python:3.11.16-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b"
)
GOLANG_BASE: Final = "golang:1.25.12-bookworm@sha256:ff9e030304cfc5556e49861e65b81e0f498158b99db201e00dc43a45e495e7ff"
DEBIAN_BASE: Final = (
    "debian:bookworm-20260918-slim@sha256:3783cc01769c7b2b1b83a5c5ad96c815348e28ed7da68e2e3687004faa906251"
)

# github.com/minio/minio: the last commit of the archived community repository (2026-02-11). It
# contains RELEASE.2025-10-15T17-29-55Z (9e49d5e7, which fixes GHSA-jjjj-jwhf-8rgr /
# CVE-2025-62506 in c1a49490) and the fixes merged after it (e.g. #21656, PostPolicy tag
# enforcement). Advisories published in 2026 are fixed only in the proprietary AIStor: this image
# is for the local Docker target and small setups, not production (see the README).
MINIO_COMMIT: Final = "7aac2a2c5b7c882e68c1ce017d8256be2feea27f"
# github.com/minio/mc: RELEASE.2025-08-13T08-35-41Z, its last release.
MC_COMMIT: Final = "7394ce0dd2a80935aded936b09fa12cbb3cb8096"
MINIO_IMAGE_TAG: Final = "2026-02-11-7aac2a2"
