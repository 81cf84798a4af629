export {
  importMovieLens,
  ratingEventId,
  IMPORT_TOPIC,
  ImportError,
  type ImportReport,
  type RowProblem,
} from "./import.ts";
export { parseMovie, parseRating } from "./parse.ts";
