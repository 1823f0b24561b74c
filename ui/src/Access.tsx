// Getting in: the first-run setup (server and one-time registration code), the sign-in screen
// (which works offline for users who signed in here before), and the settings screen.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, fieldErrors, type AppError, type Lang, type SessionInfo, type Settings } from "./api";
import { problem, type T } from "./i18n";

type Errors = Record<string, string>;

/** Field errors of a failure; anything not about a field lands under `form`. On the
 * registration form an unreachable server belongs to the address and a refusal to the code. */
function errorsOf(t: T, lang: Lang, e: unknown, registering = false): Errors {
  const err = e as AppError;
  const fields = fieldErrors(e, lang);
  if (registering && err?.kind === "offline") fields.server_url = t("error.offline");
  else if (registering && err?.kind === "refused") fields.code = err.message;
  else if (!Object.keys(fields).length) fields.form = problem(t, lang, e);
  return fields;
}

/** ES | EN, on every screen: the window switches language at once. */
export function LanguageSwitch({ t, lang, onLang }: { t: T; lang: Lang; onLang: (l: Lang) => void }) {
  return (
    <div class="lang-switch" role="group" aria-label={t("settings.language")}>
      {(["es", "en"] as Lang[]).map((l) => (
        <button key={l} type="button" id={`lang-${l}`} class={l === lang ? "on" : ""} aria-pressed={l === lang} onClick={() => onLang(l)}>
          {l.toUpperCase()}
        </button>
      ))}
    </div>
  );
}

function Field(props: {
  id: string;
  label: string;
  value: string;
  error?: string;
  type?: string;
  placeholder?: string;
  inputRef?: preact.RefObject<HTMLInputElement>;
  autoComplete?: string;
  onInput: (v: string) => void;
}) {
  return (
    <label class={props.error ? "invalid" : ""}>
      {props.label}
      <input
        id={props.id}
        ref={props.inputRef}
        type={props.type ?? "text"}
        value={props.value}
        placeholder={props.placeholder}
        autoComplete={props.autoComplete ?? "off"}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
      />
      {props.error && <span class="error">{props.error}</span>}
    </label>
  );
}

function LanguageSelect({ t, lang, onLang }: { t: T; lang: Lang; onLang: (l: Lang) => void }) {
  return (
    <label>
      {t("settings.language")}
      <select id="settings-language" value={lang} onChange={(e) => onLang((e.target as HTMLSelectElement).value as Lang)}>
        <option value="es">Español</option>
        <option value="en">English</option>
      </select>
    </label>
  );
}

/** Registration with a server: used by the first-run setup and by the settings screen. */
function Registration(props: { t: T; lang: Lang; settings: Settings; autoFocus?: boolean; onRegistered: () => void }) {
  const { t, lang } = props;
  const serverRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (props.autoFocus) serverRef.current?.focus();
  }, []);
  const [server, setServer] = useState(props.settings.server_url ?? "");
  const [code, setCode] = useState("");
  const [name, setName] = useState(props.settings.terminal_name);
  const [errors, setErrors] = useState<Errors>({});
  const [message, setMessage] = useState<string | null>(null);
  const register = async (e: Event) => {
    e.preventDefault();
    try {
      const saved = await api.registerTerminal(server, code, name);
      setErrors({});
      setCode("");
      setMessage(t("settings.registered", { server: saved.server_url ?? "" }));
      props.onRegistered();
    } catch (err) {
      setErrors(errorsOf(t, lang, err, true));
    }
  };
  return (
    <form onSubmit={register}>
      <Field id="settings-server" inputRef={serverRef} label={t("settings.server")} value={server} placeholder="http://192.168.1.10:8080" error={errors.server_url} onInput={setServer} />
      <Field id="settings-code" label={t("settings.code")} value={code} placeholder="K7QM-2XPD-9HRT" error={errors.code} onInput={setCode} />
      <Field id="settings-name" label={t("settings.name")} value={name} error={errors.terminal_name} onInput={setName} />
      {errors.form && <p class="error">{errors.form}</p>}
      {message && <p class="ok">{message}</p>}
      <div class="actions">
        <button id="settings-register" class="primary" type="submit" disabled={!server || !code}>
          {t("settings.register")}
        </button>
      </div>
    </form>
  );
}

export function SetupScreen(props: { t: T; lang: Lang; settings: Settings; onLang: (l: Lang) => void; onRegistered: () => void }) {
  const { t, lang } = props;
  useEffect(() => void api.uiReady(), []);
  return (
    <main class="center">
      <section class="panel narrow" id="setup">
        <h1>{t("setup.title")}</h1>
        <p class="muted">{t("setup.intro")}</p>
        <LanguageSelect t={t} lang={lang} onLang={props.onLang} />
        <Registration t={t} lang={lang} settings={props.settings} autoFocus onRegistered={props.onRegistered} />
      </section>
    </main>
  );
}

export function SignInScreen(props: {
  t: T;
  lang: Lang;
  terminalName: string;
  online: boolean;
  onLang: (l: Lang) => void;
  onSignedIn: (s: SessionInfo) => void;
}) {
  const { t, lang } = props;
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const userRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    userRef.current?.focus();
    api.uiReady();
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      props.onSignedIn(await api.signIn(username, password));
    } catch (err) {
      setErrors(errorsOf(t, lang, err));
      setPassword("");
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="center">
      <form class="panel narrow" id="sign-in" onSubmit={submit}>
        <h1>{t("signin.title")}</h1>
        <p class="muted">{t("signin.terminal", { name: props.terminalName })}</p>
        <Field id="signin-username" inputRef={userRef} label={t("signin.username")} value={username} error={errors.username} autoComplete="username" onInput={setUsername} />
        <Field id="signin-password" type="password" label={t("signin.password")} value={password} error={errors.password} autoComplete="current-password" onInput={setPassword} />
        {errors.form && <p class="error">{errors.form}</p>}
        {!props.online && <p class="muted" id="signin-offline">{t("signin.offlineNote")}</p>}
        <div class="actions spread">
          <LanguageSwitch t={t} lang={lang} onLang={props.onLang} />
          <button id="signin-submit" class="primary" type="submit" disabled={busy}>
            {t("signin.submit")}
          </button>
        </div>
      </form>
    </main>
  );
}

export function SettingsScreen(props: { t: T; lang: Lang; settings: Settings; onLang: (l: Lang) => void; onSaved: () => void }) {
  const { t, lang, settings } = props;
  const [name, setName] = useState(settings.terminal_name);
  const [errors, setErrors] = useState<Errors>({});
  const [saved, setSaved] = useState(false);
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      await api.saveSettings(name, lang);
      setErrors({});
      setSaved(true);
      props.onSaved();
    } catch (err) {
      setErrors(errorsOf(t, lang, err));
    }
  };
  return (
    <section class="panel narrow" id="settings">
      <h2>{t("settings.title")}</h2>
      <form onSubmit={save}>
        <Field id="settings-terminal-name" label={t("settings.name")} value={name} error={errors.terminal_name} onInput={(v) => { setName(v); setSaved(false); }} />
        <LanguageSelect t={t} lang={lang} onLang={props.onLang} />
        {errors.form && <p class="error">{errors.form}</p>}
        {saved && <p class="ok">{t("settings.saved")}</p>}
        <div class="actions">
          <button class="primary" type="submit" id="settings-save">
            {t("settings.save")}
          </button>
        </div>
      </form>
      <hr />
      <Registration t={t} lang={lang} settings={settings} onRegistered={props.onSaved} />
    </section>
  );
}
