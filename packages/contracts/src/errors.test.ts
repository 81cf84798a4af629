import { describe, expect, it } from "vitest";
import { AppError, BadInput, errorFields, errorFromFields, reasonOf } from "./errors.ts";

class WidgetJammed extends AppError {
  constructor(cause?: unknown) {
    super("UNAVAILABLE", "the widget jammed", undefined, { reason: "widget_jammed", cause });
  }
}

describe("AppError reasons", () => {
  it("carries its stable reason and cause; an error without one has none", () => {
    const cause = new Error("gear stuck");
    const error = new WidgetJammed(cause);
    expect(error).toMatchObject({
      name: "WidgetJammed",
      code: "UNAVAILABLE",
      reason: "widget_jammed",
    });
    expect(error.cause).toBe(cause);
    expect(reasonOf(error)).toBe("widget_jammed");
    expect(reasonOf(new BadInput("bad", undefined, { reason: "bad_widget" }))).toBe("bad_widget");
    expect(reasonOf(new AppError("INTERNAL", "no reason"))).toBeUndefined();
    expect("reason" in new AppError("INTERNAL", "no reason")).toBe(false);
    for (const other of [
      new Error("plain"),
      "text",
      null,
      undefined,
      { reason: 42 },
      { reason: "" },
    ])
      expect(reasonOf(other)).toBeUndefined();
  });

  it("structured clone drops the reason; errorFields → errorFromFields keeps name, message, code and reason", () => {
    const error = new WidgetJammed();
    // What postMessage would deliver of the error itself: its own fields are gone.
    expect(reasonOf(structuredClone(error))).toBeUndefined();
    const rebuilt = errorFromFields(structuredClone(errorFields(error)));
    expect(rebuilt).toBeInstanceOf(Error);
    expect(rebuilt).toMatchObject({
      name: "WidgetJammed",
      message: "the widget jammed",
      code: "UNAVAILABLE",
      reason: "widget_jammed",
    });
    const enoent = Object.assign(new Error("no such file"), { code: "ENOENT" });
    expect(errorFields(enoent)).toEqual({ name: "Error", message: "no such file", code: "ENOENT" });
    expect(errorFields("thrown text")).toEqual({ name: "Error", message: "thrown text" });
  });
});
