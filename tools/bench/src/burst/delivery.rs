//! The burst's deliveries: the order in which copies of the events are first sent, and
//! sending each copy again, as Stripe does, until it gets a 2xx response.

use super::BurstCounts;
use serde_json::Value;
use shared::stripe::signature::{self, WebhookSecret};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Body results that mean the order exists: created now, or by an earlier delivery.
const ORDER_EXISTS_RESULTS: [&str; 2] = ["order_created", "duplicate"];
/// Key of [`BurstCounts::responses_by_status`] for a delivery that got no HTTP response.
const NO_RESPONSE: &str = "no_response";

/// One copy of an event in the order it is first delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Delivery {
    /// Index into the burst's events.
    pub event: usize,
    pub duplicate: bool,
}

/// Returns the burst's deliveries: every event once, in order, and `duplicates` second
/// copies of distinct events chosen with `seed`.
///
/// Half of the second copies follow their first copy by 1 to 3 places, so that they are
/// usually sent while the first copy is still in flight. The other half follow it by 40
/// to 199 places, so that they usually arrive after the first copy got its response. At most
/// one second copy per event is made.
pub(super) fn delivery_schedule(events: usize, duplicates: usize, seed: u64) -> Vec<Delivery> {
    let mut random = SplitMix64(seed);
    let mut candidates: Vec<usize> = (0..events).collect();
    let duplicates = duplicates.min(events);
    // A partial Fisher-Yates shuffle picks `duplicates` distinct events.
    for position in 0..duplicates {
        let pick = position + random.below(events - position);
        candidates.swap(position, pick);
    }

    // Sort keys: a first copy at place `e` has key 4e, a second copy placed after place
    // `p` has key 4p + 2, so it lands between two first copies.
    let mut keyed: Vec<(usize, Delivery)> = (0..events)
        .map(|event| {
            let delivery = Delivery {
                event,
                duplicate: false,
            };
            (event * 4, delivery)
        })
        .collect();
    for (number, &event) in candidates[..duplicates].iter().enumerate() {
        let offset = if number % 2 == 0 {
            1 + random.below(3)
        } else {
            40 + random.below(160)
        };
        let delivery = Delivery {
            event,
            duplicate: true,
        };
        keyed.push(((event + offset) * 4 + 2, delivery));
    }
    keyed.sort_by_key(|(key, _)| *key);
    keyed.into_iter().map(|(_, delivery)| delivery).collect()
}

/// SplitMix64, a small deterministic generator, so a seed always gives the same schedule.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Returns a number in `0..bound`. `bound` must be positive.
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

/// State shared by every delivery task.
pub(super) struct DeliveryContext {
    pub http: reqwest::Client,
    pub webhook_url: String,
    pub secret: WebhookSecret,
    /// Limits the deliveries in flight. A copy waiting to be redelivered holds no permit.
    pub semaphore: Arc<Semaphore>,
    pub redelivery_delay: Duration,
    pub max_attempts: u32,
    pub request_timeout: Duration,
}

/// One HTTP delivery and its response.
#[derive(Debug, Clone)]
pub(super) struct Attempt {
    pub started: Instant,
    pub finished: Instant,
    pub status: Option<u16>,
    /// The body's `result`, or its `error.code`.
    pub result: Option<String>,
}

impl Attempt {
    fn succeeded(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }

    /// Returns whether the response states that the order exists, created now or earlier.
    fn confirms_order(&self) -> bool {
        self.succeeded()
            && self
                .result
                .as_deref()
                .is_some_and(|result| ORDER_EXISTS_RESULTS.contains(&result))
    }
}

/// Every delivery of one copy of an event.
#[derive(Debug, Clone)]
pub(super) struct CopyRecord {
    delivery: Delivery,
    attempts: Vec<Attempt>,
}

impl DeliveryContext {
    /// Sends `body` once, signed now as Stripe signs every delivery attempt.
    pub(super) async fn send(&self, body: &str) -> Attempt {
        let header = signature::sign(unix_now(), body.as_bytes(), &self.secret);
        let started = Instant::now();
        let response = self
            .http
            .post(&self.webhook_url)
            .header(signature::SIGNATURE_HEADER, header)
            .header("content-type", "application/json; charset=utf-8")
            .header(
                "user-agent",
                "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            )
            .timeout(self.request_timeout)
            .body(body.to_owned())
            .send()
            .await;
        let (status, result) = match response {
            Ok(response) => {
                let status = response.status().as_u16();
                let body: Option<Value> = response.json().await.ok();
                (Some(status), body.as_ref().and_then(result_name))
            }
            Err(error) => {
                tracing::warn!(error = %error, "webhook delivery got no response");
                (None, None)
            }
        };
        Attempt {
            started,
            finished: Instant::now(),
            status,
            result,
        }
    }

    /// Delivers one copy until it gets a 2xx response or `max_attempts` deliveries were made.
    /// `permit` is the slot of the first delivery, taken by the caller so that first
    /// deliveries start in schedule order.
    async fn deliver(
        self: Arc<Self>,
        delivery: Delivery,
        body: Arc<String>,
        permit: OwnedSemaphorePermit,
    ) -> CopyRecord {
        let mut attempts = Vec::new();
        let mut permit = Some(permit);
        loop {
            let slot = match permit.take() {
                Some(slot) => slot,
                None => self
                    .semaphore
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed"),
            };
            let attempt = self.send(&body).await;
            drop(slot);
            let done = attempt.succeeded() || attempts.len() + 1 >= self.max_attempts as usize;
            attempts.push(attempt);
            if done {
                return CopyRecord { delivery, attempts };
            }
            tokio::time::sleep(self.redelivery_delay).await;
        }
    }
}

/// Reads `result` from a success body or `error.code` from an error body.
fn result_name(body: &Value) -> Option<String> {
    body["result"]
        .as_str()
        .or_else(|| body["error"]["code"].as_str())
        .map(str::to_owned)
}

/// Delivers every copy in `schedule`, starting first deliveries in schedule order, and
/// returns the records in schedule order.
pub(super) async fn deliver_all(
    context: &Arc<DeliveryContext>,
    bodies: &[Arc<String>],
    schedule: &[Delivery],
) -> Vec<CopyRecord> {
    let mut tasks = Vec::with_capacity(schedule.len());
    for delivery in schedule {
        let permit = context
            .semaphore
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let body = bodies[delivery.event].clone();
        tasks.push(tokio::spawn(
            context.clone().deliver(*delivery, body, permit),
        ));
    }
    let mut records = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(record) => records.push(record),
            Err(error) => tracing::error!(error = %error, "a delivery task failed"),
        }
    }
    records
}

/// Counts the deliveries and responses of the burst.
pub(super) fn delivery_counts(copies: &[CopyRecord], burst_started: Instant) -> BurstCounts {
    let mut counts = BurstCounts {
        scheduled_deliveries: copies.len(),
        ..BurstCounts::default()
    };
    let mut first_response: HashMap<usize, Instant> = HashMap::new();
    let mut last_response = burst_started;
    for copy in copies {
        for attempt in &copy.attempts {
            counts.deliveries_sent += 1;
            let status = attempt
                .status
                .map_or(NO_RESPONSE.to_owned(), |status| status.to_string());
            *counts.responses_by_status.entry(status).or_default() += 1;
            if let Some(result) = &attempt.result {
                *counts
                    .responses_by_result
                    .entry(result.clone())
                    .or_default() += 1;
            }
            last_response = last_response.max(attempt.finished);
        }
        counts.redeliveries += copy.attempts.len().saturating_sub(1) as u64;
        if !copy.attempts.iter().any(Attempt::succeeded) {
            counts.copies_given_up += 1;
        }
        if let (false, Some(first)) = (copy.delivery.duplicate, copy.attempts.first()) {
            first_response.insert(copy.delivery.event, first.finished);
        }
    }
    counts.duplicates_sent_while_first_in_flight = copies
        .iter()
        .filter(|copy| copy.delivery.duplicate)
        .filter(|copy| {
            let started = copy.attempts.first().map(|attempt| attempt.started);
            let first_responded = first_response.get(&copy.delivery.event);
            matches!((started, first_responded), (Some(started), Some(responded)) if started < *responded)
        })
        .count();
    counts.seconds_until_last_response = last_response.duration_since(burst_started).as_secs_f64();
    counts
}

/// Returns the seconds from `burst_started` until every one of `events` events got a 2xx
/// response confirming its order, or `None` when some never did. The product sends that
/// response only after Shopify returned the order, so this is an upper bound, too high by
/// at most one response time.
pub(super) fn time_until_all_orders(
    copies: &[CopyRecord],
    events: usize,
    burst_started: Instant,
) -> Option<f64> {
    let mut first_confirmed: HashMap<usize, Instant> = HashMap::new();
    for copy in copies {
        let confirmed = copy
            .attempts
            .iter()
            .filter(|attempt| attempt.confirms_order())
            .map(|attempt| attempt.finished)
            .min();
        if let Some(confirmed) = confirmed {
            let entry = first_confirmed
                .entry(copy.delivery.event)
                .or_insert(confirmed);
            *entry = (*entry).min(confirmed);
        }
    }
    if first_confirmed.len() < events {
        return None;
    }
    first_confirmed
        .values()
        .max()
        .map(|last| last.duration_since(burst_started).as_secs_f64())
}

pub(super) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn schedule_sends_each_event_once_first() {
        let schedule = delivery_schedule(499, 50, 7);
        let firsts: Vec<usize> = schedule
            .iter()
            .filter(|delivery| !delivery.duplicate)
            .map(|delivery| delivery.event)
            .collect();
        assert_eq!(firsts, (0..499).collect::<Vec<_>>());
        assert_eq!(schedule.len(), 549);
    }

    #[test]
    fn schedule_duplicates_distinct_events() {
        let schedule = delivery_schedule(499, 50, 7);
        let duplicated: HashSet<usize> = schedule
            .iter()
            .filter(|delivery| delivery.duplicate)
            .map(|delivery| delivery.event)
            .collect();
        assert_eq!(duplicated.len(), 50);
    }

    #[test]
    fn schedule_puts_duplicate_after_first() {
        let schedule = delivery_schedule(499, 50, 7);
        let place = |event: usize, duplicate: bool| {
            schedule
                .iter()
                .position(|delivery| delivery.event == event && delivery.duplicate == duplicate)
        };
        for delivery in schedule.iter().filter(|delivery| delivery.duplicate) {
            let first = place(delivery.event, false).unwrap();
            let second = place(delivery.event, true).unwrap();
            assert!(
                first < second,
                "event {}: duplicate before first copy",
                delivery.event
            );
        }
    }

    #[test]
    fn schedule_mixes_near_and_far_duplicates() {
        let schedule = delivery_schedule(499, 50, 7);
        let gaps: Vec<usize> = schedule
            .iter()
            .enumerate()
            .filter(|(_, delivery)| delivery.duplicate)
            .map(|(second, delivery)| {
                let first = schedule
                    .iter()
                    .position(|other| other.event == delivery.event && !other.duplicate)
                    .unwrap();
                second - first
            })
            .collect();
        assert!(
            gaps.iter().any(|gap| *gap <= 4),
            "no duplicate right after its first copy"
        );
        assert!(
            gaps.iter().any(|gap| *gap >= 40),
            "no duplicate long after its first copy"
        );
    }

    #[test]
    fn schedule_repeats_for_seed() {
        assert_eq!(delivery_schedule(100, 10, 3), delivery_schedule(100, 10, 3));
        assert_ne!(delivery_schedule(100, 10, 3), delivery_schedule(100, 10, 4));
    }

    #[test]
    fn schedule_caps_duplicates_at_events() {
        let schedule = delivery_schedule(3, 10, 1);
        assert_eq!(schedule.len(), 6);
        assert!(delivery_schedule(0, 5, 1).is_empty());
    }

    fn attempt(
        origin: Instant,
        started_ms: u64,
        finished_ms: u64,
        status: Option<u16>,
        result: &str,
    ) -> Attempt {
        Attempt {
            started: origin + Duration::from_millis(started_ms),
            finished: origin + Duration::from_millis(finished_ms),
            status,
            result: Some(result.to_owned()),
        }
    }

    #[test]
    fn delivery_counts_redeliveries_and_overlap() {
        let start = Instant::now();
        let copies = vec![
            CopyRecord {
                delivery: Delivery {
                    event: 0,
                    duplicate: false,
                },
                attempts: vec![
                    attempt(start, 0, 100, Some(503), "order_not_created"),
                    attempt(start, 1100, 1200, Some(200), "order_created"),
                ],
            },
            CopyRecord {
                delivery: Delivery {
                    event: 0,
                    duplicate: true,
                },
                attempts: vec![
                    attempt(start, 50, 150, Some(409), "conflict"),
                    attempt(start, 1150, 1300, Some(200), "duplicate"),
                ],
            },
            CopyRecord {
                delivery: Delivery {
                    event: 1,
                    duplicate: false,
                },
                attempts: vec![Attempt {
                    started: start,
                    finished: start + Duration::from_millis(30_000),
                    status: None,
                    result: None,
                }],
            },
        ];
        let counts = delivery_counts(&copies, start);
        assert_eq!(counts.scheduled_deliveries, 3);
        assert_eq!(counts.deliveries_sent, 5);
        assert_eq!(counts.redeliveries, 2);
        assert_eq!(counts.responses_by_status.get("200"), Some(&2));
        assert_eq!(counts.responses_by_status.get("503"), Some(&1));
        assert_eq!(counts.responses_by_status.get("409"), Some(&1));
        assert_eq!(counts.responses_by_status.get(NO_RESPONSE), Some(&1));
        assert_eq!(counts.responses_by_result.get("duplicate"), Some(&1));
        assert_eq!(counts.copies_given_up, 1);
        assert_eq!(counts.duplicates_sent_while_first_in_flight, 1);
        assert_eq!(counts.seconds_until_last_response, 30.0);

        assert_eq!(time_until_all_orders(&copies, 2, start), None);
        let all_orders = time_until_all_orders(&copies[..2], 1, start).unwrap();
        assert!((all_orders - 1.2).abs() < 1e-9, "got {all_orders}");
    }
}
