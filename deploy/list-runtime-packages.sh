#!/bin/sh
# Prints the Debian packages that provide the shared libraries the given binaries load
# (ldd + dpkg -S), minus those every Debian image has. deploy/Dockerfile's build stage runs
# it so the runtime stage installs exactly what reactord and reactorctl link, whatever the
# sources add later (spdlog, fmt, ...). Fails if a library is missing or has no package.
set -eu
libs=$(ldd "$@" | awk '/not found/ { print "MISSING " $1; next } $2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u)
if printf '%s\n' "$libs" | grep -q '^MISSING'; then
  printf '%s\n' "$libs" | grep '^MISSING' >&2
  exit 1
fi
pkgs=""
for lib in $libs; do
  real=$(readlink -f "$lib")
  # usrmerge: a file may be registered as /lib/... or /usr/lib/...
  pkg=$(dpkg-query -S "$real" 2>/dev/null || dpkg-query -S "${real#/usr}" 2>/dev/null \
        || dpkg-query -S "$lib" 2>/dev/null || dpkg-query -S "/usr$lib" 2>/dev/null) || {
    echo "list-runtime-packages: no package owns $lib" >&2
    exit 1
  }
  pkgs="$pkgs ${pkg%%:*}"
done
printf '%s\n' $pkgs | grep -vxE 'libc6|libgcc-s1|libstdc\+\+6' | sort -u
