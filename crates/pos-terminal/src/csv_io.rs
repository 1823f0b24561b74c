//! CSV import and export of customers for the headless terminal.

use pos_core::{CustomerInput, Source, ValidationErrors};
use pos_store::{SearchQuery, Store, StoreError};
use serde::Serialize;
use std::path::Path;

/// A row that could not be imported.
#[derive(Debug, Serialize)]
pub struct RowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub errors: serde_json::Value,
}

#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub created: u64,
    pub matched: u64,
    pub rejected: Vec<RowError>,
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(ValidationErrors::one(
        format!("file {}: {e}", path.display()),
        pos_core::ErrorCode::InvalidChoice,
    ))
}

pub fn import(store: &mut Store, path: &Path) -> Result<ImportReport, StoreError> {
    let mut reader =
        csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).from_path(path).map_err(|e| io_error(path, e))?;
    let mut report = ImportReport::default();
    for (index, row) in reader.deserialize::<CustomerInput>().enumerate() {
        let line = index as u64 + 2;
        let mut input = match row {
            Ok(input) => input,
            Err(e) => {
                report.rejected.push(RowError {
                    line,
                    errors: serde_json::json!([{ "field": "row", "code": "invalid_choice", "message": e.to_string() }]),
                });
                continue;
            }
        };
        input.source.get_or_insert_with(|| Source::Import.as_str().to_owned());
        match store.find_or_create(&input) {
            Ok(found) if found.created => report.created += 1,
            Ok(_) => report.matched += 1,
            Err(StoreError::Invalid(errors)) => report
                .rejected
                .push(RowError { line, errors: serde_json::to_value(&errors).expect("errors serialise") }),
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

const HEADER: [&str; 13] = [
    "id",
    "first_name",
    "surname",
    "phone",
    "email",
    "identification",
    "passport_number",
    "date_of_birth",
    "address",
    "city",
    "source",
    "is_active",
    "created_at",
];

pub fn export(store: &Store, path: &Path) -> Result<serde_json::Value, StoreError> {
    let mut writer = csv::Writer::from_path(path).map_err(|e| io_error(path, e))?;
    writer.write_record(HEADER).map_err(|e| io_error(path, e))?;
    let mut page = 1;
    let mut written = 0u64;
    loop {
        let results = store.search(&SearchQuery {
            page,
            page_size: 200,
            ordering: pos_store::Ordering::CreatedAt,
            ..Default::default()
        })?;
        for c in &results.results {
            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            writer
                .write_record([
                    c.id.to_string(),
                    c.first_name.clone(),
                    c.surname.clone(),
                    text(&c.phone),
                    text(&c.email),
                    text(&c.identification),
                    text(&c.passport_number),
                    c.date_of_birth.map(|d| d.to_string()).unwrap_or_default(),
                    text(&c.address),
                    text(&c.city),
                    c.source.as_str().to_owned(),
                    c.is_active.to_string(),
                    c.created_at.to_rfc3339(),
                ])
                .map_err(|e| io_error(path, e))?;
            written += 1;
        }
        if u64::from(page) * 200 >= results.count {
            break;
        }
        page += 1;
    }
    writer.flush().map_err(|e| io_error(path, e))?;
    Ok(serde_json::json!({ "exported": written, "file": path }))
}
