#!/usr/bin/env python3
"""Stand-ins for system tools in recipe tests (apt-get, dpkg-query, rpm, zypper, pacman, apk,
systemctl, rc-update, rc-service, service, update-rc.d, chkconfig, ip, modprobe, lsmod, docker,
id, usermod, curl, gpg). Each records its arguments in $STUB_STATE/calls.log and keeps its state
as files under $STUB_STATE (installed packages are pkgs/NAME, enabled and running services
enabled/NAME and active/NAME, restarts counted in restarts/NAME), so a second run sees what the
first one did. SysV's update-rc.d and chkconfig make their S??NAME links under $STUB_SYSROOT.
Installing a package named like a stub tool that is missing beside the installer (a PATH without
curl) links that tool there: the package provides its command."""
import json
import os
import sys

STATE = os.environ["STUB_STATE"]
tool = os.path.basename(sys.argv[0])
args = sys.argv[1:]


def path(*parts):
    p = os.path.join(STATE, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def exists(*parts):
    return os.path.exists(os.path.join(STATE, *parts))


def touch(*parts, content=""):
    with open(path(*parts), "w") as f:
        f.write(content)


def read(*parts, default=""):
    try:
        with open(os.path.join(STATE, *parts)) as f:
            return f.read()
    except FileNotFoundError:
        return default


with open(path("calls.log"), "a") as log:
    log.write(" ".join([tool] + args) + "\n")


def dpkg_query():
    names = [a for a in args if not a.startswith("-")]
    code = 0
    for name in names:
        if exists("pkgs", name):
            sys.stdout.write("install ok installed\n" if "\\n" in " ".join(args) else "install ok installed")
        else:
            sys.stderr.write(f"dpkg-query: no packages found matching {name}\n")
            code = 1
    return code


def install(names):
    """Installs packages unless one is marked fail-install/NAME; returns the exit code."""
    for name in names:
        if exists("fail-install", name):
            print(f"E: Unable to locate package {name}")
            return 100
        touch("pkgs", name)
        provided = os.path.join(os.path.dirname(sys.argv[0]), name)
        if name in handlers and not os.path.lexists(provided):
            os.symlink(os.path.realpath(sys.argv[0]), provided)
    return 0


def operands(after):
    return [a for a in args[args.index(after) + 1:] if not a.startswith("-")]


def query(names, missing_message):
    """Exits 0 when every package is installed."""
    code = 0
    for name in names:
        if exists("pkgs", name):
            print(f"{name} 1.0-1")
        else:
            print(missing_message.format(name))
            code = 1
    return code


def rpm():
    return query([a for a in args if not a.startswith("-")], "package {} is not installed")


def zypper():
    return install(operands("install")) if "install" in args else 0


def pacman():
    if args[:1] == ["-Q"]:
        return query(args[1:], "error: package '{}' was not found")
    if args[:1] == ["-S"]:
        return install([a for a in args[1:] if not a.startswith("-")])
    return 0


def apk():
    if args[:2] == ["info", "-e"]:
        return 0 if all(exists("pkgs", a) for a in args[2:]) else 1
    if args[:1] == ["add"]:
        return install(args[1:])
    return 0


def apt_get():
    if "install" in args:
        return install(operands("install"))
    elif "remove" in args:
        for name in operands("remove"):
            if exists("pkgs", name):
                os.remove(path("pkgs", name))
    return 0


def start(name, restart=False):
    touch("active", name)
    if restart:
        touch("restarts", name, content=read("restarts", name) + "x")


def systemctl():
    verb, rest = args[0], args[1:]
    units = [a for a in rest if not a.startswith("-")]
    if any(exists("missing-units", u) for u in units):
        if verb == "is-enabled":
            print("not-found")
            return 1
        sys.stderr.write(f"Failed to {verb} unit: Unit file {units[0]}.service does not exist.\n")
        return 1
    if verb == "is-enabled":
        print("enabled" if exists("enabled", units[0]) else "disabled")
        return 0 if exists("enabled", units[0]) else 1
    if verb == "is-active":
        print("active" if exists("active", units[0]) else "inactive")
        return 0 if exists("active", units[0]) else 3
    if verb == "enable":
        for u in units:
            touch("enabled", u)
            if "--now" in rest:
                touch("active", u)
    elif verb in ("start", "restart"):
        for u in units:
            start(u, restart=verb == "restart")
    return 0


def rc_update():
    if args[:2] == ["show", "default"]:
        directory = os.path.join(STATE, "enabled")
        for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
            print(f"{name:>20} | default")
        return 0
    if args[:1] == ["add"]:
        touch("enabled", args[1])
        print(f" * service {args[1]} added to runlevel default")
        return 0
    return 1


def service_status(name):
    """`rc-service NAME status` and `service NAME status`: 0 when running, 3 when stopped."""
    print(f"{name} is {'running' if exists('active', name) else 'not running'}")
    return 0 if exists("active", name) else 3


def rc_service():
    name, verb = args[0], args[1]
    if verb == "status":
        return service_status(name)
    start(name, restart=verb == "restart")
    return 0


def sysv_enable(name):
    """Links /etc/rc[2-5].d/S01NAME to the init script, under $STUB_SYSROOT."""
    for level in range(2, 6):
        directory = os.path.join(os.environ["STUB_SYSROOT"], "etc", f"rc{level}.d")
        os.makedirs(directory, exist_ok=True)
        link = os.path.join(directory, "S01" + name)
        if not os.path.lexists(link):
            os.symlink("../init.d/" + name, link)
    return 0


def update_rc_d():
    return sysv_enable(args[0]) if args[1:] == ["defaults"] else 1


def chkconfig():
    return sysv_enable(args[0]) if args[1:] == ["on"] else 1


def lsmod():
    print("Module                  Size  Used by")
    directory = os.path.join(STATE, "modules")
    for m in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
        print(f"{m} 16384 0")
    return 0


def modprobe():
    for m in [a for a in args if not a.startswith("-")]:
        touch("modules", m)
    return 0


def link(name):
    text = read("links", name + ".json")
    return json.loads(text) if text else None


def save(name, data):
    touch("links", name + ".json", content=json.dumps(data))


def ip():
    a = list(args)
    details = "-details" in a
    as_json = "-json" in a
    a = [x for x in a if x not in ("-details", "-json")]
    if a[:2] == ["link", "show"]:
        name = a[3] if a[2] == "dev" else a[2]
        data = link(name)
        if data is None:
            sys.stderr.write(f'Device "{name}" does not exist.\n')
            return 1
        if a[-1] == "up" and "UP" not in data["flags"]:
            return 0
        if as_json:
            shown = dict(data)
            if not details:
                shown.pop("linkinfo", None)
            print(json.dumps([shown]))
        else:
            print(f"3: {name}: <{','.join(data['flags'])}> mtu 16 qdisc noqueue state UNKNOWN")
        return 0
    if a[:2] == ["link", "add"]:
        name = a[3]
        kind = a[a.index("type") + 1]
        save(name, {"ifname": name, "flags": ["NOARP"], "txqlen": 1000, "linkinfo": {"info_kind": kind}})
        return 0
    if a[:2] == ["link", "set"]:
        name = a[3]
        data = link(name)
        if data is None:
            sys.stderr.write(f'Cannot find device "{name}"\n')
            return 1
        rest = a[4:]
        if rest == ["up"]:
            data["flags"] = sorted(set(data["flags"]) | {"UP"})
        elif rest == ["down"]:
            data["flags"] = [f for f in data["flags"] if f != "UP"]
        elif rest[:1] == ["txqueuelen"]:
            data["txqlen"] = int(rest[1])
        elif rest[:2] == ["type", "can"]:
            if "UP" in data["flags"]:
                sys.stderr.write("RTNETLINK answers: Device or resource busy\n")
                return 2
            info = data["linkinfo"].setdefault("info_data", {})
            opts = dict(zip(rest[2::2], rest[3::2]))
            info["bittiming"] = {"bitrate": int(opts["bitrate"]), "sample_point": opts.get("sample-point", "0.875")}
            info["restart_ms"] = int(opts.get("restart-ms", 0))
            modes = {"triple-sampling": "TRIPLE-SAMPLING", "loopback": "LOOPBACK", "listen-only": "LISTEN-ONLY", "fd": "FD"}
            ctrl = set(info.get("ctrlmode", []))
            for key, mode in modes.items():
                if opts.get(key) == "on":
                    ctrl.add(mode)
                elif opts.get(key) == "off":
                    ctrl.discard(mode)
            info["ctrlmode"] = sorted(ctrl)
            if "dbitrate" in opts:
                info["data_bittiming"] = {"bitrate": int(opts["dbitrate"])}
        save(name, data)
        return 0
    sys.stderr.write("stub ip: unsupported " + " ".join(args) + "\n")
    return 2


def docker():
    if args[:1] == ["--version"]:
        print("Docker version 99.0.0, build stub")
        return 0
    if args[:1] == ["info"]:
        host = os.environ.get("DOCKER_HOST")
        if host:
            return 0 if exists("remote-daemons", host.replace("/", "_")) else 1
        return 0 if exists("active", "docker") else 1
    if args[:2] == ["volume", "inspect"]:
        return 0 if exists("volumes", args[2]) else 1
    if args[:2] == ["volume", "create"]:
        touch("volumes", args[2])
        return 0
    if args[:2] == ["container", "inspect"]:
        if not exists("containers", args[-1]):
            return 1
        print("true")
        return 0
    if args[:1] == ["rm"]:
        return 0
    if args[:1] == ["run"]:
        touch("containers", args[args.index("--name") + 1], content=" ".join(args))
        return 0
    return 0


def id_():
    user = args[-1]
    if not exists("users", user):
        sys.stderr.write(f"id: '{user}': no such user\n")
        return 1
    print(" ".join([user] + read("users", user).split()))
    return 0


def usermod():
    group, user = args[args.index("-aG") + 1], args[-1]
    touch("users", user, content=read("users", user) + " " + group)
    return 0


def curl():
    url = [a for a in args if a.startswith("http")][0]
    if url.endswith("/login"):
        return 0 if exists("active", "jenkins") or exists("containers", "jenkins") else 7
    out = args[args.index("-o") + 1]
    key = read("keys", url.rsplit("/", 1)[1], default=None)
    if key is None:
        sys.stderr.write(f"curl: (22) The requested URL returned error: 404 ({url})\n")
        return 22
    with open(out, "w") as f:
        f.write(key)
    return 0


def gpg():
    with open(args[-1]) as f:
        for line in f:
            if line.startswith("FPR:"):
                print("pub:-:4096:1:AAAAAAAAAAAAAAAA:1:::-:::scESC::::::23::0:")
                print(f"fpr:::::::::{line[4:].strip()}:")
    return 0


handlers = {"dpkg-query": dpkg_query, "apt-get": apt_get, "rpm": rpm, "zypper": zypper,
            "pacman": pacman, "apk": apk, "systemctl": systemctl, "rc-update": rc_update,
            "rc-service": rc_service, "service": rc_service, "update-rc.d": update_rc_d,
            "chkconfig": chkconfig, "lsmod": lsmod,
            "modprobe": modprobe, "ip": ip, "docker": docker, "id": id_, "usermod": usermod,
            "curl": curl, "gpg": gpg}
sys.exit(handlers[tool]())
