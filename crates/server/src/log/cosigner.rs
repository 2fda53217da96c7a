//! Submitting the log's checkpoints to its witnesses (C2SP tlog-witness, the
//! client side): every second, each witness that has not cosigned the newest
//! checkpoint gets it with a consistency proof from the last size it
//! cosigned (learnt from its `409` when unknown). Cosignatures are checked
//! with the witness's key and kept with the checkpoint, which is published
//! with them. A witness that is down delays only its own cosignature: uploads
//! never wait for witnesses.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use marketplace_log::cosignature::CosignatureVerifier;
use marketplace_log::tree;
use marketplace_log::witness::AddCheckpoint;

use super::proofs::with_hashes;
use super::signer::Published;
use crate::runtime::state::AppState;

/// How long one submission may take.
const SUBMIT_TIMEOUT: Duration = Duration::from_secs(5);

/// One witness, as the log sees it.
struct Witness {
    url: String,
    verifier: CosignatureVerifier,
    /// The size it cosigned last, as far as this process knows.
    cosigned: Mutex<Option<u64>>,
}

/// What a submission gave.
enum Submitted {
    Cosigned(String),
    /// The witness's size is another (its `409` body).
    Conflict(u64),
}

/// Starts submitting checkpoints to the configured witnesses (none: nothing
/// runs).
pub(crate) fn start_cosigner(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let witnesses: Vec<Witness> = state
        .config
        .witnesses
        .iter()
        .filter_map(|w| {
            Some(Witness {
                url: format!("{}/add-checkpoint", w.url.trim_end_matches('/')),
                verifier: CosignatureVerifier::new(&w.key).ok()?,
                cosigned: Mutex::new(None),
            })
        })
        .collect();
    if witnesses.is_empty() {
        return None;
    }
    let client = reqwest::Client::builder()
        .timeout(SUBMIT_TIMEOUT)
        .build()
        .ok()?;
    let witnesses = Arc::new(witnesses);
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(super::signer::REFRESH_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Ok(Some(latest)) = state.log.current().await else {
                continue;
            };
            for witness in witnesses.iter() {
                if let Err(e) = cosign(&state, &client, witness, &latest).await {
                    tracing::warn!(witness = %witness.url, error = %e, "no cosignature now");
                }
            }
        }
    }))
}

/// Gets `witness`'s cosignature of `latest`, unless it has it.
async fn cosign(
    state: &AppState,
    client: &reqwest::Client,
    witness: &Witness,
    latest: &Published,
) -> Result<(), String> {
    let known = witness.cosigned.lock().ok().and_then(|c| *c);
    if known.is_some_and(|size| size >= latest.size) {
        return Ok(());
    }
    let name = witness.verifier.name().to_string();
    let kept = state
        .store
        .cosignatures(latest.size)
        .await
        .map_err(|e| e.to_string())?;
    if kept
        .iter()
        .any(|line| line.starts_with(&format!("— {name} ")))
    {
        remember(witness, latest.size);
        return Ok(());
    }
    let mut old = known.unwrap_or(0);
    for _ in 0..2 {
        match submit(state, client, witness, old, latest).await? {
            Submitted::Cosigned(line) => {
                let with = format!("{}{line}", latest.note);
                witness
                    .verifier
                    .timestamp_in(with.as_bytes())
                    .map_err(|e| format!("the witness's answer: {e}"))?;
                state
                    .store
                    .record_cosignature(latest.size, &name, &line)
                    .await
                    .map_err(|e| e.to_string())?;
                remember(witness, latest.size);
                return Ok(());
            }
            Submitted::Conflict(size) if size > latest.size => {
                return Err(format!(
                    "the witness cosigned {size} entries of this log, more than it holds ({})",
                    latest.size
                ));
            }
            Submitted::Conflict(size) => old = size,
        }
    }
    Err("the witness's size kept changing".into())
}

fn remember(witness: &Witness, size: u64) {
    if let Ok(mut cosigned) = witness.cosigned.lock() {
        *cosigned = Some(size);
    }
}

/// One `add-checkpoint` request from `old`.
async fn submit(
    state: &AppState,
    client: &reqwest::Client,
    witness: &Witness,
    old: u64,
    latest: &Published,
) -> Result<Submitted, String> {
    let proof = if old == 0 || old == latest.size {
        Vec::new()
    } else {
        with_hashes(state.store.as_ref(), |r| {
            tree::consistency_proof(old, latest.size, r)
        })
        .await
        .map_err(|e| e.to_string())?
    };
    let body = AddCheckpoint {
        old,
        proof,
        checkpoint: latest.note.clone(),
    }
    .to_body();
    let response = client
        .post(&witness.url)
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| e.to_string())?;
    match status {
        200 => Ok(Submitted::Cosigned(text)),
        409 if text.trim().parse::<u64>().is_ok() => {
            Ok(Submitted::Conflict(text.trim().parse().unwrap_or(0)))
        }
        _ => Err(format!("{status}: {}", text.trim())),
    }
}
