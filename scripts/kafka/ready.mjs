// Waits until a Kafka broker answers an admin listTopics().
// Usage: node ready.mjs <brokers> <timeoutMs> [brokerPid]
// Exit 0 ready, 1 timed out, 2 the broker process exited, 3 kafkajs not installed.
const [brokers = "127.0.0.1:9092", timeoutArg = "90000", pidArg] = process.argv.slice(2);
const brokerPid = pidArg ? Number(pidArg) : undefined;

function brokerExited() {
  if (brokerPid === undefined) return false;
  try {
    process.kill(brokerPid, 0);
    return false;
  } catch {
    return true;
  }
}
const deadline = Date.now() + Number(timeoutArg);

let kafkajs;
try {
  kafkajs = await import("kafkajs");
} catch {
  process.exit(3);
}
const { Kafka, logLevel } = kafkajs;
const kafka = new Kafka({
  clientId: "services-ready",
  brokers: brokers.split(","),
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1000,
  retry: { retries: 0 },
});

let lastError = "no attempt made";
while (Date.now() < deadline) {
  if (brokerExited()) {
    console.error(`Kafka broker process ${brokerPid} exited before answering`);
    process.exit(2);
  }
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    await admin.disconnect();
    process.exit(0);
  } catch (error) {
    lastError = error instanceof Error ? error.message : String(error);
    await admin.disconnect().catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
console.error(`Kafka at ${brokers} did not answer listTopics: ${lastError}`);
process.exit(1);
