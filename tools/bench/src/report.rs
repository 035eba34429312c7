//! Renders docs/benchmarks.md from the results the measures wrote under `target/bench/`.
//!
//! Every number on the page comes from those files; the page is rewritten as a whole, so a
//! number never needs editing by hand.

use crate::burst::BurstResult;
use crate::criterion::{Estimate, TARGET_WEBHOOK_CPU_MICROS};
use crate::functions::ColdStartResults;
use crate::machine::Machine;
use crate::sizes::{ArtifactSize, TARGET_ZIP_BYTES};
use crate::stats::Summary;
use std::fmt::Write as _;

/// Init within this multiple of the floor's.
pub const TARGET_INIT_RATIO: f64 = 1.5;
/// Peak resident memory under this, in KiB (16 MiB).
pub const TARGET_PEAK_RSS_KIB: f64 = 16.0 * 1024.0;
/// Shopify calls per order on the usual path.
pub const TARGET_SHOPIFY_CALLS: u64 = 1;
/// DynamoDB calls per order on the usual path, at most.
pub const TARGET_DYNAMODB_CALLS: u64 = 4;

/// Everything the page shows. A measure that did not run is `None`, and the page states it.
pub struct Results {
    pub machine: Machine,
    pub cold_start: Option<ColdStartResults>,
    pub per_event: Option<Vec<Estimate>>,
    pub sizes: Option<Vec<ArtifactSize>>,
    pub floor_size: Option<ArtifactSize>,
    pub burst: Option<BurstResult>,
}

/// Returns the whole page as Markdown.
pub fn render(results: &Results) -> String {
    let mut page = String::new();
    header(&mut page, &results.machine);
    targets(&mut page, results);
    if let Some(cold) = &results.cold_start {
        cold_start(&mut page, cold);
    } else {
        missing(&mut page, "Cold start and memory");
    }
    match &results.per_event {
        Some(estimates) => per_event(&mut page, estimates),
        None => missing(&mut page, "Per-event CPU"),
    }
    match &results.sizes {
        Some(sizes) => artifact_sizes(&mut page, sizes, results.floor_size.as_ref()),
        None => missing(&mut page, "Artifact size"),
    }
    match &results.burst {
        Some(burst) => burst_section(&mut page, burst),
        None => missing(&mut page, "Webhook burst"),
    }
    page
}

fn header(page: &mut String, machine: &Machine) {
    let _ = write!(
        page,
        "# Benchmarks\n\n\
         What the functions cost: start-up time, memory, CPU per event, artifact size, and a \
         burst of webhook deliveries. `make bench` measures everything and rewrites this page; \
         do not edit the numbers by hand.\n\n\
         | Machine | |\n|---|---|\n\
         | Date | {} |\n| CPU | {} |\n| Cores | {} |\n| Memory | {:.1} GiB |\n\
         | Kernel | {} |\n| Compiler | {} |\n\n\
         Everything runs on this one machine: the functions, the local Runtime API, \
         localstripe, moto and the Shopify sandbox share its cores, so absolute times are \
         higher than in Lambda. The ratios to the floor function (section 1) carry over \
         between machines better than the times do.\n\n",
        machine.date,
        machine.cpu_model,
        machine.cores,
        machine.memory_gib,
        machine.kernel,
        machine.rustc
    );
}

fn missing(page: &mut String, title: &str) {
    let _ = writeln!(
        page,
        "## {title}\n\nNot measured in this run: its results file was missing.\n"
    );
}

/// Writes one row per target: the target, the measured value, and whether it was met.
fn targets(page: &mut String, results: &Results) {
    let mut rows: Vec<(String, String, String, bool)> = Vec::new();
    if let Some(cold) = &results.cold_start {
        for function in &cold.functions {
            let ratio = function.init_ms.median / cold.floor.init_ms.median;
            rows.push((
                format!("{} init", function.name),
                format!("≤ {TARGET_INIT_RATIO}× floor"),
                format!("{ratio:.2}× ({:.1} ms)", function.init_ms.median),
                ratio <= TARGET_INIT_RATIO,
            ));
        }
        for function in &cold.functions {
            rows.push((
                format!("{} peak memory", function.name),
                "< 16 MiB".to_owned(),
                mib_from_kib(function.peak_rss_kib.median),
                function.peak_rss_kib.median < TARGET_PEAK_RSS_KIB,
            ));
        }
    }
    if let Some(cpu) = results
        .per_event
        .iter()
        .flatten()
        .find(|estimate| estimate.id == "webhook_event_cpu")
    {
        rows.push((
            "webhook CPU per event".to_owned(),
            format!("< {TARGET_WEBHOOK_CPU_MICROS} µs"),
            format!("{:.1} µs", cpu.median_micros),
            cpu.median_micros < TARGET_WEBHOOK_CPU_MICROS,
        ));
    }
    for size in results.sizes.iter().flatten() {
        rows.push((
            format!("{} zip", size.name),
            "< 4 MiB".to_owned(),
            format!("{} MiB", mib(size.zip_bytes)),
            size.zip_bytes < TARGET_ZIP_BYTES,
        ));
    }
    if let Some(burst) = &results.burst {
        let usual = &burst.usual_path;
        rows.push((
            "Shopify calls per order (usual path)".to_owned(),
            format!("{TARGET_SHOPIFY_CALLS}"),
            usual.shopify_calls.total.to_string(),
            usual.shopify_calls.total == TARGET_SHOPIFY_CALLS,
        ));
        rows.push((
            "DynamoDB calls per order (usual path)".to_owned(),
            format!("≤ {TARGET_DYNAMODB_CALLS}"),
            usual.dynamodb_calls_total.to_string(),
            usual.dynamodb_calls_total <= TARGET_DYNAMODB_CALLS,
        ));
        rows.push((
            "burst: lost and duplicate orders".to_owned(),
            "0 and 0".to_owned(),
            format!("{} and {}", burst.burst.lost, burst.burst.duplicate_orders),
            burst.burst.lost == 0 && burst.burst.duplicate_orders == 0,
        ));
    }
    let missed = rows.iter().filter(|row| !row.3).count();
    let _ = writeln!(
        page,
        "## Targets\n\n{} of {} targets met.\n\n| Measure | Target | Measured | Met |\n|---|---|---|---|",
        rows.len() - missed,
        rows.len()
    );
    for (measure, target, measured, met) in &rows {
        let mark = if *met { "yes" } else { "**no**" };
        let _ = writeln!(page, "| {measure} | {target} | {measured} | {mark} |");
    }
    page.push('\n');
}

fn cold_start(page: &mut String, cold: &ColdStartResults) {
    let _ = writeln!(
        page,
        "## 1. Cold start and memory\n\n\
         Each function's release binary ran {} times as a fresh process under a local Lambda \
         Runtime API (2018-06-01) on 127.0.0.1, with a realistic event. Its dependencies run \
         on local servers: the secret in moto's Secrets Manager, the table in moto, \
         localstripe for Stripe and the Shopify sandbox. Init is the time from spawning the \
         process to its first poll for an event. An invocation lasts from handing the event \
         over to receiving the response, and {} warm invocations follow the first. Peak memory is `VmHWM` after the \
         last invocation. Each cell is the median over the runs, with the lowest and highest \
         run in brackets. The floor is a `lambda_http` function that returns 200 and does \
         nothing else.\n",
        cold.runs, cold.warm
    );
    let _ = writeln!(
        page,
        "| Function | Init ms | Init × floor | First invocation ms | Warm median ms | Warm p99 ms | Peak memory MiB | Memory × floor |\n\
         |---|---|---|---|---|---|---|---|"
    );
    for function in std::iter::once(&cold.floor).chain(&cold.functions) {
        let _ = writeln!(
            page,
            "| {} | {} | {:.2} | {} | {} | {} | {} | {:.2} |",
            function.name,
            ranged(&function.init_ms, 1),
            function.init_ms.median / cold.floor.init_ms.median,
            ranged(&function.first_invocation_ms, 1),
            ranged(&function.warm_median_ms, 2),
            ranged(&function.warm_p99_ms, 2),
            ranged(&scaled(&function.peak_rss_kib, 1.0 / 1024.0), 1),
            function.peak_rss_kib.median / cold.floor.peak_rss_kib.median,
        );
    }
    page.push('\n');
    cold_start_reading(page, cold);
}

/// Writes the facts computed from the numbers: where the time and memory above the floor go.
fn cold_start_reading(page: &mut String, cold: &ColdStartResults) {
    let floor = &cold.floor;
    let slowest = cold
        .functions
        .iter()
        .max_by(|a, b| a.init_ms.median.total_cmp(&b.init_ms.median));
    let largest = cold
        .functions
        .iter()
        .max_by(|a, b| a.peak_rss_kib.median.total_cmp(&b.peak_rss_kib.median));
    let _ = writeln!(page, "Reading:\n");
    if let Some(slowest) = slowest {
        let _ = writeln!(
            page,
            "- The slowest start is {}: {:.1} ms above the floor's {:.1} ms. Above the floor, \
             a function's init builds the AWS SDK configuration, fetches the secret from \
             Secrets Manager (one HTTP round trip, to moto here) and parses the catalog; only \
             that round trip waits on another server.",
            slowest.name,
            slowest.init_ms.median - floor.init_ms.median,
            floor.init_ms.median
        );
    }
    if let Some(largest) = largest {
        let _ = writeln!(
            page,
            "- The most memory is {}'s, {} against the floor's {}: the extra is the AWS SDK \
             clients, TLS configuration and HTTP connection pools, which live for the \
             container's life.",
            largest.name,
            mib_from_kib(largest.peak_rss_kib.median),
            mib_from_kib(floor.peak_rss_kib.median)
        );
    }
    secret_and_retry_reading(page, cold);
    let _ = writeln!(
        page,
        "- Warm latency is mostly the local fakes' time, not the functions': localstripe \
         creating PaymentIntents for create-intent, moto's reads for health and the webhook. \
         The functions' own CPU per event is in section 2."
    );
    let _ = writeln!(
        page,
        "- A first invocation costs more than a warm one because it opens the HTTP \
         connections (DynamoDB, Stripe, Shopify) that later invocations reuse.\n"
    );
}

/// Writes what the Secrets Manager fetch costs at init and how many invocations were
/// repeated after a failure of the DynamoDB fake.
fn secret_and_retry_reading(page: &mut String, cold: &ColdStartResults) {
    let by_name = |name: &str| cold.functions.iter().find(|function| function.name == name);
    if let (Some(with_secret), Some(from_env)) = (
        by_name("webhook"),
        by_name("webhook (keys from environment)"),
    ) {
        let _ = writeln!(
            page,
            "- Fetching the secret from Secrets Manager costs the webhook {:.1} ms of init \
             (its init with the keys in the environment is {:.1} ms). The rest of the gap to \
             the floor is building the clients, including the AWS HTTP client's read of the \
             system's root certificates.",
            with_secret.init_ms.median - from_env.init_ms.median,
            from_env.init_ms.median
        );
    }
    let storage_retries: usize = std::iter::once(&cold.floor)
        .chain(&cold.functions)
        .flat_map(|function| &function.runs)
        .map(|run| run.storage_retries)
        .sum();
    if storage_retries > 0 {
        let _ = writeln!(
            page,
            "- moto failed {storage_retries} writes under the functions (a race inside its \
             server), which the functions returned as 503. Those invocations were repeated, \
             as a client repeats them, and only the successful attempt's latency counts."
        );
    }
}

fn per_event(page: &mut String, estimates: &[Estimate]) {
    let _ = writeln!(
        page,
        "## 2. Per-event CPU\n\n\
         Criterion benchmarks in `shared/benches/per_event.rs` (`cargo bench -p shared --bench \
         per_event`): the pure work of one event, without I/O. Each cell is criterion's median \
         with its 95 % confidence interval.\n\n\
         | Benchmark | Median µs | 95 % interval µs |\n|---|---|---|"
    );
    for estimate in estimates {
        let _ = writeln!(
            page,
            "| {} | {:.2} | {:.2} – {:.2} |",
            estimate.id, estimate.median_micros, estimate.lower_micros, estimate.upper_micros
        );
    }
    let find = |id: &str| estimates.iter().find(|estimate| estimate.id == id);
    if let (Some(total), Some(verify), Some(map)) = (
        find("webhook_event_cpu"),
        find("verify_signature_5kb"),
        find("order_create_variables"),
    ) {
        let parse = (total.median_micros - verify.median_micros - map.median_micros).max(0.0);
        let _ = writeln!(
            page,
            "\nReading: `webhook_event_cpu` is the webhook's own work per event: verify the \
             signature, parse the event, map the order. It takes {:.1} µs. Verifying the HMAC \
             over the 5 KB body is {:.0} % of it, mapping the order {:.0} %, and parsing the \
             event about {:.1} µs. Next to the network calls of one order (section 4) this is \
             noise.",
            total.median_micros,
            100.0 * verify.median_micros / total.median_micros,
            100.0 * map.median_micros / total.median_micros,
            parse
        );
    }
    page.push('\n');
}

fn artifact_sizes(page: &mut String, sizes: &[ArtifactSize], floor: Option<&ArtifactSize>) {
    let _ = writeln!(
        page,
        "## 3. Artifact size\n\n\
         The zipped arm64 bootstraps as `cargo lambda build --release --arm64 --output-format \
         zip` writes them (`scripts/build-lambdas.sh`, which CI runs too), and the binary \
         inside each.\n\n\
         | Function | Zip MiB | Binary MiB | Under 4 MiB |\n|---|---|---|---|"
    );
    for size in sizes.iter().chain(floor) {
        let _ = writeln!(
            page,
            "| {} | {} | {} | {} |",
            size.name,
            mib(size.zip_bytes),
            mib(size.bootstrap_bytes),
            if size.zip_bytes < TARGET_ZIP_BYTES {
                "yes"
            } else {
                "**no**"
            }
        );
    }
    if let (Some(floor), Some(largest)) = (floor, sizes.iter().max_by_key(|size| size.zip_bytes)) {
        let _ = writeln!(
            page,
            "\nReading: the floor alone (`lambda_http` and tokio) zips to {} MiB. The largest \
             function, {}, adds {} MiB on top: the AWS SDK clients for DynamoDB and Secrets Manager, \
             the HTTP and TLS stack shared by Stripe, Shopify and AWS calls, and the phone \
             number metadata of the registration form.",
            mib(floor.zip_bytes),
            largest.name,
            mib(largest.zip_bytes.saturating_sub(floor.zip_bytes))
        );
    }
    page.push('\n');
}

fn burst_section(page: &mut String, burst: &BurstResult) {
    let settings = &burst.settings;
    let counts = &burst.burst;
    let usual = &burst.usual_path;
    let _ = writeln!(
        page,
        "## 4. Webhook burst\n\n\
         {} registrations were created through `/api/create-payment-intent` of the dev server, \
         a release build serving the same handlers as the functions. One \
         `payment_intent.succeeded` delivery was then measured alone (the usual path). The \
         other {} events followed, signed, at concurrency {}, with {} duplicate deliveries \
         mixed in. The Shopify sandbox throttles like a shop: a {}-point query-cost bucket \
         refilled at {} points per second. A delivery answered with anything but 2xx is \
         delivered again after {} ms, as Stripe retries (compressed from Stripe's hours).\n",
        settings.payments,
        settings.burst_events,
        settings.concurrency,
        settings.duplicates,
        settings.cost_bucket_maximum,
        settings.cost_restore_rate,
        settings.redelivery_delay_ms
    );
    let _ = writeln!(
        page,
        "| Usual path, one order | |\n|---|---|\n\
         | Answer | {} {} |\n| Time | {:.1} ms |\n| Shopify calls | {} ({}) |\n\
         | DynamoDB calls | {} ({}) |\n",
        usual
            .status
            .map_or("none".to_owned(), |status| status.to_string()),
        usual.result.as_deref().unwrap_or(""),
        usual.elapsed_ms,
        usual.shopify_calls.total,
        join_counts(
            usual
                .shopify_calls
                .by_operation
                .iter()
                .map(|(k, v)| (k, *v as f64))
        ),
        usual.dynamodb_calls_total,
        join_counts(usual.dynamodb_calls.iter().map(|(k, v)| (k, *v as f64))),
    );
    let _ = writeln!(
        page,
        "| Burst | |\n|---|---|\n\
         | Deliveries sent (with redeliveries) | {} ({} redeliveries) |\n\
         | Answers by status | {} |\n\
         | Orders created | {} of {} |\n| Duplicate orders | {} |\n| Lost | {} |\n\
         | Recorded failures | {} |\n| Time until every order existed | {} |\n\
         | Shopify calls per order | {:.2} ({}) |\n| DynamoDB calls per order | {:.2} ({}) |\n",
        counts.deliveries_sent,
        counts.redeliveries,
        join_counts(
            counts
                .responses_by_status
                .iter()
                .map(|(k, v)| (k, *v as f64))
        ),
        counts.orders_created,
        settings.burst_events,
        counts.duplicate_orders,
        counts.lost,
        counts.recorded_failures,
        counts
            .seconds_until_all_orders
            .map_or("never".to_owned(), |seconds| format!("{seconds:.1} s")),
        counts.shopify_calls_per_order_total,
        join_counts(counts.shopify_calls_per_order.iter().map(|(k, v)| (k, *v))),
        counts.dynamodb_calls_per_order_total,
        join_counts(counts.dynamodb_calls_per_order.iter().map(|(k, v)| (k, *v))),
    );
    // One orderCreate per order, at the sandbox's cost of one mutation field.
    let order_cost = shopify_sandbox::MUTATION_FIELD_COST as f64;
    let drain_seconds =
        settings.burst_events as f64 * order_cost / settings.cost_restore_rate.max(1.0);
    let _ = writeln!(
        page,
        "Reading: the shop's rate limit sets the pace, not the functions. Each orderCreate \
         costs {:.0} points, so once the bucket is empty the shop accepts about \
         {:.0} orders per second and {} orders need roughly {:.0} s of refill beyond the \
         bucket. Throttled calls are retried within the function's time budget, and after \
         that the function returns an error so that Stripe delivers the event again. \
         Duplicates find the order ledger's claim and create nothing. Calls per order in \
         the burst exceed the usual path by those retries and by the duplicates' ledger \
         reads.\n",
        order_cost,
        settings.cost_restore_rate / order_cost,
        settings.burst_events,
        (drain_seconds - settings.cost_bucket_maximum / settings.cost_restore_rate.max(1.0))
            .max(0.0)
    );
}

fn join_counts<'a>(counts: impl Iterator<Item = (&'a String, f64)>) -> String {
    counts
        .map(|(name, count)| {
            let short = name.rsplit('.').next().unwrap_or(name);
            if count.fract() == 0.0 {
                format!("{short} {count:.0}")
            } else {
                format!("{short} {count:.2}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn ranged(summary: &Summary, decimals: usize) -> String {
    format!(
        "{:.*} ({:.*}–{:.*})",
        decimals, summary.median, decimals, summary.min, decimals, summary.max
    )
}

fn scaled(summary: &Summary, factor: f64) -> Summary {
    Summary {
        median: summary.median * factor,
        min: summary.min * factor,
        max: summary.max * factor,
        samples: summary.samples,
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.2}", bytes as f64 / (1024.0 * 1024.0))
}

fn mib_from_kib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cold_start::FunctionResult;

    fn machine() -> Machine {
        Machine {
            cores: 2,
            cpu_model: "Test CPU".to_owned(),
            memory_gib: 4.0,
            kernel: "6.0".to_owned(),
            rustc: "rustc 1.0".to_owned(),
            date: "2026-12-04 12:00 UTC".to_owned(),
        }
    }

    fn summary(median: f64) -> Summary {
        Summary {
            median,
            min: median * 0.9,
            max: median * 1.1,
            samples: 5,
        }
    }

    fn function(name: &str, init_ms: f64, peak_rss_kib: f64) -> FunctionResult {
        FunctionResult {
            name: name.to_owned(),
            warm_invocations: 200,
            runs: Vec::new(),
            init_ms: summary(init_ms),
            first_invocation_ms: summary(3.0),
            warm_median_ms: summary(1.0),
            warm_p99_ms: summary(2.0),
            peak_rss_kib: summary(peak_rss_kib),
        }
    }

    fn results() -> Results {
        Results {
            machine: machine(),
            cold_start: Some(ColdStartResults {
                machine: machine(),
                runs: 5,
                warm: 200,
                floor: function("bench-floor", 10.0, 4096.0),
                functions: vec![
                    function("webhook", 14.0, 12288.0),
                    function("health", 20.0, 20480.0),
                ],
            }),
            per_event: None,
            sizes: Some(vec![ArtifactSize {
                name: "webhook".to_owned(),
                zip_bytes: 3 * 1024 * 1024,
                bootstrap_bytes: 8 * 1024 * 1024,
            }]),
            floor_size: None,
            burst: None,
        }
    }

    fn target_row<'a>(page: &'a str, measure: &str) -> &'a str {
        page.lines()
            .find(|line| line.starts_with(&format!("| {measure} |")))
            .unwrap_or_else(|| panic!("no row for {measure} in:\n{page}"))
    }

    #[test]
    fn init_within_the_ratio_meets_the_target() {
        let page = render(&results());
        assert!(target_row(&page, "webhook init").ends_with("| yes |"));
    }

    #[test]
    fn init_above_the_ratio_misses_the_target() {
        let page = render(&results());
        assert!(target_row(&page, "health init").contains("2.00×"));
        assert!(target_row(&page, "health init").ends_with("| **no** |"));
    }

    #[test]
    fn memory_is_compared_with_16_mib() {
        let page = render(&results());
        assert!(target_row(&page, "webhook peak memory").ends_with("| yes |"));
        assert!(target_row(&page, "health peak memory").ends_with("| **no** |"));
    }

    #[test]
    fn counts_targets_met() {
        let page = render(&results());
        assert!(page.contains("3 of 5 targets met."), "{page}");
    }

    #[test]
    fn missing_measure_is_reported() {
        let page = render(&results());
        assert!(page.contains("## Per-event CPU\n\nNot measured in this run"));
        assert!(page.contains("## Webhook burst\n\nNot measured in this run"));
    }

    #[test]
    fn cold_start_rows_show_median_and_range() {
        let page = render(&results());
        let row = target_row(&page, "health");
        assert!(row.contains("20.0 (18.0–22.0)"), "{row}");
    }
}
