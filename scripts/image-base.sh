#!/usr/bin/env bash
# image-base.sh — a debian:bookworm-slim equivalent, made locally: no
# registry is reachable from these machines, but Debian's archive is.
# mmdebstrap's minbase variant with merged /usr, the slim image's dpkg
# path excludes and its apt configuration and cleanup (as debuerreotype
# makes them), cached as a tarball in ~/.cache/kgate and imported into
# podman under the name the Dockerfile expects.  Both carry this script's
# hash, so a change to it makes a new base rather than reusing an old one.
#
#   scripts/image-base.sh        prints the image name when it is there
set -euo pipefail

NAME=docker.io/library/debian:bookworm-slim
CACHE=${KGATE_CACHE:-$HOME/.cache/kgate}
RECIPE=$(sha256sum "$0" | cut -c1-12)
TARBALL=$CACHE/debian-bookworm-slim-$RECIPE.tar

if [ "$(podman image inspect --format '{{index .Config.Labels "kgate.base.recipe"}}' "$NAME" \
        2>/dev/null)" = "$RECIPE" ]; then
  echo "$NAME"
  exit 0
fi
mkdir -p "$CACHE"
if [ ! -s "$TARBALL" ]; then
  echo "image-base: making $TARBALL with mmdebstrap (once)" >&2
  # The slim image's dpkg excludes: no documentation but copyrights, no
  # manuals, no locales.
  mmdebstrap --variant=minbase --mode=root --format=tar \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/linda/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/overrides/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/groff/*' \
    --aptopt='Acquire::Languages "none"' \
    --customize-hook='cd "$1"/etc/apt/apt.conf.d &&
      printf "%s\n" "DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };" \
        "APT::Update::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };" \
        "Dir::Cache::pkgcache \"\";" "Dir::Cache::srcpkgcache \"\";" >docker-clean &&
      echo "Apt::AutoRemove::SuggestsImportant \"false\";" >docker-autoremove-suggests &&
      echo "Acquire::GzipIndexes \"true\";" >docker-gzip-indexes &&
      echo "Acquire::Languages \"none\";" >docker-no-languages' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log "$1"/var/log/apt/*' \
    bookworm "$TARBALL.tmp"
  mv "$TARBALL.tmp" "$TARBALL"
  # Older recipes' tarballs are dead weight.
  find "$CACHE" -maxdepth 1 -name 'debian-bookworm-slim-*.tar' ! -name "${TARBALL##*/}" -delete
fi
podman import --change 'CMD ["bash"]' --change "LABEL kgate.base.recipe=$RECIPE" \
  "$TARBALL" "$NAME" >/dev/null
echo "$NAME"
