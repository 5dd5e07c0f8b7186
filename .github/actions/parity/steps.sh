#!/usr/bin/env bash
# The shell steps of the parity action (action.yml runs them in this order: where, shadow,
# summary, gate). Kept in one script so that tests/e2e/test_parity_action.py runs exactly
# what a GitHub runner runs, with GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and RUNNER_TEMP set.
set -euo pipefail

config_args=()
if [ -n "${CONFIG:-}" ]; then config_args=(--config "$CONFIG"); fi

where() {
  # The history folder and the cache folder, as codeanatomy resolves them (one source).
  codeanatomy config show --json "${config_args[@]}" > "$RUNNER_TEMP/codeanatomy-config.json"
  python - "$RUNNER_TEMP/codeanatomy-config.json" >> "$GITHUB_OUTPUT" <<'PY'
import json, os, sys
from pathlib import Path
shown = json.load(open(sys.argv[1]))
history = Path(shown["values"]["parity.history"]["value"])
root = Path(shown["root"])
cache = os.environ.get("CODEANATOMY_CACHE") or str(Path.home() / ".cache" / "codeanatomy")
print(f"history={history if history.is_absolute() else root / history}")
print(f"cache={cache}")
PY
}

shadow() {
  local repos=() args code
  read -r -a repos <<< "$(printf '%s' "$REPOS" | tr '\n' ' ')"
  if [ "${#repos[@]}" -eq 0 ]; then
    echo "::error::the repos input names no repository" >&2
    echo "exit-code=2" >> "$GITHUB_OUTPUT"
    return 0
  fi
  args=(shadow "${repos[@]}" --out "$OUT" --json "${config_args[@]}")
  if [ -n "${POLICY:-}" ]; then args+=(--policy "$POLICY"); fi
  if [ -n "${CANDIDATE_TIMEOUT:-}" ]; then args+=(--candidate-timeout "$CANDIDATE_TIMEOUT"); fi
  set +e
  CI=true codeanatomy "${args[@]}" > "$RUNNER_TEMP/codeanatomy-parity.json"
  code=$?
  set -e
  echo "exit-code=$code" >> "$GITHUB_OUTPUT"
  if [ -f "$OUT/report/parity.json" ]; then
    echo "report=$OUT/report" >> "$GITHUB_OUTPUT"
    python -c 'import json,sys; print("verdict=" + json.load(open(sys.argv[1]))["verdict"])' \
      "$OUT/report/parity.json" >> "$GITHUB_OUTPUT"
  fi
}

summary() {
  if [ -f "$OUT/report/parity.md" ]; then
    cat "$OUT/report/parity.md" >> "$GITHUB_STEP_SUMMARY"
  else
    echo "**codeanatomy parity: no report** (the run stopped before a verdict; see the log)" \
      >> "$GITHUB_STEP_SUMMARY"
  fi
}

gate() {
  # Only a verdict of pass from a run that exited 0 passes: no report, no pass.
  if [ "${VERDICT:-}" = "pass" ] && [ "${EXIT_CODE:-}" = "0" ]; then
    echo "codeanatomy parity: pass"
    return 0
  fi
  echo "::error::codeanatomy parity: ${VERDICT:-no verdict} (exit code ${EXIT_CODE:-none})" >&2
  return 1
}

"$@"
