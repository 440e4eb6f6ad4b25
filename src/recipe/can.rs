//! The `can_interface` step: a SocketCAN interface configured as the recipe's variables say
//! (`bitrate`, `sample_point`, `restart_ms`, `triple_sampling`, `fd` + `dbitrate`, `txqueuelen`,
//! `loopback`, `listen_only`), compared with `ip -details -json link show` so that only an
//! interface that differs is taken down and reconfigured; with `persist`, the same settings as
//! systemd-networkd `.network`/`.link` files.

use std::path::PathBuf;

use super::steps::{file_state, write_file, State, StepEnv};
use super::vars::{shell_quote, Value};

/// The settings wanted for an interface.
#[derive(Debug, PartialEq)]
struct Wanted {
    bitrate: i64,
    sample_point: Option<String>,
    restart_ms: i64,
    txqueuelen: Option<i64>,
    /// (ip keyword, ctrlmode name in `ip -json`, wanted on?)
    modes: Vec<(&'static str, &'static str, bool)>,
    dbitrate: Option<i64>,
    persist: bool,
}

fn wanted(env: &StepEnv<'_>) -> Wanted {
    let int = |name: &str| match env.values.get(name) {
        Some(Value::Int(i)) => Some(*i),
        _ => None,
    };
    let flag = |name: &str| env.values.get(name).is_some_and(Value::truthy);
    let fd = flag("fd");
    Wanted {
        bitrate: int("bitrate").unwrap_or(500_000),
        sample_point: env
            .values
            .get("sample_point")
            .map(Value::to_string)
            .filter(|s| !s.is_empty()),
        restart_ms: int("restart_ms").unwrap_or(0),
        txqueuelen: int("txqueuelen").filter(|n| *n > 0),
        modes: vec![
            (
                "triple-sampling",
                "TRIPLE-SAMPLING",
                flag("triple_sampling"),
            ),
            ("loopback", "LOOPBACK", flag("loopback")),
            ("listen-only", "LISTEN-ONLY", flag("listen_only")),
            ("fd", "FD", fd),
        ],
        dbitrate: if fd { int("dbitrate") } else { None },
        persist: flag("persist"),
    }
}

/// What differs between the interface as `ip` reports it and as wanted.
fn link_differences(json: &serde_json::Value, want: &Wanted) -> Vec<String> {
    let link = &json[0];
    let data = &link["linkinfo"]["info_data"];
    let mut diffs = Vec::new();
    let compare = |diffs: &mut Vec<String>, what: &str, have: String, wanted: String| {
        if have != wanted {
            diffs.push(format!("{what} {have} -> {wanted}"));
        }
    };
    compare(
        &mut diffs,
        "bitrate",
        data["bittiming"]["bitrate"].to_string(),
        want.bitrate.to_string(),
    );
    if let Some(sp) = &want.sample_point {
        let have = data["bittiming"]["sample_point"]
            .as_str()
            .unwrap_or("none")
            .to_owned();
        let same = have
            .parse::<f64>()
            .ok()
            .zip(sp.parse::<f64>().ok())
            .is_some_and(|(a, b)| (a - b).abs() < 0.0005);
        if !same {
            compare(&mut diffs, "sample-point", have, sp.clone());
        }
    }
    compare(
        &mut diffs,
        "restart-ms",
        data["restart_ms"].as_i64().unwrap_or(0).to_string(),
        want.restart_ms.to_string(),
    );
    let modes = current_modes(json);
    for (keyword, name, on) in &want.modes {
        let have = modes.contains(name);
        if have != *on {
            diffs.push(format!("{keyword} {} -> {}", on_off(have), on_off(*on)));
        }
    }
    if let Some(dbitrate) = want.dbitrate {
        compare(
            &mut diffs,
            "dbitrate",
            data["data_bittiming"]["bitrate"].to_string(),
            dbitrate.to_string(),
        );
    }
    if let Some(qlen) = want.txqueuelen {
        compare(
            &mut diffs,
            "txqueuelen",
            link["txqlen"].to_string(),
            qlen.to_string(),
        );
    }
    let up = link["flags"]
        .as_array()
        .is_some_and(|f| f.iter().any(|v| v == "UP"));
    if !up {
        diffs.push("state down -> up".to_owned());
    }
    diffs
}

/// The control modes set on the interface (`TRIPLE-SAMPLING`, `FD`, …).
fn current_modes(json: &serde_json::Value) -> Vec<&str> {
    json[0]["linkinfo"]["info_data"]["ctrlmode"]
        .as_array()
        .map(|m| m.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default()
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

fn current(interface: &str, env: &StepEnv<'_>) -> Result<serde_json::Value, String> {
    let (ok, output) = env
        .exec
        .sh(
            &format!("ip -details -json link show dev {}", shell_quote(interface)),
            false,
            env.timeout,
        )
        .map(|o| (o.success, o.output))?;
    if !ok {
        return Err(format!(
            "CAN interface {interface} does not exist (is the adapter connected and its driver loaded? \
             for testing without hardware, set virtual = true): {}",
            output.trim()
        ));
    }
    serde_json::from_str(&output)
        .map_err(|e| format!("cannot read `ip -json` output for {interface}: {e}"))
}

/// The systemd-networkd files that make the settings survive a reboot.
fn networkd_files(interface: &str, want: &Wanted, env: &StepEnv<'_>) -> Vec<(PathBuf, String)> {
    let dir = env.sysroot.join("etc/systemd/network");
    let yes_no = |on: bool| if on { "yes" } else { "no" };
    let mut network = format!(
        "[Match]\nName={interface}\n\n[CAN]\nBitRate={}\n",
        want.bitrate
    );
    if let Some(sp) = want
        .sample_point
        .as_ref()
        .and_then(|s| s.parse::<f64>().ok())
    {
        network.push_str(&format!("SamplePoint={}%\n", (sp * 1000.0).round() / 10.0));
    }
    if want.restart_ms > 0 {
        network.push_str(&format!("RestartSec={}ms\n", want.restart_ms));
    }
    for (keyword, _, on) in &want.modes {
        let key = match *keyword {
            "triple-sampling" => "TripleSampling",
            "loopback" => "Loopback",
            "listen-only" => "ListenOnly",
            _ => "FDMode",
        };
        network.push_str(&format!("{key}={}\n", yes_no(*on)));
    }
    if let Some(dbitrate) = want.dbitrate {
        network.push_str(&format!("DataBitRate={dbitrate}\n"));
    }
    let mut files = vec![(dir.join(format!("80-strap-{interface}.network")), network)];
    if let Some(qlen) = want.txqueuelen {
        files.push((
            dir.join(format!("80-strap-{interface}.link")),
            format!("[Match]\nOriginalName={interface}\n\n[Link]\nTransmitQueueLength={qlen}\n"),
        ));
    }
    files
}

/// Compares the interface (and, with `persist`, its networkd files) with the wanted settings.
pub fn check(interface: &str, env: &StepEnv<'_>) -> Result<State, String> {
    let want = wanted(env);
    let mut changes = link_differences(&current(interface, env)?, &want);
    if want.persist {
        for (path, content) in networkd_files(interface, &want, env) {
            if let State::Differs(diff) = file_state(&path, &content, Some(0o644), None, env)? {
                changes.push(diff.unwrap_or_else(|| format!("write {}", path.display())));
            }
        }
    }
    Ok(if changes.is_empty() {
        State::Ok
    } else {
        State::Differs(Some(format!("{interface}: {}", changes.join("; "))))
    })
}

/// Reconfigures the interface only when `ip` says it differs; writes the networkd files.
pub fn apply(interface: &str, env: &StepEnv<'_>) -> Result<String, String> {
    let want = wanted(env);
    let quoted = shell_quote(interface);
    let mut output = String::new();
    let link = current(interface, env)?;
    if !link_differences(&link, &want).is_empty() {
        let modes = current_modes(&link);
        let mut config = format!("ip link set dev {quoted} type can bitrate {}", want.bitrate);
        if let Some(sp) = &want.sample_point {
            config.push_str(&format!(" sample-point {}", shell_quote(sp)));
        }
        config.push_str(&format!(" restart-ms {}", want.restart_ms));
        for (keyword, name, on) in &want.modes {
            // Only mention a mode that is wanted or currently set: some controllers refuse modes
            // they do not support even when asked to turn them off.
            if *on || modes.contains(name) {
                config.push_str(&format!(" {keyword} {}", on_off(*on)));
            }
        }
        if let Some(dbitrate) = want.dbitrate {
            config.push_str(&format!(" dbitrate {dbitrate}"));
        }
        output.push_str(&env.must(&format!("ip link set dev {quoted} down"))?);
        output.push_str(&env.must(&config)?);
        if let Some(qlen) = want.txqueuelen {
            output.push_str(&env.must(&format!("ip link set dev {quoted} txqueuelen {qlen}"))?);
        }
        output.push_str(&env.must(&format!("ip link set dev {quoted} up"))?);
    }
    if want.persist {
        for (path, content) in networkd_files(interface, &want, env) {
            write_file(&path, &content, Some(0o644), None, env)?;
        }
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want() -> Wanted {
        Wanted {
            bitrate: 500_000,
            sample_point: Some("0.875".into()),
            restart_ms: 100,
            txqueuelen: Some(1000),
            modes: vec![
                ("triple-sampling", "TRIPLE-SAMPLING", true),
                ("fd", "FD", false),
            ],
            dbitrate: None,
            persist: false,
        }
    }

    #[test]
    fn a_matching_interface_has_no_differences() {
        let json = serde_json::json!([{
            "ifname": "can0", "flags": ["NOARP", "UP", "LOWER_UP"], "txqlen": 1000,
            "linkinfo": {"info_kind": "can", "info_data": {
                "ctrlmode": ["TRIPLE-SAMPLING"], "restart_ms": 100,
                "bittiming": {"bitrate": 500000, "sample_point": "0.875"}}}
        }]);
        assert!(link_differences(&json, &want()).is_empty());
    }

    #[test]
    fn every_difference_is_named() {
        let json = serde_json::json!([{
            "ifname": "can0", "flags": ["NOARP"], "txqlen": 10,
            "linkinfo": {"info_kind": "can", "info_data": {
                "ctrlmode": ["FD"], "restart_ms": 0,
                "bittiming": {"bitrate": 250000, "sample_point": "0.800"}}}
        }]);
        let diffs = link_differences(&json, &want());
        assert_eq!(
            diffs,
            [
                "bitrate 250000 -> 500000",
                "sample-point 0.800 -> 0.875",
                "restart-ms 0 -> 100",
                "triple-sampling off -> on",
                "fd on -> off",
                "txqueuelen 10 -> 1000",
                "state down -> up"
            ]
        );
    }
}
