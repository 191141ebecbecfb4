#!/bin/bash
# .venv-sdk: sdk/python installed editable with its test extras (pytest, ruff), reinstalled when pyproject changes.
# Sourced by scripts/test-sdks.sh and scripts/lint.sh; sets $venv.
venv=.venv-sdk
want=$(sha256sum sdk/python/pyproject.toml | cut -d' ' -f1)
if [[ ! -x $venv/bin/python || ! -f $venv/.sandpit-pyproject-hash || $(cat $venv/.sandpit-pyproject-hash) != "$want" ]]; then
    echo "sdk/python: installing into $venv"
    [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -e "./sdk/python[test]"
    echo "$want" > "$venv/.sandpit-pyproject-hash"
else
    echo "sdk/python: $venv up to date"
fi
