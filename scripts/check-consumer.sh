#!/usr/bin/env bash
# Issue "Consumed like any ML.NET package": packs LfU.MLNet, builds a fresh console app outside the repository that
# references the package (the app picks TorchSharp-cpu) beside Microsoft.ML.ImageAnalytics (SkiaSharp 2.88), and runs
# an image pipeline and a two-step LfU fine-tune in one process (scripts/consumer-check/Program.cs). Exit 0 = OK.
#   scripts/check-consumer.sh        (about 2-4 minutes on 2 cores)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/lfu-consumer.XXXXXX)
trap 'rm -rf "$work"' EXIT
version=0.1.0-consumer.$(date +%s)   # a fresh version: the NuGet cache never serves an older pack of the same number

echo "== pack LfU.MLNet $version"
dotnet pack "$repo/src/LfU.MLNet/LfU.MLNet.csproj" -c Release -o "$work/feed" -p:Version=$version -m:1 --nologo -v quiet
ls "$work/feed"
unzip -p "$work/feed/LfU.MLNet.$version.nupkg" LfU.MLNet.nuspec | grep -o '<dependency id="[^"]*"' | sort -u

echo "== a consumer app with LfU.MLNet, TorchSharp-cpu and Microsoft.ML.ImageAnalytics"
mkdir -p "$work/app"
cp "$repo/scripts/consumer-check/Program.cs" "$work/app/"
cat > "$work/app/ConsumerCheck.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="LfU.MLNet" Version="$version" />
    <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
    <PackageReference Include="Microsoft.ML.ImageAnalytics" Version="5.0.1" />
  </ItemGroup>
</Project>
XML
cat > "$work/app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="lfu-packed" value="$work/feed" />
  </packageSources>
</configuration>
XML
echo "== build and run"
(cd "$work/app" && dotnet build -c Release -m:1 --nologo -v quiet && dotnet run -c Release --no-build -- "$repo")
