//! `--port-file`: the bound ports as JSON, for test runners that start
//! `mtakit serve` on port 0.

use std::io;
use std::path::Path;

/// Writes `{"smtp": PORT, "http": PORT|null, "implicit_tls": PORT|null}`
/// to `path` atomically: a temporary file beside it, then a rename, so a
/// reader never sees half of it.
pub(crate) fn write(
    path: &Path,
    smtp: u16,
    http: Option<u16>,
    implicit_tls: Option<u16>,
) -> io::Result<()> {
    let json = serde_json::json!({ "smtp": smtp, "http": http, "implicit_tls": implicit_tls });
    let mut name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?
        .to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(name);
    std::fs::write(&tmp, format!("{json}\n"))?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_json_atomically() {
        let dir = std::env::temp_dir().join(format!("mtakit-ports-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ports.json");
        super::write(&file, 2525, None, Some(465)).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"smtp": 2525, "http": null, "implicit_tls": 465})
        );
    }
}
