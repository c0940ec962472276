.PHONY: messages

# Extract the strings of our code into the Spanish catalogue (run from the package, so only
# src/atiende is scanned), then compile it. New strings come out untranslated: translate them
# in src/atiende/locale/es/LC_MESSAGES/django.po and run `make messages` again.
messages:
	cd src/atiende && ATIENDE_DATA_DIR=/tmp/i18n-data DJANGO_SETTINGS_MODULE=atiende.settings PYTHONPATH=$(CURDIR)/src $(CURDIR)/.venv/bin/python -m django makemessages -l es --no-obsolete --ignore 'static/*'
	cd src/atiende && ATIENDE_DATA_DIR=/tmp/i18n-data DJANGO_SETTINGS_MODULE=atiende.settings PYTHONPATH=$(CURDIR)/src $(CURDIR)/.venv/bin/python -m django compilemessages -l es
