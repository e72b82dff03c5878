#!/usr/bin/env bash
# Refreshes the Public Suffix List that CapiMiddleware embeds (src/CapiMiddleware/Cookies/public_suffix_list.dat), from
# Debian's `publicsuffix` package, or from a copy of the list named as the first argument. Run it, run ./test.sh, and
# commit the file with the snapshot named in the message and in docs/cookies.md. Nothing is downloaded at
# run time: the library reads only the embedded copy.
set -euo pipefail
cd "$(dirname "$0")/.."
target=src/CapiMiddleware/Cookies/public_suffix_list.dat

if [ $# -ge 1 ]; then
  source=$1
else
  if ! dpkg -s publicsuffix >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends publicsuffix
  fi
  source=/usr/share/publicsuffix/public_suffix_list.dat
  echo "Debian publicsuffix $(dpkg-query -W -f='${Version}' publicsuffix)"
fi

grep -q '===BEGIN ICANN DOMAINS===' "$source" && grep -q '===BEGIN PRIVATE DOMAINS===' "$source" \
  || { echo "$source does not look like the Public Suffix List (no ICANN and PRIVATE sections)." >&2; exit 1; }
cp "$source" "$target"
echo "$target: $(grep -cv '^\(//\|$\)' "$target") rules"
