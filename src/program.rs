//! Who strap answers as (itself, or pyenv): every message begins with that name.

/// Who strap answers as: itself, or pyenv (strap started as `pyenv`). Decided once, when strap
/// starts; every message begins with its name, and the commands messages suggest are in its
/// words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    Strap,
    Pyenv,
}

static PROGRAM: std::sync::OnceLock<Program> = std::sync::OnceLock::new();

impl Program {
    /// Makes this the program the process answers as (once, when it starts).
    pub fn make_current(self) {
        let _ = PROGRAM.set(self);
    }

    /// The program this process answers as (strap unless it started as `pyenv`).
    pub fn current() -> Program {
        PROGRAM.get().copied().unwrap_or(Program::Strap)
    }

    /// Its name: `strap`, `pyenv`.
    pub fn name(self) -> &'static str {
        match self {
            Program::Strap => "strap",
            Program::Pyenv => "pyenv",
        }
    }

    /// `words` as a command to type, for a command both have: `strap local proj`, `pyenv local
    /// proj`.
    pub fn command(self, words: &str) -> String {
        format!("{} {words}", self.name())
    }
}
