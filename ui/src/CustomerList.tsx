// The manager's customer list over the local store: search and filters, ordering, pages, and
// multi-select for bulk activate / deactivate (queued for the server like any local change).
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Customer, type CustomerQuery, type Lang, type Ordering, type Page, type Source } from "./api";
import * as fmt from "./format";
import { date, number, problem, type T } from "./i18n";

const PAGE_SIZE = 50;
const SOURCES: Source[] = ["POS", "Manual", "Lead", "Booking", "AreaCustomer", "Import", "Webhook"];
const ORDERINGS: Ordering[] = ["-created_at", "created_at", "surname", "first_name", "-updated_at", "-last_activity"];

interface Props {
  t: T;
  lang: Lang;
  canBulk: boolean;
  /** Changes pulled from the server at this time: the page is read again. */
  pulledAt: string | null;
  /** Bumped when a customer was edited in a dialog over the list. */
  edits: number;
  onOpenCard: (id: string) => void;
}

export function CustomerList({ t, lang, canBulk, pulledAt, edits, onOpenCard }: Props) {
  const [query, setQuery] = useState<CustomerQuery>({ ordering: "-created_at", page: 1, page_size: PAGE_SIZE });
  const [page, setPage] = useState<Page<Customer> | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  const asked = useRef(0);
  const load = async (q: CustomerQuery) => {
    const ticket = ++asked.current;
    try {
      const answer = await api.listCustomers(q);
      if (ticket === asked.current) setPage(answer); // a later request's answer wins
    } catch (e) {
      setMessage({ ok: false, text: problem(t, lang, e) });
    }
  };
  useEffect(() => {
    load(query);
  }, [query, pulledAt, edits]);

  // New filters show other customers: a selection the manager can no longer see is dropped.
  const change = (patch: Partial<CustomerQuery>) => {
    setQuery({ ...query, page: 1, ...patch });
    setSelected(new Set());
  };
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const rows = page?.results ?? [];
  const allOnPage = rows.length > 0 && rows.every((c) => selected.has(c.id));
  const togglePage = () => {
    const next = new Set(selected);
    for (const c of rows) {
      if (allOnPage) next.delete(c.id);
      else next.add(c.id);
    }
    setSelected(next);
  };
  const bulk = async (active: boolean) => {
    try {
      const n = await api.setCustomersActive([...selected], active);
      setMessage({ ok: true, text: t(active ? "customers.activated" : "customers.deactivated", { n: number(lang, n) }) });
      setSelected(new Set());
      load(query);
    } catch (e) {
      setMessage({ ok: false, text: problem(t, lang, e) });
    }
  };
  const pages = page ? Math.max(1, Math.ceil(page.count / PAGE_SIZE)) : 1;

  return (
    <section class="panel screen" id="customer-list">
      <div class="filters">
        <input
          id="list-search"
          class="grow"
          type="search"
          placeholder={t("customers.search")}
          value={query.search ?? ""}
          onInput={(e) => change({ search: (e.target as HTMLInputElement).value || null })}
        />
        <select
          id="list-active"
          aria-label={t("customers.status")}
          value={query.is_active == null ? "" : String(query.is_active)}
          onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            change({ is_active: v === "" ? null : v === "true" });
          }}
        >
          <option value="">{t("customers.all")}</option>
          <option value="true">{t("customers.active")}</option>
          <option value="false">{t("customers.inactive")}</option>
        </select>
        <select
          id="list-source"
          aria-label={t("customers.source")}
          value={query.source ?? ""}
          onChange={(e) => change({ source: ((e.target as HTMLSelectElement).value || null) as Source | null })}
        >
          <option value="">{t("customers.anySource")}</option>
          {SOURCES.map((s) => (
            <option value={s}>{t(`source.${s}`)}</option>
          ))}
        </select>
        <input
          id="list-city"
          placeholder={t("customers.city")}
          value={query.city ?? ""}
          onInput={(e) => change({ city: (e.target as HTMLInputElement).value || null })}
        />
        <select
          id="list-ordering"
          aria-label={t("customers.ordering")}
          value={query.ordering}
          onChange={(e) => change({ ordering: (e.target as HTMLSelectElement).value as Ordering })}
        >
          {ORDERINGS.map((o) => (
            <option value={o}>{t(`order.${o}`)}</option>
          ))}
        </select>
      </div>
      <div class="bulkbar">
        <span id="list-count" data-count={page?.count ?? 0}>
          {t("customers.count", { n: number(lang, page?.count ?? 0) })}
        </span>
        {canBulk && (
          <>
            <span class="muted" id="list-selected" data-selected={selected.size}>
              {t("customers.selected", { n: number(lang, selected.size) })}
            </span>
            <button type="button" id="bulk-activate" disabled={selected.size === 0} onClick={() => bulk(true)}>
              {t("customers.activate")}
            </button>
            <button type="button" id="bulk-deactivate" disabled={selected.size === 0} onClick={() => bulk(false)}>
              {t("customers.deactivate")}
            </button>
          </>
        )}
        {message && (
          <span id="list-message" class={message.ok ? "ok" : "error"}>
            {message.text}
          </span>
        )}
      </div>
      <table class="list">
        <thead>
          <tr>
            {canBulk && (
              <th>
                <input type="checkbox" id="select-page" aria-label={t("customers.selectPage")} checked={allOnPage} onChange={togglePage} />
              </th>
            )}
            <th>{t("customers.name")}</th>
            <th>{t("customers.identifiers")}</th>
            <th>{t("customers.city")}</th>
            <th>{t("customers.source")}</th>
            <th>{t("customers.created")}</th>
            <th>{t("customers.state")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={c.id} class={selected.has(c.id) ? "selected" : ""} data-id={c.id}>
              {canBulk && (
                <td>
                  <input
                    type="checkbox"
                    class="select-row"
                    aria-label={t("customers.select", { name: `${c.first_name} ${c.surname}` })}
                    checked={selected.has(c.id)}
                    onChange={() => toggle(c.id)}
                  />
                </td>
              )}
              <td>
                <button type="button" class="link name" onClick={() => onOpenCard(c.id)}>
                  {c.first_name} {c.surname}
                </button>
              </td>
              <td class="muted">
                {[fmt.identification(c.identification), fmt.phone(c.phone), c.email].filter(Boolean).join(" · ")}
              </td>
              <td>{c.city}</td>
              <td>{t(`source.${c.source as Source}`)}</td>
              <td>{date(lang, c.created_at)}</td>
              <td class="state">{c.is_active ? t("customers.isActive") : <span class="badge muted">{t("inactive")}</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="pager">
        <button type="button" id="page-prev" disabled={query.page <= 1} onClick={() => setQuery({ ...query, page: query.page - 1 })}>
          {t("customers.prev")}
        </button>
        <span>{t("customers.page", { page: number(lang, query.page), pages: number(lang, pages) })}</span>
        <button type="button" id="page-next" disabled={query.page >= pages} onClick={() => setQuery({ ...query, page: query.page + 1 })}>
          {t("customers.next")}
        </button>
      </div>
    </section>
  );
}
