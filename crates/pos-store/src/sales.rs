//! Sales at the checkout: recording a sale for a customer (finding or creating the customer in
//! the same transaction), purchase history and the sales summary.

use crate::customers::{find_or_create_in, resolve_customer, FindOrCreate};
use crate::lookup::Page;
use crate::outbox::enqueue;
use crate::rows::{get_json, get_opt_uuid, get_ts, get_uuid, ts, upsert_customer};
use crate::{Result, Store, StoreError, WriteCtx};
use chrono::{DateTime, Utc};
use pos_core::sale::validate_sale;
use pos_core::wire::ChangeBody;
use pos_core::{validate_customer, CustomerInput, PaymentMethod, Sale, SaleInput};
use rusqlite::Connection;
use serde::Serialize;
use uuid::Uuid;

/// Totals of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyTotal {
    pub currency: String,
    pub count: u64,
    pub total_minor: i64,
    pub average_minor: i64,
}

/// Seed 2's sales summary: how much and how often a customer buys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SalesSummary {
    pub purchase_count: u64,
    pub first_purchase: Option<DateTime<Utc>>,
    pub last_purchase: Option<DateTime<Utc>>,
    /// Venezuelan shops sell in bolívares and dollars: totals never mix currencies.
    pub by_currency: Vec<CurrencyTotal>,
}

const SALE_COLUMNS: &str =
    "id, organization_id, customer_id, branch_id, terminal_id, lines, total_minor, currency, payment_method, sold_at";

fn sale_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Sale> {
    let method: String = r.get(8)?;
    Ok(Sale {
        id: get_uuid(r, 0)?,
        organization_id: get_uuid(r, 1)?,
        customer_id: get_uuid(r, 2)?,
        branch_id: get_opt_uuid(r, 3)?,
        terminal_id: get_opt_uuid(r, 4)?,
        lines: get_json(r, 5)?,
        total_minor: r.get(6)?,
        currency: r.get(7)?,
        payment_method: serde_json::from_value(serde_json::Value::String(method)).unwrap_or(PaymentMethod::Other),
        sold_at: get_ts(r, 9)?,
    })
}

pub(crate) fn insert_sale(conn: &Connection, sale: &Sale) -> Result<()> {
    conn.prepare_cached(&format!("INSERT INTO sales ({SALE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT(id) DO NOTHING"))?
        .execute(rusqlite::params![
            sale.id.to_string(),
            sale.organization_id.to_string(),
            sale.customer_id.to_string(),
            sale.branch_id.map(|b| b.to_string()),
            sale.terminal_id.map(|t| t.to_string()),
            serde_json::to_string(&sale.lines).expect("lines serialise"),
            sale.total_minor,
            sale.currency,
            serde_json::to_value(sale.payment_method).expect("method serialises").as_str().unwrap_or("other"),
            ts(&sale.sold_at),
        ])?;
    Ok(())
}

/// Records a validated sale for a live customer and queues it. The customer's last activity is
/// moved forward locally; the server derives the same from the sale, so it is not queued twice.
fn record_sale_in(
    conn: &Connection,
    ctx: &WriteCtx,
    customer_id: Uuid,
    input: &SaleInput,
    total_minor: i64,
) -> Result<Sale> {
    // A customer picked before a sync merged it away is sold to as its survivor.
    let mut customer = resolve_customer(conn, customer_id)?
        .filter(|c| c.merged_into.is_none())
        .ok_or(StoreError::NotFound(customer_id))?;
    let customer_id = customer.id;
    let sale = Sale {
        id: Uuid::now_v7(),
        organization_id: ctx.identity.organization_id,
        customer_id,
        branch_id: ctx.identity.branch_id,
        terminal_id: Some(ctx.identity.device_id),
        lines: input.lines.clone(),
        total_minor,
        currency: input.currency.clone(),
        payment_method: input.payment_method,
        sold_at: ctx.now,
    };
    insert_sale(conn, &sale)?;
    enqueue(conn, ctx, ChangeBody::Sale { sale: sale.clone() })?;
    if customer.last_activity.is_none_or(|t| t < ctx.now) {
        customer.last_activity = Some(ctx.now);
        customer.clocks.insert("last_activity".into(), ctx.hlc);
        upsert_customer(conn, &customer)?;
    }
    Ok(sale)
}

/// Who a checkout sale is for: a customer picked at the counter, or data to find or create one.
#[derive(Debug, Clone, PartialEq)]
pub enum SaleCustomer {
    Known(Uuid),
    FindOrCreate(Box<CustomerInput>),
}

impl Store {
    /// Records a sale for an existing customer.
    pub fn record_sale(&mut self, customer_id: Uuid, input: &SaleInput) -> Result<Sale> {
        let total = validate_sale(input)?;
        self.write(|tx, ctx| record_sale_in(tx, ctx, customer_id, input, total))
    }

    /// Checkout: resolves the customer (finding or creating it from the typed data, reactivating
    /// an inactive one) and records the sale, all in one transaction. Customer and sale errors
    /// are reported together.
    pub fn checkout(&mut self, who: &SaleCustomer, input: &SaleInput) -> Result<(Sale, Option<FindOrCreate>)> {
        let sale_check = validate_sale(input);
        let valid_customer = match who {
            SaleCustomer::Known(_) => None,
            SaleCustomer::FindOrCreate(data) => Some(validate_customer(data, Utc::now().date_naive())),
        };
        let (total, valid_customer) = match (sale_check, valid_customer) {
            (Ok(total), None) => (total, None),
            (Ok(total), Some(Ok(v))) => (total, Some(v)),
            (sale, customer) => {
                let mut errors = customer.and_then(Result::err).unwrap_or_default();
                errors.0.extend(sale.err().map(|e| e.0).unwrap_or_default());
                return Err(errors.into());
            }
        };
        self.write(|tx, ctx| {
            let found = valid_customer.map(|v| find_or_create_in(tx, ctx, &v, true)).transpose()?;
            let customer_id = match (&found, who) {
                (Some(f), _) => f.customer.id,
                (None, SaleCustomer::Known(id)) => *id,
                (None, SaleCustomer::FindOrCreate(_)) => {
                    unreachable!("validated input always resolves a customer")
                }
            };
            let sale = record_sale_in(tx, ctx, customer_id, input, total)?;
            Ok((sale, found))
        })
    }

    /// Every sale this terminal holds, by id: what an audit (and the convergence tests) compares
    /// with the server's.
    pub fn all_sales(&self) -> Result<Vec<Sale>> {
        let mut stmt = self.conn.prepare(&format!("SELECT {SALE_COLUMNS} FROM sales ORDER BY id"))?;
        let sales = stmt.query_map([], sale_from_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(sales)
    }

    /// A customer's sales, newest first.
    pub fn purchase_history(&self, customer_id: Uuid, page: u32, page_size: u32) -> Result<Page<Sale>> {
        let page = page.max(1);
        let page_size = page_size.clamp(1, crate::lookup::MAX_PAGE_SIZE);
        let count: u64 = self.conn.query_row(
            "SELECT count(*) FROM sales WHERE customer_id = ?1",
            [customer_id.to_string()],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {SALE_COLUMNS} FROM sales WHERE customer_id = ?1 ORDER BY sold_at DESC, seq DESC LIMIT ?2 OFFSET ?3"))?;
        let results = stmt
            .query_map((customer_id.to_string(), page_size, u64::from(page - 1) * u64::from(page_size)), sale_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Page { count, page, page_size, results })
    }

    pub fn sales_summary(&self, customer_id: Uuid) -> Result<SalesSummary> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT currency, count(*), sum(total_minor), min(sold_at), max(sold_at) FROM sales WHERE customer_id = ?1 GROUP BY currency ORDER BY currency",
        )?;
        let mut summary =
            SalesSummary { purchase_count: 0, first_purchase: None, last_purchase: None, by_currency: Vec::new() };
        let rows = stmt.query_map([customer_id.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?, r.get::<_, i64>(2)?, get_ts(r, 3)?, get_ts(r, 4)?))
        })?;
        for row in rows {
            let (currency, count, total_minor, first, last) = row?;
            summary.purchase_count += count;
            summary.first_purchase = Some(summary.first_purchase.map_or(first, |f| f.min(first)));
            summary.last_purchase = Some(summary.last_purchase.map_or(last, |l| l.max(last)));
            summary.by_currency.push(CurrencyTotal {
                currency,
                count,
                total_minor,
                average_minor: total_minor / count.max(1) as i64,
            });
        }
        Ok(summary)
    }
}
