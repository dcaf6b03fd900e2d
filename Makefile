# The README's two commands. Both set up .venv from nothing when it is missing.
.PHONY: setup demo test test-all lint ddp

setup:
	@bash .ci/setup.sh

demo: setup
	@bash .ci/demo.sh

# pytest exits 5 when it collects no test: that is a failure here, never a silent pass.
test: setup
	@.venv/bin/ruff check .
	@.venv/bin/python -m pytest -q -m "not slow"; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi; exit $$rc

test-all: setup
	@.venv/bin/python -m pytest -q -m ""

lint: setup
	@.venv/bin/ruff check .
