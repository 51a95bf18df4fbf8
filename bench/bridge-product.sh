#!/usr/bin/env bash
# Issue 17, the product path on the real thing: the README "Bridges" commands through the CLI on a SQLite
# file, at several sample sizes (native coverage = N / 5,183 SciFact documents) and sample seeds. For each N
# and seed: a corpus bridge fitted on an N-document sample embedded with the new model (stored MiniLM
# vectors), gated on beating the new namespace alone, then a bridged lazy migration started twice from the
# same state — with the default embed-on-read depth (the bridge's top 30 re-ranked by the new model) and
# with `--rerank-depth 10` (what shipped before: only the top k) — each measured by `reembed eval` through
# the alias at k = 10 (an application asking for 10 results). Every command's wall time is printed (the
# machine's load shows in them).
#
# Run from the repository root after `npm run build`:
#   SEEDS="1 2 3" bash bench/bridge-product.sh 260 1000 1550 2000
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${REEMBED_SHARED:-../shared}
SEEDS=${SEEDS:-1}
[ -d "$SHARED/datasets/scifact" ] || { echo "skipped: $SHARED/datasets/scifact is absent"; exit 0; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/reembed-bridge-product.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
R="node bin/reembed.js"
GOLDEN="$SHARED/datasets/scifact"
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
echo "clean old: $($R --db "$BASE" eval bridged --golden "$GOLDEN" -k 10 | grep ndcg)"
for N in "$@"; do
  for SEED in $SEEDS; do
    DB="$WORK/s$N-$SEED.db"
    cp "$BASE" "$DB"
    echo "=== sample $N ($(echo "scale=1; 100 * $N / 5183" | bc)% coverage), seed $SEED"
    timed $R --db "$DB" adapter fit bridged --from lsa-v2 --to minilm --direction corpus --sample "$N" --seed "$SEED" \
      --golden "$GOLDEN" --gate 'vs_alone.ndcg@10.lo > 0' | grep -E 'Fitted|^  (bridged|new alone|clean old) ' || true
    cp "$DB" "$DB.depth10"
    timed $R --db "$DB" migrate start bridged --to minilm --strategy lazy --bridge corpus --golden "$GOLDEN" > /dev/null
    timed $R --db "$DB.depth10" migrate start bridged --to minilm --strategy lazy --bridge corpus --rerank-depth 10 \
      --golden "$GOLDEN" > /dev/null
    echo "served, eval -k 10, default depth (30): $(timed $R --db "$DB" eval bridged --golden "$GOLDEN" -k 10 | grep ndcg)"
    echo "served, eval -k 10, --rerank-depth 10: $(timed $R --db "$DB.depth10" eval bridged --golden "$GOLDEN" -k 10 | grep ndcg)"
    rm -f "$DB" "$DB.depth10"
  done
done
