//! The one place that talks to providers: bounded concurrency per host, timeouts, retries with
//! backoff, redirects only within the validator's own host, HTTPS only. Response bodies are read
//! (bounded) to evaluate them and then dropped.

use std::collections::{HashMap, HashSet};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::rules::model::HttpCheck;
use crate::validation::request::{self, Built, Values, Verdict};
use crate::validation::ValidationStatus;

/// Tunables; `Default` is what the command line uses.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Per request, connect included.
    pub timeout: Duration,
    /// Connecting alone; short, so a machine without network learns it in seconds.
    pub connect_timeout: Duration,
    /// Further attempts after a 429, a 5xx or a dropped connection.
    pub retries: u32,
    /// First wait before retrying; doubles each time. A `Retry-After` is honoured up to
    /// `max_wait`.
    pub backoff: Duration,
    pub max_wait: Duration,
    /// Requests in flight to one host at a time.
    pub per_host: usize,
    /// Requests in flight overall.
    pub workers: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(4),
            retries: 2,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(8),
            per_host: 4,
            workers: 8,
        }
    }
}

/// Where each provider host is really reached. Empty in a release binary: requests go to the
/// host named in the rule, over HTTPS. Tests map hosts to a loopback server.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    loopback: HashMap<String, String>,
}

impl Endpoints {
    /// Sends each listed host's requests to a plain-HTTP server on this machine instead
    /// (`http://127.0.0.1:PORT`). Only loopback targets are accepted, so this can never send a
    /// secret anywhere but the machine it runs on.
    pub fn loopback_for_tests(map: HashMap<String, String>) -> Result<Endpoints, String> {
        for target in map.values() {
            let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
                .iter()
                .any(|prefix| target.starts_with(prefix));
            if !loopback || target.trim_end_matches('/').matches('/').count() != 2 {
                return Err(format!(
                    "test endpoint {target:?} is not http://127.0.0.1:PORT"
                ));
            }
        }
        Ok(Endpoints { loopback: map })
    }

    /// The endpoints a binary uses. Debug builds (what `cargo test` runs) read a loopback map
    /// from `LEAKHOUND_TEST_ENDPOINTS` (`host=http://127.0.0.1:PORT,...`) so the command-line
    /// tests can run without the internet; release builds never read it.
    pub fn for_this_build() -> Result<Endpoints, String> {
        #[cfg(debug_assertions)]
        if let Ok(spec) = std::env::var("LEAKHOUND_TEST_ENDPOINTS") {
            let mut map = HashMap::new();
            for entry in spec.split(',').filter(|entry| !entry.is_empty()) {
                let (host, target) = entry
                    .split_once('=')
                    .ok_or("LEAKHOUND_TEST_ENDPOINTS entries are host=url")?;
                map.insert(host.to_string(), target.trim_end_matches('/').to_string());
            }
            return Endpoints::loopback_for_tests(map);
        }
        Ok(Endpoints::default())
    }

    fn is_empty(&self) -> bool {
        self.loopback.is_empty()
    }

    /// The URL to connect to for `built`'s real URL.
    /// A map key `*.example.com` stands for every host under `example.com`, as in `hosts`.
    fn target(&self, url: &str, host: &str) -> String {
        let base = self.loopback.get(host).or_else(|| {
            self.loopback.iter().find_map(|(pattern, base)| {
                (pattern.starts_with("*.")
                    && crate::rules::validate::host_allowed(std::slice::from_ref(pattern), host))
                .then_some(base)
            })
        });
        match base {
            Some(base) => format!("{base}{}", &url["https://".len() + host.len()..]),
            None => url.to_string(),
        }
    }
}

/// One question for a provider: a check and the credential's values.
pub struct Job<'a> {
    pub check: &'a HttpCheck,
    pub values: Values,
}

pub struct Engine {
    agent: ureq::Agent,
    endpoints: Endpoints,
    options: EngineOptions,
}

/// What happened to the hosts during a run, for the one-line warning.
#[derive(Debug, Default, Clone)]
pub struct HostReport {
    pub unreachable: Vec<String>,
    pub requests: usize,
}

impl Engine {
    pub fn new(options: EngineOptions, endpoints: Endpoints) -> Engine {
        let config = ureq::Agent::config_builder()
            .https_only(endpoints.is_empty())
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(options.timeout))
            .timeout_connect(Some(options.connect_timeout))
            .timeout_resolve(Some(options.connect_timeout))
            .user_agent(concat!(
                "leakhound/",
                env!("CARGO_PKG_VERSION"),
                " (secret validation)"
            ))
            .build();
        Engine {
            agent: config.new_agent(),
            endpoints,
            options,
        }
    }

    /// Runs every job, each once, in parallel within the per-host and overall bounds; the
    /// verdicts come back in job order.
    pub fn run(&self, jobs: &[Job<'_>]) -> (Vec<Verdict>, HostReport) {
        let hosts: Vec<String> = jobs
            .iter()
            .map(|job| request::job_host(job.check, &job.values))
            .collect();
        let state = Mutex::new(Schedule {
            queue: (0..jobs.len()).collect(),
            in_flight: HashMap::new(),
            unreachable: HashSet::new(),
            answered: false,
            requests: 0,
        });
        let wake = Condvar::new();
        let verdicts: Mutex<Vec<Option<Verdict>>> = Mutex::new(vec![None; jobs.len()]);
        let workers = self.options.workers.clamp(1, jobs.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let next = {
                        let mut schedule = state.lock().unwrap_or_else(|e| e.into_inner());
                        loop {
                            if schedule.queue.is_empty() {
                                break None;
                            }
                            let ready = schedule.queue.iter().position(|&index| {
                                schedule.in_flight.get(&hosts[index]).copied().unwrap_or(0)
                                    < self.options.per_host
                            });
                            if let Some(position) = ready {
                                let index = schedule.queue.remove(position);
                                let host = &hosts[index];
                                if let Some(reason) = schedule.give_up(host) {
                                    let verdict = unknown(reason);
                                    verdicts.lock().unwrap_or_else(|e| e.into_inner())[index] =
                                        Some(verdict);
                                    continue;
                                }
                                *schedule.in_flight.entry(host.clone()).or_default() += 1;
                                break Some(index);
                            }
                            schedule = wake.wait(schedule).unwrap_or_else(|e| e.into_inner());
                        }
                    };
                    let Some(index) = next else { break };
                    let (verdict, contact) = self.execute(&jobs[index]);
                    {
                        let mut schedule = state.lock().unwrap_or_else(|e| e.into_inner());
                        schedule.requests += contact.requests;
                        match contact.reached {
                            true => schedule.answered = true,
                            false => {
                                schedule.unreachable.insert(hosts[index].clone());
                            }
                        }
                        if let Some(count) = schedule.in_flight.get_mut(&hosts[index]) {
                            *count -= 1;
                        }
                    }
                    verdicts.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(verdict);
                    wake.notify_all();
                });
            }
        });
        let schedule = state.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut unreachable: Vec<String> = schedule.unreachable.into_iter().collect();
        unreachable.sort();
        let verdicts = verdicts
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .map(|verdict| verdict.unwrap_or_else(|| unknown("not checked".into())))
            .collect();
        (
            verdicts,
            HostReport {
                unreachable,
                requests: schedule.requests,
            },
        )
    }

    /// One job: its URL, then its fallback URLs while the answers say invalid or unknown. The
    /// first live answer wins (naming the host that gave it); invalid needs every URL to say so.
    fn execute(&self, job: &Job<'_>) -> (Verdict, Contact) {
        let (first, mut contact) = self.execute_url(job, &job.check.url);
        if first.status == ValidationStatus::Live || job.check.fallback_urls.is_empty() {
            return (first, contact);
        }
        let mut first_unknown =
            (first.status == ValidationStatus::Unknown).then(|| first.detail.clone());
        let mut last = first;
        for url in &job.check.fallback_urls {
            let (mut verdict, tried) = self.execute_url(job, url);
            contact.requests += tried.requests;
            contact.reached |= tried.reached;
            if verdict.status == ValidationStatus::Live {
                // Which regional host said so; a fallback on the same host says nothing new.
                let host = crate::rules::validate::url_host(url);
                if host.is_some() && host != crate::rules::validate::url_host(&job.check.url) {
                    verdict
                        .identity
                        .insert("host".into(), host.unwrap_or_default().to_string());
                }
                return (verdict, contact);
            }
            if verdict.status == ValidationStatus::Unknown && first_unknown.is_none() {
                first_unknown = Some(verdict.detail.clone());
            }
            last = verdict;
        }
        if let Some(detail) = first_unknown {
            return (
                unknown(format!("no URL said live; one could not say: {detail}")),
                contact,
            );
        }
        // Every host said invalid.
        last.detail = format!(
            "{} (at each of the {} URLs tried)",
            last.detail,
            job.check.fallback_urls.len() + 1
        );
        (last, contact)
    }

    /// One URL of a job: build, send (retrying), follow same-host redirects, evaluate.
    fn execute_url(&self, job: &Job<'_>, url_template: &str) -> (Verdict, Contact) {
        let mut contact = Contact {
            reached: true,
            requests: 0,
        };
        let mut built = match request::build_for(
            job.check,
            url_template,
            &job.values,
            &super::sigv4::amz_date_now(),
        ) {
            Ok(built) => built,
            Err(problem) => return (unknown(format!("not sent: {problem}")), contact),
        };
        let mut redirects = 0;
        let mut attempt = 0;
        loop {
            contact.requests += 1;
            match self.send(&built) {
                Ok(answer) => {
                    if (300..400).contains(&answer.status) && answer.status != 304 {
                        let Some(location) = answer.location else {
                            return (
                                unknown(format!(
                                    "HTTP {}: redirect without a Location",
                                    answer.status
                                )),
                                contact,
                            );
                        };
                        match same_host_redirect(&built, &location) {
                            Some(url) if redirects < 3 => {
                                redirects += 1;
                                built.url = url;
                                continue;
                            }
                            Some(_) => return (unknown("too many redirects".into()), contact),
                            None => {
                                return (
                                    unknown(format!(
                                        "HTTP {}: redirect to another host refused",
                                        answer.status
                                    )),
                                    contact,
                                )
                            }
                        }
                    }
                    let retryable = answer.status == 429 || answer.status >= 500;
                    if retryable && attempt < self.options.retries {
                        let wait = answer
                            .retry_after
                            .unwrap_or(self.options.backoff * 2u32.pow(attempt))
                            .min(self.options.max_wait);
                        std::thread::sleep(wait);
                        attempt += 1;
                        continue;
                    }
                    return (
                        request::evaluate_reading(
                            job.check,
                            request::Reading {
                                status: answer.status,
                                headers: &answer.headers,
                                body: &answer.body,
                            },
                        ),
                        contact,
                    );
                }
                Err(Failure::Unreachable(reason)) => {
                    contact.reached = false;
                    return (unknown(reason), contact);
                }
                Err(Failure::Final(reason)) => return (unknown(reason), contact),
                Err(Failure::Transient(reason)) => {
                    if attempt < self.options.retries {
                        std::thread::sleep(self.options.backoff * 2u32.pow(attempt));
                        attempt += 1;
                        continue;
                    }
                    return (unknown(reason), contact);
                }
            }
        }
    }

    fn send(&self, built: &Built) -> Result<Answer, Failure> {
        let target = self.endpoints.target(&built.url, &built.host);
        let mut builder = ureq::http::Request::builder()
            .method(built.method.as_str())
            .uri(&target);
        for (name, value) in &built.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let result = if built.body.is_empty() {
            builder
                .body(())
                .map_err(|_| Failure::Transient("the request could not be formed".into()))
                .and_then(|request| self.agent.run(request).map_err(classify))
        } else {
            builder
                .body(built.body.clone())
                .map_err(|_| Failure::Transient("the request could not be formed".into()))
                .and_then(|request| self.agent.run(request).map_err(classify))
        };
        let mut response = result?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        };
        // Kept for identity places `header:Name`; a provider sends a few dozen at most.
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((
                    name.as_str().to_ascii_lowercase(),
                    value.to_str().ok()?.to_string(),
                ))
            })
            .take(64)
            .collect();
        let location = header("location");
        let retry_after = header("retry-after")
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .unwrap_or_default();
        Ok(Answer {
            status,
            headers,
            location,
            retry_after,
            body,
        })
    }
}

/// Largest answer read: validators read small JSON documents.
const MAX_BODY: u64 = 256 * 1024;

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    location: Option<String>,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

struct Contact {
    /// False when the host could not be reached at all.
    reached: bool,
    requests: usize,
}

enum Failure {
    /// DNS, connect or TLS failure: the host is not reachable from here; not retried.
    Unreachable(String),
    /// A dropped connection after connecting: worth another try.
    Transient(String),
    /// A timeout: trying again would only wait as long again.
    Final(String),
}

fn classify(error: ureq::Error) -> Failure {
    use ureq::Error;
    match error {
        Error::HostNotFound => Failure::Unreachable("network: host not found".into()),
        Error::ConnectionFailed => Failure::Unreachable("network: connection failed".into()),
        Error::Timeout(timeout) => {
            let text = format!("{timeout:?}");
            if text.contains("Connect") || text.contains("Resolve") {
                Failure::Unreachable("network: connect timed out".into())
            } else {
                Failure::Final("network: timed out waiting for the provider".into())
            }
        }
        Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::NotFound
            | std::io::ErrorKind::AddrNotAvailable
            | std::io::ErrorKind::PermissionDenied => {
                Failure::Unreachable(format!("network: {}", io.kind()))
            }
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                Failure::Final("network: timed out waiting for the provider".into())
            }
            kind => Failure::Transient(format!("network: {kind}")),
        },
        Error::Tls(_) | Error::Rustls(_) => {
            Failure::Unreachable("network: TLS handshake failed".into())
        }
        other => Failure::Transient(format!("network: {}", error_kind(&other))),
    }
}

/// A short name for a transport error; ureq's messages can quote the URL, which may carry the
/// secret in a query string.
fn error_kind(error: &ureq::Error) -> String {
    let text = format!("{error:?}");
    text.split(['(', ' ', '{'])
        .next()
        .unwrap_or("error")
        .to_string()
}

fn same_host_redirect(built: &Built, location: &str) -> Option<String> {
    if location.starts_with('/') && !location.starts_with("//") {
        return Some(format!("https://{}{location}", built.host));
    }
    let host = crate::rules::validate::url_host(location)?;
    (host == built.host).then(|| location.to_string())
}

struct Schedule {
    queue: Vec<usize>,
    in_flight: HashMap<String, usize>,
    unreachable: HashSet<String>,
    /// Some host answered: the machine has a network.
    answered: bool,
    requests: usize,
}

impl Schedule {
    /// Why a job for `host` is not worth sending: the host already failed to connect, or three
    /// hosts did and none answered (no network here).
    fn give_up(&self, host: &str) -> Option<String> {
        if self.unreachable.contains(host) {
            return Some("network: provider host unreachable".into());
        }
        if !self.answered && self.unreachable.len() >= 3 {
            return Some("network: unavailable (no provider host reachable)".into());
        }
        None
    }
}

fn unknown(detail: String) -> Verdict {
    Verdict {
        status: ValidationStatus::Unknown,
        detail,
        identity: Default::default(),
    }
}
