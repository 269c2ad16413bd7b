#!/bin/sh
# Stand-in for runsc, to check the harness end to end before the runtime
# works: `fake-runsc.sh do PROG ARGS...` just runs PROG natively.
#   cargo run --release -p benchmarks -- --runsc benchmarks/fake-runsc.sh --quick
[ "$1" = do ] && shift
exec "$@"
