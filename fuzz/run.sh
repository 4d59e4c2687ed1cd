#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60), seeded from events/ and the
# test fixtures. Needs nightly and cargo-fuzz (cargo install cargo-fuzz).
# New crashes land in fuzz/artifacts/<target>/; keep each as a regression
# input in tests/fuzz_regressions/ (tests/fuzz_regressions_templates/ for the
# template reader).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
for target in event_decoder cli_input template_reader; do
  mkdir -p "corpus/$target"
  if [ "$target" = template_reader ]; then
    # Templates and plans: the CDK app's, the third-party corpus, the tests'.
    find ../tests/templates -type f \( -name '*.json' -o -name '*.yaml' -o -name '*.yml' -o -name '*.template' \) \
      -size -64k -exec cp {} "corpus/$target/" \; 2>/dev/null || true
    cp ../tests/fuzz_regressions_templates/* "corpus/$target/" 2>/dev/null || true
  else
    cp ../events/*.json ../tests/fixtures/*.json ../tests/fixtures/network/*.json ../tests/fuzz_regressions/* "corpus/$target/" 2>/dev/null || true
  fi
  cargo +nightly fuzz run --target-dir "${FUZZ_TARGET_DIR:-target}" "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10
done
