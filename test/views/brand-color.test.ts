// Issue 18: a tenant's brand colour is refused below 4.5:1 against white (it fills buttons under
// white text and colours links), and its dark-mode shade reaches 4.5:1 on the dark canvas.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brandColorProblem, contrastRatio, darkModeShade, DARK_CANVAS } from '../../src/tenancy/brand-color.ts';
import { tenantSettingsSchema } from '../../src/tenancy/tenant-file.ts';
import { brandCss } from '../../src/interaction/brand.ts';

describe('brand colour', () => {
  test('contrast ratios match WCAG figures', () => {
    assert.equal(contrastRatio('#000000', '#ffffff').toFixed(2), '21.00');
    assert.equal(contrastRatio('#ffffff', '#ffffff').toFixed(2), '1.00');
    assert.equal(contrastRatio('#767676', '#ffffff').toFixed(2), '4.54');
  });
  test('too light an orange is refused with the figure; a darker one is taken', () => {
    assert.match(brandColorProblem('#ff7a00')!, /#ff7a00 has a contrast of 2\.61:1 against white; .*at least 4\.5:1/);
    assert.equal(brandColorProblem('#c2410c'), undefined);
    assert.match(brandColorProblem('orange')!, /not a colour/);
    const refused = tenantSettingsSchema.safeParse({ brand_color: '#ff7a00' });
    assert.equal(refused.success, false);
    assert.match(JSON.stringify(refused.error!.issues), /contrast of 2\.61:1/);
    assert.equal(tenantSettingsSchema.parse({ brand_color: '#c2410c' }).brand_color, '#c2410c');
  });
  test('the dark-mode shade reads on the dark canvas', () => {
    for (const color of ['#c2410c', '#2457d6', '#1f5f3a', '#000000']) assert.ok(contrastRatio(darkModeShade(color), DARK_CANVAS) >= 4.5, color);
    assert.equal(brandCss('#c2410c'), `:root { --accent: #c2410c; --accent-text: light-dark(#c2410c, ${darkModeShade('#c2410c')}); }\n`);
    assert.match(brandCss(undefined), /defaults/);
    assert.match(brandCss('#ff7a00'), /defaults/, 'an unchecked colour is never served');
  });
});
