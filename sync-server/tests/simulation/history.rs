//! One history: terminals with real store files capture, edit, sell and sync through a faulty
//! network into the server's real storage, managers merge and dismiss review items, the server
//! restarts; then the network heals and every terminal syncs until nothing is left.

use super::net::{Faults, Link, Server};
use super::people::{people, Keys, Person, CITIES};
use super::rng::Rng;
use pos_core::{Channel, CustomerInput, PaymentMethod, Preferences, SaleInput};
use pos_store::Store;
use pos_sync::SyncError;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use sync_server::db::{Actor, ReviewStatus};
use uuid::Uuid;

pub struct Terminal {
    pub store: Mutex<Store>,
    pub link: Link,
}

/// What a history did, for the figures and for I2.
#[derive(Debug, Default)]
pub struct Tally {
    pub steps: usize,
    pub captures: usize,
    pub sales: BTreeSet<Uuid>,
    /// Ids a terminal wrote (captured or edited): each must exist on the server at the end.
    pub written: BTreeSet<Uuid>,
    pub syncs: usize,
    pub restarts: usize,
    pub manager_merges: usize,
    pub dismissals: usize,
}

pub struct History {
    pub server: Arc<Server>,
    pub terminals: Vec<Terminal>,
    pub faults: Arc<Faults>,
    pub tally: Tally,
    people: Vec<Person>,
    rng: Rng,
    _dir: tempfile::TempDir,
}

/// Where history files go: memory-backed where the machine has it (a history commits thousands
/// of small transactions; on tmpfs a sync costs nothing, and the files are still real SQLite).
pub fn scratch_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().expect("temp dir")
}

impl History {
    /// A server and `terminals` registered terminals, each in its own branch, and the people
    /// they will capture.
    pub async fn new(seed: u64, terminals: usize, people_count: usize) -> History {
        let mut rng = Rng::new(seed);
        let dir = scratch_dir();
        let server = Arc::new(Server::start(format!("sqlite://{}/server.db", dir.path().display())).await);
        let faults = Arc::new(Faults::default());
        let db = server.db();
        let mut list = Vec::new();
        for i in 0..terminals {
            let branch = db.create_branch(server.org, &format!("Sucursal {i}")).await.expect("branch");
            let mut store = Store::open(dir.path().join(format!("terminal-{i}.db"))).expect("terminal store");
            store.set_membership(server.org, Some(branch)).expect("membership");
            let link = Link::new(server.clone(), store.identity().device_id, rng.fork(), faults.clone());
            list.push(Terminal { store: Mutex::new(store), link });
        }
        let people = people(&mut rng, people_count);
        History { server, terminals: list, faults, tally: Tally::default(), people, rng, _dir: dir }
    }

    /// Runs `steps` random steps.
    pub async fn run(&mut self, steps: usize) {
        for _ in 0..steps {
            self.step().await;
        }
    }

    async fn step(&mut self) {
        self.tally.steps += 1;
        let t = self.rng.below(self.terminals.len());
        match self.rng.below(100) {
            0..30 => self.capture(t),
            30..36 => self.strict_capture(t),
            36..46 => self.sale(t),
            46..54 => self.edit(t),
            54..58 => self.toggle_active(t),
            58..63 => self.preferences(t),
            63..88 => self.sync(t).await,
            88..92 => self.terminals[t].link.deliver_delayed().await,
            92..95 => {
                self.server.restart().await;
                self.tally.restarts += 1;
            }
            _ => self.manage().await,
        }
    }

    fn capture(&mut self, t: usize) {
        let person = self.rng.pick(&self.people).clone();
        let keys = Keys::any(&mut self.rng);
        let input = person.capture(&mut self.rng, keys);
        let found = pos_sync::lock(&self.terminals[t].store).find_or_create(&input).expect("a valid capture is taken");
        self.tally.captures += 1;
        self.tally.written.insert(found.customer.id);
    }

    /// A manual capture: refused at the counter when another customer has one of its keys.
    fn strict_capture(&mut self, t: usize) {
        let person = self.rng.pick(&self.people).clone();
        let keys = Keys::any(&mut self.rng);
        let input = person.capture(&mut self.rng, keys);
        match pos_sync::lock(&self.terminals[t].store).create_customer(&input) {
            Ok(c) => {
                self.tally.captures += 1;
                self.tally.written.insert(c.id);
            }
            Err(pos_store::StoreError::Duplicate(_)) => {}
            Err(e) => panic!("a valid manual capture failed: {e}"),
        }
    }

    /// A live customer this terminal holds, at random.
    fn some_customer(&mut self, t: usize) -> Option<pos_core::Customer> {
        let all = pos_sync::lock(&self.terminals[t].store).all_customers().expect("customers");
        let live: Vec<_> = all.into_iter().filter(|c| c.merged_into.is_none()).collect();
        (!live.is_empty()).then(|| live[self.rng.below(live.len())].clone())
    }

    fn sale(&mut self, t: usize) {
        let Some(customer) = self.some_customer(t) else { return };
        let input = SaleInput {
            lines: vec![],
            total_minor: Some(self.rng.between(100, 90_000) as i64),
            currency: "USD".into(),
            payment_method: *self.rng.pick(&[PaymentMethod::Cash, PaymentMethod::Card, PaymentMethod::Zelle]),
        };
        let sale = pos_sync::lock(&self.terminals[t].store).record_sale(customer.id, &input).expect("sale");
        self.tally.sales.insert(sale.id);
    }

    /// A manager edits the city and notes (the whole form, as the screen sends it), and now and
    /// then a cédula or email, which may be someone's this terminal has not seen yet.
    fn edit(&mut self, t: usize) {
        let Some(customer) = self.some_customer(t) else { return };
        let mut input = CustomerInput::from(&customer);
        input.city = self.rng.percent(80).then(|| self.rng.pick(&CITIES).to_string());
        input.notes = self.rng.percent(50).then(|| format!("editado {}", self.rng.below(1_000)));
        if self.rng.percent(25) {
            let person = self.rng.pick(&self.people).clone();
            let typed =
                person.capture(&mut self.rng, Keys { phone: false, email: true, passport: false, cedula: true });
            if self.rng.percent(50) {
                input.identification = typed.identification;
            } else if input.phone.is_some() {
                input.email = typed.email;
            }
        }
        match pos_sync::lock(&self.terminals[t].store).update_customer(customer.id, &input) {
            Ok(_) => {
                self.tally.written.insert(customer.id);
            }
            // The counter refuses a key it knows belongs to another customer.
            Err(pos_store::StoreError::Duplicate(_)) => {}
            Err(e) => panic!("a valid edit failed: {e}"),
        }
    }

    fn toggle_active(&mut self, t: usize) {
        let Some(customer) = self.some_customer(t) else { return };
        pos_sync::lock(&self.terminals[t].store).set_active(&[customer.id], !customer.is_active).expect("toggle");
    }

    fn preferences(&mut self, t: usize) {
        let Some(customer) = self.some_customer(t) else { return };
        let mut prefs = Preferences::default();
        for channel in [Channel::Email, Channel::Sms, Channel::Whatsapp] {
            if self.rng.percent(50) {
                prefs.channels.remove(&channel);
            }
        }
        if self.rng.percent(50) {
            prefs.language = pos_core::Lang::En;
        }
        pos_sync::lock(&self.terminals[t].store).set_preferences(customer.id, &prefs).expect("preferences");
    }

    /// One sync round of terminal `t`; a round cut by the network is simply over.
    pub async fn sync(&mut self, t: usize) {
        self.tally.syncs += 1;
        let terminal = &self.terminals[t];
        match pos_sync::sync_once(&terminal.store, &terminal.link).await {
            Ok(_) | Err(SyncError::Transport(_)) => {}
            Err(e) => panic!("terminal {t}'s sync failed for a reason no network causes: {e}"),
        }
    }

    /// A manager resolves an open review item: merges it (either way round) or dismisses it.
    async fn manage(&mut self) {
        let db = self.server.db();
        let items = db.open_review_items(self.server.org).await.expect("review items");
        if items.is_empty() {
            return;
        }
        let item = &items[self.rng.below(items.len())];
        let manager = Actor::User(Uuid::from_u128(0x03a7_a9e2));
        if self.rng.percent(70) {
            let (survivor, loser) = if self.rng.percent(50) {
                (item.customer_a, item.customer_b)
            } else {
                (item.customer_b, item.customer_a)
            };
            let merged = db.merge_customers(self.server.org, survivor, loser, manager, &self.server.clock()).await;
            if merged.expect("explicit merge").is_some() {
                self.tally.manager_merges += 1;
            }
        } else {
            db.close_review_item(self.server.org, item.id, ReviewStatus::Dismissed, manager).await.expect("dismiss");
            self.tally.dismissals += 1;
        }
    }

    /// The network heals: every delayed push arrives, each terminal syncs until its outbox is
    /// empty, then every terminal syncs twice more. Returns the rounds it took.
    pub async fn heal(&mut self) -> usize {
        for terminal in &self.terminals {
            while terminal.link.delayed() > 0 {
                terminal.link.deliver_delayed().await;
            }
            terminal.link.set_faulty(false);
        }
        let mut rounds = 0;
        for t in 0..self.terminals.len() {
            for _ in 0..10 {
                self.sync(t).await;
                rounds += 1;
                if pos_sync::lock(&self.terminals[t].store).pending_count().expect("pending") == 0 {
                    break;
                }
            }
        }
        for _ in 0..2 {
            for t in 0..self.terminals.len() {
                self.sync(t).await;
                rounds += 1;
            }
        }
        rounds
    }
}
