//! Zed extension: runs `tailpolicy lsp` (found on `PATH`) for JSONC buffers.
use zed_extension_api as zed;

struct Tailpolicy;

impl zed::Extension for Tailpolicy {
    fn new() -> Self {
        Tailpolicy
    }

    fn language_server_command(
        &mut self,
        _id: &zed::LanguageServerId,
        worktree: &zed::Worktree,
    ) -> zed::Result<zed::Command> {
        let command = worktree
            .which("tailpolicy")
            .ok_or_else(|| "tailpolicy is not on PATH (cargo install --path crates/tailpolicy-cli)".to_string())?;
        Ok(zed::Command {
            command,
            args: vec!["lsp".into()],
            env: Vec::new(),
        })
    }
}

zed::register_extension!(Tailpolicy);
