//! `strap doctor` against a healthy setup and a deliberately broken one: each problem is named
//! with its fix, and the exit code says whether any was found.

use std::fs;

use crate::support::{stderr_of, stdout_of, write_script, TestEnv};

#[test]
fn a_healthy_setup_has_no_problem() {
    let env = TestEnv::new();
    write_script(&env.root().join("versions/3.12.7/bin/python3"), "exit 0");
    env.rehash();
    env.provide_build_headers();
    let out = env
        .strap(&["doctor"])
        .env("STRAP_SHELL", "bash")
        .envs(local_mirrors(&env))
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("ok      PATH") && text.contains("comes first"),
        "{text}"
    );
    assert!(
        text.contains("ok      version        3.12.7 runs"),
        "{text}"
    );
    assert!(text.ends_with("strap doctor: no problem found\n"), "{text}");
}

#[test]
fn a_broken_setup_names_each_problem_and_its_fix() {
    let env = TestEnv::new();
    write_script(
        &env.root().join("versions/3.12.7/bin/python3"),
        "echo 'libssl.so.3: cannot open' >&2; exit 127",
    );
    env.rehash();
    fs::write(env.shims().join("gone-tool"), "").unwrap();
    fs::create_dir_all(env.root().join("versions/3.11.2/envs")).unwrap();
    std::os::unix::fs::symlink(
        env.root().join("versions/3.11.2/envs/proj"),
        env.root().join("versions/proj"),
    )
    .unwrap();
    fs::create_dir_all(env.root().join("tmp/python-3.12.7.999999")).unwrap();
    let out = env
        .strap(&["doctor", "--timeout", "1"])
        .env("PATH", "/usr/bin:/bin")
        .env(
            "STRAP_PYTHON_MIRRORS",
            "http://127.0.0.1:1/{version}/{file},file:m/{file}",
        )
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for expected in [
        "PROBLEM PATH",
        "shims is not on PATH",
        "PROBLEM shell",
        "PROBLEM mirror         http://127.0.0.1:1/{version}/{file}: no answer",
        "PROBLEM mirror         mirror template 'file:m/{file}' (from STRAP_PYTHON_MIRRORS) is not a URL strap can download from: it is a relative file URL; a file URL names an absolute path: file:///absolute/path",
        "PROBLEM version        3.12.7: ",
        "libssl.so.3: cannot open",
        "fix: reinstall it: strap install -f 3.12.7",
        "PROBLEM virtualenv     proj points to",
        "fix: strap virtualenv-delete proj",
        "stale (gone-tool)",
        "fix: strap rehash",
        "PROBLEM work dirs",
        "fix: strap cache clean",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    let json = env
        .strap(&["doctor", "--json", "--timeout", "1"])
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let findings: serde_json::Value = serde_json::from_str(&stdout_of(&json)).unwrap();
    assert!(findings
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["check"] == "virtualenv" && f["ok"] == false && f["fix"].is_string()));
}

#[test]
fn an_rc_file_the_shell_did_not_read_is_named() {
    let env = TestEnv::new();
    env.write("home/.bashrc", "eval \"$(strap init bash)\"\n");
    let out = env
        .strap(&["doctor", "--timeout", "1"])
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(".bashrc loads strap's init code: this shell did not read it")
            && text.contains("a login shell reads ~/.bash_profile"),
        "{text}"
    );
}

#[test]
fn a_timeout_that_is_not_a_number_of_seconds_is_a_usage_error() {
    let env = TestEnv::new();
    for bad in ["NaN", "inf", "-1", "0", "61", "soon"] {
        let out = env
            .strap(&["doctor", &format!("--timeout={bad}")])
            .output()
            .unwrap();
        let err = crate::support::stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(
            err.contains(&format!(
                "expected a number of seconds from 0.1 to 60 (e.g. 30 or 2.5), not '{bad}'"
            )),
            "{bad}: {err}"
        );
    }
}

#[test]
fn mirrors_that_never_answer_are_checked_at_once() {
    let env = TestEnv::new();
    let dead = crate::mirror::Mirror::start();
    dead.route("/", crate::mirror::Behavior::Stall);
    let mirrors: Vec<String> = ["a", "b", "c"].iter().map(|d| dead.template(d)).collect();
    let out = env
        .strap(&["doctor", "--timeout", "2"])
        .env("STRAP_PYTHON_MIRRORS", mirrors.join(","))
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for mirror in &mirrors {
        assert!(
            text.contains(&format!("PROBLEM mirror         {mirror}: no answer")),
            "{mirror} in:\n{text}"
        );
    }
    assert_eq!(dead.most_at_once(), 3, "asked one after another");
}

#[test]
fn strap_shims_of_another_root_are_not_another_version_manager() {
    let env = TestEnv::new();
    env.rehash();
    let pyenv_root = env.dir.path().join("pyenv-root");
    fs::create_dir_all(pyenv_root.join("shims")).unwrap();
    std::os::unix::fs::symlink(crate::support::shim_bin(), pyenv_root.join("shims/python3"))
        .unwrap();
    let path = format!(
        "{}:{}:/usr/bin:/bin",
        pyenv_root.join("shims").display(),
        env.shims().display()
    );
    let out = env
        .strap(&["doctor", "--timeout", "1"])
        .env("PATH", &path)
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert!(
        text.contains(&format!(
            "they are strap's shims too, for the root {}",
            pyenv_root.display()
        )) && text.contains(&format!("export STRAP_ROOT={}", pyenv_root.display())),
        "{text}"
    );
    assert!(!text.contains("other version manager"), "{text}");

    // The root's own shims reached through a link are this root's.
    let link = env.dir.path().join("root-link");
    std::os::unix::fs::symlink(env.root(), &link).unwrap();
    let out = env
        .strap(&["doctor", "--timeout", "1"])
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", link.join("shims").display()),
        )
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert!(text.contains("ok      PATH"), "{text}");
}

#[test]
fn a_bad_config_value_names_the_key_and_what_is_expected() {
    let env = TestEnv::new();
    let config = env.write("home/config.toml", "[python]\njobs = \"four\"\n");
    let out = env
        .strap(&["doctor", "--timeout", "1"])
        .env("STRAP_CONFIG", &config)
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert!(
        text.contains(&format!(
            "PROBLEM config         {}:2: python.jobs = \"four\": expected a whole number",
            config.display()
        )),
        "{text}"
    );
    assert!(!text.contains("invalid type"), "{text}");
}

#[test]
fn a_config_value_every_build_refuses_is_a_problem() {
    let env = TestEnv::new();
    let config = env.write("home/config.toml", "[boost]\njobs = 0\n");
    let out = env
        .strap(&["doctor", "--timeout", "1"])
        .env("STRAP_CONFIG", &config)
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("PROBLEM config")
            && text.contains("must be from 1 to 1024 build jobs, not 0"),
        "{text}"
    );
}

#[test]
fn only_the_shims_that_differ_are_counted() {
    let env = TestEnv::new();
    write_script(&env.root().join("versions/3.12.7/bin/python3"), "exit 0");
    env.rehash();
    write_script(&env.root().join("versions/3.12.7/bin/newtool"), "exit 0");
    let out = env.strap(&["doctor", "--timeout", "1"]).output().unwrap();
    let text = stdout_of(&out);
    assert!(
        text.contains("PROBLEM shims          1 missing (newtool)\n"),
        "{text}"
    );
    assert!(!text.contains("stale"), "{text}");
}

#[test]
fn the_root_check_never_writes_through_a_link_planted_where_its_probe_went() {
    let env = TestEnv::new();
    write_script(&env.root().join("versions/3.12.7/bin/python3"), "exit 0");
    env.rehash();
    let victim = env.write("victim.txt", "precious\n");
    // doctor used to write and remove `<root>/.doctor-<pid>`: plant a link for every process
    // id the next few thousand processes may get.
    let next = std::process::Command::new("true").spawn().unwrap().id();
    for pid in next..next + 3000 {
        std::os::unix::fs::symlink(&victim, env.root().join(format!(".doctor-{pid}"))).unwrap();
    }
    let out = env
        .strap(&["doctor"])
        .env("STRAP_SHELL", "bash")
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert!(text.contains("ok      root"), "{text}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
}

#[test]
fn compilers_that_do_not_work_are_problems_with_their_fix() {
    let env = TestEnv::new();
    let out = env
        .strap(&["doctor", "--timeout", "1"])
        .env("CC", "/bin/false")
        .env("CXX", "/bin/false -x")
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for expected in [
        "PROBLEM build:python   the C compiler `/bin/false` (from CC) does not work: it fails \
         on an empty input (exit status: 1)",
        "fix: set CC to a working C compiler, or unset it to use the first of cc, gcc, clang on \
         PATH",
        "PROBLEM build:boost    the C++ compiler `/bin/false -x` (from CXX) does not work",
        "fix: set CXX to a working C++ compiler",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
}

#[test]
fn a_version_without_a_working_interpreter_is_reported_as_strap_which_sees_it() {
    let env = TestEnv::new();
    write_script(&env.root().join("versions/3.12.7/bin/python3"), "exit 0");
    let dangling = env.root().join("versions/3.11.2/bin");
    fs::create_dir_all(&dangling).unwrap();
    std::os::unix::fs::symlink("python3.11", dangling.join("python3")).unwrap();
    write_script(&env.root().join("versions/3.10.1/bin/pip3"), "exit 0");
    fs::create_dir_all(env.root().join("versions/3.9.1")).unwrap();
    env.rehash();
    env.provide_build_headers();
    let out = env
        .strap(&["doctor"])
        .env("STRAP_SHELL", "bash")
        .envs(local_mirrors(&env))
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let bin = |v: &str| env.root().join(format!("versions/{v}/bin"));
    for (version, problem) in [
        (
            "3.11.2",
            format!(
                "{} is a link to python3.11, which does not exist",
                bin("3.11.2").join("python3").display()
            ),
        ),
        (
            "3.10.1",
            format!(
                "there is no interpreter {} (nor python)",
                bin("3.10.1").join("python3").display()
            ),
        ),
        (
            "3.9.1",
            format!("there is no directory {}", bin("3.9.1").display()),
        ),
    ] {
        let expected = format!(
            "PROBLEM version        {version}: {problem}\n                       \
             fix: reinstall it: strap install -f {version}\n"
        );
        assert!(text.contains(&expected), "{expected:?} in:\n{text}");
        // `strap which` names the same problem for the version when it is selected (a version
        // with no python3 at all is passed over there, as for any command it lacks).
        if version == "3.10.1" {
            continue;
        }
        let which = env
            .strap(&["which", "python3"])
            .env("STRAP_PYTHON_VERSION", version)
            .output()
            .unwrap();
        assert_eq!(which.status.code(), Some(127), "{version}");
        let err = crate::support::stderr_of(&which);
        assert!(err.contains(&problem), "{problem:?} in:\n{err}");
    }
    assert!(
        text.contains("ok      version        3.12.7 runs"),
        "{text}"
    );
    assert!(text.ends_with("strap doctor: 3 problems\n"), "{text}");
}

#[test]
fn a_build_tree_being_removed_in_the_background_is_not_left_over() {
    let s = crate::support::Setup::new();
    // An `rm` that, for a discarded build tree, waits until told (at most a minute, should the
    // test fail first), then stops without removing it.
    let go = s.env.home().join("go");
    let made = std::process::Command::new("mkfifo")
        .arg(&go)
        .status()
        .unwrap();
    assert!(made.success());
    write_script(
        &s.env.sysbin().join("rm"),
        &format!(
            "case \"$3\" in */.discard-*) timeout 60 sh -c \"read x < '{}'\"; exit 0 ;; esac\n\
             exec /bin/rm \"$@\"",
            go.display()
        ),
    );
    s.install(&["a"], &[]).assert().success();
    let discarded: Vec<_> = fs::read_dir(s.env.root().join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(discarded.len(), 1, "{discarded:?}");
    let work_dirs = |env: &TestEnv| {
        let out = env.strap(&["doctor"]).output().unwrap();
        let text = stdout_of(&out);
        text.lines()
            .find(|l| l.contains("work dirs"))
            .unwrap_or_else(|| panic!("{text}"))
            .to_owned()
    };
    assert_eq!(
        work_dirs(&s.env),
        "ok      work dirs      no leftover build trees"
    );
    // Its removal stopped (the `rm` is gone): now it is left over.
    fs::write(&go, "go\n").unwrap();
    let line = work_dirs(&s.env);
    assert!(
        line.starts_with("PROBLEM work dirs      1 leftover in ")
            && line.ends_with(&*discarded[0].file_name().unwrap().to_string_lossy()),
        "{line}"
    );
    s.env.strap(&["cache", "clean"]).assert().success();
    assert_eq!(
        work_dirs(&s.env),
        "ok      work dirs      no leftover build trees"
    );
}

/// Source mirrors on this machine, for a setup that is healthy without the network (the
/// default mirrors need it).
fn local_mirrors(env: &TestEnv) -> [(&'static str, String); 2] {
    let local = format!("file://{}/{{file}}", env.root().display());
    [
        ("STRAP_PYTHON_MIRRORS", local.clone()),
        ("STRAP_BOOST_MIRRORS", local),
    ]
}

/// The details of doctor's mirror findings (`--json`).
fn mirror_details(out: &std::process::Output) -> Vec<String> {
    let findings: serde_json::Value = serde_json::from_str(&stdout_of(out)).unwrap();
    findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "mirror")
        .map(|f| f["detail"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_mirrors_checked_are_the_ones_an_install_uses_the_environment_over_the_config() {
    let env = TestEnv::new();
    let live = crate::mirror::Mirror::start();
    let config = env.write(
        "home/config.toml",
        "[python]\nmirrors = [\"http://127.0.0.1:1/config/{file}\"]\n",
    );
    let out = env
        .strap(&["doctor", "--json", "--timeout", "1"])
        .env("STRAP_CONFIG", &config)
        .env("STRAP_PYTHON_MIRRORS", live.template("env"))
        .env("STRAP_BOOST_MIRRORS", live.template("boost"))
        .output()
        .unwrap();
    assert_eq!(
        mirror_details(&out),
        [
            format!("{} answers", live.template("env")),
            format!("{} answers", live.template("boost")),
        ]
    );
}

#[test]
fn an_oci_registry_on_a_loopback_address_is_asked_over_plain_http() {
    let env = TestEnv::new();
    let registry = crate::mirror::Mirror::start();
    let oci = format!("oci://127.0.0.1:{}/team/builds", registry.port);
    let out = env
        .strap(&["doctor", "--json", "--timeout", "2"])
        .envs(local_mirrors(&env))
        .env("STRAP_BINARY_MIRRORS", &oci)
        .output()
        .unwrap();
    assert!(
        mirror_details(&out).contains(&format!("{oci} answers")),
        "{}",
        stdout_of(&out)
    );
    assert!(
        registry.requests().iter().any(|r| r.path == "/v2/"),
        "{:?}",
        registry.requests()
    );
}

#[test]
fn without_configured_mirrors_the_default_ones_are_checked() {
    let env = TestEnv::new();
    // Through a proxy that is not there: nothing leaves this machine.
    let out = env
        .strap(&["doctor", "--json", "--timeout", "1"])
        .env("HTTPS_PROXY", "http://127.0.0.1:1")
        .env("HTTP_PROXY", "http://127.0.0.1:1")
        .output()
        .unwrap();
    let details = mirror_details(&out);
    assert_eq!(details.len(), 2, "{details:?}");
    for detail in &details {
        assert!(
            detail.starts_with("https://")
                && detail.contains("/{version}/")
                && detail.contains("{file}"),
            "{detail}"
        );
    }
}

#[test]
fn mirrors_an_install_refuses_or_cannot_read_are_problems() {
    let env = TestEnv::new();
    let live = crate::mirror::Mirror::start();
    let missing = env.dir.path().join("no-such-dir");
    let no_file = format!("http://127.0.0.1:{}/nofile", live.port);
    let out = env
        .strap(&["doctor", "--json", "--timeout", "2"])
        .env("STRAP_PYTHON_MIRRORS", &no_file)
        .env(
            "STRAP_BOOST_MIRRORS",
            format!("file://{}/{{version}}/{{file}}", missing.display()),
        )
        .env(
            "STRAP_BINARY_MIRRORS",
            format!("file://{}", missing.display()),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout_of(&out));
    let findings: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let mirrors: Vec<&serde_json::Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "mirror")
        .collect();
    assert_eq!(mirrors.len(), 3, "{mirrors:?}");
    assert!(mirrors.iter().all(|f| f["ok"] == false), "{mirrors:?}");
    assert_eq!(mirrors[0]["fix"], "correct or remove the mirror");
    // What `strap install` says of the template, word for word, and its hint.
    let install = env
        .strap(&["install", "3.12"])
        .env("STRAP_PYTHON_MIRRORS", &no_file)
        .output()
        .unwrap();
    assert_eq!(install.status.code(), Some(2));
    let refusal = stderr_of(&install);
    assert!(
        refusal.contains(mirrors[0]["detail"].as_str().unwrap()),
        "{refusal}\n{mirrors:?}"
    );
    for f in &mirrors[1..] {
        assert!(
            f["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("the directory {}", missing.display()))
                && f["detail"].as_str().unwrap().ends_with("does not exist"),
            "{f}"
        );
        assert!(f["fix"].as_str().unwrap().starts_with("create it"), "{f}");
    }
    assert!(live.requests().is_empty(), "{:?}", live.requests());
}

#[test]
fn python_builds_mirror_is_checked_first_as_installs_ask_it_first() {
    let env = TestEnv::new();
    let live = crate::mirror::Mirror::start();
    let pbm = format!("http://127.0.0.1:{}/pbm", live.port);
    let doctor = |skip: bool| {
        let mut cmd = env.strap(&["doctor", "--json", "--timeout", "2"]);
        cmd.envs(local_mirrors(&env))
            .env("PYTHON_BUILD_MIRROR_URL", &pbm);
        if skip {
            cmd.env("PYTHON_BUILD_SKIP_MIRROR", "1");
        }
        mirror_details(&cmd.output().unwrap())
    };
    let details = doctor(false);
    assert_eq!(
        details[0],
        format!("{pbm}/{{sha256}} answers"),
        "{details:?}"
    );
    assert_eq!(details.len(), 2, "{details:?}");
    assert!(!doctor(true).iter().any(|d| d.contains("/pbm")));
}

#[test]
fn prebuilt_mirrors_are_checked_and_without_them_the_catalog_s_hosts_when_installs_use_prebuilts() {
    let env = TestEnv::new();
    let live = crate::mirror::Mirror::start();
    let missing = env.dir.path().join("no-such-dir");
    let sha = "0".repeat(64);
    let catalog = env.write(
        "catalog.tsv",
        &format!(
            "# a company's builds\nversion\tarch\tlibc\tvariant\tbuild\turl\tsha256\n\
             3.11.2\tx86_64\tgnu\tdefault\t20990101\thttp://127.0.0.1:{port}/pbs/cpython-a.tar.gz\t{sha}\n\
             3.11.3\tx86_64\tgnu\tdefault\t20990101\thttp://127.0.0.1:{port}/pbs/cpython-b.tar.gz\t{sha}\n\
             3.11.4\tx86_64\tgnu\tdefault\t20990101\tfile://{missing}/cpython-c.tar.gz\t{sha}\n",
            port = live.port,
            missing = missing.display()
        ),
    );
    let doctor = |vars: &[(&str, String)]| {
        let out = env
            .strap(&["doctor", "--json", "--timeout", "2"])
            .envs(local_mirrors(&env))
            .env("STRAP_PREBUILT_CATALOG", &catalog)
            .envs(vars.iter().cloned())
            .output()
            .unwrap();
        mirror_details(&out)
            .into_iter()
            .filter(|d| !d.starts_with(&format!("file://{}", env.root().display())))
            .collect::<Vec<_>>()
    };
    // Installs do not download prebuilts: nothing of theirs is asked.
    assert_eq!(doctor(&[]), Vec::<String>::new());
    // They do, from the catalog's URLs: each host or directory once.
    assert_eq!(
        doctor(&[("STRAP_PYTHON_PREBUILT", "prefer".to_owned())]),
        [
            format!(
                "file://{0}/: the directory {0}/ does not exist",
                missing.display()
            ),
            format!("http://127.0.0.1:{}/ answers", live.port),
        ]
    );
    // Prebuilt mirrors are checked as installs check them, whatever the mode.
    let good = format!("http://127.0.0.1:{}/pbs/{{build}}/{{file}}", live.port);
    let no_file = format!("http://127.0.0.1:{}/pbs/{{build}}", live.port);
    assert_eq!(
        doctor(&[("STRAP_PREBUILT_MIRRORS", format!("{good},{no_file}"))]),
        [
            format!("{good} answers"),
            format!(
                "prebuilt mirror template '{no_file}' (from STRAP_PREBUILT_MIRRORS) has no {{file}}: \
                 every archive would be fetched from the same URL"
            ),
        ]
    );
}
