// The console's API types are generated from the admin API's OpenAPI document: the committed
// public/scripts/console/api-types.ts must equal what scripts/console-api-types.ts writes now
// (regenerate with `node scripts/console-api-types.ts` after changing a route's declaration).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { adminApiDocument } from '../../src/admin/api.ts';
import { consoleApiTypes, TYPES_FILE } from '../../scripts/console-api-types.ts';

test('the console API types match the OpenAPI document', () => {
  const generated = consoleApiTypes(adminApiDocument('https://facet.example/t/tenant/admin/api'));
  assert.equal(readFileSync(TYPES_FILE, 'utf8'), generated, 'run `node scripts/console-api-types.ts`');
  // The routes the console calls are all there, with their answers' shapes.
  for (const operation of ['whoAmI', 'listUsers', 'getUser', 'signOutUserEverywhere', 'listRoleGrants', 'rotateSigningKeys', 'listClients']) {
    assert.match(generated, new RegExp(`\\n  ${operation}: \\{\\n    response: `), operation);
  }
  assert.match(generated, /listUsers: \{\n    response: \{\n      users: Array<\{|listUsers: \{\n    response: \{\n      users: \{/);
});

test('the generator writes object, array, enum, nullable and record types', () => {
  const text = consoleApiTypes({
    paths: {
      '/x': {
        get: {
          operationId: 'x',
          summary: 's',
          parameters: [{ name: 'q', in: 'query', required: false, schema: { type: 'string' } }],
          responses: {
            200: {
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['a', 'b'],
                    properties: {
                      a: { type: 'array', items: { type: 'integer' } },
                      b: { anyOf: [{ type: 'string' }, { type: 'null' }] },
                      c: { enum: ['one', 'two'] },
                      d: { type: 'object', additionalProperties: { type: 'boolean' } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  });
  assert.match(text, /a: number\[\];\n\s+b: string \| null;\n\s+c\?: "one" \| "two";\n\s+d\?: Record<string, boolean>;/);
  assert.match(text, /query: \{\n\s+q\?: string;\n\s+\}/);
});
