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

# The SQLite pass runs everything that does not need Redis or a PostgreSQL server; the
# PostgreSQL + Redis pass (when HELIOGRAPH_TEST_DATABASE_URL / HELIOGRAPH_TEST_REDIS_URL are set)
# runs every test that depends on the database or the broadcast (not the dialect-independent
# `onepass` ones). The two passes share nothing (their own databases, broadcast, free ports),
# so they run side by side, each into its own log, printed when both are done;
# TEST_SERIAL=1 runs them one after the other with live output.
SQLITE_PASS = env -u HELIOGRAPH_TEST_DATABASE_URL -u HELIOGRAPH_TEST_REDIS_URL \
	$(BIN)/python -m pytest -q -m "not redis and not pgserver" -p no:cacheprovider
POSTGRES_PASS = $(BIN)/python -m pytest -q -m "not onepass" -p no:cacheprovider

test: check
	@if [ -z "$$HELIOGRAPH_TEST_DATABASE_URL" ]; then \
		echo "=== pytest: SQLite, memory broadcast ==="; \
		$(SQLITE_PASS) || exit 1; \
		echo "=== PostgreSQL pass not run: HELIOGRAPH_TEST_DATABASE_URL is unset ==="; \
	elif [ -n "$$TEST_SERIAL" ]; then \
		echo "=== pytest: SQLite, memory broadcast ==="; \
		$(SQLITE_PASS) || exit 1; \
		echo "=== pytest: PostgreSQL + Redis ==="; \
		$(POSTGRES_PASS) || exit 1; \
	else \
		mkdir -p var/test-logs; \
		echo "=== pytest: the SQLite pass and the PostgreSQL + Redis pass, side by side ==="; \
		$(SQLITE_PASS) > var/test-logs/sqlite.log 2>&1 & sqlite=$$!; \
		$(POSTGRES_PASS) > var/test-logs/postgres.log 2>&1 & postgres=$$!; \
		wait $$sqlite; sqlite_status=$$?; wait $$postgres; postgres_status=$$?; \
		echo "=== pytest: SQLite, memory broadcast ==="; cat var/test-logs/sqlite.log; \
		echo "=== pytest: PostgreSQL + Redis ==="; cat var/test-logs/postgres.log; \
		[ $$sqlite_status -eq 0 ] && [ $$postgres_status -eq 0 ] || exit 1; \
	fi

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# The project is unreleased: the initial migration is regenerated from the models.
migrations: install
	rm -f migrations/0001_initial.py
	printf 'from models.db import tortoise_config\nTORTOISE_ORM = tortoise_config("sqlite:///tmp/heliograph-makemigrations.sqlite3")\n' > /tmp/heliograph_mkcfg.py
	PYTHONPATH=/tmp:. $(BIN)/tortoise -c heliograph_mkcfg.TORTOISE_ORM makemigrations
