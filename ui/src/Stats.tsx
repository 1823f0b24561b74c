// Customer statistics from the local store: totals, by source and by branch, and new customers
// per day as a bar chart (plain SVG: no chart library to load at the counter).
import { useEffect, useState } from "preact/hooks";
import { api, type Lang, type Source, type Stats } from "./api";
import { day, number, problem, type T } from "./i18n";

const DAYS = 30;

function Bars({ lang, rows, label, total }: { lang: Lang; rows: { key: string; label: string; count: number }[]; label: string; total: number }) {
  return (
    <table class="bars" aria-label={label}>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key} data-key={r.key}>
            <th>{r.label}</th>
            <td class="bar">
              <span style={{ width: `${total ? (100 * r.count) / total : 0}%` }} />
            </td>
            <td class="num">{number(lang, r.count)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PerDayChart({ t, lang, data }: { t: T; lang: Lang; data: Stats["new_per_day"] }) {
  const width = 720;
  const height = 200;
  const pad = { left: 36, bottom: 24, top: 8 };
  const max = Math.max(1, ...data.map((d) => d.count));
  const step = (width - pad.left) / data.length;
  const y = (n: number) => pad.top + (height - pad.top - pad.bottom) * (1 - n / max);
  return (
    <svg id="per-day-chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={t("stats.chartLabel")}>
      <line x1={pad.left} x2={width} y1={y(0)} y2={y(0)} class="axis" />
      <text x={pad.left - 6} y={y(max) + 4} class="tick" text-anchor="end">
        {number(lang, max)}
      </text>
      <text x={pad.left - 6} y={y(0)} class="tick" text-anchor="end">
        0
      </text>
      {data.map((d, i) => (
        <g key={d.day}>
          <rect x={pad.left + i * step + 1} y={y(d.count)} width={Math.max(1, step - 2)} height={y(0) - y(d.count)} class="col" data-day={d.day} data-count={d.count}>
            <title>{t("stats.newOn", { date: day(lang, d.day), n: number(lang, d.count) })}</title>
          </rect>
          {i % 5 === 0 && (
            <text x={pad.left + i * step + step / 2} y={height - 6} class="tick" text-anchor="middle">
              {day(lang, d.day)}
            </text>
          )}
        </g>
      ))}
    </svg>
  );
}

export function StatsScreen({ t, lang, pulledAt }: { t: T; lang: Lang; pulledAt: string | null }) {
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [branch, setBranch] = useState<string | null>(null);
  useEffect(() => {
    api.customerStats(DAYS).then(setStats, (e) => setError(problem(t, lang, e)));
  }, [pulledAt]);
  useEffect(() => {
    api.appInfo().then((i) => setBranch(i.branch_id));
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!stats) return null;
  const branchLabel = (key: string | null) =>
    key === null ? t("stats.noBranch") : key === branch ? t("stats.thisBranch") : t("stats.branch", { id: key.slice(0, 8) });
  return (
    <section class="panel screen" id="stats">
      <h2>{t("stats.title")}</h2>
      <div class="tiles">
        <div class="tile" id="stats-total" data-count={stats.total}>
          <span class="big">{number(lang, stats.total)}</span>
          {t("stats.total")}
        </div>
        <div class="tile" id="stats-active" data-count={stats.active}>
          <span class="big">{number(lang, stats.active)}</span>
          {t("stats.active")}
        </div>
        <div class="tile" id="stats-inactive" data-count={stats.inactive}>
          <span class="big">{number(lang, stats.inactive)}</span>
          {t("stats.inactive")}
        </div>
      </div>
      <div class="columns">
        <div>
          <h3>{t("stats.bySource")}</h3>
          <Bars
            lang={lang}
            label={t("stats.bySource")}
            total={stats.total}
            rows={stats.by_source.map((r) => ({ key: r.key ?? "", label: r.key ? t(`source.${r.key as Source}`) : "—", count: r.count }))}
          />
        </div>
        <div>
          <h3>{t("stats.byBranch")}</h3>
          <Bars
            lang={lang}
            label={t("stats.byBranch")}
            total={stats.total}
            rows={stats.by_branch.map((r) => ({ key: r.key ?? "", label: branchLabel(r.key), count: r.count }))}
          />
        </div>
      </div>
      <h3>{t("stats.perDay", { n: DAYS })}</h3>
      <PerDayChart t={t} lang={lang} data={stats.new_per_day} />
    </section>
  );
}
