// The smaller dialogs: the list of changes the server rejected, and the terminal's settings.
import { useEffect, useState } from "preact/hooks";
import { api, fieldErrors, type AppError, type FieldError, type Lang, type OutboxEntry, type Settings } from "./api";
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

export function SettingsDialog(props: { t: T; lang: Lang; settings: Settings; onClose: () => void; onSaved: () => void }) {
  const { t, lang, settings } = props;
  const [server, setServer] = useState(settings.server_url ?? "");
  const [code, setCode] = useState("");
  const [name, setName] = useState(settings.terminal_name);
  const [language, setLanguage] = useState<Lang>(settings.language);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);

  const failed = (e: unknown) => {
    const err = e as AppError;
    const fields = fieldErrors(e, lang);
    if (err.kind === "refused") fields.code = err.message;
    else if (err.kind === "offline") fields.server_url = t("error.offline");
    else if (!Object.keys(fields).length) fields.form = t("error.internal");
    setErrors(fields);
  };

  const save = async () => {
    try {
      await api.saveSettings(name, language);
      setErrors({});
      props.onSaved();
      props.onClose();
    } catch (e) {
      failed(e);
    }
  };

  const register = async () => {
    try {
      const saved = await api.registerTerminal(server, code, name);
      setErrors({});
      setMessage(t("settings.registered", { server: saved.server_url ?? "" }));
      props.onSaved();
    } catch (e) {
      failed(e);
    }
  };

  return (
    <div class="overlay" role="dialog" aria-label={t("settings.title")}>
      <div class="dialog form" id="settings">
        <h2>{t("settings.title")}</h2>
        <label>
          {t("settings.name")}
          <input id="settings-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          {errors.terminal_name && <span class="error">{errors.terminal_name}</span>}
        </label>
        <label>
          {t("settings.language")}
          <select id="settings-language" value={language} onChange={(e) => setLanguage((e.target as HTMLSelectElement).value as Lang)}>
            <option value="es">Español</option>
            <option value="en">English</option>
          </select>
        </label>
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            {t("form.cancel")}
          </button>
          <button class="primary" type="button" onClick={save}>
            {t("settings.save")}
          </button>
        </div>
        <hr />
        <label>
          {t("settings.server")}
          <input id="settings-server" placeholder="http://192.168.1.10:8080" value={server} onInput={(e) => setServer((e.target as HTMLInputElement).value)} />
          {errors.server_url && <span class="error">{errors.server_url}</span>}
        </label>
        <label>
          {t("settings.code")}
          <input id="settings-code" placeholder="K7QM-2XPD-9HRT" value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
          {errors.code && <span class="error">{errors.code}</span>}
        </label>
        {errors.form && <p class="error">{errors.form}</p>}
        {message && <p class="ok">{message}</p>}
        <div class="actions">
          <button id="settings-register" type="button" onClick={register} disabled={!server || !code}>
            {t("settings.register")}
          </button>
        </div>
      </div>
    </div>
  );
}
