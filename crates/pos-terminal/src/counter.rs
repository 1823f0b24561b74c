//! The interactive counter in a terminal: type any identifier or a name, see who matches and how
//! long the lookup took. An empty line or `:q` leaves.

use pos_store::{LookupHit, MatchedBy, Store};
use std::io::{self, BufRead, Write};
use std::time::Instant;

fn describe(hit: &LookupHit) -> String {
    let c = &hit.customer;
    let how = match hit.matched_by {
        MatchedBy::Exact(k) => format!("= {}", k.field()),
        MatchedBy::Prefix(k) => format!("~ {}", k.field()),
        MatchedBy::Name => "~ name".to_owned(),
    };
    format!(
        "{:<32} {:<12} {:<14} {:<34} {:<14} {}{}",
        c.full_name(),
        c.identification.as_deref().unwrap_or("-"),
        c.phone.as_deref().unwrap_or("-"),
        c.email.as_deref().unwrap_or("-"),
        c.city.as_deref().unwrap_or("-"),
        how,
        if c.is_active { "" } else { "  (inactive)" }
    )
}

pub fn run(store: &mut Store) -> io::Result<()> {
    let stdin = io::stdin();
    let mut out = io::stdout();
    writeln!(
        out,
        "Counter lookup on {} customers. Type a cédula, phone, email, passport or name; empty line quits.",
        store.stats(chrono::Utc::now().date_naive(), 1).map(|s| s.total).unwrap_or(0)
    )?;
    loop {
        write!(out, "buscar> ")?;
        out.flush()?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            return Ok(());
        }
        let q = line.trim();
        if q.is_empty() || q == ":q" {
            return Ok(());
        }
        let start = Instant::now();
        match store.quick_lookup(q, 10) {
            Ok(hits) => {
                let took = start.elapsed();
                for hit in &hits {
                    writeln!(out, "  {}", describe(hit))?;
                }
                writeln!(out, "  {} result(s) in {:.2} ms", hits.len(), took.as_secs_f64() * 1e3)?;
            }
            Err(e) => writeln!(out, "  error: {e}")?,
        }
    }
}
