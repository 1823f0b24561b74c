//! `pos-terminal`: the terminal store from the command line. Scripts, tests and benchmarks use
//! it as a headless POS; `pos-terminal counter` is an interactive lookup for a person.
//!
//! Every command prints JSON on stdout; errors print as tagged JSON on stderr with exit code 2
//! for bad input and 1 for anything else.

mod counter;
mod csv_io;

use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use pos_core::sale::parse_amount_minor;
use pos_core::{CustomerInput, PaymentMethod, SaleInput, ValidationErrors};
use pos_store::{SaleCustomer, SearchQuery, Store, StoreError};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use uuid::Uuid;

#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// The terminal's store file. Default: `$POS_DB`, else `terminal.db` in the user's data dir.
    #[arg(long, global = true, env = "POS_DB")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Capture a new customer; an identifier another customer has is refused.
    Add(CustomerArgs),
    /// Find the customer by phone → email → passport → cédula, or create it (checkout rule).
    FindOrCreate(CustomerArgs),
    /// Edit a customer: the given fields replace the stored ones, the others stay.
    Update {
        id: Uuid,
        #[command(flatten)]
        fields: CustomerArgs,
    },
    /// Look up by any identifier in any written form, or by name.
    Lookup {
        query: String,
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// The customer list with filters.
    Search(SearchArgs),
    /// Show one customer with its preferences and sales summary.
    Show { id: Uuid },
    /// Record a sale for a customer picked by id, or found / created from customer fields.
    Sale(SaleArgs),
    /// A customer's purchase history, newest first.
    History {
        id: Uuid,
        #[arg(long, default_value_t = 1)]
        page: u32,
        #[arg(long, default_value_t = 20)]
        page_size: u32,
    },
    /// Activate customers.
    Activate { ids: Vec<Uuid> },
    /// Deactivate customers (soft delete).
    Deactivate { ids: Vec<Uuid> },
    /// Customer statistics.
    Stats {
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
    /// Changes waiting for the server, and the ones it rejected.
    Outbox,
    /// Load generated demo customers (as if pulled from the server: nothing is queued).
    SeedDemo {
        #[arg(long, default_value_t = 10_000)]
        count: u64,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Interactive counter: type and see matching customers after each line.
    Counter,
    /// Import customers from a CSV file (header row with customer field names, e.g.
    /// `first_name,surname,phone,email,identification,passport_number,city`). Each row goes
    /// through find-or-create, so re-importing a file adds nobody twice; bad rows are reported
    /// with their line and field errors and skipped.
    Import { file: PathBuf },
    /// Export live customers to a CSV file.
    Export { file: PathBuf },
    /// Register this terminal with a sync server using a one-time code from an admin.
    Register {
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
        #[arg(long, default_value = "terminal")]
        name: String,
    },
    /// One sync round: push the outbox, pull what changed.
    Sync,
    /// Sync on a timer, retrying failures with backoff, until interrupted.
    SyncLoop {
        #[arg(long, default_value_t = 5)]
        interval_secs: u64,
    },
}

#[derive(Args, Debug, Default)]
struct CustomerArgs {
    #[arg(long, alias = "name")]
    first_name: Option<String>,
    #[arg(long)]
    surname: Option<String>,
    /// Seed 1's single name field, split into name and surname.
    #[arg(long)]
    full_name: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    email: Option<String>,
    /// Cédula (V-12345678) or RIF (J-12345678-9), in any written form.
    #[arg(long, alias = "cedula")]
    identification: Option<String>,
    #[arg(long, alias = "passport")]
    passport_number: Option<String>,
    /// YYYY-MM-DD or DD/MM/YYYY.
    #[arg(long)]
    date_of_birth: Option<String>,
    #[arg(long)]
    address: Option<String>,
    #[arg(long)]
    city: Option<String>,
    #[arg(long)]
    notes: Option<String>,
    #[arg(long)]
    source: Option<String>,
    #[arg(long)]
    service_type: Option<String>,
}

impl CustomerArgs {
    /// The stored customer with the given flags laid over it: the whole edited form.
    fn over(self, c: &pos_core::Customer) -> CustomerInput {
        let keep = |given: Option<String>, stored: &Option<String>| given.or_else(|| stored.clone());
        CustomerInput {
            first_name: self.first_name.or_else(|| Some(c.first_name.clone())),
            surname: self.surname.or_else(|| Some(c.surname.clone())),
            full_name: None,
            phone: keep(self.phone, &c.phone),
            email: keep(self.email, &c.email),
            identification: keep(self.identification, &c.identification),
            passport_number: keep(self.passport_number, &c.passport_number),
            date_of_birth: keep(self.date_of_birth, &c.date_of_birth.map(|d| d.to_string())),
            address: keep(self.address, &c.address),
            city: keep(self.city, &c.city),
            notes: keep(self.notes, &c.notes),
            source: self.source.or_else(|| Some(c.source.as_str().to_owned())),
            service_type: keep(self.service_type, &c.service_type),
            branch_id: c.branch_id,
        }
    }
}

impl From<CustomerArgs> for CustomerInput {
    fn from(a: CustomerArgs) -> Self {
        CustomerInput {
            first_name: a.first_name,
            surname: a.surname,
            full_name: a.full_name,
            phone: a.phone,
            email: a.email,
            identification: a.identification,
            passport_number: a.passport_number,
            date_of_birth: a.date_of_birth,
            address: a.address,
            city: a.city,
            notes: a.notes,
            source: a.source,
            service_type: a.service_type,
            branch_id: None,
        }
    }
}

#[derive(Args, Debug)]
struct SearchArgs {
    #[arg(long)]
    search: Option<String>,
    #[arg(long)]
    active: Option<bool>,
    #[arg(long)]
    city: Option<String>,
    #[arg(long, default_value_t = 1)]
    page: u32,
    #[arg(long, default_value_t = 20)]
    page_size: u32,
}

#[derive(Args, Debug)]
struct SaleArgs {
    /// The customer, when already picked at the counter.
    #[arg(long)]
    customer: Option<Uuid>,
    #[command(flatten)]
    find_or_create: CustomerArgs,
    /// Total as typed: 12.50, 12,50, 1.234,50.
    #[arg(long)]
    total: String,
    #[arg(long, default_value = "USD")]
    currency: String,
    #[arg(long, value_enum, default_value = "cash")]
    payment: Method,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Method {
    Cash,
    Card,
    MobilePayment,
    Transfer,
    Zelle,
    Other,
}

impl From<Method> for PaymentMethod {
    fn from(p: Method) -> Self {
        match p {
            Method::Cash => PaymentMethod::Cash,
            Method::Card => PaymentMethod::Card,
            Method::MobilePayment => PaymentMethod::MobilePayment,
            Method::Transfer => PaymentMethod::Transfer,
            Method::Zelle => PaymentMethod::Zelle,
            Method::Other => PaymentMethod::Other,
        }
    }
}

fn default_db() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("pos-terminal").join("terminal.db")
}

fn print<T: Serialize>(value: &T) {
    println!("{}", serde_json::to_string_pretty(value).expect("output serialises"));
}

fn run(cli: Cli) -> Result<(), CliError> {
    let path = cli.db.unwrap_or_else(default_db);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Corrupt(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut store = Store::open(&path)?;
    match cli.command {
        Command::Add(a) => print(&store.create_customer(&a.into())?),
        Command::FindOrCreate(a) => print(&store.find_or_create(&a.into())?),
        Command::Update { id, fields } => {
            let current = store.resolve_customer(id)?.ok_or(StoreError::NotFound(id))?;
            print(&store.update_customer(current.id, &fields.over(&current))?)
        }
        Command::Lookup { query, limit } => print(&store.quick_lookup(&query, limit)?),
        Command::Search(a) => print(&store.search(&SearchQuery {
            search: a.search,
            is_active: a.active,
            city: a.city,
            page: a.page,
            page_size: a.page_size,
            ..Default::default()
        })?),
        Command::Show { id } => {
            let customer = store.resolve_customer(id)?.ok_or(StoreError::NotFound(id))?;
            let preferences = store.preferences(customer.id)?;
            let sales_summary = store.sales_summary(customer.id)?;
            print(
                &serde_json::json!({ "customer": customer, "preferences": preferences, "sales_summary": sales_summary }),
            );
        }
        Command::Sale(a) => {
            let total = parse_amount_minor(&a.total)
                .map_err(|code| StoreError::Invalid(ValidationErrors::one("total", code)))?;
            let who = match a.customer {
                Some(id) => SaleCustomer::Known(id),
                None => SaleCustomer::FindOrCreate(Box::new(a.find_or_create.into())),
            };
            let input = SaleInput {
                lines: vec![],
                total_minor: Some(total),
                currency: a.currency.to_uppercase(),
                payment_method: a.payment.into(),
            };
            let (sale, customer) = store.checkout(&who, &input)?;
            print(&serde_json::json!({ "sale": sale, "customer": customer }));
        }
        Command::History { id, page, page_size } => print(&store.purchase_history(id, page, page_size)?),
        Command::Activate { ids } => print(&serde_json::json!({ "activated": store.set_active(&ids, true)? })),
        Command::Deactivate { ids } => print(&serde_json::json!({ "deactivated": store.set_active(&ids, false)? })),
        Command::Stats { days } => print(&store.stats(Utc::now().date_naive(), days)?),
        Command::Outbox => print(&serde_json::json!({
            "pending": store.pending_count()?,
            "rejected": store.rejected_changes()?,
            "next": store.pending_changes(20)?,
        })),
        Command::SeedDemo { count, seed } => {
            // An empty store loads as a new terminal's bootstrap pull does: indexes and FTS
            // triggers set aside, rebuilt once at the end (with them live, every batch rewrites
            // pages all over every index, and a million customers took twenty minutes).
            let bulk = store.begin_bulk_load()?;
            for lo in (0..count).step_by(10_000) {
                let rows: Vec<_> = (lo..(lo + 10_000).min(count)).map(|i| pos_demo::customer(seed, i)).collect();
                store.apply_remote_customers(&rows)?;
            }
            if bulk {
                store.finish_bulk_load()?;
            }
            print(&serde_json::json!({ "loaded": count, "db": path }));
        }
        Command::Counter => counter::run(&mut store).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        Command::Import { file } => print(&csv_io::import(&mut store, &file)?),
        Command::Export { file } => print(&csv_io::export(&store, &file)?),
        Command::Register { server, code, name } => {
            let device_id = store.identity().device_id;
            let registration = runtime().block_on(pos_sync::register(&server, &code, &name, device_id))?;
            store.set_membership(registration.organization_id, registration.branch_id)?;
            // The headless terminal keeps its credential in its own store file (readable by its
            // user only); the desktop app uses the OS keyring.
            store.set_sync_value("server_url", &server)?;
            store.set_sync_value("credential", &registration.credential)?;
            print(
                &serde_json::json!({ "device_id": registration.device_id, "organization_id": registration.organization_id }),
            );
        }
        Command::Sync => {
            let client = client(&store)?;
            let store = std::sync::Mutex::new(store);
            print(&runtime().block_on(pos_sync::sync_once(&store, &client))?);
        }
        Command::SyncLoop { interval_secs } => {
            let client = client(&store)?;
            let store = std::sync::Mutex::new(store);
            runtime().block_on(pos_sync::run_loop(
                &store,
                &client,
                std::time::Duration::from_secs(interval_secs),
                |result| match result {
                    Ok(report) => println!("{}", serde_json::to_string(report).expect("report serialises")),
                    Err(e) => eprintln!("sync failed: {e}"),
                },
                async {
                    let _ = tokio::signal::ctrl_c().await;
                },
            ));
        }
    }
    Ok(())
}

/// What a command can fail with: the store's errors, or sync's.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sync(#[from] pos_sync::SyncError),
}

impl Serialize for CliError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CliError::Store(e) => e.serialize(s),
            CliError::Sync(pos_sync::SyncError::Store(e)) => e.serialize(s),
            CliError::Sync(e) => {
                let kind = match e {
                    pos_sync::SyncError::Unauthorized => "unauthorized",
                    pos_sync::SyncError::Busy => "busy",
                    pos_sync::SyncError::Server { .. } => "server",
                    _ => "offline",
                };
                serde_json::json!({ "kind": kind, "message": e.to_string() }).serialize(s)
            }
        }
    }
}

/// Two workers: a sync fetches the next pull page while this thread applies the current one.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
}

fn client(store: &Store) -> Result<pos_sync::SyncClient, StoreError> {
    match (store.sync_value("server_url")?, store.sync_value("credential")?) {
        (Some(url), Some(credential)) => Ok(pos_sync::SyncClient::new(&url, &credential)),
        _ => Err(StoreError::Invalid(ValidationErrors::one("server", pos_core::ErrorCode::Required))),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if matches!(&e, CliError::Store(s) if s.is_internal()) {
                eprintln!("internal error: {e}");
            }
            eprintln!("{}", serde_json::to_string(&serde_json::json!({ "error": e })).expect("errors serialise"));
            let code = match &e {
                CliError::Store(StoreError::Invalid(_) | StoreError::Duplicate(_) | StoreError::NotFound(_)) => 2,
                CliError::Sync(e) if e.is_transient() => 3,
                _ => 1,
            };
            ExitCode::from(code)
        }
    }
}
