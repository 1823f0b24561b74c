//! Generates the Tauri context and the permissions of the app's own commands, so the window's
//! capability can grant exactly the commands the UI calls.

fn main() {
    let commands = &[
        "app_info",
        "quick_lookup",
        "customer_card",
        "validate_customer",
        "create_customer",
        "update_customer",
        "checkout",
        "sync_status",
        "sync_now",
        "rejected_changes",
        "discard_rejected",
        "save_settings",
        "register_terminal",
        "ui_ready",
        "session_info",
        "sign_in",
        "sign_out",
        "set_language",
        "list_customers",
        "set_customers_active",
        "save_preferences",
        "customer_stats",
        "review_items",
        "dismiss_review_item",
        "merge_customers",
    ];
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("tauri build step");
}
