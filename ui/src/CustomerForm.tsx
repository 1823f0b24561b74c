// One customer form for capture, edit and fixing a rejected change. Field errors appear as the
// cashier types, from the same Rust rules the store and the server apply.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, fieldErrors, type AppError, type Customer, type CustomerInput, type Lang } from "./api";
import type { T } from "./i18n";
import type { Attached } from "./attached";

export type FormMode = { kind: "new"; prefill: string } | { kind: "edit"; id: string } | { kind: "fix"; id: string; changeId: string };

const FIELDS = [
  "first_name",
  "surname",
  "identification",
  "phone",
  "email",
  "passport_number",
  "date_of_birth",
  "city",
  "address",
  "notes",
] as const;
type Field = (typeof FIELDS)[number];

/** Puts what the cashier searched for into the field it most likely is. */
function prefill(text: string): CustomerInput {
  const q = text.trim();
  if (!q) return {};
  if (q.includes("@")) return { email: q };
  const digits = q.replace(/[^0-9]/g, "");
  if (/^(\+?58|0)?4\d{2}/.test(digits) && digits.length >= 10) return { phone: q };
  if (/^[VEJPGvejpg]?[-. ]?[\d.]+$/.test(q) && digits.length >= 6 && digits.length <= 9) return { identification: q };
  const [first, ...rest] = q.split(/\s+/);
  return { first_name: first, surname: rest.join(" ") };
}

/** The form field that holds a match key. */
function keyField(key: string): string {
  return key === "passport" ? "passport_number" : key;
}

function fromCustomer(c: Customer): CustomerInput {
  const out: CustomerInput = {};
  for (const f of FIELDS) {
    const v = c[f as keyof Customer];
    if (typeof v === "string" && v !== "") out[f] = v;
  }
  return out;
}

interface Props {
  t: T;
  lang: Lang;
  mode: FormMode;
  onCancel: () => void;
  onSaved: (c: Attached) => void;
}

export function CustomerForm({ t, lang, mode, onCancel, onSaved }: Props) {
  const [input, setInput] = useState<CustomerInput>(mode.kind === "new" ? prefill(mode.prefill) : {});
  const [touched, setTouched] = useState<Set<Field>>(new Set());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [duplicateOf, setDuplicateOf] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const firstRef = useRef<HTMLInputElement>(null);
  const checked = useRef(0);

  useEffect(() => {
    if (mode.kind !== "new") api.customerCard(mode.id).then((card) => setInput(fromCustomer(card.customer)));
    firstRef.current?.focus();
  }, []);

  // Validate on every change (the rules run in Rust in well under a millisecond).
  useEffect(() => {
    const ticket = ++checked.current;
    api.validateCustomer(input).then((v) => {
      if (ticket !== checked.current) return;
      const map: Record<string, string> = {};
      for (const e of v.errors) map[e.field] ??= lang === "es" ? e.message_es : e.message;
      setErrors(map);
    });
  }, [input, lang]);

  const set = (f: Field, value: string) => {
    setInput((prev) => ({ ...prev, [f]: value }));
    setTouched((prev) => new Set(prev).add(f));
    setDuplicateOf(null);
  };

  const save = async () => {
    setTouched(new Set(FIELDS));
    // Check what is in the form now: the errors on screen may answer an earlier keystroke.
    const check = await api.validateCustomer(input);
    if (!check.is_valid) return;
    setBusy(true);
    try {
      const saved =
        mode.kind === "new"
          ? await api.createCustomer(input)
          : await api.updateCustomer(mode.id, input, mode.kind === "fix" ? mode.changeId : undefined);
      onSaved(saved);
    } catch (e) {
      const err = e as AppError;
      if (err.kind === "duplicate") {
        const first = err.duplicates[0];
        setDuplicateOf(first?.existing_id ?? null);
        setErrors({ ...errors, [first ? keyField(first.key) : "form"]: t("form.duplicate") });
      } else {
        setErrors({ ...errors, ...fieldErrors(e, lang), ...(err.kind === "invalid" ? {} : { form: t("error.internal") }) });
      }
    } finally {
      setBusy(false);
    }
  };

  const useExisting = async () => {
    if (!duplicateOf) return;
    const card = await api.customerCard(duplicateOf);
    onSaved(card.customer);
  };

  const title = mode.kind === "new" ? t("form.new") : mode.kind === "edit" ? t("form.edit") : t("form.fix");
  const field = (f: Field, type = "text", placeholder?: string) => (
    <label class={touched.has(f) && errors[f] ? "invalid" : ""}>
      {t(`form.${f}`)}
      <input
        id={`customer-${f}`}
        name={f}
        type={type}
        placeholder={placeholder}
        ref={f === "first_name" ? firstRef : undefined}
        value={input[f] ?? ""}
        onInput={(e) => set(f, (e.target as HTMLInputElement).value)}
        onBlur={() => setTouched((prev) => new Set(prev).add(f))}
        aria-invalid={touched.has(f) && !!errors[f]}
      />
      {touched.has(f) && errors[f] && (
        <span class="error" id={`error-${f}`}>
          {errors[f]}
        </span>
      )}
    </label>
  );

  return (
    <div class="overlay" role="dialog" aria-label={title}>
      <form
        class="dialog form"
        id="customer-form"
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        <h2>{title}</h2>
        <div class="grid">
          {field("first_name")}
          {field("surname")}
          {field("identification", "text", "V-12.345.678")}
          {field("phone", "tel", "0414-123.45.67")}
          {field("email", "email")}
          {field("passport_number")}
          {field("date_of_birth", "text", t("form.datePlaceholder"))}
          {field("city")}
        </div>
        {field("address")}
        {field("notes")}
        {errors.form && <p class="error">{errors.form}</p>}
        {duplicateOf && (
          <button type="button" class="link" onClick={useExisting}>
            {t("form.useExisting")}
          </button>
        )}
        <div class="actions">
          <button type="button" onClick={onCancel}>
            {t("form.cancel")}
          </button>
          <button id="customer-save" class="primary" type="submit" disabled={busy}>
            {t("form.save")}
          </button>
        </div>
      </form>
    </div>
  );
}
