//! The first phase of every scanning command: parsed flags and the chosen configuration become
//! one checked `Plan` (rules loaded and compiled, allowlist, baseline, limits, the per-run
//! pipeline). Each command is then plan -> source -> pipeline -> report.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::args::{CommonArgs, FailOn};
use super::config_source::ConfigSource;
use super::output;
use crate::config::Config;
use crate::matcher::Matcher;
use crate::pipeline::{ApplyBaseline, LateFloors, Pipeline, Redact, Validate};
use crate::rules::{self, LoadedRule};
use crate::scan::ScanSettings;
use crate::source::budget::MemoryBudget;
use crate::source::{self, DEFAULT_MAX_FILE_SIZE};
use crate::suppress::baseline::Baseline;
use crate::suppress::{Allowlist, Suppressor};
use crate::validation::context::ContextFinders;
use crate::validation::{self, Validators};

/// Everything built once from the arguments and config before any byte is read: every flag is
/// checked here, so a run that starts reading has nothing left to refuse.
pub(super) struct Plan {
    pub(super) matcher: Matcher,
    /// Each rule's validator, filled only with --validate.
    validators: Validators,
    /// The engine `--validate` sends requests with (built, never used, without it).
    validation_engine: Option<validation::Engine>,
    only_live: bool,
    pub(super) admission: source::AdmissionOptions,
    baseline: Option<Baseline>,
    pub(super) settings: ScanSettings,
    pub(super) threads: usize,
    pub(super) max_file_size: u64,
    /// Shared by every reader thread of the run (`--memory-budget`).
    pub(super) budget: Arc<MemoryBudget>,
}

impl Plan {
    /// The per-run chain every command's findings go through before they are reported.
    pub(super) fn pipeline(&self) -> Pipeline<'_> {
        Pipeline {
            redact: Redact {
                show_secrets: self.settings.show_secrets,
            },
            baseline: self
                .baseline
                .as_ref()
                .map(|baseline| ApplyBaseline { baseline }),
            late_floors: self.validation_engine.as_ref().map(|_| LateFloors {
                suppressor: &self.settings.suppressor,
            }),
            validate: self.validation_engine.as_ref().map(|engine| Validate {
                validators: &self.validators,
                engine,
                only_live: self.only_live,
            }),
        }
    }
}

/// Checks the flags and the configuration and builds the plan.
pub(super) fn build(common: &CommonArgs, config: ConfigSource<'_>) -> Result<Plan> {
    crate::finding::init_fingerprint_key()?;
    if let (Some(report), Some(baseline_file)) = (&common.output, &common.write_baseline) {
        if output::resolve_destination(report)? == output::resolve_destination(baseline_file)? {
            bail!(
                "--output and --write-baseline both name {}: the baseline would overwrite the \
                 report",
                report.display()
            );
        }
    }
    // A configuration read from a revision names rule files as of that revision: they are read
    // from the same tree, so a change under review cannot swap a base rule file in the work
    // tree either.
    let revision = match (&common.config, &config) {
        (None, ConfigSource::Revision { at, .. }) => Some(at.clone()),
        _ => None,
    };
    let config = match &common.config {
        Some(file) => Config::load(file)?,
        None => config.load()?,
    };
    let mut loaded = rules::load_builtin().context("built-in rules")?;
    let mut user_rules: Vec<LoadedRule> = Vec::new();
    if let Some((repo, at)) = &revision {
        for relative in &config.rules {
            if relative.is_absolute() {
                user_rules.extend(rules::load_path(relative)?);
                continue;
            }
            let name = relative.to_string_lossy().replace('\\', "/");
            let files =
                source::git::toml_files_at_revision(repo, at, &name)?.with_context(|| {
                    format!("rules = [{name:?}]: no such file or directory at {at}")
                })?;
            let named: Vec<(PathBuf, Vec<u8>)> = files
                .into_iter()
                .map(|(path, bytes)| (PathBuf::from(format!("{path} (at {at})")), bytes))
                .collect();
            user_rules.extend(rules::loader::load_texts(&named)?);
        }
    }
    let from_disk: Vec<PathBuf> = if revision.is_some() {
        Vec::new()
    } else {
        config.rule_paths()
    };
    for path in from_disk.iter().chain(common.rules.iter()) {
        user_rules.extend(rules::load_path(path)?);
        if user_rules.len() > rules::loader::MAX_USER_RULES {
            bail!(
                "{}: more than {} user rules in this run; leakhound loads at most {}",
                path.display(),
                rules::loader::MAX_USER_RULES,
                rules::loader::MAX_USER_RULES
            );
        }
    }
    if !user_rules.is_empty() {
        let failures = crate::matcher::examples::check_examples(&user_rules);
        if let Some(first) = failures.first() {
            bail!("{first}");
        }
        loaded.extend(user_rules);
    }
    rules::loader::ensure_unique_ids(&loaded)?;
    for (rule_id, floor) in &config.entropy {
        let Some(rule) = loaded.iter_mut().find(|rule| &rule.spec.id == rule_id) else {
            bail!(
                "{}: invalid value for `entropy.{rule_id}`: no rule has this id",
                config_origin(&config)
            );
        };
        rule.spec.entropy = Some(*floor);
    }
    // Public-by-design forms and documented samples are facts about providers: they hold
    // whichever rules run.
    let provider_facts = crate::matcher::ProviderFacts::of(loaded.iter().map(|rule| &rule.spec));
    for rule_id in common.only_rules.iter().chain(&common.exclude_rules) {
        if !loaded.iter().any(|rule| &rule.spec.id == rule_id) {
            bail!("no rule has the id `{rule_id}` (see `leakhound rules list`)");
        }
    }
    if !common.only_rules.is_empty() {
        loaded.retain(|rule| common.only_rules.contains(&rule.spec.id));
    }
    loaded.retain(|rule| !common.exclude_rules.contains(&rule.spec.id));
    for rule_id in &config.disabled_rules {
        if !loaded.iter().any(|rule| &rule.spec.id == rule_id) {
            bail!(
                "{}: invalid value for `disabled_rules`: no rule has the id `{rule_id}`",
                config_origin(&config)
            );
        }
    }
    // A disabled rule is not compiled in: left in, it would win overlaps against enabled rules
    // matching the same bytes and then be suppressed, hiding what they found. With
    // --no-suppress it stays, so its findings show.
    let before = loaded.len();
    if !common.no_suppress {
        loaded.retain(|rule| !config.disabled_rules.contains(&rule.spec.id));
    }
    let disabled_rules = before - loaded.len();
    if common.fail_on == FailOn::Live && !common.validate {
        bail!("--fail-on live needs --validate: without it no finding is known to be live");
    }
    let validators: Validators = if common.validate {
        loaded
            .iter()
            .filter_map(|rule| {
                let check = rule.spec.validate.clone()?;
                Some((rule.spec.id.clone(), Arc::new(check)))
            })
            .collect()
    } else {
        Validators::new()
    };
    let matcher = Matcher::with_provider_facts(
        loaded.into_iter().map(|rule| rule.spec).collect(),
        &provider_facts,
    )?;
    let mut config = config;
    for glob in &common.exclude_paths {
        if let Err(error) = globset::Glob::new(glob) {
            bail!("--exclude {glob:?} is not a valid glob: {}", error.kind());
        }
        config.allowlist.paths.push(glob.clone());
    }
    let allowlist = Allowlist::from_config(&config).with_context(|| config_origin(&config))?;
    let threads = common.threads.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let baseline = match &common.baseline {
        Some(path) => Some(Baseline::load(path)?),
        None => None,
    };
    let max_file_size = common
        .max_file_size
        .or(config.max_file_size)
        .unwrap_or(DEFAULT_MAX_FILE_SIZE);
    let validation_engine = if common.validate {
        let endpoints = validation::Endpoints::for_this_build().map_err(anyhow::Error::msg)?;
        Some(validation::Engine::new(
            validation::EngineOptions {
                timeout: Duration::from_secs(u64::from(common.validate_timeout)),
                ..Default::default()
            },
            endpoints,
        ))
    } else {
        None
    };
    let scopes =
        crate::scan::scopes::RuleScopes::new(&matcher).context("rule paths do not compile")?;
    let validation_context = Arc::new(ContextFinders::new(&validators));
    let pairing_parts = validators
        .values()
        .flat_map(|check| check.parts.values().cloned())
        .collect();
    Ok(Plan {
        matcher,
        validators,
        validation_engine,
        only_live: common.only_live,
        admission: source::AdmissionOptions {
            archives: (!common.no_archives).then(|| source::archive::Limits {
                max_depth: usize::from(common.archive_depth),
                ..source::archive::Limits::with_max_entry(max_file_size)
            }),
            binary_strings: !common.no_binary,
        },
        baseline,
        settings: ScanSettings {
            scopes,
            show_secrets: common.show_secrets,
            suppressor: Suppressor {
                min_severity: common.min_severity,
                min_confidence: common.min_confidence.map(Into::into),
                allowlist,
                report_everything: common.no_suppress,
                pairing_parts,
            },
            progress: !common.no_progress,
            archives: !common.no_archives,
            disabled_rules,
            decode_depth: if common.no_decode {
                0
            } else {
                usize::from(common.decode_depth)
            },
            novelty: true,
            validation_context,
        },
        threads,
        max_file_size,
        budget: Arc::new(MemoryBudget::new(
            common
                .memory_budget
                .unwrap_or_else(source::budget::default_capacity),
        )),
    })
}

fn config_origin(config: &Config) -> String {
    config
        .origin
        .as_deref()
        .map_or_else(|| "config".to_string(), |path| path.display().to_string())
}
