// The review queue: pairs of customers the server suspects are one person, side by side with
// the key they share. Merge (choosing who stays) or dismiss; both happen on the server, and the
// merge reaches every terminal on its next pull.
import { useEffect, useState } from "preact/hooks";
import { api, type AppError, type Lang, type ReviewItem, type ReviewSide, type SessionInfo } from "./api";
import * as fmt from "./format";
import { date, number, problem, type Key, type T } from "./i18n";

const KEY_LABEL: Record<string, Key> = {
  phone: "form.phone",
  email: "form.email",
  passport_number: "form.passport_number",
  passport: "form.passport_number",
  identification: "form.identification",
};

type KeyField = "identification" | "phone" | "email" | "passport_number";

function Side(props: {
  t: T;
  lang: Lang;
  side: ReviewSide;
  other: ReviewSide;
  chosen: boolean;
  onChoose: () => void;
  which: "a" | "b";
}) {
  const { t, lang, side: c, other } = props;
  // A value both hold is highlighted: that is what makes them look like one person.
  const row = (field: KeyField | "city", label: Key, value: string | null) =>
    value ? (
      <>
        <dt>{t(label)}</dt>
        <dd class={field !== "city" && c[field] === other[field] ? "shared" : ""}>{value}</dd>
      </>
    ) : null;
  return (
    <div class={`side ${props.chosen ? "chosen" : ""}`} data-id={c.id}>
      <h3>
        {c.name} {c.surname}
        {!c.is_active && <span class="badge muted">{t("inactive")}</span>}
      </h3>
      <dl>
        {row("identification", "form.identification", fmt.identification(c.identification))}
        {row("phone", "form.phone", fmt.phone(c.phone))}
        {row("email", "form.email", c.email)}
        {row("passport_number", "form.passport_number", c.passport_number)}
        {row("city", "form.city", c.city)}
      </dl>
      <p class="muted">
        {t("review.since", { date: date(lang, c.created_at) })} · {t(`source.${c.source}` as Key)} ·{" "}
        {c.purchase_count === 1 ? t("card.purchases.one") : t("card.purchases", { n: number(lang, c.purchase_count) })}
      </p>
      <label class="check">
        <input type="radio" class={`keep-${props.which}`} checked={props.chosen} onChange={props.onChoose} />
        {t("review.keep")}
      </label>
    </div>
  );
}

function Item(props: { t: T; lang: Lang; item: ReviewItem; onDone: (message: string) => void; onError: (e: unknown) => void }) {
  const { t, lang, item } = props;
  // Suggest keeping the one with more history; the older one on a tie.
  const suggested = item.a.purchase_count !== item.b.purchase_count
    ? (item.a.purchase_count > item.b.purchase_count ? "a" : "b")
    : item.a.created_at <= item.b.created_at ? "a" : "b";
  const [keep, setKeep] = useState<"a" | "b">(suggested);
  const [busy, setBusy] = useState(false);
  const act = async (f: () => Promise<string>) => {
    setBusy(true);
    try {
      props.onDone(await f());
    } catch (e) {
      props.onError(e);
    } finally {
      setBusy(false);
    }
  };
  const survivor = keep === "a" ? item.a : item.b;
  const loser = keep === "a" ? item.b : item.a;
  return (
    <article class="review-item" data-id={item.id}>
      <p class="shared-key">{t("review.shared", { key: t(KEY_LABEL[item.match_key] ?? "form.identification").toLowerCase() })}</p>
      <div class="pair">
        <Side t={t} lang={lang} side={item.a} other={item.b} which="a" chosen={keep === "a"} onChoose={() => setKeep("a")} />
        <Side t={t} lang={lang} side={item.b} other={item.a} which="b" chosen={keep === "b"} onChoose={() => setKeep("b")} />
      </div>
      <div class="actions">
        <button type="button" class="dismiss" disabled={busy} onClick={() => act(async () => (await api.dismissReviewItem(item.id), t("review.dismissed")))}>
          {t("review.dismiss")}
        </button>
        <button
          type="button"
          class="primary merge"
          disabled={busy}
          onClick={() =>
            act(async () => {
              await api.mergeCustomers(survivor.id, loser.id);
              return t("review.merged", { name: `${survivor.name} ${survivor.surname}` });
            })
          }
        >
          {t("review.merge")}
        </button>
      </div>
    </article>
  );
}

/** Asks for the password again when the session was opened offline. */
function Reconnect(props: { t: T; lang: Lang; username: string; onSession: (s: SessionInfo) => void }) {
  const { t, lang } = props;
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const connect = async (e: Event) => {
    e.preventDefault();
    try {
      const s = await api.signIn(props.username, password);
      if (s.offline) setError(t("error.offline"));
      else props.onSession(s);
    } catch (err) {
      setError(problem(t, lang, err));
    }
  };
  return (
    <form class="reconnect" onSubmit={connect}>
      <p>{t("review.needsServer")}</p>
      <div class="row">
        <label>
          {t("signin.password")}
          <input id="reconnect-password" type="password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        <button class="primary" type="submit">
          {t("review.connect")}
        </button>
      </div>
      {error && <p class="error">{error}</p>}
    </form>
  );
}

export function ReviewQueue(props: { t: T; lang: Lang; session: SessionInfo; onSession: (s: SessionInfo) => void }) {
  const { t, lang, session } = props;
  const [items, setItems] = useState<ReviewItem[] | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const failed = (e: unknown) => {
    // The server no longer takes this session: ask for the password (the Reconnect form).
    if ((e as AppError)?.kind === "session_offline") props.onSession({ ...session, offline: true });
    else setMessage({ ok: false, text: problem(t, lang, e) });
  };
  const load = () =>
    api.reviewItems().then((found) => {
      setItems(found);
      setMessage((m) => (m?.ok ? m : null)); // an old failure no longer applies
    }, failed);
  useEffect(() => {
    if (!session.offline) load();
  }, [session]);

  if (session.offline) return <Reconnect t={t} lang={lang} username={session.username} onSession={props.onSession} />;
  return (
    <section class="panel screen" id="review-queue">
      <div class="bulkbar">
        <h2>{t("review.title")}</h2>
        <span class="spacer" />
        <button type="button" id="review-refresh" onClick={load}>
          {t("review.refresh")}
        </button>
      </div>
      {message && (
        <p id="review-message" class={message.ok ? "ok" : "error"}>
          {message.text}
        </p>
      )}
      {items && items.length === 0 && <p class="muted">{t("review.none")}</p>}
      {items?.map((item) => (
        <Item
          key={item.id}
          t={t}
          lang={lang}
          item={item}
          onDone={(text) => {
            setMessage({ ok: true, text });
            load(); // a merge may close other items of the same customers
          }}
          onError={failed}
        />
      ))}
    </section>
  );
}
