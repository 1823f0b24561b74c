// The app shell: terminal setup until registered, then sign-in, then the screens the signed-in
// user's role allows (counter; customers, duplicates, statistics and settings for managers),
// with the status bar always at the bottom.
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  api,
  type Action,
  type AppInfo,
  type Lang,
  type OutboxEntry,
  type SessionInfo,
  type SyncStatus,
} from "./api";
import { translator, type Key, type T } from "./i18n";
import { Counter } from "./Counter";
import { CustomerForm, type FormMode } from "./CustomerForm";
import { CustomerCardView } from "./CustomerCard";
import { CustomerList } from "./CustomerList";
import { PreferencesEditor } from "./PreferencesEditor";
import { RejectedList } from "./RejectedList";
import { ReviewQueue } from "./ReviewQueue";
import { LanguageSwitch, SettingsScreen, SetupScreen, SignInScreen } from "./Access";
import { StatsScreen } from "./Stats";
import { StatusBar } from "./StatusBar";
import type { Attached } from "./attached";

export type Modal =
  | { kind: "form"; mode: FormMode }
  | { kind: "card"; id: string }
  | { kind: "preferences"; id: string }
  | { kind: "rejected" }
  | null;


type Screen = "counter" | "customers" | "review" | "stats" | "settings";

/** Each screen and the action that opens it (the server's role table decides who has it). */
const SCREENS: { screen: Screen; needs: Action; label: Key }[] = [
  { screen: "counter", needs: "look_up", label: "nav.counter" },
  { screen: "customers", needs: "edit_customer", label: "nav.customers" },
  { screen: "review", needs: "review_duplicates", label: "nav.review" },
  { screen: "stats", needs: "see_stats", label: "nav.stats" },
  { screen: "settings", needs: "configure_terminal", label: "nav.settings" },
];

function NavBar(props: {
  t: T;
  lang: Lang;
  session: SessionInfo;
  screen: Screen;
  onScreen: (s: Screen) => void;
  onLang: (l: Lang) => void;
  onSignOut: () => void;
}) {
  const { t, session } = props;
  const screens = SCREENS.filter((s) => session.actions.includes(s.needs));
  return (
    <header class="nav">
      <nav>
        {screens.map((s) => (
          <button
            key={s.screen}
            type="button"
            id={`nav-${s.screen}`}
            class={s.screen === props.screen ? "on" : ""}
            aria-current={s.screen === props.screen ? "page" : undefined}
            onClick={() => props.onScreen(s.screen)}
          >
            {t(s.label)}
          </button>
        ))}
      </nav>
      <span class="spacer" />
      <span class="who" id="session-user" data-role={session.role}>
        {session.username} · {t(`role.${session.role}`)}
        {session.offline && <span class="badge muted">{t("session.offline")}</span>}
      </span>
      <LanguageSwitch t={t} lang={props.lang} onLang={props.onLang} />
      <button type="button" class="link" id="sign-out" onClick={props.onSignOut}>
        {t("session.signOut")}
      </button>
    </header>
  );
}

export function App() {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [lang, setLangState] = useState<Lang>("es");
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const [screen, setScreen] = useState<Screen>("counter");
  const [modal, setModal] = useState<Modal>(null);
  const [attached, setAttached] = useState<Attached | null>(null);
  const [searchText, setSearchText] = useState("");
  /** Bumped by local edits made in dialogs, so lists behind them read again. */
  const [edits, setEdits] = useState(0);
  const searchRef = useRef<HTMLInputElement>(null);
  const t = useMemo(() => translator(lang), [lang]);

  const refreshInfo = useCallback(async () => {
    const [i, s] = await Promise.all([api.appInfo(), api.sessionInfo()]);
    setInfo(i);
    setSession(s);
    setLangState(i.settings.language);
    setStatus(i.status);
  }, []);

  useEffect(() => {
    refreshInfo();
    const unlisten = api.onSyncStatus(setStatus);
    return () => void unlisten.then((f) => f());
  }, [refreshInfo]);

  // Registered at launch (`--registration-code`) while the setup screen was up: move on.
  useEffect(() => {
    if (info && !info.registered && status && status.connection !== "unregistered") refreshInfo();
  }, [status?.connection]);

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  const switchLang = async (l: Lang) => {
    setLangState(l);
    // Saved for the next start; if saving fails the window has still switched, which is what
    // the person asked for now.
    await api.setLanguage(l).catch(() => undefined);
  };

  const close = useCallback(() => {
    setModal(null);
    if (screen === "counter") requestAnimationFrame(() => searchRef.current?.focus());
  }, [screen]);

  const can = (a: Action) => session?.actions.includes(a) ?? false;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!session) return;
      if (screen === "counter" && can("capture") && (e.key === "F2" || (e.ctrlKey && e.key.toLowerCase() === "n"))) {
        e.preventDefault();
        setModal({ kind: "form", mode: { kind: "new", prefill: searchText } });
      } else if (e.key === "Escape" && modal) {
        e.preventDefault();
        close();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [modal, searchText, close, session, screen]);

  const fix = (entry: OutboxEntry) => {
    const body = entry.change.body as { entity?: string; id?: string };
    if (body.id) setModal({ kind: "form", mode: { kind: "fix", id: body.id, changeId: entry.change.change_id } });
  };

  const signOut = async () => {
    await api.signOut().catch(() => undefined); // the window forgets the session either way
    setSession(null);
    setAttached(null);
    setModal(null);
    setScreen("counter");
  };

  if (!info) return <div class="app" />;
  if (!info.registered) {
    return (
      <div class="app">
        <SetupScreen t={t} lang={lang} settings={info.settings} onLang={switchLang} onRegistered={refreshInfo} />
      </div>
    );
  }

  let body;
  if (!session) {
    body = (
      <SignInScreen
        t={t}
        lang={lang}
        terminalName={info.settings.terminal_name}
        online={status?.connection !== "offline"}
        onLang={switchLang}
        onSignedIn={(s) => {
          setSession(s);
          setScreen("counter");
        }}
      />
    );
  } else {
    body = (
      <>
        <NavBar
          t={t}
          lang={lang}
          session={session}
          screen={screen}
          onScreen={setScreen}
          onLang={switchLang}
          onSignOut={signOut}
        />
        <main class="main">
          {screen === "counter" && (
            <Counter
              t={t}
              lang={lang}
              searchRef={searchRef}
              attached={attached}
              onAttach={setAttached}
              onSearchText={setSearchText}
              onOpenCard={(id) => setModal({ kind: "card", id })}
              onNewCustomer={() => setModal({ kind: "form", mode: { kind: "new", prefill: searchText } })}
            />
          )}
          {screen === "customers" && (
            <CustomerList
              t={t}
              lang={lang}
              canBulk={can("bulk_actions")}
              pulledAt={status?.pulled_at ?? null}
              edits={edits}
              onOpenCard={(id) => setModal({ kind: "card", id })}
            />
          )}
          {screen === "review" && <ReviewQueue t={t} lang={lang} session={session} onSession={setSession} />}
          {screen === "stats" && <StatsScreen t={t} lang={lang} pulledAt={status?.pulled_at ?? null} />}
          {screen === "settings" && <SettingsScreen t={t} lang={lang} settings={info.settings} onLang={switchLang} onSaved={refreshInfo} />}
        </main>
      </>
    );
  }

  return (
    <div class="app">
      {body}
      <StatusBar
        t={t}
        lang={lang}
        status={status}
        terminalName={info.settings.terminal_name}
        onRejected={() => session && setModal({ kind: "rejected" })}
      />
      {modal?.kind === "form" && (
        <CustomerForm
          t={t}
          lang={lang}
          mode={modal.mode}
          onCancel={close}
          onSaved={(c) => {
            // A customer captured at the counter joins the sale; an edit elsewhere does not.
            if (screen === "counter") setAttached(c);
            setEdits((n) => n + 1);
            close();
          }}
        />
      )}
      {modal?.kind === "card" && (
        <CustomerCardView
          t={t}
          lang={lang}
          id={modal.id}
          onClose={close}
          onAttach={
            screen === "counter"
              ? (c) => {
                  setAttached(c);
                  close();
                }
              : undefined
          }
          onEdit={can("edit_customer") ? (id) => setModal({ kind: "form", mode: { kind: "edit", id } }) : undefined}
          onEditPreferences={can("edit_preferences") ? (id) => setModal({ kind: "preferences", id }) : undefined}
        />
      )}
      {modal?.kind === "preferences" && (
        <PreferencesEditor
          t={t}
          lang={lang}
          customerId={modal.id}
          onClose={() => {
            setEdits((n) => n + 1);
            setModal({ kind: "card", id: modal.id });
          }}
        />
      )}
      {modal?.kind === "rejected" && <RejectedList t={t} lang={lang} onClose={close} onFix={fix} />}
    </div>
  );
}
