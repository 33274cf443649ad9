# Each target sets itself up (virtual environment, pinned tools, collection copy under build/).
.PHONY: demo test bench docs clean

demo:   ## run the demo playbook against the bundled simulator
	@bash scripts/demo.sh

test:   ## run every test (sanity, units, simulator, lint, integration, ...)
	@bash scripts/test.sh $(STAGES)

bench:  ## run the benchmarks and write docs/performance.md
	@bash scripts/bench.sh

clean:
	rm -rf build .pytest_cache tests/output
