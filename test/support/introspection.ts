// Whether a client's secret works right now: client authentication (HTTP Basic, RFC 6749 2.3.1) at
// the tenant's introspection endpoint answers 200 with the right secret and 401 otherwise.
export async function introspectAs(baseUrl: string, clientId: string, secret: string, { slug = 'demo' }: { slug?: string } = {}): Promise<number> {
  const response = await fetch(`${baseUrl}/t/${slug}/token/introspection`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'token=not-a-token',
  });
  await response.body?.cancel();
  return response.status;
}
