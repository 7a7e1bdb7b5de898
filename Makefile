# Heliograph — `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test check schema fmt clean migrations messages

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/heliograph migrate
	$(BIN)/heliograph demo
	$(BIN)/heliograph serve --host 127.0.0.1 --port 8000

check: install
	$(BIN)/ruff check .
	$(BIN)/mypy

schema: install
	$(BIN)/python -c "import schema; open('schema/schema.graphql','w').write(schema.export_sdl())"

# Extract the visitor-facing strings (and the console's) to i18n/locale/messages.pot and merge
# write zh_CN's .po from i18n/zh_CN_source.py (add the new msgids there; tests check that none
# is left untranslated).
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --project Heliograph \
		-o i18n/locale/messages.pot web notifications models resolvers i18n
	$(BIN)/pybabel extract -F babel-console.cfg --no-location --sort-output --project Heliograph \
		-o i18n/locale/console.pot web
	$(BIN)/python -m i18n.write_po

fmt: install
	$(BIN)/ruff check --fix .

# The SQLite pass runs everything that does not need Redis or a PostgreSQL server; the PostgreSQL + Redis pass (when
# HELIOGRAPH_TEST_DATABASE_URL / HELIOGRAPH_TEST_REDIS_URL are set) runs every test that depends
# on the database or the broadcast (not the dialect-independent `onepass` ones).
test: check
	@echo "=== pytest: SQLite, memory broadcast ==="
	env -u HELIOGRAPH_TEST_DATABASE_URL -u HELIOGRAPH_TEST_REDIS_URL \
		$(BIN)/python -m pytest -q -m "not redis and not pgserver" -p no:cacheprovider
	@if [ -n "$$HELIOGRAPH_TEST_DATABASE_URL" ]; then \
		echo "=== pytest: PostgreSQL + Redis ==="; \
		$(BIN)/python -m pytest -q -m "not onepass" -p no:cacheprovider || exit 1; \
	else echo "=== PostgreSQL pass not run: HELIOGRAPH_TEST_DATABASE_URL is unset ==="; fi

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# The project is unreleased: the initial migration is regenerated from the models.
migrations: install
	rm -f migrations/0001_initial.py
	printf 'from models.db import tortoise_config\nTORTOISE_ORM = tortoise_config("sqlite:///tmp/heliograph-makemigrations.sqlite3")\n' > /tmp/heliograph_mkcfg.py
	PYTHONPATH=/tmp:. $(BIN)/tortoise -c heliograph_mkcfg.TORTOISE_ORM makemigrations
