# Two commands do everything on a fresh machine with Python 3.11+ and make:
#   make book   build the website into _build/html
#   make test   build it and the PDF, then run the whole test suite (in parallel, one worker
#               per core)
# Also: make pdf, the whole book as one PDF (_build/latex/sigmoid-to-softmax.pdf), with LaTeX.
# Both create .venv and install the pinned dependencies when needed. While developing:
#   make check  lint, then the fast tests only (no website, no browser, no nbgrader, nothing
#               marked slow): under a minute on two cores, and no need for make book first

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_VERSION := 2.13.0
# nbgrader runs `alembic` from PATH when it creates a gradebook; the Jupyter kernel and the
# book's tools come from the same environment.
export PATH := $(CURDIR)/$(BIN):$(PATH)

# Set-up needs an interpreter that satisfies requires-python in pyproject.toml; otherwise pip
# would stop half-way through the install with a resolver trace. Checked when make starts, so
# an unsupported Python gets one line naming both versions. (Any python3 can run this line.)
INTERPRETER := $(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON))
CHECK_PYTHON := import re, sys; \
	spec = re.search("requires-python *= *.>= *([0-9.]+)", open("pyproject.toml").read()).group(1); \
	need = tuple(map(int, spec.split("."))); \
	print("" if sys.version_info[:len(need)] >= need else "%s is Python %d.%d.%d, but the course \
	needs Python %s or newer (requires-python in pyproject.toml): run make with \
	PYTHON=/path/to/python3.X" % ((sys.executable,) + tuple(sys.version_info[:3]) + (spec,)))
ifneq ($(filter-out clean browser-setup pdf-setup,$(or $(MAKECMDGOALS),book)),)
PYTHON_PROBLEM := $(shell command -v "$(INTERPRETER)" >/dev/null 2>&1 \
	&& "$(INTERPRETER)" -c '$(CHECK_PYTHON)' 2>&1 \
	|| echo "$(INTERPRETER) was not found: the course needs Python 3 (run make with PYTHON=...)")
ifneq ($(strip $(PYTHON_PROBLEM)),)
$(error $(PYTHON_PROBLEM))
endif
endif

# pytest-xdist: one worker per core. loadgroup keeps the tests that share a costly fixture on
# one worker (tests/conftest.py says which), so that each such fixture is built once.
PARALLEL := -n auto --dist loadgroup

.PHONY: setup book pdf test check lint serve exercises clean browser-setup pdf-setup bench

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c requirements.lock -e '.[book,grading,test]'
	@# torch is a peer the reference is compared with; its CPU build is not on every index,
	@# so its absence only skips those comparisons.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock 'torch==$(TORCH_VERSION)' \
		|| echo "torch $(TORCH_VERSION) could not be installed: the torch comparisons will be skipped"
	@touch $@

book: setup
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "The website is built: open $(CURDIR)/_build/html/index.html (or run 'make serve')"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint book browser-setup pdf
	$(BIN)/python -m pytest $(PARALLEL)

check: lint
	$(BIN)/python -m pytest $(PARALLEL) -m "not slow and not book"

# The browser tests (tests/browser/) drive Debian's Chromium: Playwright's own browser download
# is not used. As root on Debian it is installed when missing; anywhere else, or if the
# install fails, the browser tests are skipped and say why.
browser-setup:
	@if [ -x /usr/bin/chromium ]; then \
		echo "browser-setup: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	elif [ "$$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null; then \
		echo "browser-setup: installing Chromium with apt-get"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends chromium fonts-dejavu-core fonts-liberation >/dev/null; } \
		|| echo "browser-setup: apt-get could not install chromium: the browser tests will be skipped"; \
	else \
		echo "browser-setup: no /usr/bin/chromium, and it is installed only as root on Debian" \
			"(apt-get install chromium): the browser tests will be skipped"; \
	fi

# The PDF edition: the same pages through Sphinx's LaTeX builder and XeLaTeX (latexmk), into
# _build/latex. Debian's TeX Live, FreeFont and poppler-utils are installed by pdf-setup as
# root on Debian; anywhere else, or if the install fails, make pdf is skipped and says why
# (and so are the PDF's tests).
PDF := _build/latex/sigmoid-to-softmax.pdf
PDF_TOOLS := xelatex latexmk makeindex pdfinfo pdftotext pdfimages pdftohtml pdftoppm
PDF_PACKAGES := texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
	texlive-xetex latexmk fonts-freefont-otf poppler-utils
# Prints what is missing for the PDF (nothing when all is there).
PDF_MISSING = missing=""; \
	for tool in $(PDF_TOOLS); do command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	fc-list 2>/dev/null | grep -q 'FreeSerif\.otf' || missing="$$missing FreeSerif"; \
	echo $$missing

pdf-setup:
	@missing="$$($(PDF_MISSING))"; \
	if [ -z "$$missing" ]; then \
		echo "pdf-setup: $$(xelatex --version | head -n 1)"; \
	elif [ "$$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null; then \
		echo "pdf-setup: installing TeX Live, FreeFont and poppler-utils with apt-get (missing: $$missing)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $(PDF_PACKAGES) >/dev/null; } \
		|| echo "pdf-setup: apt-get could not install them: make pdf will be skipped"; \
	else \
		echo "pdf-setup: missing $$missing, installed only as root on Debian" \
			"(apt-get install $(PDF_PACKAGES)): make pdf will be skipped"; \
	fi

pdf: setup pdf-setup
	@missing="$$($(PDF_MISSING))"; \
	if [ -n "$$missing" ]; then \
		echo "pdf: skipped, missing $$missing (make pdf-setup installs them as root on Debian)"; \
	else \
		$(BIN)/jupyter-book build . --builder pdflatex --warningiserror --keep-going \
		&& test -f $(PDF) \
		&& echo "The PDF is built: $(CURDIR)/$(PDF) ($$(pdfinfo $(PDF) | awk '/^Pages:/ {print $$2}') pages)"; \
	fi

serve: book
	@echo "Serving the website on http://127.0.0.1:8000/ (Ctrl-C to stop)"
	$(BIN)/python -m http.server --directory _build/html --bind 127.0.0.1 8000

exercises: setup
	$(BIN)/python -m autograder.exercises

# Not a test: grades a generated class of 300 students with python -m autograder and with
# nbgrader (on a sample), and prints notebooks/s, the ratio and the check latency.
bench: setup
	$(BIN)/python benchmarks/grade_class.py

clean:
	rm -rf _build .pytest_cache .hypothesis
