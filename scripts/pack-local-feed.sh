#!/usr/bin/env bash
# Packs LfU.MLNet and LfU.MLNet.Charts into a local NuGet feed and makes it a source of the user's NuGet configuration,
# so that a notebook's #r "nuget: LfU.MLNet, 0.1.0" restores this repository's build as it would the published package.
# Evicts that version from the NuGet cache, so that the next restore takes this pack rather than an older one.
# The feed lives outside the repository (~/.local/share/LfU.MLNet/packages, or $LFU_LOCAL_FEED): a source that a deleted
# clone left behind would break every later restore.
#   scripts/pack-local-feed.sh      (about a minute on 2 cores)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
feed=${LFU_LOCAL_FEED:-${XDG_DATA_HOME:-$HOME/.local/share}/LfU.MLNet/packages}
cache=${NUGET_PACKAGES:-$HOME/.nuget/packages}
mkdir -p "$feed"
for project in LfU.MLNet LfU.MLNet.Charts; do
  dotnet pack "$repo/src/$project/$project.csproj" -c Release -o "$feed" -m:1 --nologo -v quiet
  version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/src/$project/$project.csproj")
  id=$(echo "$project" | tr '[:upper:]' '[:lower:]')
  rm -rf "${cache:?}/$id/$version"
  echo "packed $project $version into $feed"
done
if ! dotnet nuget list source --format short | grep -qF "$feed"; then
  dotnet nuget add source "$feed" --name LfU.MLNet-local >/dev/null
  echo "added $feed to the user's NuGet sources (remove with: dotnet nuget remove source LfU.MLNet-local)"
fi
