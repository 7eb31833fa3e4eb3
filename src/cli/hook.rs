//! `leakhound hook install|uninstall`: a pre-commit hook that runs `leakhound staged`. The
//! hook carries a marker line so we only ever overwrite or remove a hook we wrote.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

const MARKER: &str = "# installed by `leakhound hook install`";

/// Where git looks for hooks: `core.hooksPath` if set, else `<git dir>/hooks`.
fn hooks_directory(start: &Path) -> Result<PathBuf> {
    let repo = gix::discover(start)
        .with_context(|| format!("{}: not a git repository", start.display()))?;
    let configured = repo
        .config_snapshot()
        .string("core.hooksPath")
        .map(|value| PathBuf::from(value.to_string()));
    Ok(match configured {
        Some(path) if path.is_absolute() => path,
        Some(path) => repo
            .workdir()
            .map_or_else(|| repo.git_dir().to_path_buf(), Path::to_path_buf)
            .join(path),
        None => repo.git_dir().join("hooks"),
    })
}

fn hook_script() -> String {
    let binary = std::env::current_exe()
        .ok()
        .map(|path| path.display().to_string())
        .unwrap_or_else(|| "leakhound".to_string());
    let quoted = binary.replace('\'', "'\\''");
    format!(
        "#!/bin/sh\n{MARKER}\n# Blocks commits that add hardcoded credentials. Allow a false positive with a\n\
         # `leakhound:allow` comment on its line; skip the check once with `git commit --no-verify`.\n\
         LEAKHOUND='{quoted}'\n\
         if [ ! -x \"$LEAKHOUND\" ]; then LEAKHOUND=leakhound; fi\n\
         exec \"$LEAKHOUND\" staged --no-progress\n"
    )
}

pub fn install(start: &Path, force: bool) -> Result<i32> {
    let directory = hooks_directory(start)?;
    std::fs::create_dir_all(&directory)
        .with_context(|| format!("cannot create {}", directory.display()))?;
    let hook = directory.join("pre-commit");
    if let Ok(existing) = std::fs::read_to_string(&hook) {
        if !existing.contains(MARKER) && !force {
            bail!(
                "{} exists and was not written by leakhound; keep it, or replace it with \
                 `leakhound hook install --force`",
                hook.display()
            );
        }
    } else if hook.exists() && !force {
        bail!(
            "{} exists and was not written by leakhound; replace it with --force",
            hook.display()
        );
    }
    std::fs::write(&hook, hook_script())
        .with_context(|| format!("cannot write {}", hook.display()))?;
    set_executable(&hook)?;
    eprintln!("leakhound: installed {}", hook.display());
    Ok(super::EXIT_CLEAN)
}

pub fn uninstall(start: &Path) -> Result<i32> {
    let directory = hooks_directory(start)?;
    let hook = directory.join("pre-commit");
    match std::fs::read_to_string(&hook) {
        Ok(existing) if existing.contains(MARKER) => {
            std::fs::remove_file(&hook)
                .with_context(|| format!("cannot remove {}", hook.display()))?;
            eprintln!("leakhound: removed {}", hook.display());
            Ok(super::EXIT_CLEAN)
        }
        Ok(_) => bail!(
            "{} was not written by leakhound; leaving it in place",
            hook.display()
        ),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("leakhound: no pre-commit hook installed");
            Ok(super::EXIT_CLEAN)
        }
        Err(error) => Err(error).with_context(|| format!("cannot read {}", hook.display())),
    }
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = std::fs::metadata(path)?.permissions();
    permissions.set_mode(0o755);
    std::fs::set_permissions(path, permissions)
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) -> Result<()> {
    Ok(())
}
