//! The JSON files under `target/bench/` through which measures hand results to `report`.

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;

pub const COLD_START: &str = "cold_start.json";
pub const BURST: &str = "burst.json";
pub const SIZES: &str = "sizes.json";
pub const FLOOR_SIZE: &str = "floor_size.json";

/// Writes `value` as pretty JSON to `path`, creating its folder.
pub fn write<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let json = serde_json::to_string_pretty(value)?;
    std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Reads a results file. A missing or unreadable file is reported and gives `None`, and
/// the page then states that the measure did not run.
pub fn read<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("{}: {error}", path.display());
            return None;
        }
    };
    serde_json::from_str(&text)
        .map_err(|error| eprintln!("{}: {error}", path.display()))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back() {
        let path = std::env::temp_dir().join(format!("bench-results-{}.json", std::process::id()));
        write(&path, &vec![1u32, 2, 3]).expect("write");
        let back: Option<Vec<u32>> = read(&path);
        std::fs::remove_file(&path).ok();
        assert_eq!(back, Some(vec![1, 2, 3]));
    }

    #[test]
    fn missing_file_reads_as_none() {
        let back: Option<Vec<u32>> = read(Path::new("/nonexistent/bench/results.json"));
        assert_eq!(back, None);
    }
}
