//! `can_interface`: a SocketCAN interface with typed settings — `bitrate`, `sample_point`,
//! `restart_ms`, `txqueuelen`, control modes (`ctrlmode`), `dbitrate` for CAN FD — compared with
//! `ip -details -json link show`, so that only an interface that differs is taken down and
//! reconfigured; with `persist`, the same settings as systemd-networkd `.network`/`.link` files.
//!
//! Each setting is a literal (`bitrate = 500000`) or a template (`bitrate = "{{ bitrate }}"`)
//! that must give a value of the setting's type when the step runs. A setting left out is left
//! as the interface has it.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use super::{FieldError, Fields, State, StepKind};
use crate::recipe::error::StepError;
use crate::recipe::files::{self, Desired};
use crate::recipe::host::StepCtx;
use crate::recipe::service_manager::{Detected, ServiceManager};
use crate::recipe::vars::{parse_bool, referenced};
use crate::shell::quote_posix;

/// A CAN controller mode: its `ip link set … type can` keyword, its name in the `ctrlmode` list
/// of `ip -json`, and its systemd-networkd `[CAN]` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ControlMode {
    Loopback,
    ListenOnly,
    TripleSampling,
    OneShot,
    BerrReporting,
    Fd,
    FdNonIso,
    PresumeAck,
    CcLen8Dlc,
}

impl ControlMode {
    /// In the order `ip` lists them.
    const ALL: [ControlMode; 9] = [
        ControlMode::Loopback,
        ControlMode::ListenOnly,
        ControlMode::TripleSampling,
        ControlMode::OneShot,
        ControlMode::BerrReporting,
        ControlMode::Fd,
        ControlMode::FdNonIso,
        ControlMode::PresumeAck,
        ControlMode::CcLen8Dlc,
    ];

    /// (ip keyword, `ip -json` name, networkd key)
    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            ControlMode::Loopback => ("loopback", "LOOPBACK", "Loopback"),
            ControlMode::ListenOnly => ("listen-only", "LISTEN-ONLY", "ListenOnly"),
            ControlMode::TripleSampling => ("triple-sampling", "TRIPLE-SAMPLING", "TripleSampling"),
            ControlMode::OneShot => ("one-shot", "ONE-SHOT", "OneShot"),
            ControlMode::BerrReporting => ("berr-reporting", "BERR-REPORTING", "BusErrorReporting"),
            ControlMode::Fd => ("fd", "FD", "FDMode"),
            ControlMode::FdNonIso => ("fd-non-iso", "FD-NON-ISO", "FDNonISO"),
            ControlMode::PresumeAck => ("presume-ack", "PRESUME-ACK", "PresumeAck"),
            ControlMode::CcLen8Dlc => ("cc-len8-dlc", "CC-LEN8-DLC", "ClassicDataLengthCode"),
        }
    }

    fn keyword(self) -> &'static str {
        self.names().0
    }

    fn json_name(self) -> &'static str {
        self.names().1
    }

    fn networkd_key(self) -> &'static str {
        self.names().2
    }

    fn from_keyword(keyword: &str) -> Option<ControlMode> {
        ControlMode::ALL
            .into_iter()
            .find(|m| m.keyword() == keyword)
    }
}

/// The type a setting has once the step's values are filled in.
trait SettingType: Sized {
    /// What the setting accepts (for errors).
    const EXPECTED: &'static str;
    fn parse(text: &str) -> Option<Self>;
}

/// Bit rates, milliseconds, queue lengths.
impl SettingType for u32 {
    const EXPECTED: &'static str = "a whole number";
    fn parse(text: &str) -> Option<u32> {
        text.trim().parse().ok()
    }
}

impl SettingType for bool {
    const EXPECTED: &'static str = "true or false";
    fn parse(text: &str) -> Option<bool> {
        parse_bool(text)
    }
}

/// Where in a bit the controller samples, as a fraction of the bit time.
#[derive(Debug, Clone, Copy, PartialEq)]
struct SamplePoint(f64);

impl fmt::Display for SamplePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Empty: the driver chooses.
impl SettingType for Option<SamplePoint> {
    const EXPECTED: &'static str = "a fraction between 0 and 1 such as 0.875, or empty";
    fn parse(text: &str) -> Option<Option<SamplePoint>> {
        let text = text.trim();
        if text.is_empty() {
            return Some(None);
        }
        let fraction: f64 = text.parse().ok()?;
        (fraction > 0.0 && fraction < 1.0).then_some(Some(SamplePoint(fraction)))
    }
}

/// A setting as the recipe writes it: a literal (checked when the recipe loads) or a template
/// (checked when the step runs).
#[derive(Debug)]
struct Setting<T> {
    field: String,
    text: String,
    _type: PhantomData<fn() -> T>,
}

impl<T: SettingType> Setting<T> {
    fn new(field: String, value: toml::Value, fields: &Fields) -> Result<Setting<T>, FieldError> {
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                let problem = format!("must be {}, not {}", T::EXPECTED, other.type_str());
                return Err(fields.invalid(&field, problem));
            }
        };
        if referenced(&text).next().is_none() && T::parse(&text).is_none() {
            return Err(fields.invalid(&field, format!("'{text}' is not {}", T::EXPECTED)));
        }
        Ok(Setting {
            field,
            text,
            _type: PhantomData,
        })
    }

    fn take(fields: &mut Fields, field: &'static str) -> Result<Option<Setting<T>>, FieldError> {
        fields
            .take::<toml::Value>(field)?
            .map(|value| Setting::new(field.to_owned(), value, fields))
            .transpose()
    }

    fn resolve(&self, ctx: &StepCtx<'_>) -> Result<T, StepError> {
        let text = ctx.raw(&self.text);
        T::parse(&text).ok_or_else(|| StepError::BadValue {
            field: self.field.clone(),
            value: text,
            expected: T::EXPECTED,
        })
    }
}

fn resolve<T: SettingType>(
    setting: &Option<Setting<T>>,
    ctx: &StepCtx<'_>,
) -> Result<Option<T>, StepError> {
    setting.as_ref().map(|s| s.resolve(ctx)).transpose()
}

#[derive(Debug)]
struct CanInterface {
    interface: String,
    bitrate: Setting<u32>,
    sample_point: Option<Setting<Option<SamplePoint>>>,
    restart_ms: Option<Setting<u32>>,
    /// 0: leave as is.
    txqueuelen: Option<Setting<u32>>,
    ctrlmode: BTreeMap<ControlMode, Setting<bool>>,
    /// Used when the fd mode is on.
    dbitrate: Option<Setting<u32>>,
    persist: Option<Setting<bool>>,
}

pub(super) fn parse(fields: &mut Fields) -> Result<Box<dyn StepKind>, FieldError> {
    Ok(Box::new(read(fields)?))
}

fn read(fields: &mut Fields) -> Result<CanInterface, FieldError> {
    let interface = fields.need("interface")?;
    let bitrate = Setting::take(fields, "bitrate")?.ok_or_else(|| fields.missing("`bitrate`"))?;
    let mut ctrlmode = BTreeMap::new();
    for (keyword, value) in fields.take::<toml::Table>("ctrlmode")?.unwrap_or_default() {
        let Some(mode) = ControlMode::from_keyword(&keyword) else {
            let known: Vec<&str> = ControlMode::ALL.iter().map(|m| m.keyword()).collect();
            let problem = format!("has no mode '{keyword}' (modes: {})", known.join(", "));
            return Err(fields.invalid("ctrlmode", problem));
        };
        ctrlmode.insert(
            mode,
            Setting::new(format!("ctrlmode.{keyword}"), value, fields)?,
        );
    }
    Ok(CanInterface {
        interface,
        bitrate,
        sample_point: Setting::take(fields, "sample_point")?,
        restart_ms: Setting::take(fields, "restart_ms")?,
        txqueuelen: Setting::take(fields, "txqueuelen")?,
        ctrlmode,
        dbitrate: Setting::take(fields, "dbitrate")?,
        persist: Setting::take(fields, "persist")?,
    })
}

/// The settings wanted for an interface, with the values of this run.
#[derive(Debug, PartialEq)]
struct Wanted {
    bitrate: u32,
    sample_point: Option<SamplePoint>,
    restart_ms: Option<u32>,
    txqueuelen: Option<u32>,
    /// In the order `ip` lists them.
    modes: Vec<(ControlMode, bool)>,
    dbitrate: Option<u32>,
    persist: bool,
}

impl CanInterface {
    fn wanted(&self, ctx: &StepCtx<'_>) -> Result<Wanted, StepError> {
        let modes = self
            .ctrlmode
            .iter()
            .map(|(mode, on)| Ok((*mode, on.resolve(ctx)?)))
            .collect::<Result<Vec<_>, StepError>>()?;
        let fd = modes.contains(&(ControlMode::Fd, true));
        Ok(Wanted {
            bitrate: self.bitrate.resolve(ctx)?,
            sample_point: resolve(&self.sample_point, ctx)?.flatten(),
            restart_ms: resolve(&self.restart_ms, ctx)?,
            txqueuelen: resolve(&self.txqueuelen, ctx)?.filter(|n| *n > 0),
            dbitrate: if fd {
                resolve(&self.dbitrate, ctx)?
            } else {
                None
            },
            persist: resolve(&self.persist, ctx)?.unwrap_or(false),
            modes,
        })
    }
}

/// What differs between the interface as `ip` reports it and as wanted.
fn link_differences(json: &serde_json::Value, want: &Wanted) -> Vec<String> {
    let link = &json[0];
    let data = &link["linkinfo"]["info_data"];
    let mut diffs = Vec::new();
    let mut compare = |what: &str, have: String, wanted: String| {
        if have != wanted {
            diffs.push(format!("{what} {have} -> {wanted}"));
        }
    };
    compare(
        "bitrate",
        data["bittiming"]["bitrate"].to_string(),
        want.bitrate.to_string(),
    );
    if let Some(sp) = want.sample_point {
        let have = data["bittiming"]["sample_point"].as_str().unwrap_or("none");
        let same = have
            .parse::<f64>()
            .is_ok_and(|have| (have - sp.0).abs() < 0.0005);
        if !same {
            compare("sample-point", have.to_owned(), sp.to_string());
        }
    }
    if let Some(restart_ms) = want.restart_ms {
        compare(
            "restart-ms",
            data["restart_ms"].as_i64().unwrap_or(0).to_string(),
            restart_ms.to_string(),
        );
    }
    let modes = current_modes(json);
    for &(mode, on) in &want.modes {
        let have = modes.contains(&mode.json_name());
        if have != on {
            compare(mode.keyword(), on_off(have).into(), on_off(on).into());
        }
    }
    if let Some(dbitrate) = want.dbitrate {
        compare(
            "dbitrate",
            data["data_bittiming"]["bitrate"].to_string(),
            dbitrate.to_string(),
        );
    }
    if let Some(qlen) = want.txqueuelen {
        compare("txqueuelen", link["txqlen"].to_string(), qlen.to_string());
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

/// The interface as `ip -details -json` shows it.
fn current(interface: &str, ctx: &StepCtx<'_>) -> Result<serde_json::Value, StepError> {
    let shown = ctx.query(&format!(
        "ip -details -json link show dev {}",
        quote_posix(interface)
    ))?;
    if !shown.success() {
        return Err(StepError::NoSuchInterface {
            interface: interface.to_owned(),
            output: shown.output,
        });
    }
    serde_json::from_str(&shown.output).map_err(|source| StepError::BadIpOutput {
        interface: interface.to_owned(),
        source,
    })
}

/// Why `interface`'s settings cannot persist, where systemd does not run the machine (its
/// systemd-networkd reads the files); with what to do instead.
fn cannot_persist(interface: &str, detected: &Detected) -> Option<String> {
    let why = match detected {
        Ok(ServiceManager::Systemd) => return None,
        Err(none) => none.to_string(),
        Ok(other) => format!("this machine runs {other}, not systemd"),
    };
    Some(format!(
        "cannot persist the settings of {interface}: systemd-networkd keeps them, and {why}\n\
         instead: leave `persist` off and configure {interface} again at each boot, or persist it \
         with the system's own network configuration"
    ))
}

/// The systemd-networkd files that make the settings survive a reboot.
fn networkd_files(interface: &str, want: &Wanted, sysroot: &Path) -> Vec<(PathBuf, String)> {
    let dir = sysroot.join("etc/systemd/network");
    let mut network = format!(
        "[Match]\nName={interface}\n\n[CAN]\nBitRate={}\n",
        want.bitrate
    );
    if let Some(sp) = want.sample_point {
        network.push_str(&format!(
            "SamplePoint={}%\n",
            (sp.0 * 1000.0).round() / 10.0
        ));
    }
    if let Some(ms) = want.restart_ms.filter(|ms| *ms > 0) {
        network.push_str(&format!("RestartSec={ms}ms\n"));
    }
    for &(mode, on) in &want.modes {
        let yes_no = if on { "yes" } else { "no" };
        network.push_str(&format!("{}={yes_no}\n", mode.networkd_key()));
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

fn networkd_file(content: String) -> Desired {
    Desired {
        content,
        mode: Some(0o644),
        owner: None,
    }
}

/// The `ip link set … type can …` command for `want`, on an interface with `current` modes.
fn configure_command(interface: &str, want: &Wanted, current: &[&str]) -> String {
    let mut config = format!(
        "ip link set dev {} type can bitrate {}",
        quote_posix(interface),
        want.bitrate
    );
    if let Some(sp) = want.sample_point {
        config.push_str(&format!(" sample-point {sp}"));
    }
    if let Some(ms) = want.restart_ms {
        config.push_str(&format!(" restart-ms {ms}"));
    }
    for &(mode, on) in &want.modes {
        // Only a mode that is wanted or currently set: some controllers refuse modes they do
        // not support even when asked to turn them off.
        if on || current.contains(&mode.json_name()) {
            config.push_str(&format!(" {} {}", mode.keyword(), on_off(on)));
        }
    }
    if let Some(dbitrate) = want.dbitrate {
        config.push_str(&format!(" dbitrate {dbitrate}"));
    }
    config
}

impl StepKind for CanInterface {
    fn templates(&self) -> Vec<&str> {
        let settings = [
            Some(&self.bitrate.text),
            self.sample_point.as_ref().map(|s| &s.text),
            self.restart_ms.as_ref().map(|s| &s.text),
            self.txqueuelen.as_ref().map(|s| &s.text),
            self.dbitrate.as_ref().map(|s| &s.text),
            self.persist.as_ref().map(|s| &s.text),
        ];
        std::iter::once(&self.interface)
            .chain(settings.into_iter().flatten())
            .chain(self.ctrlmode.values().map(|s| &s.text))
            .map(String::as_str)
            .collect()
    }

    /// Compares the interface (and, with `persist`, its networkd files) with the settings; with
    /// `persist` where systemd does not run (nothing would read the files), unavailable.
    fn check(&self, ctx: &StepCtx<'_>) -> Result<State, StepError> {
        let interface = ctx.raw(&self.interface);
        let want = self.wanted(ctx)?;
        if want.persist {
            if let Some(why) = cannot_persist(&interface, ctx.host.service_manager()) {
                return Ok(State::Unavailable(why));
            }
        }
        let mut changes = link_differences(&current(&interface, ctx)?, &want);
        if want.persist {
            for (path, content) in networkd_files(&interface, &want, ctx.sysroot) {
                changes.extend(files::changes(&path, &networkd_file(content), ctx)?);
            }
        }
        Ok(State::from_changes(changes, |c| {
            format!("{interface}: {}", c.join("; "))
        }))
    }

    /// Reconfigures the interface only when `ip` says it differs; writes the networkd files.
    fn apply(&self, ctx: &StepCtx<'_>) -> Result<String, StepError> {
        let interface = ctx.raw(&self.interface);
        let quoted = quote_posix(&interface);
        let want = self.wanted(ctx)?;
        let mut output = String::new();
        let link = current(&interface, ctx)?;
        if !link_differences(&link, &want).is_empty() {
            output.push_str(&ctx.must(&format!("ip link set dev {quoted} down"))?);
            output.push_str(&ctx.must(&configure_command(
                &interface,
                &want,
                &current_modes(&link),
            ))?);
            if let Some(qlen) = want.txqueuelen {
                output.push_str(&ctx.must(&format!("ip link set dev {quoted} txqueuelen {qlen}"))?);
            }
            output.push_str(&ctx.must(&format!("ip link set dev {quoted} up"))?);
        }
        if want.persist {
            for (path, content) in networkd_files(&interface, &want, ctx.sysroot) {
                files::write(&path, &networkd_file(content), ctx)?;
            }
        }
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{Cancel, Log, Runner};
    use crate::recipe::host::{Host, DEFAULT_TIMEOUT};
    use crate::recipe::vars::{Value, Values};

    fn fields(text: &str) -> Fields {
        Fields {
            step: "CAN".into(),
            kind: "can_interface",
            table: text.parse().unwrap(),
            taken: Vec::new(),
        }
    }

    /// Resolves the settings of a step with `values`.
    fn wanted(step: &str, values: &[(&str, Value)]) -> Result<Wanted, StepError> {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::create(&dir.path().join("log")).unwrap();
        let host = Host::new(Runner::new(log, Cancel::new()), Ok(ServiceManager::Systemd));
        let values: Values = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let ctx = StepCtx {
            values: &values,
            sysroot: dir.path(),
            host: &host,
            become_root: false,
            timeout: DEFAULT_TIMEOUT,
        };
        read(&mut fields(step)).unwrap().wanted(&ctx)
    }

    fn want() -> Wanted {
        Wanted {
            bitrate: 500_000,
            sample_point: Some(SamplePoint(0.875)),
            restart_ms: Some(100),
            txqueuelen: Some(1000),
            modes: vec![
                (ControlMode::TripleSampling, true),
                (ControlMode::Fd, false),
            ],
            dbitrate: None,
            persist: false,
        }
    }

    #[test]
    fn control_modes_have_their_ip_json_and_networkd_names() {
        for mode in ControlMode::ALL {
            assert_eq!(ControlMode::from_keyword(mode.keyword()), Some(mode));
            assert_eq!(mode.json_name(), mode.keyword().to_ascii_uppercase());
        }
        assert_eq!(
            ControlMode::TripleSampling.names(),
            ("triple-sampling", "TRIPLE-SAMPLING", "TripleSampling")
        );
        assert_eq!(ControlMode::Fd.networkd_key(), "FDMode");
        assert_eq!(
            ControlMode::BerrReporting.networkd_key(),
            "BusErrorReporting"
        );
        assert_eq!(ControlMode::from_keyword("triple_sampling"), None);
    }

    #[test]
    fn templated_settings_become_typed_values_when_the_step_runs() {
        let step = r#"
            interface = "{{ item }}"
            bitrate = "{{ bitrate }}"
            sample_point = "{{ sample_point }}"
            restart_ms = 100
            txqueuelen = "{{ txqueuelen }}"
            ctrlmode = { fd = "{{ fd }}", triple-sampling = true, loopback = "off" }
            dbitrate = 2000000
            persist = "{{ persist }}"
        "#;
        let got = wanted(
            step,
            &[
                ("bitrate", Value::Int(250_000)),
                ("sample_point", Value::Str(String::new())),
                ("txqueuelen", Value::Int(0)),
                ("fd", Value::Bool(true)),
                ("persist", Value::Bool(true)),
            ],
        )
        .unwrap();
        assert_eq!(
            got,
            Wanted {
                bitrate: 250_000,
                sample_point: None,
                restart_ms: Some(100),
                txqueuelen: None,
                modes: vec![
                    (ControlMode::Loopback, false),
                    (ControlMode::TripleSampling, true),
                    (ControlMode::Fd, true),
                ],
                dbitrate: Some(2_000_000),
                persist: true,
            }
        );
        // Without the fd mode the data bitrate does not apply; unset settings stay unset.
        let got = wanted(
            "interface = 'can0'\nbitrate = 125000\ndbitrate = 2000000\nsample_point = 0.8",
            &[],
        )
        .unwrap();
        assert_eq!(
            (got.dbitrate, got.sample_point, got.restart_ms, got.persist),
            (None, Some(SamplePoint(0.8)), None, false)
        );
    }

    #[test]
    fn a_templated_value_of_the_wrong_type_fails_the_step() {
        let err = wanted(
            "interface = 'can0'\nbitrate = '{{ bitrate }}'",
            &[("bitrate", Value::Str("fast".into()))],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`bitrate` is 'fast', which is not a whole number"
        );
        let err = wanted(
            "interface = 'can0'\nbitrate = 1\nsample_point = '{{ sp }}'",
            &[("sp", Value::Str("1.5".into()))],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("not a fraction between 0 and 1"),
            "{err}"
        );
    }

    #[test]
    fn literal_settings_and_modes_are_checked_when_the_recipe_loads() {
        let cases = [
            ("interface = 'can0'", "needs `bitrate`"),
            (
                "interface = 'can0'\nbitrate = 'fast'",
                "`bitrate` 'fast' is not a whole number",
            ),
            (
                "interface = 'can0'\nbitrate = 500000\nctrlmode = { fd = 'maybe' }",
                "`ctrlmode.fd` 'maybe' is not true or false",
            ),
            (
                "interface = 'can0'\nbitrate = 500000\nctrlmode = { triple_sampling = true }",
                "`ctrlmode` has no mode 'triple_sampling' (modes: loopback, listen-only, triple-sampling,",
            ),
            (
                "interface = 'can0'\nbitrate = [1]",
                "`bitrate` must be a whole number, not array",
            ),
        ];
        for (step, message) in cases {
            let err = read(&mut fields(step)).unwrap_err().to_string();
            assert!(err.contains(message), "{step}: {err}");
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
        assert_eq!(
            configure_command("can0", &want(), &current_modes(&json)),
            "ip link set dev can0 type can bitrate 500000 sample-point 0.875 restart-ms 100 \
             triple-sampling on fd off"
        );
    }

    #[test]
    fn persisted_settings_are_networkd_files() {
        let mut want = want();
        want.modes[1].1 = true;
        want.dbitrate = Some(4_000_000);
        let files = networkd_files("can0", &want, Path::new("/sys"));
        assert_eq!(
            files,
            [
                (
                    PathBuf::from("/sys/etc/systemd/network/80-strap-can0.network"),
                    "[Match]\nName=can0\n\n[CAN]\nBitRate=500000\nSamplePoint=87.5%\n\
                     RestartSec=100ms\nTripleSampling=yes\nFDMode=yes\nDataBitRate=4000000\n"
                        .to_owned()
                ),
                (
                    PathBuf::from("/sys/etc/systemd/network/80-strap-can0.link"),
                    "[Match]\nOriginalName=can0\n\n[Link]\nTransmitQueueLength=1000\n".to_owned()
                )
            ]
        );
    }
}
