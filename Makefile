# Shortcuts for the project's scripts.
.PHONY: test bench up

# Every test (what CI runs, without fmt and clippy).
test:
	bash scripts/test.sh

# The benchmark suite at its default size on the sandbox, into bench/results/.
bench:
	bash scripts/bench.sh $(BENCH_ARGS)

# The whole system on the sandbox.
up:
	cargo build --workspace --bins && cargo run -p rudder-sandbox -- up
