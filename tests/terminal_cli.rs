//! The headless terminal end to end: the real `pos-terminal` binary on a real store file, as a
//! script or a cashier would use it.

use pos_e2e::Terminal;

#[test]
fn capture_then_find_by_cedula_typed_with_dots() {
    let t = Terminal::new();
    let juan =
        t.ok(&["add", "--name", "Juan", "--surname", "Pérez", "--phone", "0414-123.45.67", "--cedula", "V-12345678"]);
    assert_eq!(juan["phone"], "+584141234567");
    let hits = t.ok(&["lookup", "v12.345.678"]);
    assert_eq!(hits[0]["customer"]["id"], juan["id"]);
    assert_eq!(hits[0]["matched_by"]["kind"], "exact");
    let by_name = t.ok(&["lookup", "perez"]);
    assert_eq!(by_name[0]["customer"]["id"], juan["id"]);
}

#[test]
fn invalid_phone_is_refused_naming_the_field_and_nothing_is_stored() {
    let t = Terminal::new();
    let run = t.run(&["add", "--name", "Ana", "--surname", "Rojas", "--phone", "0414-12"]);
    assert_eq!(run.code, 2);
    let error = &run.stderr["error"];
    assert_eq!(error["kind"], "invalid");
    assert_eq!(error["errors"][0]["field"], "phone");
    assert_eq!(error["errors"][0]["code"], "phone_invalid");
    assert_eq!(t.ok(&["outbox"])["pending"], 0);
    let ok = t.run(&["add", "--name", "Ana", "--surname", "Rojas", "--phone", "0414-765.43.21"]);
    assert_eq!(ok.code, 0);
    assert_eq!(t.ok(&["outbox"])["pending"], 1);
}

#[test]
fn checkout_finds_the_same_person_and_keeps_one_customer() {
    let t = Terminal::new();
    let first =
        t.ok(&["sale", "--name", "Luisa", "--surname", "Marcano", "--email", "Luisa@Correo.com", "--total", "12,50"]);
    assert_eq!(first["customer"]["created"], true);
    let again = t.ok(&[
        "sale",
        "--name",
        "luisa",
        "--surname",
        "marcano",
        "--email",
        "luisa@correo.com ",
        "--phone",
        "04241112233",
        "--total",
        "7.25",
        "--currency",
        "usd",
    ]);
    assert_eq!(again["customer"]["created"], false);
    assert_eq!(again["customer"]["customer"]["id"], first["customer"]["customer"]["id"]);
    let id = first["customer"]["customer"]["id"].as_str().unwrap();
    let shown = t.ok(&["show", id]);
    assert_eq!(shown["customer"]["phone"], "+584241112233", "the blank phone was filled by the second visit");
    assert_eq!(shown["sales_summary"]["purchase_count"], 2);
    assert_eq!(shown["sales_summary"]["by_currency"][0]["total_minor"], 1975);
    assert_eq!(t.ok(&["stats"])["total"], 1);
}

#[test]
fn deactivated_customers_are_still_found_and_checkout_brings_them_back() {
    let t = Terminal::new();
    let c = t.ok(&["add", "--full-name", "Pedro Pablo Rojas Peña", "--email", "pp@x.com"]);
    assert_eq!((c["first_name"].as_str(), c["surname"].as_str()), (Some("Pedro Pablo"), Some("Rojas Peña")));
    let id = c["id"].as_str().unwrap();
    assert_eq!(t.ok(&["deactivate", id])["deactivated"], 1);
    assert_eq!(t.ok(&["lookup", "PP@X.COM"])[0]["customer"]["is_active"], false);
    let sale = t.ok(&["sale", "--email", "pp@x.com", "--name", "Pedro", "--surname", "Rojas", "--total", "3"]);
    assert_eq!(sale["customer"]["reactivated"], true);
    assert_eq!(t.ok(&["show", id])["customer"]["is_active"], true);
}

#[test]
fn demo_data_loads_without_queueing_and_is_searchable() {
    let t = Terminal::new();
    assert_eq!(t.ok(&["seed-demo", "--count", "500"])["loaded"], 500);
    assert_eq!(t.ok(&["stats"])["total"], 500);
    assert_eq!(t.ok(&["outbox"])["pending"], 0);
    let page = t.ok(&["search", "--search", "gonz", "--page-size", "5"]);
    assert!(page["count"].as_u64().unwrap() > 5, "common surname found many times: {page}");
    assert_eq!(page["results"].as_array().unwrap().len(), 5);
    // A store that already has customers takes more with its indexes live.
    assert_eq!(t.ok(&["seed-demo", "--count", "500", "--seed", "8"])["loaded"], 500);
    assert_eq!(t.ok(&["stats"])["total"], 1000);
    let more = t.ok(&["search", "--search", "gonz", "--page-size", "5"]);
    assert!(more["count"].as_u64().unwrap() > page["count"].as_u64().unwrap(), "{more}");
}

#[test]
fn update_changes_only_the_given_fields() {
    let t = Terminal::new();
    let c = t.ok(&[
        "add",
        "--name",
        "Eva",
        "--surname",
        "Luna",
        "--phone",
        "0416-555.12.34",
        "--city",
        "Coro",
        "--cedula",
        "V-9.876.543",
    ]);
    let id = c["id"].as_str().unwrap();
    let updated = t.ok(&["update", id, "--email", "eva@luna.com"]);
    assert_eq!(updated["email"], "eva@luna.com");
    assert_eq!(updated["city"], "Coro", "fields not given stay as they were");
    assert_eq!(updated["identification"], "V-9876543");
}

#[test]
fn csv_import_dedupes_reports_bad_rows_and_exports_what_it_holds() {
    let t = Terminal::new();
    let csv = t.db.with_file_name("customers.csv");
    std::fs::write(
        &csv,
        "first_name,surname,phone,email,identification,city\n\
         Juan,Pérez,0414-123.45.67,,v12.345.678,Caracas\n\
         juan,perez,+58 414 1234567,juan@x.com,,\n\
         Ana,,0414-12,,,\n\
         Luisa,Marcano,,luisa@x.com,,Mérida\n",
    )
    .unwrap();
    let report = t.ok(&["import", csv.to_str().unwrap()]);
    assert_eq!((report["created"].as_u64(), report["matched"].as_u64()), (Some(2), Some(1)), "{report}");
    assert_eq!(report["rejected"][0]["line"], 4);
    let fields: Vec<&str> =
        report["rejected"][0]["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["surname", "phone"]);
    assert_eq!(t.ok(&["import", csv.to_str().unwrap()])["created"], 0, "importing again adds nobody");

    let out = t.db.with_file_name("export.csv");
    assert_eq!(t.ok(&["export", out.to_str().unwrap()])["exported"], 2);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("id,first_name,surname,phone"));
    assert!(text.contains("+584141234567") && text.contains("juan@x.com") && text.contains("Import"));
}
