//! hcpki-agent: the one local program that owns the PC/SC readers and serves both HPKI and JPKI cards.
//!
//! Layers, bottom up: `apdu` (command encoding, total response parser, typed status words) → `transport`
//! (PC/SC, recorded transcripts, in-process cards) → `driver` (one `CardDriver` per card layout, listed
//! in `driver::registry` and chosen by probing AIDs) → `broker` (owns every reader, serialises per card, caches certificates, emits events) →
//! `service` (the contract the front ends use) → front ends: the CLI and `api` (the loopback HTTP API); `presence`
//! follows the broker's events to keep portal sessions alive while their card is in, and end them when it leaves.
#![forbid(unsafe_code)]

pub mod apdu;
pub mod api;
pub mod bench;
pub mod broker;
pub mod config;
pub mod document;
pub mod driver;
pub mod http_post;
pub mod instance;
pub mod lifecycle;
pub mod peer;
pub mod pin_entry;
pub mod pin_pad;
pub mod platform;
pub mod presence;
pub mod readers;
pub mod service;
pub mod signing_session;
pub mod tlv;
pub mod transport;

#[cfg(test)]
mod testkit;
