# Makes a wheel by hand, a venv, installs the wheel with pip (no index) and
# imports it: run in a scratch directory (tests/tests/filesystems.rs).
set -e
python3 - <<'PY'
import zipfile
with zipfile.ZipFile("hello-1.0-py3-none-any.whl", "w") as z:
    z.writestr("hello/__init__.py", "def hi():\n    return 'hi from a wheel'\n")
    z.writestr("hello-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: hello\nVersion: 1.0\n")
    z.writestr("hello-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    z.writestr("hello-1.0.dist-info/RECORD", "")
PY
/usr/bin/python3 -m venv v
v/bin/pip install --no-index --disable-pip-version-check -q ./hello-1.0-py3-none-any.whl
v/bin/python -c 'import hello; print(hello.hi())'
v/bin/pip list --disable-pip-version-check 2>/dev/null | grep -c hello
