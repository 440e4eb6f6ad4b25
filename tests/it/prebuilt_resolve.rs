//! How requests resolve with prebuilt builds: a prefix under `only` is the newest release the
//! prebuilt catalog has for this machine (a company's own catalog of releases strap's source
//! catalog lacks), under `prefer` the newest of both catalogs, under `never` the source
//! catalog's; what `install --list --prebuilt` prints installs under that name; a source-build
//! option is named as why no prebuilt is installed. Uses the [`Fixture`] of `prebuilt.rs`.

use crate::prebuilt::{both, Fixture, BUILD};
use crate::support::{stderr_of, stdout_of, TestEnv};

const MACHINE: &str = "x86_64_v3-linux-gnu";

/// A release of the system Python's series newer than any the source catalog has (`n` tells
/// them apart).
fn newer(f: &Fixture, n: u32) -> String {
    let (series, micro) = f.host.version.rsplit_once('.').unwrap();
    format!("{series}.{}", micro.parse::<u32>().unwrap() + 50 + n)
}

#[test]
fn a_prefix_resolves_as_the_prebuilt_mode_says_and_as_the_listing_shows() {
    let f = Fixture::new();
    let series = f.host.minor.clone();
    let (one, two) = (newer(&f, 1), newer(&f, 2));
    f.publish_version(&one, "x86_64_v3-gnu", "default", false, None);
    f.publish_version(&two, "x86_64_v3-gnu", "default", false, None);
    let out = f
        .strap(
            MACHINE,
            &["install", "--list", "--prebuilt", "--bare", &series],
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), format!("{one}\n{two}\n"));

    // `only`: the newest the listing shows, though the source catalog has neither.
    let out = f
        .strap(
            MACHINE,
            &["install", "--skip-preflight", "--prebuilt=only", &series],
        )
        .output()
        .unwrap();
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "CPython {two} (prebuilt, python-build-standalone {BUILD}, x86_64_v3-gnu, \
             install_only_stripped) for {series}"
        )),
        "{text}"
    );
    assert!(f.prefix(&two).join("bin/python3").exists(), "{text}");

    // `never`: the source catalog's newest (whose archive the mirror lacks: it is tried).
    let out = f
        .strap(MACHINE, &["install", "--list", "--bare", &series])
        .output()
        .unwrap();
    let source = stdout_of(&out).lines().last().unwrap().to_owned();
    let fetched = |args: &[&str]| {
        let mut all = vec!["install", "--fetch-only", "--mirror"];
        let src = f.mirror.template("src");
        all.push(&src);
        all.extend(args);
        let out = f.strap_on(&TestEnv::new(), MACHINE, &all).output().unwrap();
        (out.status.code(), both(&out))
    };
    let (code, text) = fetched(&["--no-prebuilt", &series]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("could not download Python-{source}.tar.xz")),
        "{text}"
    );
    // `prefer`: the newest of both; a configure option asks for the source catalog's.
    let (code, text) = fetched(&["--prebuilt", &series]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("{two} is in the cache, ready to install")),
        "{text}"
    );
    let (code, text) = fetched(&[
        "--prebuilt",
        "--configure-opts=--without-doc-strings",
        &series,
    ]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "configure options (--without-doc-strings) shape a source build; building {source} \
             from source"
        )),
        "{text}"
    );
    // Under `only`, the option is named as why there is no prebuilt, and what to do.
    let (code, text) = fetched(&[
        "--prebuilt=only",
        "--configure-opts=--without-doc-strings",
        &series,
    ]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "no prebuilt {two} to install: configure options (--without-doc-strings) shape a \
             source build"
        )) && text.contains("build from source with --no-prebuilt")
            && !text.contains("--list --prebuilt"),
        "{text}"
    );

    // A release only the prebuilt catalog has cannot fall back to a source build: said so.
    let three = newer(&f, 3);
    f.publish_version(
        &three,
        "x86_64_v3-gnu",
        "default",
        false,
        Some(&"0".repeat(64)),
    );
    let (code, text) = fetched(&["--prebuilt", &series]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("the prebuilt {three} cannot be installed (")) && text.contains(
            &format!("there is no source build of {three} to fall back to: only the prebuilt catalog has that release")
        ),
        "{text}"
    );
}

#[test]
fn every_name_the_prebuilt_listing_prints_installs_under_that_name() {
    let f = Fixture::new();
    let host = f.host.version.clone();
    f.publish("x86_64_v3-gnu", "default", false, None);
    f.publish("x86_64_v3-gnu", "debug", true, None);
    f.publish_version("3.13.1", "x86_64_v3-gnu", "freethreaded", true, None);
    f.publish_version("3.13.1", "x86_64_v3-gnu", "freethreaded+debug", true, None);
    let out = f
        .strap(MACHINE, &["install", "--list", "--prebuilt", "--bare"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let names: Vec<String> = stdout_of(&out).lines().map(str::to_owned).collect();
    let mut sorted = names.clone();
    sorted.sort();
    let mut expected = vec![
        host.clone(),
        format!("{host}-debug"),
        "3.13.1t".to_owned(),
        "3.13.1t-debug".to_owned(),
    ];
    expected.sort();
    assert_eq!(sorted, expected);
    for name in &names {
        let out = f
            .strap(
                MACHINE,
                &["install", "--prebuilt=only", "--fetch-only", name],
            )
            .output()
            .unwrap();
        let text = both(&out);
        assert!(out.status.success(), "{name}: {text}");
        assert!(
            text.contains(&format!("{name} is in the cache, ready to install")),
            "{text}"
        );
    }
    // A free-threaded line of a release before 3.13 is refused, naming its line.
    f.publish("x86_64_v3-gnu", "freethreaded", false, None);
    let out = f
        .strap(MACHINE, &["install", "--list", "--prebuilt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains(&format!(
            "line 7: a freethreaded build of {host}: free-threaded builds exist from CPython \
             3.13 on"
        )),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_catalog_starting_with_a_byte_order_mark_is_read() {
    let f = Fixture::new();
    f.publish("x86_64_v3-gnu", "default", false, None);
    // The fixture writes its catalog on each run: run once to have it.
    let out = f
        .strap(MACHINE, &["install", "--list", "--prebuilt", "--bare"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = std::fs::read_to_string(f.env.dir.path().join("pbs.tsv")).unwrap();
    let bom = f.env.write("bom.tsv", &format!("\u{feff}{text}"));
    let out = f
        .strap(MACHINE, &["install", "--list", "--prebuilt", "--bare"])
        .env("STRAP_PREBUILT_CATALOG", &bom)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), format!("{}\n", f.host.version));
}

/// A bootstrap's plan shows the release its install takes: under `prebuilt = "only"` a prefix
/// is the prebuilt catalog's newest, as `strap install` resolves it.
#[test]
fn a_bootstrap_plan_resolves_a_prefix_as_its_install_does() {
    let f = Fixture::new();
    let series = f.host.minor.clone();
    let two = newer(&f, 2);
    f.publish_version(&two, "x86_64_v3-gnu", "default", false, None);
    let source = {
        let out = f
            .strap(MACHINE, &["install", "--list", "--bare", &series])
            .output()
            .unwrap();
        stdout_of(&out).lines().last().unwrap().to_owned()
    };
    for (mode, shown) in [("only", &two), ("prefer", &two), ("never", &source)] {
        let manifest = f.env.write(
            "strap.toml",
            &format!("[settings]\nprebuilt = \"{mode}\"\n\n[python]\nversions = [\"{series}\"]\n"),
        );
        let out = f
            .strap(MACHINE, &["bootstrap", "--dry-run", "--json", "-f"])
            .arg(&manifest)
            .output()
            .unwrap();
        let plan: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
        assert_eq!(
            plan["items"][0]["detail"],
            format!("install {shown}"),
            "{mode}: {}",
            both(&out)
        );
    }
}
