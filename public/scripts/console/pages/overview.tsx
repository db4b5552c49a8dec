// Overview: the last 30 days from the audit trail — sign-ins and step-ups by factor and outcome,
// active users, sign-ups, failed attempts, lockouts, refresh-token reuse and face checks — as
// charts, each with the same numbers as a table.
import { useEffect, useState } from 'preact/hooks';
import type { OverviewAnswer, Problem } from '../api.ts';
import { ProblemText } from '../components.tsx';
import { api, format, number, t } from '../context.ts';
import { Chart, type Series } from '../chart.tsx';

const FACTOR_NAMES: Record<string, string> = { passkey: t.overview.factorPasskey, otp: t.overview.factorOtp, nfc: t.overview.factorNfc, face: t.overview.factorFace, recovery_code: t.overview.factorRecoveryCode };
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export function Overview() {
  const [data, setData] = useState<OverviewAnswer | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  useEffect(() => {
    void api.overview(30).then((r) => (r.ok ? setData(r.data) : setProblem(r.problem)));
  }, []);
  if (!data) return <section>{problem ? <ProblemText problem={problem} /> : <p role="status">{t.common.loading}</p>}</section>;

  // Factors with no event in the period are left out of the chart (passkeys always shown).
  const authSeries: Series[] = data.authentications
    .filter((a) => a.factor === 'passkey' || sum(a.counts) > 0)
    .map((a) => ({ label: format(t.overview.factorOutcome, { factor: FACTOR_NAMES[a.factor] ?? a.factor, outcome: a.outcome }), values: a.counts }));
  const lastOf = (values: number[]) => values[values.length - 1] ?? 0;
  const figures = [
    { label: t.overview.successfulAuthentications, value: sum(data.authentications.filter((a) => a.outcome === 'success').flatMap((a) => a.counts)) },
    { label: t.overview.failedAttempts, value: sum(data.failedAttempts) },
    { label: t.overview.signUps, value: sum(data.signUps) },
    { label: t.overview.lockouts, value: sum(data.lockouts) },
    { label: t.overview.refreshReuseDetected, value: sum(data.refreshReuse) },
    { label: t.overview.activeToday, value: lastOf(data.activeUsers.daily) },
    { label: t.overview.activeMonth, value: lastOf(data.activeUsers.monthly) },
  ];
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">{t.overview.heading}</h1>
      <p class="detail">
        {format(t.overview.period, { count: data.days.length, first: data.days[0] ?? '', last: data.days[data.days.length - 1] ?? '' })}
      </p>
      <dl class="figures">
        {figures.map((f) => (
          <div key={f.label}>
            <dt>{f.label}</dt>
            <dd>{number(f.value)}</dd>
          </div>
        ))}
      </dl>
      <div class="charts">
        <Chart id="chart-auth" title={t.overview.authChart} days={data.days} series={authSeries} />
        <Chart
          id="chart-active"
          title={t.overview.activeChart}
          days={data.days}
          series={[
            { label: t.overview.daily, values: data.activeUsers.daily },
            { label: t.overview.monthly, values: data.activeUsers.monthly },
          ]}
        />
        <Chart
          id="chart-security"
          title={t.overview.securityChart}
          days={data.days}
          series={[
            { label: t.overview.signUps, values: data.signUps },
            { label: t.overview.failedAttempts, values: data.failedAttempts },
            { label: t.overview.lockouts, values: data.lockouts },
            { label: t.overview.refreshReuse, values: data.refreshReuse },
          ]}
        />
        <Chart
          id="chart-face"
          title={t.overview.faceChart}
          days={data.days}
          series={[
            { label: t.overview.matched, values: data.face.verified },
            { label: t.overview.faceFailed, values: data.face.failed },
          ]}
        />
      </div>
      {data.face.failureReasons.length > 0 && (
        <>
          <h2>{t.overview.faceFailureReasons}</h2>
          <ul>
            {data.face.failureReasons.map((r) => (
              <li key={r.reason}>
                <code>{r.reason}</code>: {number(r.count)}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
