#!/usr/bin/env bash
# Build the one-folder Linux bundle: dist/lakegui/ with `lakegui` and `lakegui-cli`.
#   packaging/build.sh            (from the repository, in a venv with lakegui installed)
# Needs PyInstaller: pip install '.[package]'
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
"$PY" packaging/make_icons.py build/icons
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
    packaging/lakegui.spec
cp resources/lakegui.desktop dist/lakegui/
cp build/icons/lakegui-256.png dist/lakegui/lakegui.png
echo "bundle: dist/lakegui ($(du -sh dist/lakegui | cut -f1))"
