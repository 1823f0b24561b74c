// The preferences editor: channels, notification types, contact window and language of one
// customer. Saved locally and queued for the server; the contact window is checked by the
// same rules the server applies, each wrong field named.
import { useEffect, useState } from "preact/hooks";
import {
  api,
  CHANNELS,
  fieldErrors,
  NOTIFICATION_TYPES,
  type Channel,
  type Lang,
  type NotificationType,
  type Preferences,
} from "./api";
import { problem, type T } from "./i18n";

interface Props {
  t: T;
  lang: Lang;
  customerId: string;
  onClose: () => void;
}

const DEFAULT_TZ = "America/Caracas";

export function PreferencesEditor({ t, lang, customerId, onClose }: Props) {
  const [prefs, setPrefs] = useState<Preferences | null>(null);
  const [windowOn, setWindowOn] = useState(false);
  const [start, setStart] = useState("08:00");
  const [end, setEnd] = useState("18:00");
  const [timeZone, setTimeZone] = useState(DEFAULT_TZ);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    api.customerCard(customerId).then((card) => {
      const p = card.preferences;
      setPrefs(p);
      if (p.contact_window) {
        setWindowOn(true);
        setStart(p.contact_window.start.slice(0, 5));
        setEnd(p.contact_window.end.slice(0, 5));
        setTimeZone(p.contact_window.time_zone);
      }
    }, (e) => setErrors({ form: problem(t, lang, e) }));
  }, [customerId]);
  if (!prefs) {
    return errors.form ? (
      <div class="overlay" role="dialog" aria-label={t("prefs.title")}>
        <div class="dialog" id="preferences-editor">
          <p class="error">{errors.form}</p>
          <div class="actions">
            <button type="button" id="prefs-close" onClick={onClose}>
              {t("card.close")}
            </button>
          </div>
        </div>
      </div>
    ) : null;
  }

  const toggle = <K extends "channels" | "notification_types">(key: K, value: Preferences[K][number]) => {
    const list = prefs[key] as string[];
    const next = list.includes(value) ? list.filter((v) => v !== value) : [...list, value];
    setPrefs({ ...prefs, [key]: next });
    setSaved(false);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    try {
      const next = await api.savePreferences(customerId, {
        channels: prefs.channels,
        notification_types: prefs.notification_types,
        contact_window: windowOn ? { start, end, time_zone: timeZone } : null,
        language: prefs.language,
      });
      setPrefs(next);
      setErrors({});
      setSaved(true);
    } catch (err) {
      const fields = fieldErrors(err, lang);
      setErrors(Object.keys(fields).length ? fields : { form: problem(t, lang, err) });
    }
  };

  return (
    <div class="overlay" role="dialog" aria-label={t("prefs.title")}>
      <form class="dialog form" id="preferences-editor" onSubmit={save}>
        <h2>{t("prefs.title")}</h2>
        <div class="columns">
          <fieldset>
            <legend>{t("prefs.channels")}</legend>
            {CHANNELS.map((ch: Channel) => (
              <label class="check">
                <input type="checkbox" id={`pref-channel-${ch}`} checked={prefs.channels.includes(ch)} onChange={() => toggle("channels", ch)} />
                {t(`channel.${ch}`)}
              </label>
            ))}
          </fieldset>
          <fieldset>
            <legend>{t("prefs.types")}</legend>
            {NOTIFICATION_TYPES.map((n: NotificationType) => (
              <label class="check">
                <input type="checkbox" id={`pref-type-${n}`} checked={prefs.notification_types.includes(n)} onChange={() => toggle("notification_types", n)} />
                {t(`notif.${n}`)}
              </label>
            ))}
          </fieldset>
        </div>
        <fieldset>
          <legend>{t("prefs.window")}</legend>
          <label class="check">
            <input type="radio" name="window" id="pref-window-any" checked={!windowOn} onChange={() => setWindowOn(false)} />
            {t("prefs.anytime")}
          </label>
          <label class="check">
            <input type="radio" name="window" id="pref-window-between" checked={windowOn} onChange={() => setWindowOn(true)} />
            {t("prefs.between")}
          </label>
          {windowOn && (
            <div class="row">
              <label class={errors["contact_window.start"] ? "invalid" : ""}>
                {t("prefs.start")}
                <input id="pref-window-start" value={start} placeholder="08:00" onInput={(e) => setStart((e.target as HTMLInputElement).value)} />
                {errors["contact_window.start"] && <span class="error">{errors["contact_window.start"]}</span>}
              </label>
              <label class={errors["contact_window.end"] ? "invalid" : ""}>
                {t("prefs.end")}
                <input id="pref-window-end" value={end} placeholder="18:00" onInput={(e) => setEnd((e.target as HTMLInputElement).value)} />
                {errors["contact_window.end"] && <span class="error">{errors["contact_window.end"]}</span>}
              </label>
              <label class={errors["contact_window.time_zone"] ? "invalid" : ""}>
                {t("prefs.timeZone")}
                <input id="pref-window-tz" value={timeZone} onInput={(e) => setTimeZone((e.target as HTMLInputElement).value)} />
                {errors["contact_window.time_zone"] && <span class="error">{errors["contact_window.time_zone"]}</span>}
              </label>
            </div>
          )}
        </fieldset>
        <label>
          {t("prefs.language")}
          <select id="pref-language" value={prefs.language} onChange={(e) => setPrefs({ ...prefs, language: (e.target as HTMLSelectElement).value as Lang })}>
            <option value="es">{t("lang.es")}</option>
            <option value="en">{t("lang.en")}</option>
          </select>
        </label>
        {errors.form && <p class="error">{errors.form}</p>}
        {saved && (
          <p class="ok" id="prefs-saved">
            {t("prefs.saved")}
          </p>
        )}
        <div class="actions">
          <button type="button" id="prefs-close" onClick={onClose}>
            {t("card.close")}
          </button>
          <button class="primary" type="submit" id="prefs-save">
            {t("form.save")}
          </button>
        </div>
      </form>
    </div>
  );
}
