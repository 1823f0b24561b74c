// The customer card: details, purchase summary and history, and communication preferences.
import { useEffect, useState } from "preact/hooks";
import { api, type CustomerCard, type Lang } from "./api";
import * as fmt from "./format";
import { date, dateTime, money, type T } from "./i18n";
import type { Attached } from "./attached";

interface Props {
  t: T;
  lang: Lang;
  id: string;
  onClose: () => void;
  /** Absent where there is no sale to attach to (the manager's customer list). */
  onAttach?: (c: Attached) => void;
  /** Absent when the user's role may not edit. */
  onEdit?: (id: string) => void;
  onEditPreferences?: (id: string) => void;
}

export function CustomerCardView({ t, lang, id, onClose, onAttach, onEdit, onEditPreferences }: Props) {
  const [card, setCard] = useState<CustomerCard | null>(null);
  useEffect(() => {
    api.customerCard(id).then(setCard);
  }, [id]);
  if (!card) return null;
  const { customer: c, summary, history, preferences: p } = card;
  const detail = (label: string, value: string | null | undefined) =>
    value ? (
      <>
        <dt>{label}</dt>
        <dd>{value}</dd>
      </>
    ) : null;

  return (
    <div class="overlay" role="dialog" aria-label={t("card.title")}>
      <div class="dialog card" id="customer-card">
        <h2>
          {c.first_name} {c.surname}
          {!c.is_active && <span class="badge muted">{t("inactive")}</span>}
        </h2>
        <div class="columns">
          <dl>
            {detail(t("form.identification"), fmt.identification(c.identification))}
            {detail(t("form.phone"), fmt.phone(c.phone))}
            {detail(t("form.email"), c.email)}
            {detail(t("form.passport_number"), c.passport_number)}
            {detail(t("form.date_of_birth"), c.date_of_birth && date(lang, c.date_of_birth + "T12:00:00Z"))}
            {detail(t("form.city"), c.city)}
            {detail(t("form.address"), c.address)}
            {detail(t("form.notes"), c.notes)}
          </dl>
          <div>
            <h3>{t("card.summary")}</h3>
            <p id="card-summary">
              {summary.purchase_count === 1 ? t("card.purchases.one") : t("card.purchases", { n: summary.purchase_count })}
            </p>
            <ul class="plain">
              {summary.by_currency.map((ct) => (
                <li>
                  {money(lang, ct.total_minor, ct.currency)} · {t("card.average", { amount: money(lang, ct.average_minor, ct.currency) })}
                </li>
              ))}
            </ul>
            <h3>{t("card.preferences")}</h3>
            <dl>
              <dt>{t("card.channels")}</dt>
              <dd id="card-channels">{p.channels.map((ch) => t(`channel.${ch}`)).join(", ")}</dd>
              <dt>{t("card.notifications")}</dt>
              <dd>{p.notification_types.map((n) => t(`notif.${n}`)).join(", ")}</dd>
              <dt>{t("card.contactWindow")}</dt>
              <dd id="card-window">
                {p.contact_window
                  ? `${p.contact_window.start.slice(0, 5)}–${p.contact_window.end.slice(0, 5)} (${p.contact_window.time_zone})`
                  : t("card.anytime")}
              </dd>
              <dt>{t("card.language")}</dt>
              <dd>{t(`lang.${p.language}`)}</dd>
            </dl>
            {onEditPreferences && (
              <button type="button" id="edit-preferences" onClick={() => onEditPreferences(c.id)}>
                {t("prefs.edit")}
              </button>
            )}
          </div>
        </div>
        <h3>{t("card.history")}</h3>
        {history.results.length === 0 ? (
          <p class="muted">{t("card.noHistory")}</p>
        ) : (
          <table class="history">
            <tbody>
              {history.results.map((s) => (
                <tr>
                  <td>{dateTime(lang, s.sold_at)}</td>
                  <td>{t(`method.${s.payment_method}`)}</td>
                  <td class="num">{money(lang, s.total_minor, s.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div class="actions">
          <button type="button" onClick={onClose}>
            {t("card.close")}
          </button>
          {onEdit && (
            <button type="button" onClick={() => onEdit(c.id)}>
              {t("card.edit")}
            </button>
          )}
          {onAttach && (
            <button class="primary" type="button" onClick={() => onAttach(c)}>
              {t("card.attach")}
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
