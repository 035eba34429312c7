//! Sizes of the zipped Lambda artifacts that `cargo lambda build --output-format zip`
//! writes to `target/lambda/<function>/bootstrap.zip`.

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Lambda's limit is far higher; this is the product's own target per function.
pub const TARGET_ZIP_BYTES: u64 = 4 * 1024 * 1024;

/// One function's artifact.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArtifactSize {
    pub name: String,
    pub zip_bytes: u64,
    /// The `bootstrap` binary inside, uncompressed.
    pub bootstrap_bytes: u64,
}

/// Reads `<lambda_dir>/<name>/bootstrap.zip` for each name.
pub fn read_sizes(lambda_dir: &Path, names: &[&str]) -> anyhow::Result<Vec<ArtifactSize>> {
    names
        .iter()
        .map(|name| {
            let path = lambda_dir.join(name).join("bootstrap.zip");
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let bootstrap_bytes = uncompressed_size(&bytes, "bootstrap")
                .with_context(|| format!("reading the entries of {}", path.display()))?;
            Ok(ArtifactSize {
                name: (*name).to_owned(),
                zip_bytes: bytes.len() as u64,
                bootstrap_bytes,
            })
        })
        .collect()
}

/// Finds `entry` in the zip's central directory and returns its uncompressed size.
/// The central directory is read rather than the local headers because a streaming
/// writer may leave the sizes in local headers as zero.
fn uncompressed_size(zip: &[u8], entry: &str) -> anyhow::Result<u64> {
    const END_SIGNATURE: u32 = 0x0605_4b50;
    const ENTRY_SIGNATURE: u32 = 0x0201_4b50;
    const END_RECORD_LEN: usize = 22;
    let end = (0..=zip.len().saturating_sub(END_RECORD_LEN))
        .rev()
        .find(|&at| read_u32(zip, at) == Some(END_SIGNATURE))
        .context("no end of central directory record")?;
    let entries = read_u16(zip, end + 10).context("truncated end record")?;
    let mut at = read_u32(zip, end + 16).context("truncated end record")? as usize;
    for _ in 0..entries {
        if read_u32(zip, at) != Some(ENTRY_SIGNATURE) {
            bail!("damaged central directory at byte {at}");
        }
        let size = read_u32(zip, at + 24).context("truncated entry")?;
        let name_len = usize::from(read_u16(zip, at + 28).context("truncated entry")?);
        let extra_len = usize::from(read_u16(zip, at + 30).context("truncated entry")?);
        let comment_len = usize::from(read_u16(zip, at + 32).context("truncated entry")?);
        let name = zip
            .get(at + 46..at + 46 + name_len)
            .context("truncated entry name")?;
        if name == entry.as_bytes() {
            return Ok(u64::from(size));
        }
        at += 46 + name_len + extra_len + comment_len;
    }
    bail!("no entry named {entry}")
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a zip with one stored entry, field by field from the format's layout.
    fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
        let size = (data.len() as u32).to_le_bytes();
        let name_len = (name.len() as u16).to_le_bytes();
        let mut zip = Vec::new();
        zip.extend(0x0403_4b50u32.to_le_bytes());
        zip.extend([20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        zip.extend(size);
        zip.extend(size);
        zip.extend(name_len);
        zip.extend([0, 0]);
        zip.extend(name.as_bytes());
        zip.extend(data);
        let directory_at = (zip.len() as u32).to_le_bytes();
        let directory_start = zip.len();
        zip.extend(0x0201_4b50u32.to_le_bytes());
        zip.extend([20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        zip.extend(size);
        zip.extend(size);
        zip.extend(name_len);
        zip.extend([0; 12]);
        zip.extend([0; 4]);
        zip.extend(name.as_bytes());
        let directory_len = ((zip.len() - directory_start) as u32).to_le_bytes();
        zip.extend(0x0605_4b50u32.to_le_bytes());
        zip.extend([0, 0, 0, 0, 1, 0, 1, 0]);
        zip.extend(directory_len);
        zip.extend(directory_at);
        zip.extend([0, 0]);
        zip
    }

    #[test]
    fn reads_the_uncompressed_size_of_an_entry() {
        let zip = stored_zip("bootstrap", &[7; 1234]);
        assert_eq!(uncompressed_size(&zip, "bootstrap").expect("entry"), 1234);
    }

    #[test]
    fn missing_entry_is_an_error() {
        let zip = stored_zip("other", b"x");
        let error = uncompressed_size(&zip, "bootstrap").expect_err("no bootstrap");
        assert!(error.to_string().contains("no entry named bootstrap"));
    }

    #[test]
    fn non_zip_file_is_an_error() {
        assert!(uncompressed_size(b"not a zip at all, just text", "bootstrap").is_err());
    }

    #[test]
    fn reads_sizes_from_the_lambda_folder() {
        let dir = std::env::temp_dir().join(format!("bench-sizes-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("webhook")).expect("mkdir");
        let zip = stored_zip("bootstrap", &[1; 500]);
        std::fs::write(dir.join("webhook/bootstrap.zip"), &zip).expect("write");
        let sizes = read_sizes(&dir, &["webhook"]).expect("sizes");
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(sizes[0].zip_bytes, zip.len() as u64);
        assert_eq!(sizes[0].bootstrap_bytes, 500);
    }
}
