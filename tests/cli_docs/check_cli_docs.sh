#!/usr/bin/env bash
# The man pages and bash completions generated at build time (cli_docs/) exist for every
# program and are sane: man renders each page with its name, synopsis and flags; each
# completion is valid bash and completes what a person starts typing.
#   check_cli_docs.sh BUILD_DIR
set -u
build=$1
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# Completes the words as bash would after TAB; prints the candidates on one line.
complete_words() {  # program word...
  local program=$1; shift
  bash --norc --noprofile -c '
    source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    func=$(complete -p "$1" | sed -E "s/.*-F ([^ ]+).*/\1/")
    "$func"
    echo "${COMPREPLY[*]}"' _ "$build/completion/$program" "$program" "$@"
}

expect_completion() {  # program expected word...
  local program=$1 expected=$2; shift 2
  local got
  got=$(complete_words "$program" "$@")
  [ "$got" = "$expected" ] || fail "$program $*<TAB>: got '$got', expected '$expected'"
}

for program in reactord reactorctl reactor-client reactor-bench; do
  page=$build/man/man1/$program.1
  if [ ! -s "$page" ]; then
    fail "$page not generated"
  else
    rendered=$(MANWIDTH=100 man -l -P cat "$page" 2>&1) || fail "man -l $page: $rendered"
    for part in "NAME" "$program - " "SYNOPSIS" "OPTIONS" "--help" "--version" "SEE ALSO"; do
      grep -qF -- "$part" <<<"$rendered" || fail "man $program: no '$part'"
    done
    warnings=$(LC_ALL=C groff -man -Tutf8 -ww -z "$page" 2>&1)
    [ -z "$warnings" ] || fail "groff warns on $page: $warnings"
  fi
  completion=$build/completion/$program
  if [ ! -s "$completion" ]; then
    fail "$completion not generated"
  else
    bash -n "$completion" || fail "bash -n $completion"
    expect_completion "$program" "--help" "$program" "--hel"
  fi
done

# reactorctl: subcommands, a subcommand's flags, global flags after the command, files.
man_ctl=$(MANWIDTH=100 man -l -P cat "$build/man/man1/reactorctl.1" 2>/dev/null)
grep -q "^       reactorctl conns --watch 2s" <<<"$man_ctl" || fail "reactorctl.1: examples not one per line"
for part in "EXAMPLES" "Exit codes: 0 ok, 1" "conns" "close" "reload"; do
  grep -qF -- "$part" <<<"$man_ctl" || fail "man reactorctl: no '$part'"
done
expect_completion reactorctl "conns conn" reactorctl co
expect_completion reactorctl "close" reactorctl cl
expect_completion reactorctl "resume reload" reactorctl re
expect_completion reactorctl "--log-level" reactorctl reload --log
expect_completion reactorctl "--watch" reactorctl conns --wa
expect_completion reactorctl "--dry-run" reactorctl close --filter --dr
expect_completion reactorctl "ratelimit" reactorctl rate
expect_completion reactorctl "--total" reactorctl ratelimit 1M --tot
expect_completion reactorctl "--target" reactorctl --json conns --ta
expect_completion reactorctl "" reactorctl conn --fil
tmp=$(mktemp -d)
touch "$tmp/operator.token"
expect_completion reactorctl "$tmp/operator.token" reactorctl --token-file "$tmp/op"
rm -rf "$tmp"
expect_completion reactord "--idle-timeout" reactord --idle
expect_completion reactord "--config" reactord --conf
expect_completion reactord "--rate-limit-per-connection --rate-limit-total" reactord --rate
expect_completion reactor-client "--send" reactor-client --se
expect_completion reactor-bench "--hold" reactor-bench --ho

[ "$failures" -eq 0 ] && echo "cli docs: all checks passed"
exit $((failures > 0))
