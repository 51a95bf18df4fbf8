#!/usr/bin/env bash
# Issue 17, the product path on the real thing: the README "Bridges" commands through the CLI on a SQLite
# file, at several sample sizes (native coverage = N / 5,183 SciFact documents). For each N: a corpus bridge
# fitted on an N-document sample embedded with the new model (stored MiniLM vectors), gated on beating the
# new namespace alone, a bridged lazy migration, and `reembed eval` through the alias at k = 10, 30 and the
# default cut-offs (1,5,10,100: the query asks for 100 results, so embed-on-read re-ranks the top 100).
# Every command's wall time is printed (the machine's load shows in them).
#
# Run from the repository root after `npm run build`:  bash bench/bridge-product.sh 260 1000 1550 2000
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${REEMBED_SHARED:-../shared}
[ -d "$SHARED/datasets/scifact" ] || { echo "skipped: $SHARED/datasets/scifact is absent"; exit 0; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/reembed-bridge-product.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
R="node bin/reembed.js"
timed() {
  local start end
  start=$(date +%s.%N)
  "$@"
  end=$(date +%s.%N)
  printf '  [%.1f s] %s\n' "$(echo "$end - $start" | bc)" "${*:5}" >&2
}
BASE="$WORK/base.db"
timed $R --db "$BASE" init > /dev/null
timed $R --db "$BASE" space add lsa-v2 --provider lsa --dimension 256 --fit-on "$SHARED/datasets/scifact" > /dev/null
timed $R --db "$BASE" space add minilm --provider stored-vectors --from "$SHARED/datasets/scifact/embeddings/minilm-l6-v2" > /dev/null
timed $R --db "$BASE" collection create bridged --space lsa-v2 > /dev/null
timed $R --db "$BASE" ingest bridged "$SHARED/datasets/scifact" > /dev/null
echo "clean old: $($R --db "$BASE" eval bridged --golden "$SHARED/datasets/scifact" -k 10 | grep ndcg)"
for N in "$@"; do
  DB="$WORK/s$N.db"
  cp "$BASE" "$DB"
  echo "=== sample $N ($(echo "scale=1; 100 * $N / 5183" | bc)% coverage)"
  timed $R --db "$DB" adapter fit bridged --from lsa-v2 --to minilm --direction corpus --sample "$N" \
    --golden "$SHARED/datasets/scifact" --gate 'vs_alone.ndcg@10.lo > 0' | grep -E 'Fitted|^  (bridged|new alone|clean old) ' || true
  timed $R --db "$DB" migrate start bridged --to minilm --strategy lazy --bridge corpus --golden "$SHARED/datasets/scifact" > /dev/null
  for K in 10 30; do
    echo "served, eval -k $K: $(timed $R --db "$DB" eval bridged --golden "$SHARED/datasets/scifact" -k $K | grep ndcg)"
  done
  echo "served, eval (default 1,5,10,100): $(timed $R --db "$DB" eval bridged --golden "$SHARED/datasets/scifact" | grep ndcg)"
done
