//! `replay`: lists recorded order failures and creates the missing Shopify order of one
//! paid or free registration. The work is done by the library; this file parses the
//! arguments, builds the dependencies from the environment and prints the result.

use clap::{Parser, Subcommand};
use replay::environment;
use replay::{
    error_chain, failures_json, failures_table, list_failures, replay_free, replay_payment,
    DEFAULT_LIST_LIMIT, EXIT_ERROR, EXIT_OK,
};
use std::error::Error;
use std::io::IsTerminal as _;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

const EXIT_CODES: &str = "\
Exit codes: 0 when the order exists (created, already created or recovered) or the list was
printed; 2 while another attempt is creating the order, or when the payment needs review;
1 for every error, invalid arguments included.

Settings come from the environment, as for the functions, and from .env in the current
directory: TABLE_NAME, SHOPIFY_SHOP with SHOPIFY_ACCESS_TOKEN (or SHOPIFY_CLIENT_ID and
SHOPIFY_CLIENT_SECRET), STRIPE_SECRET_KEY or SECRETS_ARN, STRIPE_API_BASE, LIVEMODE, and the
AWS SDK's own variables such as AWS_REGION and AWS_ENDPOINT_URL. Logs go to standard error;
RUST_LOG sets their level (default warn).";

/// Lists the order failures recorded in DynamoDB, and creates the missing Shopify order of
/// one paid or free registration. A repeated run never creates a second order.
#[derive(Parser)]
#[command(name = "replay", version, after_help = EXIT_CODES)]
struct Cli {
    /// Print one JSON object on standard output instead of text.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List recorded failures, oldest first: PaymentIntent id, failure time, attempts and
    /// reason.
    List {
        /// Maximum number of failures to print (1 to 10000).
        #[arg(long, default_value_t = DEFAULT_LIST_LIMIT as u32,
              value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
    /// Create the order of a PaymentIntent whose status is succeeded, unless it exists.
    Payment {
        /// The PaymentIntent id, such as pi_3MtwBwLkdIwHu7ix28a3tqPa.
        payment_intent_id: String,
    },
    /// Create the order of a free registration, unless it exists. LIVEMODE=true makes it a
    /// real order instead of a test order.
    Free {
        /// The registration id (a UUID), with or without the free_ prefix that `list` shows.
        registration_id: String,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // `--help` and `--version` arrive here too, and they are not errors.
            let code = if error.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_OK
            };
            // Printing fails only when the output stream is closed, so the message is lost
            // either way.
            drop(error.print());
            return ExitCode::from(code);
        }
    };

    // Loaded before the runtime starts any thread, because it sets environment variables.
    let dotenv = shared::secrets::load_dotenv();
    init_logging();
    if let Err(error) = dotenv {
        return ExitCode::from(fail(cli.json, &error));
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return ExitCode::from(fail(cli.json, &error)),
    };
    let code = match runtime.block_on(run(cli.command, cli.json)) {
        Ok(code) => code,
        Err(error) => fail(cli.json, error.as_ref()),
    };
    ExitCode::from(code)
}

/// Sends logs to standard error, so that standard output carries only the result.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

async fn run(command: Command, json: bool) -> Result<u8, Box<dyn Error>> {
    let aws = environment::aws_config().await;
    let replayed = match command {
        Command::List { limit } => {
            let failures = environment::failure_log(&aws)?;
            let limit = limit as usize;
            let records = list_failures(&failures, limit).await?;
            if json {
                print!("{}", failures_json(&records));
            } else {
                print!("{}", failures_table(&records, limit));
            }
            return Ok(EXIT_OK);
        }
        Command::Payment { payment_intent_id } => {
            let secrets = environment::app_secrets(&aws).await?;
            let deps = environment::order_deps(&aws, &secrets)?;
            let stripe = environment::stripe_client(&secrets)?;
            replay_payment(&stripe, &deps, &payment_intent_id).await?
        }
        Command::Free { registration_id } => {
            let secrets = environment::app_secrets(&aws).await?;
            let deps = environment::order_deps(&aws, &secrets)?;
            let livemode = environment::free_livemode()?;
            replay_free(&deps, &registration_id, livemode).await?
        }
    };

    if json {
        println!("{}", replayed.to_json());
    } else {
        println!("{}", replayed.message());
    }
    Ok(replayed.exit_code())
}

/// Prints `error` with its causes, as JSON on standard output or as text on standard error,
/// and returns [`EXIT_ERROR`].
fn fail(json: bool, error: &dyn Error) -> u8 {
    let message = error_chain(error);
    if json {
        println!(
            "{}",
            serde_json::json!({"outcome": "error", "error": message})
        );
    } else {
        eprintln!("error: {message}");
    }
    EXIT_ERROR
}
