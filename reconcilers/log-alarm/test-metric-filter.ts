import {
  matchEvent,
  metricValueOf,
  parseFilterPattern,
  parseMetricValue,
  PatternSyntaxError,
} from "./filter-pattern.ts";

/** One event's outcome, as TestMetricFilter reports a match, with the value the metric filter would publish. */
export interface TestedEvent {
  /** 1-based, as TestMetricFilter numbers `logEventMessages`. */
  readonly eventNumber: number;
  readonly eventMessage: string;
  readonly matched: boolean;
  readonly extractedValues: Readonly<Record<string, string>>;
  /** Undefined when the event publishes nothing: no match and no default value, or a non-numeric field. */
  readonly metricValue: number | undefined;
}

export interface MetricFilterTest {
  readonly events: readonly TestedEvent[];
  /** What the metric's Sum over these events would be. */
  readonly sum: number;
}

/**
 * What CloudWatch Logs' TestMetricFilter answers for a pattern and sample events, computed offline, and what the
 * metric filter would publish for each. Throws `PatternSyntaxError` for an invalid pattern, an Error for an invalid
 * metric value.
 */
export function testMetricFilter(
  patternText: string,
  messages: readonly string[],
  metric: { readonly value?: string | undefined; readonly defaultValue?: number | undefined } = {},
): MetricFilterTest {
  const pattern = parseFilterPattern(patternText);
  const value = parseMetricValue(metric.value ?? "1", pattern);
  if (typeof value === "string") throw new Error(value);
  const events = messages.map((eventMessage, i): TestedEvent => {
    const match = matchEvent(pattern, eventMessage);
    return {
      eventNumber: i + 1,
      eventMessage,
      matched: match.matched,
      extractedValues: match.extractedValues,
      metricValue: metricValueOf(value, eventMessage, match, metric.defaultValue),
    };
  });
  return { events, sum: events.reduce((s, e) => s + (e.metricValue ?? 0), 0) };
}

export { PatternSyntaxError };

/** A sample file's events: one a line; a final line break ends the last event rather than adding an empty one. */
export function sampleEvents(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines;
}
