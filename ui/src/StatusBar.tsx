// The status bar: connection, changes waiting to be sent, rejected changes, and the last sync.
import { useEffect, useState } from "preact/hooks";
import { api, type Lang, type SyncStatus } from "./api";
import { dateTime, type T } from "./i18n";

interface Props {
  t: T;
  lang: Lang;
  status: SyncStatus | null;
  terminalName: string;
  onRejected: () => void;
}

/** "hace 5 s" / "5 s ago", refreshed every few seconds. */
function useRelative(lang: Lang, iso: string | null): string | null {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(timer);
  }, []);
  if (!iso) return null;
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (Math.abs(seconds) > 3600 * 12) return dateTime(lang, iso);
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  if (Math.abs(seconds) < 60) return rtf.format(Math.min(seconds, 0), "second");
  if (Math.abs(seconds) < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  return rtf.format(Math.round(seconds / 3600), "hour");
}

export function StatusBar({ t, lang, status, terminalName, onRejected }: Props) {
  const when = useRelative(lang, status?.last_sync ?? null);
  if (!status) return <footer class="status" />;
  return (
    <footer class="status" id="status">
      <span class={`pill ${status.connection}`} id="status-connection" data-connection={status.connection}>
        {t(`status.${status.connection}`)}
      </span>
      <span id="status-pending" data-pending={status.pending}>
        {t("status.pending", { n: status.pending })}
      </span>
      {status.rejected > 0 && (
        <button class="link warn" id="status-rejected" type="button" onClick={onRejected}>
          {t("status.rejected", { n: status.rejected })}
        </button>
      )}
      <span class="muted" id="status-last-sync">
        {when ? t("status.lastSync", { when }) : t("status.never")}
      </span>
      <span class="spacer" />
      <span class="muted">{terminalName}</span>
      <button class="link" type="button" onClick={() => api.syncNow()}>
        {t("status.syncNow")}
      </button>
    </footer>
  );
}
