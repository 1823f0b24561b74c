// The list of changes the server rejected, each to fix or discard.
import { useEffect, useState } from "preact/hooks";
import { api, type FieldError, type Lang, type OutboxEntry } from "./api";
import { dateTime, type T } from "./i18n";

export function RejectedList(props: { t: T; lang: Lang; onClose: () => void; onFix: (e: OutboxEntry) => void }) {
  const { t, lang } = props;
  const [entries, setEntries] = useState<OutboxEntry[]>([]);
  const load = () => api.rejectedChanges().then(setEntries);
  useEffect(() => {
    load();
  }, []);
  const describe = (e: OutboxEntry) => {
    const body = e.change.body as { entity?: string; fields?: Record<string, { value: unknown }> };
    const name = [body.fields?.first_name?.value, body.fields?.surname?.value].filter(Boolean).join(" ");
    return name || String(body.entity ?? "");
  };
  const reasons = (e: OutboxEntry) =>
    ((e.rejection as FieldError[] | null) ?? []).map((f) => `${t(`form.${f.field}` as never) ?? f.field}: ${lang === "es" ? f.message_es : f.message}`);

  return (
    <div class="overlay" role="dialog" aria-label={t("rejected.title")}>
      <div class="dialog" id="rejected-list">
        <h2>{t("rejected.title")}</h2>
        {entries.length === 0 && <p class="muted">{t("rejected.none")}</p>}
        <ul class="plain rejected">
          {entries.map((e) => (
            <li>
              <div>
                <strong>{describe(e)}</strong> <span class="muted">{dateTime(lang, e.created_at)}</span>
                {reasons(e).map((r) => (
                  <div class="error">{r}</div>
                ))}
              </div>
              <div class="row">
                {(e.change.body as { entity?: string }).entity === "customer" && (
                  <button type="button" onClick={() => props.onFix(e)}>
                    {t("rejected.fix")}
                  </button>
                )}
                <button
                  type="button"
                  onClick={async () => {
                    await api.discardRejected(e.change.change_id);
                    load();
                  }}
                >
                  {t("rejected.discard")}
                </button>
              </div>
            </li>
          ))}
        </ul>
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            {t("card.close")}
          </button>
        </div>
      </div>
    </div>
  );
}
