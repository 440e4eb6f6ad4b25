//! A generated Boost-shaped source tree: a `bootstrap.sh` that "builds" the engine by copying a
//! `b2` stand-in, and that `b2`, which records its arguments and installs the headers, a CMake
//! file that names the install prefix, and one library file per `--with-<lib>`. Boost.Python
//! is a real shared library and `boost/python.hpp` a tiny real implementation of
//! `BOOST_PYTHON_MODULE` and `def` over the C API, so strap's check extension compiles, links
//! and is imported for real in seconds. Knobs (environment of `strap boost install`):
//! `FAKE_BOOTSTRAP_FAIL`, `FAKE_B2_FAIL`, `FAKE_B2_SKIP=<lib>` (do not produce that library;
//! `numpy` too), `FAKE_BROKEN_PYTHON` (a Boost.Python library that lacks its symbol),
//! `FAKE_B2_SECONDS` (how long b2 compiles), `FAKE_STAGING_RPATH` (Boost.Atomic's library gets
//! an absolute run path into the staging area).
//! The arguments `bootstrap.sh` and `b2` got, and the `user-config.jam` b2 was given, are left
//! in `<prefix>/fake/` for the tests to read.

use crate::fake_source::tgz;

const BOOTSTRAP: &str = r#"#!/bin/sh
printf '%s\n' "$@" > bootstrap.args
echo "Building B2 engine (fake)" > bootstrap.log
if [ -n "$FAKE_BOOTSTRAP_FAIL" ]; then
  echo "fake engine build failed: no compiler works" >> bootstrap.log
  exit 1
fi
cp fakeb2 b2 && chmod +x b2
echo "using gcc ;" > project-config.jam
echo "Bootstrapping is done."
"#;

const B2: &str = r#"#!/bin/sh
set -e
printf '%s\n' "$@" > b2.args
prefix=
libs=
without=
for a in "$@"; do
  case "$a" in
    --prefix=*) prefix=${a#--prefix=} ;;
    --with-*) libs="$libs ${a#--with-}" ;;
    --without-*) without="$without ${a#--without-}" ;;
    --user-config=*) config=${a#--user-config=} ;;
  esac
done
if [ -z "$libs" ]; then
  for d in libs/*/build; do
    lib=$(basename "$(dirname "$d")")
    case " $without " in *" $lib "*) ;; *) libs="$libs $lib" ;; esac
  done
fi
[ -n "$config" ] && cp "$config" user-config.seen
echo "...found 42 targets..."
if [ -n "$FAKE_B2_SECONDS" ]; then
  echo "gcc.compile.c++ slowly"
  sleep "$FAKE_B2_SECONDS"
fi
if [ -n "$FAKE_B2_FAIL" ]; then
  echo "gcc.compile.c++ bin.v2/libs/fake/oops.o"
  echo "error: simulated compile failure"
  exit 1
fi
mkdir -p "$prefix/include" "$prefix/lib/cmake/Boost-@VERSION@"
cp -R boost "$prefix/include/"
echo "set(Boost_INCLUDE_DIR \"$prefix/include\")" > "$prefix/lib/cmake/Boost-@VERSION@/BoostConfig.cmake"
pyver=$(sed -n 's/^using python : \([0-9]*\)\.\([0-9]*\) .*/\1\2/p' user-config.seen 2>/dev/null || true)
pyexe=$(sed -n 's/^using python : [^:]* : "\([^"]*\)".*/\1/p' user-config.seen 2>/dev/null || true)
for lib in $libs; do
  [ "$lib" = "$FAKE_B2_SKIP" ] && continue
  case "$lib" in
    headers) ;;
    python)
      source=fakepython.cpp
      if [ -n "$FAKE_BROKEN_PYTHON" ]; then echo '// nothing' > empty.cpp; source=empty.cpp; fi
      ${CXX:-c++} -shared -fPIC -o "$prefix/lib/libboost_python$pyver.so" "$source"
      echo "common.copy $prefix/lib/libboost_python$pyver.so"
      # Like Boost.Python's Jamfile: Boost.NumPy too when the configured Python has numpy.
      if [ "$FAKE_B2_SKIP" != numpy ] && "$pyexe" -c "import numpy" 2>/dev/null; then
        : > "$prefix/lib/libboost_numpy$pyver.so"
      fi ;;
    test) : > "$prefix/lib/libboost_unit_test_framework.so" ;;
    atomic)
      if [ -n "$FAKE_STAGING_RPATH" ]; then
        # Linked to load its dependencies from where b2 installed it: the staging area.
        ${CXX:-c++} -shared -fPIC -o "$prefix/lib/libboost_atomic.so" -Wl,-rpath,"$prefix/lib" fakepython.cpp
      else
        : > "$prefix/lib/libboost_atomic.so"
      fi ;;
    *) : > "$prefix/lib/libboost_$lib.so" ;;
  esac
done
mkdir -p "$prefix/fake"
# A NUL byte marks the records as binary, so strap's relocation leaves the staging path in them.
printf '\0' >> b2.args
cp bootstrap.args b2.args "$prefix/fake/"
if [ -f user-config.seen ]; then cp user-config.seen "$prefix/fake/"; fi
echo "...updated 42 targets..."
"#;

const VERSION_HPP: &str = "#ifndef BOOST_VERSION_HPP\n#define BOOST_VERSION_HPP\n\
#define BOOST_VERSION @NUMBER@\n#define BOOST_LIB_VERSION \"@LIBVERSION@\"\n#endif\n";

/// Just enough of Boost.Python for `BOOST_PYTHON_MODULE(m) { def("f", f); }` with `int f()`.
const PYTHON_HPP: &str = r#"#include <Python.h>
namespace boost { namespace python {
int fake_boost_python_library();
typedef int (*int_function)();
static const char* registered_name = 0;
static int_function registered = 0;
inline void def(const char* name, int_function f) { registered_name = name; registered = f; }
inline PyObject* call_registered(PyObject*, PyObject*) { return PyLong_FromLong(registered()); }
}}
#define BOOST_PYTHON_MODULE(name) \
  static void strap_fake_init_##name(); \
  extern "C" __attribute__((visibility("default"))) PyObject* PyInit_##name() { \
    boost::python::fake_boost_python_library(); \
    strap_fake_init_##name(); \
    static PyMethodDef methods[] = { \
      {boost::python::registered_name, boost::python::call_registered, METH_NOARGS, 0}, \
      {0, 0, 0, 0}}; \
    static PyModuleDef module = {PyModuleDef_HEAD_INIT, #name, 0, -1, methods}; \
    return PyModule_Create(&module); \
  } \
  static void strap_fake_init_##name()
"#;

const PYTHON_LIB: &str =
    "namespace boost { namespace python { int fake_boost_python_library() { return 1; } } }\n";

/// A `.tar.gz` of `boost_<x>_<y>_<z>/` for `version` (`1.99.0`) with the fake build; the
/// source tree has build Jamfiles for `libraries`. `header_version` is what `boost/version.hpp`
/// claims (normally `version`).
pub fn fake_boost_tgz(version: &str, header_version: &str, libraries: &[&str]) -> Vec<u8> {
    let parts: Vec<u32> = header_version
        .split('.')
        .map(|p| p.parse().unwrap())
        .collect();
    let number = (parts[0] * 100_000 + parts[1] * 100 + parts[2]).to_string();
    let lib_version = format!("{}_{}", parts[0], parts[1]);
    let version_hpp = VERSION_HPP
        .replace("@NUMBER@", &number)
        .replace("@LIBVERSION@", &lib_version);
    let b2 = B2.replace("@VERSION@", version);
    let jamfiles: Vec<String> = libraries
        .iter()
        .map(|l| format!("libs/{l}/build/Jamfile"))
        .collect();
    let mut files: Vec<(&str, &str, u32)> = vec![
        ("bootstrap.sh", BOOTSTRAP, 0o755),
        ("fakeb2", &b2, 0o755),
        ("fakepython.cpp", PYTHON_LIB, 0o644),
        ("boost/version.hpp", &version_hpp, 0o644),
        ("boost/python.hpp", PYTHON_HPP, 0o644),
        ("boost/config.hpp", "// fake\n", 0o644),
    ];
    for jamfile in &jamfiles {
        files.push((jamfile, "# fake\n", 0o644));
    }
    tgz(&format!("boost_{}", version.replace('.', "_")), &files)
}
