//! Every environment variable strap reads, in one place.

/// The strap root (versions, shims, global version file, cache, logs).
pub const STRAP_ROOT: &str = "STRAP_ROOT";
/// Python version(s) selected for the current shell (set by `strap shell`); `:`-separated.
pub const STRAP_PYTHON_VERSION: &str = "STRAP_PYTHON_VERSION";
/// Pretend strap was started under this name (development aid: run the shim path without a link).
pub const STRAP_FORCE_ARG0: &str = "STRAP_FORCE_ARG0";
/// Nesting depth of shims; guards against a shim that ends up executing itself.
pub const STRAP_SHIM_DEPTH: &str = "STRAP_SHIM_DEPTH";
/// The shell whose syntax `strap shell` emits; set by the code `strap init` prints.
pub const STRAP_SHELL: &str = "STRAP_SHELL";
/// The config file (default `$XDG_CONFIG_HOME/strap/config.toml`).
pub const STRAP_CONFIG: &str = "STRAP_CONFIG";
/// Comma-separated mirror URL templates for CPython archives (before the config's).
pub const STRAP_PYTHON_MIRRORS: &str = "STRAP_PYTHON_MIRRORS";
/// The download cache (default `<root>/cache`).
pub const STRAP_CACHE_DIR: &str = "STRAP_CACHE_DIR";
/// Build parallelism (default: the number of CPUs).
pub const STRAP_JOBS: &str = "STRAP_JOBS";
/// Extra `configure` options for CPython builds (split like a shell would, without expansion).
pub const STRAP_CONFIGURE_OPTS: &str = "STRAP_CONFIGURE_OPTS";
/// Seconds without progress after which a download from a mirror is abandoned (default 30).
pub const STRAP_DOWNLOAD_TIMEOUT: &str = "STRAP_DOWNLOAD_TIMEOUT";
/// A Python catalog file laid over the embedded one (every family python-build installs).
pub const STRAP_PYTHON_CATALOG: &str = "STRAP_PYTHON_CATALOG";
/// The architecture (`uname -m`: `x86_64`, `aarch64`) whose downloads binary Python families
/// install; default the one `STRAP_PLATFORM` names, else this machine's.
pub const STRAP_ARCH: &str = "STRAP_ARCH";
/// The platform prebuilt CPythons are chosen for (`x86_64_v2-linux-musl`: architecture with
/// its x86-64 level, C library); default this machine's, detected.
pub const STRAP_PLATFORM: &str = "STRAP_PLATFORM";
/// A python-build-standalone catalog file (the data file's format) used instead of the
/// embedded one.
pub const STRAP_PREBUILT_CATALOG: &str = "STRAP_PREBUILT_CATALOG";
/// Whether CPython installs use python-build-standalone's prebuilt archives: `never`,
/// `prefer` or `only` (before the config's `[python] prebuilt`).
pub const STRAP_PYTHON_PREBUILT: &str = "STRAP_PYTHON_PREBUILT";
/// Mirror URL templates (`{build}`, `{file}`) for prebuilt CPython archives, comma-separated
/// (before the config's `[python] prebuilt_mirrors`).
pub const STRAP_PREBUILT_MIRRORS: &str = "STRAP_PREBUILT_MIRRORS";
/// Boost mirror URL templates, comma-separated (before the config's `[boost] mirrors`).
pub const STRAP_BOOST_MIRRORS: &str = "STRAP_BOOST_MIRRORS";
/// A Boost catalog file (`VERSION FILE SHA256` lines) used instead of the embedded one.
pub const STRAP_BOOST_CATALOG: &str = "STRAP_BOOST_CATALOG";
/// Binary mirrors (packed builds), comma-separated: `file://DIR`, `https://HOST/DIR`,
/// `oci://REGISTRY/REPO` (before the config's `[cache] binary`).
pub const STRAP_BINARY_MIRRORS: &str = "STRAP_BINARY_MIRRORS";
/// The user for an OCI registry or an HTTP binary mirror (else the Docker config's login).
pub const STRAP_REGISTRY_USER: &str = "STRAP_REGISTRY_USER";
/// The password or token that goes with `STRAP_REGISTRY_USER`.
pub const STRAP_REGISTRY_PASSWORD: &str = "STRAP_REGISTRY_PASSWORD";

/// python-build's configure options (after `CONFIGURE_OPTS`, before `STRAP_CONFIGURE_OPTS`).
pub const PYTHON_CONFIGURE_OPTS: &str = "PYTHON_CONFIGURE_OPTS";
/// python-build's configure options for every package (before `PYTHON_CONFIGURE_OPTS`).
pub const CONFIGURE_OPTS: &str = "CONFIGURE_OPTS";
/// python-build: appended to the `CFLAGS` CPython's `configure` sees.
pub const PYTHON_CFLAGS: &str = "PYTHON_CFLAGS";
/// python-build: appended to the `CPPFLAGS` CPython's `configure` sees.
pub const PYTHON_CPPFLAGS: &str = "PYTHON_CPPFLAGS";
/// python-build: appended to the `LDFLAGS` CPython's `configure` sees.
pub const PYTHON_LDFLAGS: &str = "PYTHON_LDFLAGS";
/// python-build's `make` options for every package (its `-j` below `--jobs` and `STRAP_JOBS`).
pub const MAKE_OPTS: &str = "MAKE_OPTS";
/// python-build's `make` options for CPython (after `MAKE_OPTS`).
pub const PYTHON_MAKE_OPTS: &str = "PYTHON_MAKE_OPTS";
/// python-build's `make install` options for every package.
pub const MAKE_INSTALL_OPTS: &str = "MAKE_INSTALL_OPTS";
/// python-build's `make install` options for CPython (after `MAKE_INSTALL_OPTS`).
pub const PYTHON_MAKE_INSTALL_OPTS: &str = "PYTHON_MAKE_INSTALL_OPTS";
/// python-build's mirror: a URL whose files are named by their sha256, tried before the other
/// CPython mirrors unless `--mirror` is given.
pub const PYTHON_BUILD_MIRROR_URL: &str = "PYTHON_BUILD_MIRROR_URL";
/// python-build's own definition directories (`:`-separated): each file is a definition laid
/// over the embedded catalog (below `STRAP_PYTHON_CATALOG`).
pub const PYTHON_BUILD_DEFINITIONS: &str = "PYTHON_BUILD_DEFINITIONS";
/// python-build: when set (non-empty), `PYTHON_BUILD_MIRROR_URL` is not used.
pub const PYTHON_BUILD_SKIP_MIRROR: &str = "PYTHON_BUILD_SKIP_MIRROR";
/// python-build's download cache: strap's download cache when it is a directory and
/// `STRAP_CACHE_DIR` is not set.
pub const PYTHON_BUILD_CACHE_PATH: &str = "PYTHON_BUILD_CACHE_PATH";
/// The C compiler flags `configure` sees (python-build's `PYTHON_CFLAGS` is appended).
pub const CFLAGS: &str = "CFLAGS";
/// The C preprocessor flags `configure` sees (python-build's `PYTHON_CPPFLAGS` is appended).
pub const CPPFLAGS: &str = "CPPFLAGS";
/// The linker flags `configure` sees (python-build's `PYTHON_LDFLAGS` is appended).
pub const LDFLAGS: &str = "LDFLAGS";

/// pyenv mode: the root (default `~/.pyenv`).
pub const PYENV_ROOT: &str = "PYENV_ROOT";
/// pyenv mode (and shims in pyenv's root): the versions selected for this process or shell.
pub const PYENV_VERSION: &str = "PYENV_VERSION";
/// pyenv mode: the directory the version-file lookup starts from (default: the current one).
pub const PYENV_DIR: &str = "PYENV_DIR";
/// pyenv mode: the shell `pyenv init` set up (`pyenv shell` and `pyenv rehash` emit code for it).
pub const PYENV_SHELL: &str = "PYENV_SHELL";
