// The counter: a search box that answers on every keystroke from the local store, the result
// list (↑/↓/Enter), and the sale being rung up with its attached customer.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { RefObject } from "preact";
import { api, fieldErrors, type AppError, type Hit, type Lang, type PaymentMethod, type TypedLine } from "./api";
import * as fmt from "./format";
import { money, type T } from "./i18n";
import type { Attached } from "./attached";

/** Keystroke → results-painted latencies (ms), read by the benchmark over WebDriver. */
const metrics: { keystrokes: number[] } = { keystrokes: [] };
(window as unknown as { __posMetrics: typeof metrics }).__posMetrics = metrics;

const METHODS: PaymentMethod[] = ["cash", "card", "mobile_payment", "transfer", "zelle", "other"];
const CURRENCIES = ["VES", "USD"];

interface Props {
  t: T;
  lang: Lang;
  searchRef: RefObject<HTMLInputElement>;
  attached: Attached | null;
  onAttach: (c: Attached | null) => void;
  onSearchText: (q: string) => void;
  onOpenCard: (id: string) => void;
  onNewCustomer: () => void;
}

export function Counter({ t, lang, searchRef, attached, onAttach, onSearchText, onOpenCard, onNewCustomer }: Props) {
  const [q, setQ] = useState("");
  const [hits, setHits] = useState<Hit[]>([]);
  const [selected, setSelected] = useState(0);
  const asked = useRef(0);
  const typedAt = useRef<number | null>(null);

  useEffect(() => {
    searchRef.current?.focus();
    api.uiReady();
  }, []);

  const search = async (text: string) => {
    setQ(text);
    onSearchText(text);
    const ticket = ++asked.current;
    typedAt.current = performance.now();
    const found = text.trim() === "" ? [] : await api.quickLookup(text.trim(), 20).catch(() => []);
    if (ticket !== asked.current) return; // a newer keystroke already asked
    setHits(found);
    setSelected(0);
  };

  // Record when the answer to a keystroke is on screen (after layout, before the next frame).
  useLayoutEffect(() => {
    const started = typedAt.current;
    if (started === null) return;
    typedAt.current = null;
    requestAnimationFrame(() => metrics.keystrokes.push(performance.now() - started));
  }, [hits]);

  const attach = (h: Hit) => {
    onAttach(h);
    setQ("");
    setHits([]);
    onSearchText("");
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setSelected((s) => Math.min(s + 1, hits.length - 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setSelected((s) => Math.max(s - 1, 0));
    } else if (e.key === "Enter" && hits[selected]) {
      e.preventDefault();
      attach(hits[selected]);
    }
  };

  return (
    <div class="counter">
      <section class="lookup">
        <input
          ref={searchRef}
          id="search"
          class="search"
          type="search"
          autocomplete="off"
          spellcheck={false}
          placeholder={t("search.placeholder")}
          value={q}
          onInput={(e) => search((e.target as HTMLInputElement).value)}
          onKeyDown={onKeyDown}
        />
        <p class="hint">{t("search.hint")}</p>
        <ul id="results" class="results" role="listbox">
          {hits.map((h, i) => (
            <li
              key={h.id}
              role="option"
              aria-selected={i === selected}
              class={i === selected ? "hit selected" : "hit"}
              data-id={h.id}
              onMouseEnter={() => setSelected(i)}
              onClick={() => attach(h)}
            >
              <div class="hit-name">
                {h.first_name} {h.surname}
                {!h.is_active && <span class="badge muted">{t("inactive")}</span>}
              </div>
              <div class="hit-keys">
                {[fmt.identification(h.identification), fmt.phone(h.phone), h.email, h.passport_number].filter(Boolean).join(" · ")}
              </div>
              <span class="badge">{matchLabel(t, h)}</span>
              <button
                class="link"
                type="button"
                onClick={(e) => {
                  e.stopPropagation();
                  onOpenCard(h.id);
                }}
              >
                {t("card.title")}
              </button>
            </li>
          ))}
        </ul>
        {q.trim() !== "" && hits.length === 0 && (
          <div class="empty">
            <p>{t("search.none", { q })}</p>
            <button type="button" onClick={onNewCustomer}>
              {t("search.new")}
            </button>
          </div>
        )}
      </section>
      <SalePanel t={t} lang={lang} attached={attached} onDetach={() => onAttach(null)} onOpenCard={onOpenCard} />
    </div>
  );
}

function matchLabel(t: T, h: Hit): string {
  if (h.matched_by.kind === "exact") return t(`match.exact.${h.matched_by.key}`);
  if (h.matched_by.kind === "prefix") return t("match.prefix");
  return t("match.name");
}

function SalePanel(props: { t: T; lang: Lang; attached: Attached | null; onDetach: () => void; onOpenCard: (id: string) => void }) {
  const { t, lang, attached } = props;
  const [total, setTotal] = useState("");
  const [lines, setLines] = useState<TypedLine[]>([]);
  const setLine = (i: number, patch: Partial<TypedLine>) =>
    setLines((prev) => prev.map((l, j) => (j === i ? { ...l, ...patch } : l)));
  const [currency, setCurrency] = useState("USD");
  const [method, setMethod] = useState<PaymentMethod>("cash");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const checkout = async () => {
    if (busy) return;
    setBusy(true);
    setDone(null);
    try {
      const result = await api.checkout({
        customer_id: attached?.id,
        total,
        lines,
        currency,
        payment_method: method,
      });
      setErrors({});
      setTotal("");
      setLines([]);
      setDone(t("sale.done", { total: money(lang, result.sale.total_minor, result.sale.currency) }));
      props.onDetach();
    } catch (e) {
      const fields = fieldErrors(e, lang);
      const kind = (e as AppError).kind;
      setErrors(Object.keys(fields).length ? fields : { form: t(kind === "not_found" ? "sale.noCustomer" : "error.internal") });
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "F9") {
        e.preventDefault();
        checkout();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  return (
    <section class="sale" aria-label={t("sale.title")}>
      <h2>{t("sale.title")}</h2>
      <div class="attached" id="attached">
        {attached ? (
          <>
            <div>
              <div class="hit-name">
                {attached.first_name} {attached.surname}
              </div>
              <div class="hit-keys">
                {[fmt.identification(attached.identification), fmt.phone(attached.phone), attached.email].filter(Boolean).join(" · ")}
              </div>
            </div>
            <div class="row">
              <button class="link" type="button" onClick={() => props.onOpenCard(attached.id)}>
                {t("card.short")}
              </button>
              <button class="link" type="button" onClick={props.onDetach}>
                {t("sale.detach")}
              </button>
            </div>
          </>
        ) : (
          <p class="muted">{t("sale.noCustomer")}</p>
        )}
      </div>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          checkout();
        }}
      >
        {lines.map((l, i) => (
          <div class="line">
            <input
              class="line-description"
              placeholder={t("sale.item")}
              value={l.description}
              onInput={(e) => setLine(i, { description: (e.target as HTMLInputElement).value })}
            />
            <input
              class="line-quantity"
              inputMode="decimal"
              aria-label={t("sale.quantity")}
              value={l.quantity}
              onInput={(e) => setLine(i, { quantity: (e.target as HTMLInputElement).value })}
            />
            <input
              class="line-price"
              inputMode="decimal"
              placeholder={t("sale.price")}
              value={l.unit_price}
              onInput={(e) => setLine(i, { unit_price: (e.target as HTMLInputElement).value })}
            />
            <button class="link" type="button" aria-label={t("sale.removeLine")} onClick={() => setLines(lines.filter((_, j) => j !== i))}>
              ×
            </button>
            {(errors[`lines[${i}].quantity`] || errors[`lines[${i}].unit_price`]) && (
              <span class="error">{errors[`lines[${i}].quantity`] ?? errors[`lines[${i}].unit_price`]}</span>
            )}
          </div>
        ))}
        <button class="link" type="button" id="add-line" onClick={() => setLines([...lines, { description: "", quantity: "1", unit_price: "" }])}>
          {t("sale.addLine")}
        </button>
        <label>
          {lines.length ? t("sale.totalOptional") : t("sale.total")}
          <input id="sale-total" inputMode="decimal" value={total} onInput={(e) => setTotal((e.target as HTMLInputElement).value)} />
          {errors.total && <span class="error">{errors.total}</span>}
        </label>
        <div class="row">
          <label>
            {t("sale.currency")}
            <select value={currency} onChange={(e) => setCurrency((e.target as HTMLSelectElement).value)}>
              {CURRENCIES.map((c) => (
                <option value={c}>{c}</option>
              ))}
            </select>
          </label>
          <label>
            {t("sale.method")}
            <select value={method} onChange={(e) => setMethod((e.target as HTMLSelectElement).value as PaymentMethod)}>
              {METHODS.map((m) => (
                <option value={m}>{t(`method.${m}`)}</option>
              ))}
            </select>
          </label>
        </div>
        {(errors.customer || errors.form) && <p class="error">{errors.customer ?? errors.form}</p>}
        <button id="checkout" class="primary" type="submit" disabled={busy || !attached}>
          {t("sale.checkout")}
        </button>
        {done && <p class="ok" id="sale-done">{done}</p>}
      </form>
    </section>
  );
}
