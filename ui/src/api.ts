// Typed access to the app's commands. Every command fails with a tagged error object
// ({kind: "invalid", errors: [...]}, {kind: "duplicate", ...}, {kind: "offline"}, ...).
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export type Lang = "es" | "en";

export interface FieldError {
  field: string;
  code: string;
  message: string;
  message_es: string;
}

export type AppError =
  | { kind: "invalid"; errors: FieldError[] }
  | { kind: "duplicate"; duplicates: { key: string; existing_id: string }[] }
  | { kind: "not_found"; id: string }
  | { kind: "offline" }
  | { kind: "unauthorized" }
  | { kind: "refused"; status: number; message: string }
  | { kind: "signed_out" }
  | { kind: "forbidden" }
  | { kind: "session_offline" }
  | { kind: "internal" };

export type Role = "cashier" | "manager" | "admin";
export type Action =
  | "look_up"
  | "capture"
  | "edit_customer"
  | "edit_preferences"
  | "bulk_actions"
  | "see_stats"
  | "review_duplicates"
  | "configure_terminal";

export interface SessionInfo {
  user_id: string;
  username: string;
  role: Role;
  actions: Action[];
  offline: boolean;
}

export interface Settings {
  server_url: string | null;
  terminal_name: string;
  language: Lang;
}

export type Connection = "unregistered" | "connecting" | "online" | "offline" | "refused";

export interface SyncStatus {
  connection: Connection;
  pending: number;
  rejected: number;
  last_sync: string | null;
  /** When a sync round last brought changes: lists re-read then. */
  pulled_at: string | null;
}

export interface AppInfo {
  settings: Settings;
  registered: boolean;
  device_id: string;
  branch_id: string | null;
  interactive_ms: number | null;
  status: SyncStatus;
}

export type KeyKind = "phone" | "email" | "passport" | "identification";
export type MatchedBy = { kind: "exact"; key: KeyKind } | { kind: "prefix"; key: KeyKind } | { kind: "name" };

export interface Customer {
  id: string;
  branch_id: string | null;
  first_name: string;
  surname: string;
  phone: string | null;
  email: string | null;
  identification: string | null;
  passport_number: string | null;
  date_of_birth: string | null;
  address: string | null;
  city: string | null;
  notes: string | null;
  source: string;
  service_type: string | null;
  is_active: boolean;
  last_activity: string | null;
  created_at: string;
  updated_at: string;
}

/** The capture form as typed; the Rust side validates and normalises. */
/** One line of the counter's results: what a cashier needs to recognise the customer. */
export type Hit = Pick<
  Customer,
  "id" | "first_name" | "surname" | "phone" | "email" | "identification" | "passport_number" | "city" | "is_active"
> & { matched_by: MatchedBy };

export interface CustomerInput {
  first_name?: string;
  surname?: string;
  phone?: string;
  email?: string;
  identification?: string;
  passport_number?: string;
  date_of_birth?: string;
  address?: string;
  city?: string;
  notes?: string;
}

export const CHANNELS = ["email", "sms", "whatsapp", "phone_call"] as const;
export const NOTIFICATION_TYPES = [
  "purchase_confirmation",
  "payment_reminder",
  "event_reminder",
  "promotional",
  "system_update",
] as const;
export type Channel = (typeof CHANNELS)[number];
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export interface Preferences {
  channels: Channel[];
  notification_types: NotificationType[];
  contact_window: { start: string; end: string; time_zone: string } | null;
  language: Lang;
}

/** Preferences as the editor sends them: the contact window as typed. */
export type PreferencesInput = Omit<Preferences, "contact_window"> & {
  contact_window: { start: string; end: string; time_zone: string } | null;
};

export type Source = "POS" | "Manual" | "Lead" | "Booking" | "AreaCustomer" | "Import" | "Webhook";
export type Ordering = "-created_at" | "created_at" | "surname" | "first_name" | "-updated_at" | "-last_activity";

export interface CustomerQuery {
  search?: string | null;
  is_active?: boolean | null;
  source?: Source | null;
  city?: string | null;
  ordering?: Ordering;
  page: number;
  page_size: number;
}

export interface Page<T> {
  count: number;
  page: number;
  page_size: number;
  results: T[];
}

export interface Stats {
  total: number;
  active: number;
  inactive: number;
  by_source: { key: string | null; count: number }[];
  by_branch: { key: string | null; count: number }[];
  new_per_day: { day: string; count: number }[];
}

export interface ReviewSide {
  id: string;
  name: string;
  surname: string;
  phone: string | null;
  email: string | null;
  identification: string | null;
  passport_number: string | null;
  city: string | null;
  source: string;
  is_active: boolean;
  created_at: string;
  purchase_count: number;
}

export interface ReviewItem {
  id: string;
  match_key: string;
  created_at: string;
  a: ReviewSide;
  b: ReviewSide;
}

export interface SaleLine {
  description: string;
  quantity: number;
  unit_price_minor: number;
}

export interface Sale {
  id: string;
  customer_id: string;
  lines: SaleLine[];
  total_minor: number;
  currency: string;
  payment_method: PaymentMethod;
  sold_at: string;
}

export interface CurrencyTotal {
  currency: string;
  count: number;
  total_minor: number;
  average_minor: number;
}

export interface CustomerCard {
  customer: Customer;
  preferences: Preferences;
  history: { count: number; results: Sale[] };
  summary: {
    purchase_count: number;
    first_purchase: string | null;
    last_purchase: string | null;
    by_currency: CurrencyTotal[];
  };
}

export type PaymentMethod = "cash" | "card" | "mobile_payment" | "transfer" | "zelle" | "other";

/** A sale line as typed: quantity and price in local notation; Rust parses and checks them. */
export interface TypedLine {
  description: string;
  quantity: string;
  unit_price: string;
}

export interface CheckoutRequest {
  customer_id?: string;
  customer?: CustomerInput;
  lines?: TypedLine[];
  total?: string;
  currency: string;
  payment_method: PaymentMethod;
}

export interface CheckoutDone {
  sale: Sale;
  customer: { customer: Customer; created: boolean; matched_by: string | null } | null;
}

export interface OutboxEntry {
  seq: number;
  change: { change_id: string; device_id: string; body: Record<string, unknown> };
  created_at: string;
  attempts: number;
  rejection: unknown;
}

export const api = {
  appInfo: () => invoke<AppInfo>("app_info"),
  uiReady: () => invoke<number>("ui_ready"),
  quickLookup: (q: string, limit = 20) => invoke<Hit[]>("quick_lookup", { q, limit }),
  customerCard: (id: string) => invoke<CustomerCard>("customer_card", { id }),
  validateCustomer: (input: CustomerInput) =>
    invoke<{ is_valid: boolean; errors: FieldError[] }>("validate_customer", { input }),
  createCustomer: (input: CustomerInput) => invoke<Customer>("create_customer", { input }),
  updateCustomer: (id: string, input: CustomerInput, rejectedChange?: string) =>
    invoke<Customer>("update_customer", { id, input, rejectedChange: rejectedChange ?? null }),
  checkout: (request: CheckoutRequest) => invoke<CheckoutDone>("checkout", { request }),
  syncStatus: () => invoke<SyncStatus>("sync_status"),
  syncNow: () => invoke<void>("sync_now"),
  rejectedChanges: () => invoke<OutboxEntry[]>("rejected_changes"),
  discardRejected: (changeId: string) => invoke<boolean>("discard_rejected", { changeId }),
  saveSettings: (terminalName: string, language: Lang) =>
    invoke<Settings>("save_settings", { terminalName, language }),
  registerTerminal: (serverUrl: string, code: string, terminalName: string) =>
    invoke<Settings>("register_terminal", { serverUrl, code, terminalName }),
  sessionInfo: () => invoke<SessionInfo | null>("session_info"),
  signIn: (username: string, password: string) => invoke<SessionInfo>("sign_in", { username, password }),
  signOut: () => invoke<void>("sign_out"),
  setLanguage: (language: Lang) => invoke<Lang>("set_language", { language }),
  listCustomers: (query: CustomerQuery) => invoke<Page<Customer>>("list_customers", { query }),
  setCustomersActive: (ids: string[], active: boolean) => invoke<number>("set_customers_active", { ids, active }),
  savePreferences: (customerId: string, preferences: PreferencesInput) =>
    invoke<Preferences>("save_preferences", { customerId, preferences }),
  customerStats: (days = 30) => invoke<Stats>("customer_stats", { days }),
  reviewItems: () => invoke<ReviewItem[]>("review_items"),
  dismissReviewItem: (id: string) => invoke<void>("dismiss_review_item", { id }),
  mergeCustomers: (survivor: string, loser: string) =>
    invoke<{ survivor: ReviewSide; sales_repointed: number }>("merge_customers", { survivor, loser }),
  onSyncStatus: (f: (s: SyncStatus) => void): Promise<UnlistenFn> =>
    listen<SyncStatus>("sync-status", (e) => f(e.payload)),
};

/** Field errors of a failed command, keyed by field (empty for other failures). */
export function fieldErrors(e: unknown, lang: Lang): Record<string, string> {
  const err = e as AppError;
  const out: Record<string, string> = {};
  if (err && err.kind === "invalid") {
    for (const f of err.errors) out[f.field] ??= lang === "es" ? f.message_es : f.message;
  }
  return out;
}
