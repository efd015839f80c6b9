#!/usr/bin/env bash
# Regenerates Sources/MarketFeed/Generated/mexc_push.pb.swift from Sources/MarketFeed/Proto/mexc_push.proto.
#
# The generated file is committed; the build never runs protoc (SwiftProtobuf's build plugin would
# compile protoc's C++ sources, minutes on a 2-core machine). Run this only after editing the .proto.
#
# Needs: Debian's protoc (`apt-get install protobuf-compiler`, tested with libprotoc 3.21.12) and
# protoc-gen-swift from the SAME swift-protobuf tag the package depends on (1.39.0):
#   git clone --branch 1.39.0 https://github.com/apple/swift-protobuf /tmp/swift-protobuf
#   (cd /tmp/swift-protobuf && swift build -c release --product protoc-gen-swift)
#   PROTOC_GEN_SWIFT=/tmp/swift-protobuf/.build/release/protoc-gen-swift scripts/generate-mexc-proto.sh
# With --check it regenerates into a temporary folder and fails if the committed file differs.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
plugin="$(command -v "${PROTOC_GEN_SWIFT:-protoc-gen-swift}" || true)"
if [[ -z "$plugin" ]]; then
  echo "protoc-gen-swift not found: build it from swift-protobuf 1.39.0 and set PROTOC_GEN_SWIFT (see the top of $0)" >&2
  exit 2
fi
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 2; }
proto_dir="$root/Sources/MarketFeed/Proto"
target="$root/Sources/MarketFeed/Generated/mexc_push.pb.swift"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Visibility=Package: the test target builds frames with these types; they are not public API.
protoc --plugin=protoc-gen-swift="$plugin" \
       --proto_path="$proto_dir" \
       --swift_out="$out" \
       --swift_opt=Visibility=Package \
       "$proto_dir/mexc_push.proto"

{
  echo "// Generated from Sources/MarketFeed/Proto/mexc_push.proto by scripts/generate-mexc-proto.sh:"
  echo "// $(protoc --version) with protoc-gen-swift $("$plugin" --version 2>/dev/null | awk '{print $NF}'),"
  echo "// options Visibility=Package. Do not edit; edit the .proto and rerun the script."
  echo
  cat "$out/mexc_push.pb.swift"
} > "$out/with-header.swift"

if [[ "${1:-}" == "--check" ]]; then
  diff -u "$target" "$out/with-header.swift"
  echo "generated code is up to date"
else
  cp "$out/with-header.swift" "$target"
  echo "wrote $target"
fi
