# The two commands a new user needs: `make demo` and `make test`. Both set everything up.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test test-full test-fast lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/demo.sh

test: $(STAMP)
	bash .ci/ensure-postgres
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy --strict reconciler/plan reconciler/fields reconciler/registry reconciler/files reconciler/governance
	$(VENV)/bin/lint-imports
	@# mypy (half a minute of one core on a clean checkout) runs beside the tests, which mostly wait.
	@types=$$(mktemp); $(PY) -m mypy >"$$types" 2>&1 & mypy=$$!; \
	$(PY) -m pytest -n 2 --dist loadfile; tests=$$?; \
	wait $$mypy; typed=$$?; echo "mypy:"; cat "$$types"; rm -f "$$types"; \
	[ $$tests -eq 0 ] && [ $$typed -eq 0 ]

# Nightly (ci.yml's schedule): the same suite, the property tests with their full example counts.
test-full: $(STAMP)
	RECONCILER_EXAMPLES=full $(MAKE) test

# No services, no Pulumi, no test that takes seconds (markers: pyproject.toml, tests/conftest.py).
test-fast: $(STAMP)
	$(PY) -m pytest -n 2 -m "not integration and not infra and not slow"

bench: $(STAMP)
	bash .ci/ensure-postgres
	$(PY) bench/registry_bench.py

clean:
	rm -rf .demo $(VENV)
