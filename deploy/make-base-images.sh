#!/usr/bin/env bash
# Builds the two base images deploy/Dockerfile starts from, without a registry:
#   docker.io/library/debian:bookworm       debootstrap --variant=minbase of Debian 12
#   docker.io/library/debian:bookworm-slim  the same rootfs trimmed (no docs, man pages,
#       locales) with the dpkg excludes of the official slim image. The official slim
#       image cannot be pulled here (no registry is reachable): this is a stand-in.
# The mirror is the one this machine's apt already uses (read from /etc/apt), so nothing
# names a host. Both rootfs tarballs are cached, which saves the ~30 s debootstrap.
#
# Usage: deploy/make-base-images.sh            (as root; needs podman and debootstrap)
# Env:   REACTORD_DEPLOY_CACHE       cache folder (default /var/cache/reactord-deploy)
#        REACTORD_BASE_MAX_AGE_DAYS  debootstrap again when the cache is older (default 7)
set -euo pipefail

release=bookworm
cache=${REACTORD_DEPLOY_CACHE:-/var/cache/reactord-deploy}
max_age_days=${REACTORD_BASE_MAX_AGE_DAYS:-7}
tarball=$cache/debian-$release-minbase.tar
slim_tarball=$cache/debian-$release-minbase-slim.tar

# Prints "URI SUITE" for every enabled deb source of this machine whose suite is one of
# $release, $release-updates, $release-security; one-line (.list) and deb822 (.sources).
host_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                       print $i, $(i + 1) }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
         { types = uris = suites = ""; enabled = "yes"
           for (l = 1; l <= NF; l++) {
             line = $l; if (line ~ /^#/) continue
             key = tolower(substr(line, 1, index(line, ":") - 1))
             val = substr(line, index(line, ":") + 1)
             if (key == "types") types = val; else if (key == "uris") uris = val
             else if (key == "suites") suites = val; else if (key == "enabled") enabled = val
           }
           if (types !~ /(^| )deb( |$)/ || enabled ~ /no/) next
           nu = split(uris, u, " "); ns = split(suites, s, " ")
           for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j] }' "$f"
  done | awk -v r="$release" '$2 == r || $2 == r "-updates" || $2 == r "-security"'
}

# Trims a rootfs the way debian:*-slim is trimmed, and installs the dpkg excludes that keep
# later apt-get installs from bringing the files back (the official slim image's paths).
slim_rootfs() {
  local root=$1
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# As in the official debian:*-slim images: no docs, man pages or translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{man,groff,info,lintian,linda}/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
}

sources=$(host_sources | sort -u)
mirror=$(awk -v r="$release" '$2 == r { print $1; exit }' <<<"$sources")
if [ -z "$mirror" ]; then
  echo "make-base-images: no '$release' deb source in /etc/apt: cannot pick a mirror" >&2
  exit 1
fi

mkdir -p "$cache"
if [ -z "$(find "$tarball" -mtime -"$max_age_days" 2>/dev/null)" ] || [ ! -f "$slim_tarball" ]; then
  rootfs=$(mktemp -d /tmp/reactord-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  start=$SECONDS
  echo "make-base-images: debootstrap --variant=minbase $release from $mirror" >&2
  if ! debootstrap --variant=minbase "$release" "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1; then
    tail -20 "$cache/debootstrap.log" >&2
    exit 1
  fi
  # The host's apt sources (main, updates, security) in the deb822 form the official image
  # uses, so apt inside a build (run with --network=host) reaches the same mirror. The
  # package lists and .debs are dropped, as in the official image.
  rm -f "$rootfs/etc/apt/sources.list"
  {
    echo "# Written by deploy/make-base-images.sh from the build machine's apt sources."
    while read -r uri suite; do
      printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\n' "$uri" "$suite"
      printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n'
    done <<<"$sources"
  } >"$rootfs/etc/apt/sources.list.d/debian.sources"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
  tar -C "$rootfs" -cf "$tarball.tmp" .
  slim_rootfs "$rootfs"
  tar -C "$rootfs" -cf "$slim_tarball" .
  mv "$tarball.tmp" "$tarball"
  rm -rf "$rootfs"
  trap - EXIT
  echo "make-base-images: debootstrap + trim took $((SECONDS - start)) s" >&2
else
  echo "make-base-images: reusing $tarball (and -slim)" >&2
fi

podman import --quiet --change 'CMD ["bash"]' - "docker.io/library/debian:$release" <"$tarball" >/dev/null
podman import --quiet --change 'CMD ["bash"]' - "docker.io/library/debian:$release-slim" <"$slim_tarball" >/dev/null
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' docker.io/library/debian >&2
