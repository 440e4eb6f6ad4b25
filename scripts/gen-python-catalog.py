#!/usr/bin/env python3
"""Regenerate src/python/catalog.txt, the catalog of every Python python-build installs, embedded
in strap.

Source of truth: python-build's definitions (pyenv's, under
$PYENV_ROOT/plugins/python-build/share/python-build) and python-build itself. Each definition is
evaluated once per Linux architecture by scripts/python-build-harness.sh, with python-build's own
architecture functions and stand-ins for its install functions that record what it would
download. Usage:

    scripts/gen-python-catalog.py [PYTHON_BUILD_ROOT] > src/python/catalog.txt

(PYTHON_BUILD_ROOT holds bin/python-build and share/python-build.) The format is documented in
docs/installing-python.md ("Catalog files"): one definition per line,

    NAME FAMILY [FLAG...] [FILE:SHA256...] [ARCH=URL[#SHA256]...]

CPython releases list their source archives as FILE:SHA256 (fetched through the mirrors by
version); every other family lists its download per architecture (`any` for a source archive).
Flags: `pre` (pre-release), `openssl11` (built against a private OpenSSL 1.1.1), `t` (python-build
has a free-threaded definition of this release), `py=X.Y` (the Python version it implements),
`git`/`hg` (python-build builds a branch head: no checksum), `dynamic` (python-build looks the
download up in a moving index when it runs), `src` (PyPy built from source).
One line `dep openssl11 FILE URL SHA256` names that OpenSSL.
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ARCHES = ["x86_64", "aarch64", "i686", "ppc64le", "s390x", "armv7l"]
CPYTHON = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:(a|b|rc)(\d+))?$")
CPYTHON_PACKAGE = re.compile(r'"(https?://[^"#]*/Python-[^"/#]+)#([0-9a-f]{64})"')
OPENSSL = re.compile(r'install_package "(openssl-1\.1\.1[a-z]?)" "([^"#]+)#([0-9a-f]{64})"')
FAMILIES = [
    ("graalpy-community", "graalpy"), ("graalpython", "graalpython"), ("graalpy", "graalpy"),
    ("pypy", "pypy"), ("pyston", "pyston"), ("activepython", "activepython"),
    ("anaconda", "anaconda"), ("miniconda", "miniconda"), ("miniforge", "miniforge"),
    ("mambaforge", "mambaforge"), ("stackless", "stackless"), ("nogil", "nogil"),
    ("micropython", "micropython"), ("jython", "jython"), ("ironpython", "ironpython"),
    ("cinder", "cinder"),
]
INSTALLERS = {"install_package", "install_script", "install_zip", "install_jar",
              "install_nightly_package", "install_git", "install_hg"}


def family_of(name):
    if CPYTHON.match(name.rstrip("t")) or re.match(r"^\d+\.\d+(t)?-dev$", name):
        return "cpython"
    for prefix, family in FAMILIES:
        if name.startswith(prefix):
            return family
    sys.exit(f"unknown family of python-build definition {name}")


def records(root, names):
    """{definition: {arch: [record fields...]}} from the harness, one run per architecture."""
    by_definition = {}
    share = os.path.join(root, "share/python-build")
    paths = [os.path.join(share, n) for n in names]
    for arch in ARCHES:
        out = subprocess.run(
            ["bash", os.path.join(HERE, "python-build-harness.sh"),
             os.path.join(root, "bin/python-build"), arch, *paths],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True,
            env={"PATH": os.environ["PATH"], "HOME": "/nonexistent"}).stdout
        for line in out.splitlines():
            fields = line.rstrip("\t").split("\t")
            by_definition.setdefault(fields[0], {}).setdefault(arch, []).append(fields[1:])
    return by_definition


def main_package(recorded):
    """The definition's own package: the last install call without a `--if` condition (a
    macOS-only dependency) that is not an add-on built with the new interpreter (build step
    `python`: setuptools, pip)."""
    calls = [f for f in recorded if f[0] in INSTALLERS and "--if" not in f
             and f[3:4] != ["python"]]
    return calls[-1] if calls else None


def describe(name, family, per_arch):
    """The catalog fields of a non-CPython-release definition (or a CPython -dev one)."""
    flags, downloads = [], []
    py = None
    any_arch = None
    for arch in ARCHES:
        recorded = per_arch.get(arch, [])
        package = main_package(recorded)
        if package is None:
            continue
        kind = package[0]
        if kind in ("install_git", "install_hg"):
            flags.append("git" if kind == "install_git" else "hg")
            break
        url = package[2]
        if "://" not in url:
            flags.append("dynamic")  # python-build looks the download up when it runs
            break
        steps = package[3:]
        if kind == "install_nightly_package":
            steps = steps[1:]  # the glob of the unpacked directory
        for step in steps:
            m = re.match(r"^verify_py(\d)(\d+)$", step)
            if m and py is None:  # the first architecture's (x86_64's) word
                py = f"{m.group(1)}.{m.group(2)}"
        if "pypy_builder" in steps and "src" not in flags:
            flags.append("src")
        if any(f[0] == "prefer_openssl11" for f in recorded) and "openssl11" not in flags:
            flags.append("openssl11")
        if family in ("stackless", "nogil", "cinder") and "openssl11" not in flags and not any(
                f[0] == "prefer_openssl3" for f in recorded):
            flags.append("openssl11")
        entry = url
        if any_arch is None:
            any_arch = entry
        downloads.append((arch, entry))
    if "git" in flags or "hg" in flags or "dynamic" in flags:
        downloads = []
    # A PyPy's name says which Python it implements (some nightlies' verify words are stale).
    m = re.match(r"^pypy(\d)\.(\d+)-", name)
    if m:
        py = f"{m.group(1)}.{m.group(2)}"
    # Source archives are the same on every architecture: listed once, as `any`.
    if downloads and family in ("stackless", "nogil", "micropython", "jython", "ironpython") or \
            "src" in flags:
        if len({u for _, u in downloads}) == 1:
            downloads = [("any", downloads[0][1])]
    fields = []
    if py:
        fields.append(f"py={py}")
    fields += flags
    fields += [f"{arch}={url}" for arch, url in downloads]
    return fields


def main():
    default = os.path.join(os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")),
                           "plugins/python-build")
    root = sys.argv[1] if len(sys.argv) > 1 else default
    share = os.path.join(root, "share/python-build")
    names = sorted(n for n in os.listdir(share) if os.path.isfile(os.path.join(share, n)))
    releases, openssl, others = {}, {}, []
    free_threaded = {n[:-1] for n in names if n.endswith("t") and CPYTHON.match(n[:-1])}
    for name in names:
        text = open(os.path.join(share, name), encoding="utf-8").read()
        for m in OPENSSL.finditer(text):
            openssl[m.group(1)] = (m.group(2), m.group(3))
        if name.endswith("t") and CPYTHON.match(name[:-1]):
            continue  # a free-threaded definition: the `t` flag of its release
        if not CPYTHON.match(name):
            others.append(name)
            continue
        archives = []
        for url, sha in CPYTHON_PACKAGE.findall(text):
            file = url.rsplit("/", 1)[1]
            if (file, sha) not in archives:
                archives.append((file, sha))
        if not archives:
            sys.exit(f"{name}: no Python-*.tar.xz/.tgz with a checksum")
        archives.sort(key=lambda a: not a[0].endswith(".tar.xz"))
        flags = []
        if CPYTHON.match(name).group(4):
            flags.append("pre")
        if "prefer_openssl3" not in text:
            flags.append("openssl11")
        if name in free_threaded:
            flags.append("t")
        releases[name] = [f"{f}:{s}" for f, s in archives] + flags
    recorded = records(root, others)
    print("# Generated by scripts/gen-python-catalog.py from python-build definitions; do not edit.")
    newest = max(openssl)  # 1.1.1a < ... < 1.1.1w
    url, sha = openssl[newest]
    print(f"dep openssl11 {newest}.tar.gz {url} {sha}")
    for name in names:
        if name in releases:
            print(" ".join([name, "cpython"] + releases[name]))
        elif name in others:
            family = family_of(name)
            print(" ".join([name, family] + describe(name, family, recorded.get(name, {}))))


main()
