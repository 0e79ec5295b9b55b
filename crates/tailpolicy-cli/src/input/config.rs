//! The lint configuration: `--config FILE`, or the nearest `tailpolicy.toml` of each policy.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use tailpolicy::LintConfig;

use super::{STDIN, display_path, read_text};
use crate::render::FileResult;

/// The name of the configuration file looked for next to policies.
pub const CONFIG_FILE: &str = "tailpolicy.toml";

/// The lint configuration of each policy, in order: the `--config` file for all, or the
/// nearest `tailpolicy.toml` of each (`None`: defaults). A file that cannot be read or
/// parsed stops the run.
pub fn lint_configs(
    config: Option<&Path>,
    policies: &[PathBuf],
) -> Result<Vec<Option<Rc<LintConfig>>>, FileResult> {
    if let Some(path) = config {
        let config = Rc::new(load_config(path, display_path(path))?);
        return Ok(policies.iter().map(|_| Some(Rc::clone(&config))).collect());
    }
    let mut loaded: HashMap<PathBuf, Rc<LintConfig>> = HashMap::new();
    let mut configs = Vec::with_capacity(policies.len());
    for policy in policies {
        let Some(found) = discover_config(policy) else {
            configs.push(None);
            continue;
        };
        if let Some(config) = loaded.get(&found) {
            configs.push(Some(Rc::clone(config)));
            continue;
        }
        let config = Rc::new(load_config(&found, shown_path(&found))?);
        loaded.insert(found, Rc::clone(&config));
        configs.push(Some(config));
    }
    Ok(configs)
}

/// The nearest `tailpolicy.toml`: in the policy's directory (the current one for standard
/// input), then in each parent, up to and including the first directory holding `.git`.
pub fn discover_config(policy: &Path) -> Option<PathBuf> {
    let dir = if policy.as_os_str() == STDIN {
        Path::new(".")
    } else {
        policy
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    };
    let dir = std::path::absolute(dir).ok()?;
    for dir in dir.ancestors() {
        let candidate = dir.join(CONFIG_FILE);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

/// A discovered path, relative to the current directory when it lies below it.
fn shown_path(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

fn load_config(path: &Path, display: String) -> Result<LintConfig, FileResult> {
    let text = read_text(path, &display, "configuration ")?;
    let mut config = LintConfig::from_toml_str(&text).map_err(|diagnostics| FileResult {
        path: display,
        source: Some(text),
        diagnostics,
        failed: true,
    })?;
    // Inventory paths are relative to the configuration file.
    let dir = path.parent().unwrap_or(Path::new(""));
    for file in &mut config.inventory {
        *file = dir.join(&*file).display().to_string();
    }
    Ok(config)
}
