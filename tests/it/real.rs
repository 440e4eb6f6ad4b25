//! Real builds of the real sources in `../shared/fixtures` (minutes each): `#[ignore]`d, run by
//! `.ci/run` with `STRAP_FIXTURES` pointing there. CPython 3.11.2 is built once per run of the
//! test binary ([`built_3_11_2`], which `prebuilt_real.rs` uses too), then installed from its
//! pack into other roots (through the shared build cache, a `file://` binary mirror, a real OCI
//! registry); Boost 1.81.0's Boost.Python is then built against the first of them.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use crate::mirror::{Behavior, Mirror};
use crate::registry::Registry;
use crate::support::{stderr_of, stdout_of, TestEnv};

fn fixtures() -> PathBuf {
    match std::env::var_os("STRAP_FIXTURES") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => panic!(
            "set STRAP_FIXTURES to the fixtures folder (../shared/fixtures) to run the real builds"
        ),
    }
}

#[test]
#[ignore = "builds the real CPython 3.11.2 and Boost 1.81.0 (minutes); .ci/run runs it with STRAP_FIXTURES set"]
fn cpython_3_11_2_then_boost_python_1_81_0_against_it() {
    let built = built_3_11_2();
    let env = TestEnv::new();
    the_packed_build_installs_relocated_into_other_roots(built, &env);
    a_virtualenv_made_by_bootstrap_runs_through_the_shims(&env);
    boost_python_1_81_0_builds_against_it_and_extensions_import(&env);
}

/// The machine where CPython 3.11.2 was built from the fixture: built by the first test that
/// asks (the others wait), once per run of the test binary, in
/// `<target>/tmp/real-cpython-3.11.2/` (replaced by the next run). Tests only read it, push
/// from it, or install from its build cache: nothing is installed into it.
pub(crate) fn built_3_11_2() -> &'static TestEnv {
    static BUILT: OnceLock<TestEnv> = OnceLock::new();
    BUILT.get_or_init(|| {
        let name = "real-cpython-3.11.2";
        let parent = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let _ = std::fs::remove_dir_all(parent.join(name));
        let dir = tempfile::Builder::new()
            .prefix(name)
            .rand_bytes(0)
            .tempdir_in(parent)
            .unwrap();
        let env = TestEnv::at(dir);
        cpython_3_11_2_builds_from_a_loopback_mirror_with_the_catalog_checksum(&env);
        env
    })
}

/// The source build in `built` was packed into its build cache; `other`, sharing that cache
/// (and no reachable mirror), installs it relocated to its own prefix. Pushed to a `file://`
/// directory and to a real registry, it installs from each into a fresh root with its own
/// empty cache.
fn the_packed_build_installs_relocated_into_other_roots(built: &TestEnv, other: &TestEnv) {
    let out = other
        .strap(&["install", "--mirror", "file:///nowhere/{file}", "3.11.2"])
        .env("STRAP_CACHE_DIR", built.root().join("cache"))
        .timeout(Duration::from_secs(600))
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    eprintln!("{stderr}");
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("from the build cache"), "{stderr}");
    works_at_its_prefix(other);

    let registry = Registry::anonymous();
    let shared = other.work().join("shared-builds");
    for to in [
        format!("file://{}", shared.display()),
        registry.url("strap/builds"),
    ] {
        let out = built
            .strap(&["push", "3.11.2", "--to", &to])
            .timeout(Duration::from_secs(600))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        let fresh = TestEnv::new();
        let out = fresh
            .strap(&["install", "--binary-only", "--binary-mirror", &to])
            .args(["--mirror", "file:///nowhere/{file}", "3.11.2"])
            .timeout(Duration::from_secs(600))
            .output()
            .unwrap();
        let stderr = stderr_of(&out);
        eprintln!("{stderr}");
        assert!(out.status.success(), "{stderr}\n{}", registry.log());
        assert!(stderr.contains(&format!(" from {to}")), "{stderr}");
        assert!(
            !stderr.contains("==> preflight") && !stderr.contains("==> configure"),
            "a packed build needs no build prerequisites and is not built: {stderr}"
        );
        works_at_its_prefix(&fresh);
    }
}

/// `strap bootstrap` of a manifest with the installed 3.11.2 and a virtualenv made from it:
/// the Python is `ok`, the virtualenv is created; `strap local` selects it and the shim runs it.
fn a_virtualenv_made_by_bootstrap_runs_through_the_shims(env: &TestEnv) {
    let project = env.work().join("venv-project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("strap.toml"),
        "[python]\nversions = [\"3.11.2\"]\n\n[[virtualenv]]\nname = \"realenv\"\npython = \"3.11\"\n",
    )
    .unwrap();
    let out = env
        .strap(&["bootstrap"])
        .current_dir(&project)
        .timeout(Duration::from_secs(600))
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    eprintln!("{stderr}");
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("  ok        python     3.11.2"), "{stderr}");
    assert!(stderr.contains("1 ok, 1 changed, 0 failed"), "{stderr}");
    env.strap(&["local", "realenv"])
        .current_dir(&project)
        .assert()
        .success();
    env.command(env.shims().join("python"))
        .current_dir(&project)
        .args(["-c", "import sys; print(sys.prefix, sys.version_info[:2])"])
        .assert()
        .success()
        .stdout(format!(
            "{} (3, 11)\n",
            env.root().join("versions/realenv").display()
        ));
}

/// The relocated 3.11.2 in `env`'s root: the required modules import, sysconfig and
/// python3.11-config name the new prefix, and pip builds and installs a C extension from an
/// sdist generated here (offline: setuptools from ensurepip, no build isolation).
pub(crate) fn works_at_its_prefix(env: &TestEnv) {
    let prefix = env.root().join("versions/3.11.2");
    let python = prefix.join("bin/python3.11");
    env.command(&python)
        .args([
            "-c",
            "import ssl, sqlite3, ctypes, lzma, bz2, zlib, sys, sysconfig; \
             print(sys.prefix); print(sysconfig.get_config_var('LIBDIR'))",
        ])
        .assert()
        .success()
        .stdout(format!("{p}\n{p}/lib\n", p = prefix.display()));
    env.command(prefix.join("bin/python3.11-config"))
        .arg("--prefix")
        .assert()
        .success()
        .stdout(format!("{}\n", prefix.display()));

    let project = env.work().join("strapdemo");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("setup.py"),
        "from setuptools import setup, Extension\n\
         setup(name='strapdemo', version='1.0', \
         ext_modules=[Extension('strapdemo', ['strapdemo.c'])])\n",
    )
    .unwrap();
    std::fs::write(
        project.join("strapdemo.c"),
        "#include <Python.h>\n\
         static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }\n\
         static PyMethodDef methods[] = {{\"answer\", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};\n\
         static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, \"strapdemo\", NULL, -1, methods};\n\
         PyMODINIT_FUNC PyInit_strapdemo(void) { return PyModule_Create(&module); }\n",
    )
    .unwrap();
    let sdist = env
        .command(&python)
        .current_dir(&project)
        .args(["setup.py", "-q", "sdist"])
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    assert!(sdist.status.success(), "{}", stderr_of(&sdist));
    let pip = env
        .command(&python)
        .args(["-m", "pip", "install", "--no-index", "--no-build-isolation"])
        .args(["--disable-pip-version-check", "--no-cache-dir"])
        .arg(project.join("dist/strapdemo-1.0.tar.gz"))
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    assert!(
        pip.status.success(),
        "{}{}",
        stdout_of(&pip),
        stderr_of(&pip)
    );
    env.command(&python)
        .args(["-c", "import strapdemo, sys; print(strapdemo.answer(), strapdemo.__file__.startswith(sys.prefix))"])
        .assert()
        .success()
        .stdout("42 True\n");
}

fn cpython_3_11_2_builds_from_a_loopback_mirror_with_the_catalog_checksum(env: &TestEnv) {
    let fixtures = fixtures();
    let archive = std::fs::read(fixtures.join("Python-3.11.2.tgz"))
        .expect("Python-3.11.2.tgz in STRAP_FIXTURES");
    let mirror = Mirror::start();
    mirror.route("/python/3.11.2/Python-3.11.2.tgz", Behavior::Serve(archive));
    let template = format!(
        "http://127.0.0.1:{}/python/{{version}}/{{file}}",
        mirror.port
    );
    let out = env
        .strap(&["install", "--mirror", &template, "3.11.2"])
        .timeout(Duration::from_secs(1800))
        .output()
        .unwrap();
    eprintln!("{}", stderr_of(&out));
    assert!(out.status.success(), "the real build failed");
    let prefix = env.root().join("versions/3.11.2");
    let python = prefix.join("bin/python3");
    env.command(&python)
        .args([
            "-c",
            "import ssl, sqlite3, ctypes, lzma, bz2, zlib; print(ssl.OPENSSL_VERSION)",
        ])
        .assert()
        .success();
    let pip = env
        .command(prefix.join("bin/pip"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(stdout_of(&pip).starts_with("pip "), "{}", stderr_of(&pip));
    // Through the shims, as a user runs it.
    env.strap(&["global", "3.11"]).assert().success();
    env.command(env.shims().join("python"))
        .args(["-c", "import sys; print(sys.version.split()[0])"])
        .assert()
        .success()
        .stdout("3.11.2\n");
    env.command(env.shims().join("pip3"))
        .arg("--version")
        .assert()
        .success();
}

/// sha256 of the repacked `boost_1_81_0.tar.bz2` fixture (not the upstream archive's).
const BOOST_FIXTURE_SHA256: &str =
    "43341347fb80d3ec8bb215763cfb5f9d7cf2922c48e4cf1d1a0773da0a31109f";

fn boost_python_1_81_0_builds_against_it_and_extensions_import(env: &TestEnv) {
    let archive = std::fs::read(fixtures().join("boost_1_81_0.tar.bz2"))
        .expect("boost_1_81_0.tar.bz2 in STRAP_FIXTURES");
    let mirror = Mirror::start();
    mirror.route(
        "/boost/1.81.0/source/boost_1_81_0.tar.bz2",
        Behavior::Serve(archive),
    );
    let template = format!(
        "http://127.0.0.1:{}/boost/{{version}}/source/{{file}}",
        mirror.port
    );
    let install = |extra: &[&str]| {
        env.strap(&["boost", "install", "1.81.0", "--python", "3.11"])
            .args(["--mirror", &template])
            .args(extra)
            .timeout(Duration::from_secs(1800))
            .output()
            .unwrap()
    };
    // The catalog pins the upstream archive: the repack is refused before anything is unpacked.
    let out = install(&[]);
    let stderr = stderr_of(&out);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert!(!stderr.contains("==> unpack"), "{stderr}");
    assert!(!env.root().join("boost/1.81.0-py3.11").exists());

    let out = install(&["--sha256", BOOST_FIXTURE_SHA256]);
    let stderr = stderr_of(&out);
    eprintln!("{stderr}");
    assert!(out.status.success(), "the real Boost build failed");
    assert!(
        stderr.contains("Boost.Python works: strap_boost_check.answer() = 42"),
        "{stderr}"
    );
    let prefix = env.root().join("boost/1.81.0-py3.11");
    let lib = prefix.join("lib");
    assert!(lib.join("libboost_python311.so").exists());
    assert!(
        !String::from_utf8_lossy(&std::fs::read(lib.join("libboost_python311.so")).unwrap())
            .contains("/tmp/boost-"),
        "no staging path in the library"
    );

    // An extension of our own, compiled against the install, imported by that Python.
    let python = env.root().join("versions/3.11.2/bin/python3.11");
    let work = env.work();
    std::fs::write(
        work.join("hello.cpp"),
        "#include <boost/python.hpp>\n\
         #include <string>\n\
         std::string greet(int n) { return \"hello from boost.python x\" + std::to_string(n); }\n\
         BOOST_PYTHON_MODULE(hello) { boost::python::def(\"greet\", greet); }\n",
    )
    .unwrap();
    let suffix = env
        .command(&python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))",
        ])
        .output()
        .unwrap();
    let module = work.join(format!("hello{}", stdout_of(&suffix).trim()));
    env.command("c++")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&module)
        .arg(work.join("hello.cpp"))
        .arg(format!("-I{}", prefix.join("include").display()))
        .arg(format!(
            "-I{}",
            env.root()
                .join("versions/3.11.2/include/python3.11")
                .display()
        ))
        .arg(format!("-L{}", lib.display()))
        .arg("-lboost_python311")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .timeout(Duration::from_secs(600))
        .assert()
        .success();
    env.command(&python)
        .args(["-c", "import hello; print(hello.greet(7))"])
        .env("PYTHONPATH", &work)
        .assert()
        .success()
        .stdout("hello from boost.python x7\n");

    cmake_finds_it_through_boost_env(env, &prefix);
}

/// A CMake project with `find_package(Boost CONFIG REQUIRED COMPONENTS python311)` configures
/// and builds in a shell that evaluated `strap boost env`.
fn cmake_finds_it_through_boost_env(env: &TestEnv, prefix: &std::path::Path) {
    assert!(
        crate::support::on_path("cmake"),
        "cmake is needed for the CMake consumer test (.ci/run installs it)"
    );
    let project = env.work().join("consumer");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("CMakeLists.txt"),
        "cmake_minimum_required(VERSION 3.16)\n\
         project(consumer CXX)\n\
         find_package(Boost 1.81.0 EXACT CONFIG REQUIRED COMPONENTS python311)\n\
         message(STATUS \"strap-test: Boost ${Boost_VERSION} from ${Boost_DIR}\")\n\
         add_executable(consumer main.cpp)\n\
         target_link_libraries(consumer Boost::headers)\n",
    )
    .unwrap();
    std::fs::write(
        project.join("main.cpp"),
        "#include <boost/version.hpp>\n#include <cstdio>\n\
         int main() { std::printf(\"%s\\n\", BOOST_LIB_VERSION); }\n",
    )
    .unwrap();
    let script = format!(
        "set -e\neval \"$({strap} boost env 1.81.0-py3.11)\"\n\
         cmake -S {p} -B {p}/build\ncmake --build {p}/build\n{p}/build/consumer\n",
        p = project.display(),
        strap = crate::support::strap_bin().display()
    );
    let out = env
        .command("sh")
        .args(["-c", &script])
        .timeout(Duration::from_secs(600))
        .output()
        .unwrap();
    let stdout = stdout_of(&out);
    assert!(out.status.success(), "{stdout}{}", stderr_of(&out));
    assert!(
        stdout.contains(&format!(
            "strap-test: Boost 1.81.0 from {}/lib/cmake/Boost-1.81.0",
            prefix.display()
        )),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("1_81"), "{stdout}");
}
