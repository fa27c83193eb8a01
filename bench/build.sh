#!/usr/bin/env bash
# Benchmarks of `rapko build` (issue 6). Prints figures; asserts nothing.
#
#   bench/build.sh              # everything (about 2-4 minutes on 2 cores, plus the release build)
#   RUNS=30 bench/build.sh      # more runs per timing (default 15)
#   BIG_MB=0 bench/build.sh     # skip the ~300 MB memory benchmark
#   SKIP_CARGO=1 bench/build.sh # use the binaries already in target/release
#
# What it measures (medians of hyperfine runs; user/sys are hyperfine's means):
#   1. alpine-base x86_64 (25 packages, real Alpine 3.19 fixtures, read in place): a full
#      build (layer cache cleared) and a layer-cache hit, each to a new OCI layout directory
#      and to a tarball, and a rebuild with nothing changed into the layout that holds it.
#   2. `tar -c | gzip -6` of the same unpacked tree (the image's layer, extracted), the
#      classic way to make that layer, for comparison.
#   3. Peak RSS (`/usr/bin/time -v`, "Maximum resident set size") of the alpine-base build
#      and of a ~BIG_MB MB image from rapko_test::big_package_set (100 poorly compressible
#      packages, signed with the test key, written by crates/rapko-test/examples/bigrepo.rs),
#      full build and layer-cache hit. MEM_RUNS runs each (default 3), median.
#
# Needs hyperfine, jq and GNU time (apt-get install hyperfine jq time). Runs the release
# build (cargo build --release). Work files go to a temp dir under $TMPDIR, removed on exit.
# Timings on a shared 2-core machine are noisy: the load average is printed with the results.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FIXTURES=${RAPKO_FIXTURES:-$ROOT/../shared/fixtures}
FIXTURES=$(cd "$FIXTURES" && pwd)
RUNS=${RUNS:-15}
MEM_RUNS=${MEM_RUNS:-3}
BIG_MB=${BIG_MB:-300}
BIG_N=${BIG_N:-100}

for tool in hyperfine jq /usr/bin/time tar gzip; do
    command -v "$tool" >/dev/null || { echo "bench/build.sh: $tool is missing (apt-get install hyperfine jq time)" >&2; exit 1; }
done

if [[ ${SKIP_CARGO:-0} != 1 ]]; then
    echo "== building release binaries (SKIP_CARGO=1 uses the ones in target/release)" >&2
    (cd "$ROOT" && cargo build --release --quiet -p rapko && cargo build --release --quiet -p rapko-test --example bigrepo)
fi
R=$ROOT/target/release/rapko
BIGREPO=$ROOT/target/release/examples/bigrepo

W=$(mktemp -d "${TMPDIR:-/tmp}/rapko-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export RAPKO_CACHE_DIR=$W/cache
unset SOURCE_DATE_EPOCH

CFG=$W/alpine-base.yaml
cat >"$CFG" <<EOF
contents:
  keyring:
    - $FIXTURES/keys/alpine/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub
  repositories:
    - $FIXTURES/alpine-3.19/main
  packages:
    - alpine-base
archs: [x86_64]
EOF

ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
RESULTS=()

# hf LABEL [hyperfine options…] -- COMMAND: runs hyperfine, records "LABEL | median | min–max | user | sys".
hf() {
    local label=$1; shift
    local opts=()
    while [[ $1 != -- ]]; do opts+=("$1"); shift; done
    shift
    local json=$W/hf-$RANDOM.json
    hyperfine --style none --shell bash --export-json "$json" "${opts[@]}" "$@" >&2
    local line
    line=$(jq -r '.results[0] | [.median, .min, .max, .user, .system] | @tsv' "$json")
    read -r med min max user sys <<<"$line"
    RESULTS+=("$(printf '%-52s %9s ms  (min %s, max %s; user %s, sys %s ms)' "$label" "$(ms "$med")" "$(ms "$min")" "$(ms "$max")" "$(ms "$user")" "$(ms "$sys")")")
}

# peak_rss LABEL PREPARE COMMAND: MEM_RUNS runs under /usr/bin/time -v; median peak RSS and wall.
peak_rss() {
    local label=$1 prepare=$2 cmd=$3
    local rss=() wall=() cpu=()
    for _ in $(seq "$MEM_RUNS"); do
        bash -c "$prepare"
        /usr/bin/time -v -o "$W/time.txt" bash -c "exec $cmd" >/dev/null 2>"$W/stderr.txt" || {
            cat "$W/stderr.txt" >&2; echo "bench/build.sh: $label failed" >&2; exit 1; }
        rss+=("$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$W/time.txt")")
        cpu+=("$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$W/time.txt")")
        wall+=("$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$W/time.txt")")
    done
    local median='{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
    local mrss mwall mcpu
    mrss=$(printf '%s\n' "${rss[@]}" | sort -n | awk "$median")
    mwall=$(printf '%s\n' "${wall[@]}" | sort -n | awk "$median")
    mcpu=$(printf '%s\n' "${cpu[@]}" | sort -n | awk "$median")
    RESULTS+=("$(printf '%-52s %9.1f MB peak RSS  (wall %.2f s, user+sys %.2f s; runs: %s KB)' "$label" "$(awk -v k="$mrss" 'BEGIN { print k / 1024 }')" "$mwall" "$mcpu" "${rss[*]}")")
}

echo "== alpine-base: warming the cache" >&2
mkdir -p "$W/warm"
"$R" build --quiet "$CFG" bench:latest "$W/warm" >/dev/null

# rapko caches finished layers (<cache>/images + <cache>/blobs, keyed by everything that goes
# into them); packages from a local repository are read in place. So "full build" = those
# cleared (all the work: verify, decompress, install, tar, gzip, hash), "cache hit" = the
# layers are reused and only config, manifest and output are written.
CLEAR_LAYERS="rm -rf '$RAPKO_CACHE_DIR/images' '$RAPKO_CACHE_DIR/blobs'"
hf "alpine-base -> new OCI layout, full build" --runs "$RUNS" --warmup 2 \
    --prepare "$CLEAR_LAYERS; rm -rf '$W/out' && mkdir '$W/out'" -- \
    "'$R' build --quiet '$CFG' bench:latest '$W/out' >/dev/null"
if command -v taskset >/dev/null; then
    hf "alpine-base -> new OCI layout, full build, 1 core" --runs "$RUNS" --warmup 2 \
        --prepare "$CLEAR_LAYERS; rm -rf '$W/out' && mkdir '$W/out'" -- \
        "taskset -c 0 '$R' build --quiet '$CFG' bench:latest '$W/out' >/dev/null"
fi
hf "alpine-base -> tarball, full build" --runs "$RUNS" --warmup 2 \
    --prepare "$CLEAR_LAYERS; rm -f '$W/img.tar'" -- \
    "'$R' build --quiet '$CFG' bench:latest '$W/img.tar' >/dev/null"
hf "alpine-base -> new OCI layout, layer cache hit" --runs "$RUNS" --warmup 2 \
    --prepare "rm -rf '$W/out' && mkdir '$W/out'" -- \
    "'$R' build --quiet '$CFG' bench:latest '$W/out' >/dev/null"
hf "alpine-base -> tarball, layer cache hit" --runs "$RUNS" --warmup 2 \
    --prepare "rm -f '$W/img.tar'" -- \
    "'$R' build --quiet '$CFG' bench:latest '$W/img.tar' >/dev/null"
mkdir -p "$W/again"
"$R" build --quiet "$CFG" bench:latest "$W/again" >/dev/null
hf "alpine-base rebuild, nothing changed (same layout)" --runs "$RUNS" --warmup 2 -- \
    "'$R' build --quiet '$CFG' bench:latest '$W/again' >/dev/null"
hf "alpine-base rebuild, nothing changed, --sbom=false" --runs "$RUNS" --warmup 2 -- \
    "'$R' build --quiet --sbom=false '$CFG' bench:latest '$W/again' >/dev/null"

# The same tree, the classic way: extract the image's layer, then tar | gzip -6 it.
MANIFEST=$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$W/warm/index.json")
LAYER=$(jq -r '.layers[0].digest | sub("sha256:"; "")' "$W/warm/blobs/sha256/$MANIFEST")
LAYER_BYTES=$(stat -c %s "$W/warm/blobs/sha256/$LAYER")
mkdir -p "$W/tree"
tar -xzpf "$W/warm/blobs/sha256/$LAYER" --numeric-owner -C "$W/tree"
TREE_TAR_BYTES=$(tar -C "$W/tree" -cf - . | wc -c)
TREE_GZ_BYTES=$(tar -C "$W/tree" -cf - . | gzip -6 | wc -c)
hf "tar -c | gzip -6 of the same unpacked tree" --runs "$(( (RUNS + 2) / 3 ))" --warmup 1 -- \
    "tar -C '$W/tree' -cf - . | gzip -6 >/dev/null"
if command -v pigz >/dev/null; then
    hf "tar -c | pigz -6 (all cores) of the same tree" --runs "$(( (RUNS + 2) / 3 ))" --warmup 1 -- \
        "tar -C '$W/tree' -cf - . | pigz -6 >/dev/null"
fi

peak_rss "alpine-base -> new OCI layout, full build" \
    "$CLEAR_LAYERS; rm -rf '$W/out' && mkdir '$W/out'" \
    "'$R' build --quiet '$CFG' bench:latest '$W/out'"

BIG_LINE=""
if (( BIG_MB > 0 )); then
    echo "== writing a ${BIG_MB} MB synthetic repository (${BIG_N} packages)" >&2
    KEY=$("$BIGREPO" "$W/bigrepo" "$BIG_MB" "$BIG_N" 1)
    BIGCFG=$W/big.yaml
    cat >"$BIGCFG" <<EOF
contents:
  keyring:
    - $KEY
  repositories:
    - $W/bigrepo
  packages:
    - big-0000
archs: [x86_64]
EOF
    peak_rss "big (${BIG_MB} MB, ${BIG_N} pkgs) -> OCI layout, full build" \
        "rm -rf '$W/bigcache' '$W/bigout' && mkdir '$W/bigout'" \
        "env RAPKO_CACHE_DIR='$W/bigcache' '$R' build --quiet '$BIGCFG' big:latest '$W/bigout'"
    peak_rss "big (${BIG_MB} MB, ${BIG_N} pkgs) -> tarball, full build" \
        "rm -rf '$W/bigcache' '$W/big.tar'" \
        "env RAPKO_CACHE_DIR='$W/bigcache' '$R' build --quiet '$BIGCFG' big:latest '$W/big.tar'"
    peak_rss "big (${BIG_MB} MB, ${BIG_N} pkgs) -> OCI layout, layer cache hit" \
        "rm -rf '$W/bigout' && mkdir '$W/bigout'" \
        "env RAPKO_CACHE_DIR='$W/bigcache' '$R' build --quiet '$BIGCFG' big:latest '$W/bigout'"
    BM=$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$W/bigout/index.json")
    BIG_LAYERS=$(jq '[.layers[].size] | add' "$W/bigout/blobs/sha256/$BM")
    BIG_APKS=$(du -sb "$W/bigrepo/x86_64" | cut -f1)
    BIG_LINE=$(printf 'big image: %.1f MB of compressed layers, from %.1f MB of .apk files' \
        "$(awk -v b="$BIG_LAYERS" 'BEGIN { print b / 1e6 }')" "$(awk -v b="$BIG_APKS" 'BEGIN { print b / 1e6 }')")
fi

echo
echo "== rapko build benchmarks: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), release, $(nproc) cores, load average$(cut -d' ' -f1-3 /proc/loadavg | sed 's/^/ /')"
printf 'alpine-base layer: %.2f MB gzip (rapko) vs %.2f MB gzip -6 (tar of the same %.2f MB tree)\n' \
    "$(awk -v b="$LAYER_BYTES" 'BEGIN { print b / 1e6 }')" \
    "$(awk -v b="$TREE_GZ_BYTES" 'BEGIN { print b / 1e6 }')" \
    "$(awk -v b="$TREE_TAR_BYTES" 'BEGIN { print b / 1e6 }')"
[[ -n $BIG_LINE ]] && echo "$BIG_LINE"
printf '%s\n' "${RESULTS[@]}"
echo "targets: full build (packages cached) to a layout < 150 ms wall; rebuild with nothing changed < 30 ms"
