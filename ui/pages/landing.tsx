// `/` in a browser: what this server is and where people and applications go next.
import { Layout } from '../components/layout.tsx';
import { Card } from '../components/forms.tsx';
import { renderDocument } from '../render.ts';
import { fill, type Strings } from '../../views/strings/index.ts';
import { en } from '../../views/strings/en.ts';

/** A catalogue sentence (ICU, formatted first) with its {address} filled by a <code> element. */
function WithCode({ template, lang, children }: { template: string; lang: string; children: string }) {
  const [before, after = ''] = fill(template, { address: '\u0000' }, lang).split('\u0000');
  return <>{before}<code>{children}</code>{after}</>;
}

export function landingPage(publicUrl: string, t: Strings = en): string {
  const w = t.landing;
  return renderDocument(
    <Layout title={w.title} lang={t.lang} skipLabel={t.common.skipToContent}>
      <Card page="landing">
        <h1>{w.heading}</h1>
        <p>{w.intro}</p>
        <p><WithCode template={w.account} lang={t.lang}>{`${publicUrl}/t/<${w.organisation}>/account`}</WithCode></p>
        <p class="detail"><WithCode template={w.developers} lang={t.lang}>{`${publicUrl}/t/<${w.organisation}>/.well-known/openid-configuration`}</WithCode></p>
      </Card>
    </Layout>,
  );
}
