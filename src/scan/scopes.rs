//! Rules that apply only to some files (`paths` in the rule): which of them a blob's path
//! admits, and which of those read the whole file (rules for credential files known by their
//! name: `.vault_pass`, `config/master.key`). The matcher knows nothing of paths, so the
//! collector asks here per blob; without such rules it costs one branch.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::matcher::Matcher;

#[derive(Debug)]
pub struct RuleScopes {
    globs: GlobSet,
    /// The rule of each glob, in `globs` order.
    owners: Vec<usize>,
    /// Per rule: whether it has paths.
    scoped: Vec<bool>,
    /// The rules with paths and keywords: matched like any other rule, but only in the files
    /// their paths admit.
    scoped_keyword_rules: Vec<usize>,
}

impl Default for RuleScopes {
    fn default() -> Self {
        RuleScopes {
            globs: GlobSet::empty(),
            owners: Vec::new(),
            scoped: Vec::new(),
            scoped_keyword_rules: Vec::new(),
        }
    }
}

impl RuleScopes {
    /// Compiles every rule's `paths` (already checked to be globs when the rule loaded).
    pub fn new(matcher: &Matcher) -> Result<RuleScopes, globset::Error> {
        let mut builder = GlobSetBuilder::new();
        let mut owners = Vec::new();
        let mut scoped = vec![false; matcher.rule_count()];
        for (index, flag) in scoped.iter_mut().enumerate() {
            for glob in &matcher.rule(index).paths {
                // `*` stays within one path component, as in .gitignore.
                builder.add(GlobBuilder::new(glob).literal_separator(true).build()?);
                owners.push(index);
                *flag = true;
            }
        }
        let scoped_keyword_rules = (0..matcher.rule_count())
            .filter(|&index| scoped[index] && !matcher.is_whole_file(index))
            .collect();
        Ok(RuleScopes {
            globs: builder.build()?,
            owners,
            scoped,
            scoped_keyword_rules,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// Whether the rule applies only to some paths.
    pub fn is_scoped(&self, rule: usize) -> bool {
        self.scoped.get(rule).copied().unwrap_or(false)
    }

    /// The keyword rules with paths that `admitted` (from `admit`) leaves out.
    pub fn not_admitted<'a>(&'a self, admitted: &'a [usize]) -> impl Iterator<Item = usize> + 'a {
        self.scoped_keyword_rules
            .iter()
            .copied()
            .filter(|rule| admitted.binary_search(rule).is_err())
    }

    /// Fills `admitted` with the scoped rules `path` admits (`hits` is scratch space).
    pub fn admit(&self, path: &str, hits: &mut Vec<usize>, admitted: &mut Vec<usize>) {
        admitted.clear();
        if self.is_empty() {
            return;
        }
        self.globs.matches_into(path, hits);
        admitted.extend(hits.iter().map(|&glob| self.owners[glob]));
        admitted.sort_unstable();
        admitted.dedup();
    }
}
