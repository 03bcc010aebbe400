// Okta's management SDK reads the System Log as an Okta admin script does:
// systemLogApi.listLogEvents with a filter and a sort order, a small page size so that the SDK
// follows the Link headers. Prints one JSON line of what it read.
//
// Usage: node system_log.mjs <orgUrl> <apiToken> <filter>
import { Client, DefaultRequestExecutor } from '@okta/okta-sdk-nodejs';

const [orgUrl, token, filter] = process.argv.slice(2);
const client = new Client({
  orgUrl,
  token,
  cacheMiddleware: null,
  requestExecutor: new DefaultRequestExecutor({ maxRetries: 0 }),
});

const read = async (sortOrder) => {
  const events = [];
  const collection = await client.systemLogApi.listLogEvents({ filter, sortOrder, limit: 2 });
  for await (const event of collection) {
    events.push({
      uuid: event.uuid,
      eventType: event.eventType,
      result: event.outcome?.result,
      reason: event.outcome?.reason,
      actor: event.actor?.alternateId,
      published: event.published instanceof Date ? event.published.toISOString() : String(event.published),
      userAgent: event.client?.userAgent?.rawUserAgent,
    });
  }
  return events;
};

console.log(JSON.stringify({ ascending: await read('ASCENDING'), descending: await read('DESCENDING') }));
