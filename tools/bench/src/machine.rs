//! The facts about the machine that the results page states, so readers can compare runs.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu_model: String,
    pub memory_gib: f64,
    pub kernel: String,
    pub rustc: String,
    /// UTC, such as `2026-12-04 18:40 UTC`.
    pub date: String,
}

impl Machine {
    /// Reads the facts from `/proc`, `rustc --version` and the clock.
    pub fn describe() -> Self {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let meminfo = read("/proc/meminfo");
        let rustc = std::process::Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
            .unwrap_or_default();
        let now = time::OffsetDateTime::now_utc();
        Self {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model: field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".to_owned()),
            memory_gib: field(&meminfo, "MemTotal")
                .and_then(|value| value.trim_end_matches("kB").trim().parse::<f64>().ok())
                .map_or(0.0, |kib| kib / (1024.0 * 1024.0)),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            rustc,
            date: format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                now.year(),
                u8::from(now.month()),
                now.day(),
                now.hour(),
                now.minute()
            ),
        }
    }
}

/// Returns the value of the first `name: value` line in a `/proc` file.
fn field(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_proc_field() {
        let text = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t: fpu\n";
        assert_eq!(field(text, "model name").as_deref(), Some("AMD EPYC"));
        assert_eq!(field(text, "cache size"), None);
    }

    #[test]
    fn describes_this_machine() {
        let machine = Machine::describe();
        assert!(machine.cores >= 1);
        assert!(machine.date.ends_with(" UTC"), "{}", machine.date);
    }
}
