import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import { BadInput } from "@reco/contracts";
import { type InteractionLog, LogBuilder } from "./log.ts";

export type Delimiter = "," | "\t" | " ";

export interface DelimitedOptions {
  /** "auto" looks at the first non-empty line: tab, else comma, else whitespace */
  delimiter?: Delimiter | "auto";
  /** "auto" treats the first line as a header when it names the columns */
  header?: boolean | "auto";
  /** how many malformed rows to keep in the report (all are counted) */
  maxProblems?: number;
}

export interface RowProblem {
  line: number;
  message: string;
}

export interface LoadReport {
  source: string;
  delimiter: Delimiter;
  header: boolean;
  rows: number;
  malformed: number;
  problems: RowProblem[];
}

const HEADER_USER = /^user(_?id)?$/i;
const HEADER_ITEM = /^(item|movie)(_?id)?$/i;

function detectDelimiter(line: string): Delimiter {
  if (line.includes("\t")) return "\t";
  if (line.includes(",")) return ",";
  return " ";
}

function splitFields(line: string, delimiter: Delimiter): string[] {
  return delimiter === " " ? line.trim().split(/\s+/) : line.split(delimiter).map((field) => field.trim());
}

function looksLikeHeader(fields: string[]): boolean {
  if (HEADER_USER.test(fields[0] ?? "") && HEADER_ITEM.test(fields[1] ?? "")) return true;
  return fields.slice(2).some((field) => field !== "" && !Number.isFinite(Number(field)));
}

function parseTime(field: string): number {
  const numeric = Number(field);
  if (field !== "" && Number.isFinite(numeric)) return numeric;
  const parsed = Date.parse(field);
  return Number.isNaN(parsed) ? Number.NaN : parsed / 1000;
}

type ParsedRow = { userId: string; itemId: string; rating: number; time: number } | { error: string };

function parseRow(fields: string[]): ParsedRow {
  if (fields.length < 2 || fields.length > 4) {
    return { error: `expected 2 to 4 fields (userId, itemId[, rating][, timestamp]), got ${fields.length}` };
  }
  const [userId = "", itemId = "", ratingField, timeField] = fields;
  if (userId === "") return { error: "empty userId" };
  if (itemId === "") return { error: "empty itemId" };
  const rating = ratingField === undefined ? Number.NaN : Number(ratingField);
  if (ratingField !== undefined && (ratingField === "" || !Number.isFinite(rating))) {
    return { error: `rating ${JSON.stringify(ratingField)} is not a number` };
  }
  const time = timeField === undefined ? Number.NaN : parseTime(timeField);
  if (timeField !== undefined && Number.isNaN(time)) {
    return { error: `timestamp ${JSON.stringify(timeField)} is neither epoch seconds nor a date` };
  }
  return { userId, itemId, rating, time };
}

/**
 * Reads `userId,itemId[,rating][,timestamp]` rows. Malformed rows are skipped, counted and
 * reported with their line numbers; a missing file or a file without one valid row is an error.
 */
export async function loadDelimited(
  path: string,
  options: DelimitedOptions = {},
): Promise<{ log: InteractionLog; report: LoadReport }> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new BadInput(`${path} is not a file`);
  } catch (error) {
    if (error instanceof BadInput) throw error;
    throw new BadInput(`cannot read interactions file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const maxProblems = options.maxProblems ?? 100;
  const builder = new LogBuilder();
  const report: LoadReport = {
    source: path,
    delimiter: options.delimiter === "auto" || !options.delimiter ? "," : options.delimiter,
    header: false,
    rows: 0,
    malformed: 0,
    problems: [],
  };
  let lineNumber = 0;
  let first = true;
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  for await (const raw of lines) {
    lineNumber++;
    // Spreadsheet exports often start with a byte-order mark.
    const line = lineNumber === 1 ? raw.replace(/^\uFEFF/, "") : raw;
    if (line.trim() === "") continue;
    if (first) {
      first = false;
      if (!options.delimiter || options.delimiter === "auto") report.delimiter = detectDelimiter(line);
      const fields = splitFields(line, report.delimiter);
      report.header = options.header === undefined || options.header === "auto" ? looksLikeHeader(fields) : options.header;
      if (report.header) continue;
    }
    const row = parseRow(splitFields(line, report.delimiter));
    if ("error" in row) {
      report.malformed++;
      if (report.problems.length < maxProblems) report.problems.push({ line: lineNumber, message: row.error });
      continue;
    }
    builder.add(row.userId, row.itemId, row.rating, row.time);
    report.rows++;
  }
  if (report.rows === 0) {
    throw new BadInput(`${path} holds no valid interaction rows (${report.malformed} malformed)`, report.problems);
  }
  return { log: builder.finish(), report };
}

/** One line per malformed row, for CLI output. */
export function describeProblems(report: LoadReport): string[] {
  const lines = report.problems.map((problem) => `${report.source}:${problem.line}: ${problem.message}`);
  if (report.malformed > report.problems.length) lines.push(`… and ${report.malformed - report.problems.length} more`);
  return lines;
}
