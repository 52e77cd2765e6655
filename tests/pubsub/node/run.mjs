// Drives Salesforce developer relations' Pub/Sub client (npm salesforce-pubsub-api-client,
// unmodified) against the sfmonitor emulator, for tests/pubsub/test_node_client.py.
// It logs in itself (client-credentials grant + userinfo at LOGIN_URL), subscribes from
// EARLIEST until COUNT events arrived, publishes one platform event, and prints one JSON
// line per event and one for the publish result.
//
//   LOGIN_URL=https://127.0.0.1:P CLIENT_ID=.. CLIENT_SECRET=.. \
//     node run.mjs localhost:P2 /data/AccountChangeEvent 1000 /event/Low_Ink__e
import PubSubApiClient from 'salesforce-pubsub-api-client';

const [endpoint, topic, countText, publishTopic] = process.argv.slice(2);
const count = Number(countText);
const quiet = () => {};
const logger = { debug: quiet, info: quiet, warn: quiet, error: (...args) => console.error(...args) };
const print = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const quietEvents = Boolean(process.env.QUIET); // benchmarks: count events, print none

const client = new PubSubApiClient(
    {
        authType: 'oauth-client-credentials',
        loginUrl: process.env.LOGIN_URL,
        clientId: process.env.CLIENT_ID,
        clientSecret: process.env.CLIENT_SECRET,
        pubSubEndpoint: endpoint,
        // the client trusts only its bundled roots; the emulator's certificate is a test CA's
        rejectUnauthorizedSsl: false
    },
    logger
);
await client.connect();

const started = process.hrtime.bigint();
let received = 0;
await new Promise((resolve, reject) => {
    client.subscribeFromEarliestEvent(
        topic,
        (_info, type, data) => {
            if (type === 'event' && quietEvents) {
                received += 1;
                if (received === count) resolve();
            } else if (type === 'event') {
                const header = data.payload.ChangeEventHeader;
                print({
                    kind: 'event',
                    replayId: data.replayId,
                    schemaId: data.schemaId,
                    changedFields: header ? header.changedFields : null,
                    nulledFields: header ? header.nulledFields : null,
                    diffFields: header ? header.diffFields : null
                });
                received += 1;
                if (received === count) resolve();
            } else if (type === 'error' && received < count) {
                reject(data);
            }
        },
        null // keep requesting: the client asks for 100 more each time 100 arrived
    );
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
print({ kind: 'received', count: received, seconds, maxRssKb: process.resourceUsage().maxRSS });

if (publishTopic) {
    const result = await client.publish(publishTopic, {
        CreatedDate: Date.now(),
        CreatedById: '005000000000000AAA',
        Printer_Model__c: { string: 'from-node' },
        Serial_Number__c: null,
        Ink_Percentage__c: { double: 0.42 }
    });
    print({ kind: 'published', replayId: result.replayId, correlationKey: result.correlationKey });
}
client.close();
process.exit(0);
