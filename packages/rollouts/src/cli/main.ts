/**
 * `npm run rollout -- <command>`: start, watch and steer canary rollouts through the running api
 * (tRPC over HTTP, never the database: embedded PGlite admits one process). API_URL (default
 * http://127.0.0.1:4000); the key from RECO_API_KEY, else $DATA_DIR/dev-api-key (DATA_DIR .data).
 * Failures print one line and exit 2 for bad flags or input, 1 otherwise (api unreachable,
 * 401/403/404/409).
 */
import { parseCliFlags } from "@reco/contracts";
import { MANUAL_ACTIONS, ROLLOUT_STATUSES, type ManualAction } from "../machine.ts";
import { parseRolloutInput } from "../plan.ts";
import { RolloutValidationError } from "../errors.ts";
import { apiConfig, RolloutApi } from "./api.ts";
import { CliError } from "./cli-error.ts";
import { flagOfField, parseWhole, startRequest } from "./flags.ts";
import { formatList, formatStatus, label, stageLabel } from "./format.ts";

/** Command name → manual action (`promote-full` on the command line, `promote_full` in the api). */
const ACTIONS = Object.fromEntries(
  MANUAL_ACTIONS.map((action) => [action.replace("_", "-"), action]),
) as Record<string, ManualAction>;

const USAGE = `Canary rollouts through the running api: npm run rollout -- <command> [options]

Commands:
  start --candidate name@version [--baseline name@version] [--stages 5,50,100]
        [--min-duration 600] [--min-users 1000] [--interval 60] [--ctr-margin 5]
        [--error-margin 0.01] [--webhook URL] [--reason TEXT]
                         start a rollout (pending; the controller starts stage 1)
  status <id> [--events 8]
                         stage, traffic, elapsed vs minimum, users per arm, each gate's last
                         value vs its threshold, the last audit entries
  list [--status S] [--model NAME]
                         rollouts, newest first
  promote <id>           next stage (or promote from the last)
  promote-full <id>      straight to 100 % and stable
  pause <id> | resume <id> | abort <id> | rollback <id> | undo <id>
                         actions take [--version N] (default: the version read just before)
                         and [--reason TEXT]

Every command takes --json (print the api's answer) and --help.
Environment: API_URL (default http://127.0.0.1:4000), RECO_API_KEY (else the key in
$DATA_DIR/dev-api-key; DATA_DIR defaults to .data). Reading needs a viewer key, start and
actions an engineer (or admin) key.
`;

const START_USAGE = `Usage: npm run rollout -- start --candidate name@version [options]

  --candidate name@version   the version to roll out (a registered candidate)
  --baseline name@version    what it is judged against (default: the stable version serving now)
  --stages 5,50,100          candidate's share of users per stage; the last must be 100
  --min-duration SECONDS     each stage runs at least this long (default 600; 600/1200/600 without --stages)
  --min-users N              users per arm each stage needs (default 1000; 1000/5000/5000 without --stages)
  --interval SECONDS         evaluation interval (default 60)
  --ctr-margin PCT           click-through non-inferiority margin, relative % (default 5)
  --error-margin RATE        error rate may exceed stable's by this much (default 0.01)
  --webhook URL              POST signed transition notices here (the secret is printed once)
  --reason TEXT              recorded in the audit log
  --json                     print the api's answer
`;

const actionUsage = (
  command: string,
) => `Usage: npm run rollout -- ${command} <id> [--version N] [--reason TEXT] [--json]

  --version N     the rollout version this decision is based on (default: read it now); a rollout
                  that changed since is refused with 409
  --reason TEXT   recorded in the audit log
`;

const STATUS_USAGE = `Usage: npm run rollout -- status <id> [--events N] [--json]

  --events N   audit entries to show (default 8)
`;

const LIST_USAGE = `Usage: npm run rollout -- list [--status ${ROLLOUT_STATUSES.join("|")}] [--model NAME] [--json]
`;

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const processOutput: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** The rollout id right after the command (`pause 12`); flags follow it. */
function takeId(command: string, rest: string[]): { id: number; flags: string[] } {
  const [first, ...flags] = rest;
  if (first === "--help" || first === "-h") return { id: 0, flags: rest };
  if (first === undefined || first.startsWith("-"))
    throw new CliError(`${command} needs a rollout id: npm run rollout -- ${command} <id>`, 2);
  if (!/^\d+$/.test(first) || Number(first) < 1)
    throw new CliError(
      `${command}: the rollout id must be a positive whole number, got ${JSON.stringify(first)}`,
      2,
    );
  return { id: Number(first), flags };
}

const print = (output: Output, json: boolean | undefined, value: unknown, text: () => string) =>
  output.out(json ? JSON.stringify(value, null, 2) : text());

async function runStart(rest: string[], env: NodeJS.ProcessEnv, output: Output) {
  const flags = parseCliFlags(
    {
      candidate: { type: "string" },
      baseline: { type: "string" },
      stages: { type: "string" },
      "min-duration": { type: "string" },
      "min-users": { type: "string" },
      interval: { type: "string" },
      "ctr-margin": { type: "string" },
      "error-margin": { type: "string" },
      webhook: { type: "string" },
      reason: { type: "string" },
      json: { type: "boolean" },
    },
    START_USAGE,
    rest,
  );
  const request = startRequest(flags);
  try {
    parseRolloutInput(request); // the plan's own rules, before anything is sent
  } catch (error) {
    if (!(error instanceof RolloutValidationError)) throw error;
    throw new CliError(
      error.issues.map((issue) => `${flagOfField(issue.field)}: ${issue.message}`).join("; "),
      2,
    );
  }
  const api = new RolloutApi(apiConfig(env));
  const answer = await api.start(request);
  const r = answer.rollout;
  print(output, flags.json, answer, () =>
    [
      `started rollout ${r.id}: ${label(r.candidate)} against ${label(r.baseline)}, stages ${r.stages.map((s) => `${s.trafficPct} %`).join(" → ")} (${r.status}; the controller starts stage 1)`,
      ...(answer.webhookSecret
        ? [
            `webhook secret (shown once, it signs the X-Reco-Signature-256 header): ${answer.webhookSecret}`,
          ]
        : []),
      `follow it: npm run rollout -- status ${r.id}`,
    ].join("\n"),
  );
}

async function runStatus(rest: string[], env: NodeJS.ProcessEnv, output: Output) {
  const { id, flags: args } = takeId("status", rest);
  const flags = parseCliFlags(
    { events: { type: "string" }, json: { type: "boolean" } },
    STATUS_USAGE,
    args,
  );
  const events = flags.events === undefined ? 8 : parseWhole("events", flags.events, 0, 10_000);
  const detail = await new RolloutApi(apiConfig(env)).get(id);
  print(output, flags.json, detail, () => formatStatus(detail, events));
}

async function runList(rest: string[], env: NodeJS.ProcessEnv, output: Output) {
  const flags = parseCliFlags(
    { status: { type: "string" }, model: { type: "string" }, json: { type: "boolean" } },
    LIST_USAGE,
    rest,
  );
  if (flags.status !== undefined && !(ROLLOUT_STATUSES as readonly string[]).includes(flags.status))
    throw new CliError(
      `--status: must be one of ${ROLLOUT_STATUSES.join(", ")}, got ${JSON.stringify(flags.status)}`,
      2,
    );
  const rollouts = await new RolloutApi(apiConfig(env)).list({
    ...(flags.status ? { status: flags.status } : {}),
    ...(flags.model ? { modelName: flags.model } : {}),
  });
  print(output, flags.json, rollouts, () => formatList(rollouts));
}

async function runAction(command: string, rest: string[], env: NodeJS.ProcessEnv, output: Output) {
  const action = ACTIONS[command]!;
  const { id, flags: args } = takeId(command, rest);
  const flags = parseCliFlags(
    { version: { type: "string" }, reason: { type: "string" }, json: { type: "boolean" } },
    actionUsage(command),
    args,
  );
  const pinned = flags.version === undefined ? undefined : parseWhole("version", flags.version);
  const api = new RolloutApi(apiConfig(env));
  const version = pinned ?? (await api.get(id)).version;
  const after = await api.act({
    id,
    action,
    version,
    ...(flags.reason ? { reason: flags.reason } : {}),
  });
  print(
    output,
    flags.json,
    after,
    () =>
      `rollout ${after.id}: ${command} done, now ${after.status}, ${stageLabel(after)} (version ${after.version})`,
  );
}

export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv,
  output: Output = processOutput,
): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    (command ? output.out : output.err)(USAGE.trimEnd());
    return command ? 0 : 2;
  }
  try {
    if (command === "start") await runStart(rest, env, output);
    else if (command === "status") await runStatus(rest, env, output);
    else if (command === "list") await runList(rest, env, output);
    else if (command in ACTIONS) await runAction(command, rest, env, output);
    else
      throw new CliError(
        `unknown command ${JSON.stringify(command)}; commands: start, status, list, ${Object.keys(ACTIONS).join(", ")} (--help)`,
        2,
      );
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      output.err(`error: ${error.message}`);
      return error.exitCode;
    }
    output.err(`error: ${((error as Error).message ?? String(error)).split("\n")[0]}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // `… | head` closes the pipe early: stop quietly instead of a stack trace.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  process.exitCode = await main(process.argv.slice(2), process.env);
}
