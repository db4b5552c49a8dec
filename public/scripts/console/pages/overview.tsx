// Overview: the last 30 days from the audit trail — sign-ins and step-ups by factor and outcome,
// active users, sign-ups, failed attempts, lockouts, refresh-token reuse and face checks — as
// charts, each with the same numbers as a table.
import { useEffect, useState } from 'preact/hooks';
import type { OverviewAnswer, Problem } from '../api.ts';
import { ProblemText } from '../components.tsx';
import { api } from '../context.ts';
import { Chart, type Series } from '../chart.tsx';

const FACTOR_NAMES: Record<string, string> = { passkey: 'Passkey', otp: 'Authenticator app', nfc: 'NFC card', face: 'Face', recovery_code: 'Recovery code' };
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export function Overview() {
  const [data, setData] = useState<OverviewAnswer | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  useEffect(() => {
    void api.overview(30).then((r) => (r.ok ? setData(r.data) : setProblem(r.problem)));
  }, []);
  if (!data) return <section>{problem ? <ProblemText problem={problem} /> : <p role="status">Loading…</p>}</section>;

  // Factors with no event in the period are left out of the chart (passkeys always shown).
  const authSeries: Series[] = data.authentications
    .filter((a) => a.factor === 'passkey' || sum(a.counts) > 0)
    .map((a) => ({ label: `${FACTOR_NAMES[a.factor] ?? a.factor}, ${a.outcome === 'success' ? 'succeeded' : 'failed'}`, values: a.counts }));
  const lastOf = (values: number[]) => values[values.length - 1] ?? 0;
  const figures = [
    { label: 'Successful authentications', value: sum(data.authentications.filter((a) => a.outcome === 'success').flatMap((a) => a.counts)) },
    { label: 'Failed attempts', value: sum(data.failedAttempts) },
    { label: 'Sign-ups', value: sum(data.signUps) },
    { label: 'Lockouts', value: sum(data.lockouts) },
    { label: 'Refresh-token reuse detected', value: sum(data.refreshReuse) },
    { label: 'Active users today', value: lastOf(data.activeUsers.daily) },
    { label: 'Active users, last 30 days', value: lastOf(data.activeUsers.monthly) },
  ];
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <p class="detail">
        The last {data.days.length} days ({data.days[0]} to {data.days[data.days.length - 1]}, UTC), from the audit trail.
      </p>
      <dl class="figures">
        {figures.map((f) => (
          <div key={f.label}>
            <dt>{f.label}</dt>
            <dd>{f.value}</dd>
          </div>
        ))}
      </dl>
      <div class="charts">
        <Chart id="chart-auth" title="Sign-ins and step-ups by factor and outcome" days={data.days} series={authSeries} />
        <Chart
          id="chart-active"
          title="Active users"
          days={data.days}
          series={[
            { label: 'Daily', values: data.activeUsers.daily },
            { label: 'Monthly (30 days up to the day)', values: data.activeUsers.monthly },
          ]}
        />
        <Chart
          id="chart-security"
          title="Sign-ups, failed attempts, lockouts and refresh-token reuse"
          days={data.days}
          series={[
            { label: 'Sign-ups', values: data.signUps },
            { label: 'Failed attempts', values: data.failedAttempts },
            { label: 'Lockouts', values: data.lockouts },
            { label: 'Refresh reuse detected', values: data.refreshReuse },
          ]}
        />
        <Chart
          id="chart-face"
          title="Face checks"
          days={data.days}
          series={[
            { label: 'Matched', values: data.face.verified },
            { label: 'Failed or refused', values: data.face.failed },
          ]}
        />
      </div>
      {data.face.failureReasons.length > 0 && (
        <>
          <h2>Why face checks failed</h2>
          <ul>
            {data.face.failureReasons.map((r) => (
              <li key={r.reason}>
                <code>{r.reason}</code>: {r.count}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
