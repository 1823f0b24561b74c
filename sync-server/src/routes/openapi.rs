//! `GET /openapi.json`, generated from the handlers' `#[utoipa::path]` attributes and the
//! answer types. Every operation also lists the error answers every handler can give, in the
//! one error shape; the customer paths are listed again under seed 1's `/customers/…`.
//!
//! The request bodies built from `pos-core` types are described by the `*Doc` mirrors below
//! (`pos-core` stays free of HTTP concerns); a test checks each mirror against the real type's
//! serde form, so they cannot drift apart.

use super::schemas::{
    ContactWindowDoc, CustomerInputDoc, ErrorBody, ErrorDetail, PreferencesDoc, SaleDoc, SaleLineDoc,
    SalesCustomerDataDoc,
};
use super::{auth, customers, lookup, manage, ops, sync, views};
use crate::error::FieldErrorBody;
use crate::AppState;
use axum::routing::get;
use axum::{Json, Router};
use std::sync::LazyLock;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Doc, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

pub fn routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(DOCUMENT.clone()) }))
}

/// The document, built once.
pub static DOCUMENT: LazyLock<Doc> = LazyLock::new(ApiDoc::openapi);

/// Security schemes and the errors every operation can answer.
struct Shared;

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<&mut Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch]
        .into_iter()
        .filter_map(|o| o.as_mut())
        .collect()
}

/// Paths that need no credential.
const PUBLIC: [&str; 6] =
    ["/api/token/", "/api/token/refresh/", "/api/v1/devices/register", "/healthz", "/metrics", "/openapi.json"];

impl Modify for Shared {
    fn modify(&self, doc: &mut Doc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        components.add_security_scheme(
            "device",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Device <device id>.<secret>` — a registered terminal (cashier rights on the customer API)",
            ))),
        );
        let errors = [
            ("400", "Malformed body or query string"),
            ("401", "No valid credential"),
            ("403", "The caller's role does not allow this"),
            ("404", "Not found in the caller's organisation"),
            ("413", "Body larger than the limit"),
            ("422", "Invalid input; `fields` names every bad field"),
            ("500", "Server error (no detail is given)"),
            ("503", "The request took too long"),
        ];
        let mut aliases = Vec::new();
        for (path, item) in doc.paths.paths.iter_mut() {
            let public = PUBLIC.contains(&path.as_str());
            for op in operations(item) {
                for (status, description) in errors {
                    if public && matches!(status, "401" | "403") {
                        continue;
                    }
                    op.responses.responses.entry(status.to_owned()).or_insert_with(|| error_response(description));
                }
                if !public {
                    op.security = Some(vec![
                        utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
                        utoipa::openapi::security::SecurityRequirement::new("device", Vec::<String>::new()),
                    ]);
                }
            }
            if let Some(rest) = path.strip_prefix("/api/v1/customers/") {
                let mut alias = item.clone();
                for op in operations(&mut alias) {
                    op.operation_id = op.operation_id.as_ref().map(|id| format!("seed1_{id}"));
                }
                aliases.push((format!("/customers/{rest}"), alias));
            }
        }
        doc.paths.paths.extend(aliases);
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "POS customers sync server",
        description = "The customer API of both source documents (seed 2 under `/api/v1/customers/`, seed 1 also under `/customers/`), sign-in, terminal registration and sync. Every customer path also answers without its trailing slash."
    ),
    paths(
        auth::token, auth::refresh, auth::register_device, auth::me,
        sync::push, sync::pull,
        ops::healthz, ops::metrics,
        customers::list, customers::create, customers::retrieve, customers::replace, customers::patch,
        customers::soft_delete, customers::preferences, customers::put_preferences, customers::patch_preferences,
        lookup::search, lookup::lookup, lookup::quick_lookup, lookup::validate, lookup::find_or_create,
        lookup::purchase_history, lookup::sales_summary,
        manage::manual_add, manage::auto_collection, manage::run_auto_collection, manage::bulk_activate,
        manage::bulk_deactivate, manage::stats, manage::review_items, manage::dismiss_review_item, manage::merge,
    ),
    components(schemas(ErrorBody, ErrorDetail, FieldErrorBody, CustomerInputDoc, SalesCustomerDataDoc, PreferencesDoc,
        ContactWindowDoc, SaleDoc, SaleLineDoc, views::CustomerView)),
    modifiers(&Shared),
    tags(
        (name = "customers", description = "Seed 2's customer CRUD (soft delete)"),
        (name = "preferences", description = "Communication preferences"),
        (name = "search", description = "Search and lookup"),
        (name = "sales", description = "Sales integration"),
        (name = "seed1", description = "Seed 1's manual add and auto-collection"),
        (name = "back office", description = "Bulk actions, stats, review items and merges (managers)"),
        (name = "auth", description = "Sign-in and terminal registration"),
        (name = "sync", description = "Terminal push and pull"),
        (name = "operations", description = "Health and metrics"),
    )
)]
struct ApiDoc;
