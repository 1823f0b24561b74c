// The counter window: search, sale, capture form, customer card, status bar and dialogs.
import { render } from "preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, type AppInfo, type Hit, type Lang, type OutboxEntry, type SyncStatus } from "./api";
import { translator } from "./i18n";
import { Counter } from "./Counter";
import { CustomerForm, type FormMode } from "./CustomerForm";
import { CustomerCardView } from "./CustomerCard";
import { RejectedList, SettingsDialog } from "./Dialogs";
import { StatusBar } from "./StatusBar";
import "./styles.css";

export type Modal =
  | { kind: "form"; mode: FormMode }
  | { kind: "card"; id: string }
  | { kind: "rejected" }
  | { kind: "settings" }
  | null;

/** The customer attached to the sale being rung up. */
export type Attached = Pick<Hit, "id" | "first_name" | "surname" | "identification" | "phone" | "email">;

function App() {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [lang, setLang] = useState<Lang>("es");
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const [modal, setModal] = useState<Modal>(null);
  const [attached, setAttached] = useState<Attached | null>(null);
  const [searchText, setSearchText] = useState("");
  const searchRef = useRef<HTMLInputElement>(null);
  const t = useMemo(() => translator(lang), [lang]);

  const refreshInfo = useCallback(async () => {
    const i = await api.appInfo();
    setInfo(i);
    setLang(i.settings.language);
    setStatus(i.status);
    document.documentElement.lang = i.settings.language;
  }, []);

  useEffect(() => {
    refreshInfo();
    const unlisten = api.onSyncStatus(setStatus);
    return () => void unlisten.then((f) => f());
  }, [refreshInfo]);

  const close = useCallback(() => {
    setModal(null);
    requestAnimationFrame(() => searchRef.current?.focus());
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "F2" || (e.ctrlKey && e.key.toLowerCase() === "n")) {
        e.preventDefault();
        setModal({ kind: "form", mode: { kind: "new", prefill: searchText } });
      } else if (e.key === "Escape" && modal) {
        e.preventDefault();
        close();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [modal, searchText, close]);

  const fix = (entry: OutboxEntry) => {
    const body = entry.change.body as { entity?: string; id?: string };
    if (body.id) setModal({ kind: "form", mode: { kind: "fix", id: body.id, changeId: entry.change.change_id } });
  };

  return (
    <div class="app">
      <main class="main">
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
      </main>
      <StatusBar
        t={t}
        lang={lang}
        status={status}
        terminalName={info?.settings.terminal_name ?? ""}
        onRejected={() => setModal({ kind: "rejected" })}
        onSettings={() => setModal({ kind: "settings" })}
      />
      {modal?.kind === "form" && (
        <CustomerForm
          t={t}
          lang={lang}
          mode={modal.mode}
          onCancel={close}
          onSaved={(c) => {
            setAttached(c);
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
          onAttach={(c) => {
            setAttached(c);
            close();
          }}
          onEdit={(id) => setModal({ kind: "form", mode: { kind: "edit", id } })}
        />
      )}
      {modal?.kind === "rejected" && <RejectedList t={t} lang={lang} onClose={close} onFix={fix} />}
      {modal?.kind === "settings" && info && (
        <SettingsDialog
          t={t}
          lang={lang}
          settings={info.settings}
          onClose={close}
          onSaved={async () => {
            await refreshInfo();
          }}
        />
      )}
    </div>
  );
}

render(<App />, document.getElementById("app")!);
