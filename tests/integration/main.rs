//! One integration-test binary (links are slow on two cores), with modules by theme. Every test
//! runs the real `leakhound` binary on inputs it builds in a fresh temp dir.

mod mock_http;
mod util;

mod accuracy;
mod archives;
mod audit;
mod bad_input;
mod ci;
mod config;
mod decode;
mod deploy;
mod history;
mod output;
mod redaction;
mod remote;
mod robustness;
mod rules;
mod scan;
mod staged;
mod validation;
mod workflow;
